package web

import (
	"context"
	"errors"
	"time"

	"github.com/ycm-onboard/ycm-onboard/job"
	"github.com/ycm-onboard/ycm-onboard/notify"
)

// notifyRun tells Config.Notify how a run the page started ended: by, the signed-in
// person who started it, when; the run's outcome and error as job.Run returned them;
// d, the approval the run carries out, if any.
func (s *Server) notifyRun(by string, started time.Time, out job.Outcome, err error, d *notify.Decision) {
	if len(s.cfg.Notify) == 0 {
		return
	}
	r := notify.Run{Mode: job.Apply, Outcome: out, Ending: job.Done, Host: s.cfg.Host, Started: started,
		Finished: s.cfg.Now(), StartedBy: by, From: notify.FromPage, Decision: d}
	if err != nil {
		f := &job.Failure{Ending: job.Refused, Message: err.Error()} // job.Run returns *Failure; this is in case
		errors.As(err, &f)
		r.Ending, r.ExitCode, r.Message = f.Ending, job.ExitCode(f), f.Message
	}
	s.send(notify.NewSummary(r))
}

// send tells the receivers of sum in the background, so the page answers at once.
// Once Close has begun it sends here instead, where Close waits for it.
func (s *Server) send(sum notify.Summary) {
	if len(s.cfg.Notify) == 0 {
		return
	}
	send := func() {
		// Not s.ctx: an apply that Close interrupted is told of too.
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.NotifyTimeout)
		defer cancel()
		for _, err := range notify.Send(ctx, s.cfg.Notify, sum) {
			ev := s.cfg.Log.Warn().Err(err).Str("user", sum.StartedBy)
			var se *notify.SendError
			if errors.As(err, &se) {
				ev = ev.Str("receiver", se.Kind).Str("host", se.Host)
			}
			ev.Msg("a notification was not sent")
		}
	}
	s.mu.Lock()
	closing := s.closing
	if !closing {
		s.wg.Go(send)
	}
	s.mu.Unlock()
	if closing {
		send()
	}
}
