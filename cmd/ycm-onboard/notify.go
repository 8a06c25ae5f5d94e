package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ycm-onboard/ycm-onboard/config"
	"github.com/ycm-onboard/ycm-onboard/job"
	"github.com/ycm-onboard/ycm-onboard/notify"
)

// receivers builds the configuration file's notify list, reading the secrets from the
// environment. A variable that is not set refuses the run before anything is read:
// a run nobody would hear of is not started.
func (a *app) receivers(list []config.Notify, roots *x509.CertPool) ([]notify.Receiver, error) {
	var rs []notify.Receiver
	var errs []string
	for _, n := range list {
		when := notify.OnFailure
		if n.When != "" {
			w, err := notify.ParseWhen(n.When)
			if err != nil {
				return nil, exitf(exitUsage, fmt.Sprintf("configuration %s: line %d: notify: when: %v", a.configPath, n.Line, err))
			}
			when = w
		}
		var s notify.Sender
		var err error
		switch {
		case n.Webhook != nil:
			url := a.getenv(n.Webhook.URLEnv)
			if url == "" {
				errs = append(errs, fmt.Sprintf("set %s, which holds the webhook's URL (configuration line %d)", n.Webhook.URLEnv, n.Line))
				continue
			}
			f, ferr := notify.ParseFormat(n.Webhook.Format)
			if ferr != nil {
				return nil, exitf(exitUsage, fmt.Sprintf("configuration %s: line %d: notify: webhook: format: %v", a.configPath, n.Line, ferr))
			}
			s, err = notify.NewWebhook(notify.WebhookOptions{URL: url, Format: f})
			if err != nil {
				err = fmt.Errorf("%s: %w", n.Webhook.URLEnv, err)
			}
		case n.Email != nil:
			e := n.Email
			var pass string
			if e.PasswordEnv != "" {
				if pass = a.getenv(e.PasswordEnv); pass == "" {
					errs = append(errs, fmt.Sprintf("set %s, which holds the SMTP password (configuration line %d)", e.PasswordEnv, n.Line))
					continue
				}
			}
			tls := notify.StartTLS
			if e.TLS == "none" {
				tls = notify.NoTLS
			}
			s, err = notify.NewEmail(notify.EmailOptions{Host: e.Host, Port: e.Port, From: e.From, To: e.To,
				Username: e.Username, Password: pass, TLS: tls, RootCAs: roots})
		default:
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Sprintf("notify (configuration line %d): %v", n.Line, err))
			continue
		}
		rs = append(rs, notify.Receiver{When: when, Sender: s})
	}
	if len(errs) > 0 {
		return nil, exitf(exitUsage, strings.Join(errs, "; ")+"; nothing was read or changed")
	}
	return rs, nil
}

// notify tells the receivers how the run ended, err being what the command exits
// with. A failed send is a warning and a line on stderr: it never changes the exit
// code, which says how the run went.
func (a *app) notify(ctx context.Context, rs []notify.Receiver, mode job.Mode, out job.Outcome, err error, started time.Time) {
	if len(rs) == 0 {
		return
	}
	r := notify.Run{Mode: mode, Outcome: out, Ending: endingOf(err), Started: started, Finished: a.now()}
	if err != nil {
		r.ExitCode, r.Message = exitCode(err)
	}
	r.Host, _ = os.Hostname()
	a.send(ctx, rs, notify.NewSummary(r))
}

// send tells the receivers, within notify.Budget; a receiver that fails is logged and
// noted on stderr, and changes no exit code.
func (a *app) send(ctx context.Context, rs []notify.Receiver, sum notify.Summary) {
	// An interrupted run is told of too: the signal cancelled ctx, not the notice.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notify.Budget)
	defer cancel()
	for _, serr := range notify.Send(ctx, rs, sum) {
		ev := a.log.Warn().Err(serr)
		if se, ok := serr.(*notify.SendError); ok {
			ev = ev.Str("receiver", se.Kind).Str("host", se.Host)
		}
		ev.Msg("a notification was not sent; the run's exit code is unchanged")
		fmt.Fprintln(a.stderr, "ycm-onboard: warning: "+serr.Error())
	}
}
