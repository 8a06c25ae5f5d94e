package job_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ycm-onboard/ycm-onboard/importer"
	"github.com/ycm-onboard/ycm-onboard/job"
	"github.com/ycm-onboard/ycm-onboard/portal"
	"github.com/ycm-onboard/ycm-onboard/portal/sim"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
	"github.com/ycm-onboard/ycm-onboard/state"
)

// seen records what a run showed through its hooks, as a server's page would.
type seen struct {
	mu       sync.Mutex
	plans    []reconcile.Plan
	notes    []string
	tallies  []reconcile.Tally
	results  int
	finished bool
	asked    int
}

func (s *seen) Done(reconcile.Result) { s.mu.Lock(); s.results++; s.mu.Unlock() }
func (s *seen) Finish()               { s.finished = true }

func deps(t *testing.T, sv *seen, confirm bool) (job.Deps, *sim.Server) {
	t.Helper()
	s, err := sim.New(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	p, err := portal.NewPartner(portal.Config{BaseURL: ts.URL, ClientID: sim.DemoPartnerID, ClientSecret: sim.DemoPartnerSecret})
	if err != nil {
		t.Fatal(err)
	}
	y, err := portal.NewYCM(portal.Config{BaseURL: ts.URL, ClientID: sim.DemoYCMID, ClientSecret: sim.DemoYCMSecret})
	if err != nil {
		t.Fatal(err)
	}
	return job.Deps{Partner: p, YCM: y, PartnerURL: ts.URL, YCMURL: ts.URL, Now: time.Now,
		Plan:     func(p reconcile.Plan, _ []importer.Problem) { sv.plans = append(sv.plans, p) },
		Note:     func(n string) { sv.notes = append(sv.notes, n) },
		Applied:  func(t reconcile.Tally) { sv.tallies = append(sv.tallies, t) },
		Progress: func(reconcile.Plan, zerolog.Logger) job.Progress { return sv },
		Confirm:  func(reconcile.Plan) bool { sv.asked++; return confirm },
	}, s
}

func request(t *testing.T, mode job.Mode) job.Request {
	t.Helper()
	return job.Request{Mode: mode, Files: []string{"../samples/onboarding.xlsx"}, Diff: reconcile.DefaultOptions(),
		Concurrency: 4, ReportDir: t.TempDir(), StateDir: t.TempDir(), Version: "test"}
}

// TestPlanThenApply runs the whole job twice through the package, with no command line:
// a plan changes nothing; an apply makes the changes, reports them and records them.
func TestPlanThenApply(t *testing.T) {
	var sv seen
	d, s := deps(t, &sv, true)

	out, err := job.Run(t.Context(), request(t, job.Plan), d)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if !out.Reported || out.ReportPath == "" || len(sv.plans) != 1 || sv.asked != 0 || len(s.Outbox()) != 0 || out.ApplyTook != 0 {
		t.Fatalf("plan: outcome %+v, %d plans shown, asked %d, %d e-mails", out, len(sv.plans), sv.asked, len(s.Outbox()))
	}
	if line := sv.plans[0].Counts().Line(); !strings.HasPrefix(line, "Plan: 21 to create, 1 to update") {
		t.Errorf("plan: %s", line)
	}

	req := request(t, job.Apply)
	out, err = job.Run(t.Context(), req, d)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if sv.asked != 1 || !sv.finished || sv.results != 25 || len(sv.tallies) != 1 || sv.tallies[0].Succeeded != 25 {
		t.Errorf("apply: asked %d, progress finished %v with %d results, tallies %+v", sv.asked, sv.finished, sv.results, sv.tallies)
	}
	if n := len(s.Outbox()); n != 22 {
		t.Errorf("%d e-mails, want 22", n)
	}
	if _, err := os.Stat(out.ReportPath); err != nil || out.RunID == 0 {
		t.Errorf("report %q (%v), run %d", out.ReportPath, err, out.RunID)
	}
	if took := out.Report.Finished.Sub(out.Report.Started); out.ApplyTook <= 0 || out.ApplyTook > took {
		t.Errorf("the apply took %s of the run's %s", out.ApplyTook, took)
	}
	if !strings.Contains(strings.Join(sv.notes, "\n"), "report written to "+out.ReportPath) {
		t.Errorf("notes %q", sv.notes)
	}
	st, err := state.Open(req.StateDir, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if inv, _ := st.Invitations(t.Context()); len(inv) != 22 {
		t.Errorf("%d invitations recorded, want 22", len(inv))
	}
}

// TestEndings: each way a run ends is a *job.Failure with its ending, and the exit code
// the command line makes of it.
func TestEndings(t *testing.T) {
	t.Run("declined", func(t *testing.T) {
		var sv seen
		d, s := deps(t, &sv, false)
		out, err := job.Run(t.Context(), request(t, job.Apply), d)
		if err != nil || sv.asked != 1 || len(s.Outbox()) != 0 || !out.Reported {
			t.Errorf("err %v, asked %d, %d e-mails, reported %v", err, sv.asked, len(s.Outbox()), out.Reported)
		}
	})
	t.Run("guarded", func(t *testing.T) {
		var sv seen
		d, s := deps(t, &sv, true)
		req := request(t, job.Apply)
		req.Diff.Prune, req.Diff.MaxDelete = true, 0
		req.Files = []string{"../samples/colleagues.csv"}
		_, err := job.Run(t.Context(), req, d)
		var f *job.Failure
		if !errors.As(err, &f) || f.Ending != job.Guarded || job.ExitCode(f) != 3 || len(s.Outbox()) != 0 {
			t.Errorf("got %v, want a guard refusal and no e-mail", err)
		}
	})
	t.Run("unreadable input", func(t *testing.T) {
		var sv seen
		d, _ := deps(t, &sv, true)
		req := request(t, job.Apply)
		req.Files = []string{filepath.Join(t.TempDir(), "missing.xlsx")}
		out, err := job.Run(t.Context(), req, d)
		var f *job.Failure
		if !errors.As(err, &f) || f.Ending != job.Refused || job.ExitCode(f) != 2 || out.Reported {
			t.Errorf("got %v (reported %v), want refused before any report", err, out.Reported)
		}
	})
	t.Run("interrupted while reading", func(t *testing.T) {
		var sv seen
		d, _ := deps(t, &sv, true)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		out, err := job.Run(ctx, request(t, job.Apply), d)
		var f *job.Failure
		if !errors.As(err, &f) || f.Ending != job.Interrupted || job.ExitCode(f) != 130 ||
			f.Message != "interrupted while reading the input" || !errors.Is(err, importer.ErrInterrupted) || out.Reported {
			t.Errorf("got %v (reported %v), want interrupted while reading, before any report", err, out.Reported)
		}
	})
	t.Run("locked", func(t *testing.T) {
		var sv seen
		d, _ := deps(t, &sv, true)
		req := request(t, job.Apply)
		lock, err := state.AcquireLock(t.Context(), req.StateDir, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer lock.Release()
		_, err = job.Run(t.Context(), req, d)
		var f *job.Failure
		if !errors.As(err, &f) || f.Ending != job.Locked || job.ExitCode(f) != 5 || !errors.Is(err, state.ErrLocked) {
			t.Errorf("got %v, want locked, keeping its cause", err)
		}
	})
	t.Run("portal down", func(t *testing.T) {
		var sv seen
		d, _ := deps(t, &sv, true)
		var err error
		d.Partner, err = portal.NewPartner(portal.Config{BaseURL: "http://127.0.0.1:1", ClientID: "x", ClientSecret: "y", MaxAttempts: 1})
		if err != nil {
			t.Fatal(err)
		}
		out, err := job.Run(t.Context(), request(t, job.Plan), d)
		var f *job.Failure
		if !errors.As(err, &f) || f.Ending != job.PortalDown || job.ExitCode(f) != 4 || portal.KindOf(err) != portal.KindNetwork {
			t.Errorf("got %v, want the portal down, keeping its cause", err)
		}
		if !out.Reported || out.Report.Fatal == "" {
			t.Errorf("the report does not say why: %+v", out.Report.Fatal)
		}
	})
}

// TestReportNameTooLongIsRefusedBeforeThePortal: a --report name longer than a file name
// may be is refused before anything is read or changed.
func TestReportNameTooLongIsRefusedBeforeThePortal(t *testing.T) {
	var sv seen
	d, s := deps(t, &sv, true)
	req := request(t, job.Apply)
	req.Report = filepath.Join(t.TempDir(), strings.Repeat("r", 300)+".xlsx")
	out, err := job.Run(t.Context(), req, d)
	var f *job.Failure
	if !errors.As(err, &f) || f.Ending != job.Refused || !strings.Contains(err.Error(), "more than the 255") || out.Reported {
		t.Fatalf("got %v, want refused for the name", err)
	}
	if n := len(s.Outbox()); n != 0 || len(sv.plans) != 0 {
		t.Errorf("%d e-mails, %d plans: the run went on", n, len(sv.plans))
	}
}

// TestDamagedHistoryEndsTheRun: an apply with an empty history database is refused with
// an ending (exit 6) of its own, before the portal is read.
func TestDamagedHistoryEndsTheRun(t *testing.T) {
	var sv seen
	d, s := deps(t, &sv, true)
	req := request(t, job.Apply)
	if err := os.WriteFile(filepath.Join(req.StateDir, state.DBName), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := job.Run(t.Context(), req, d)
	var f *job.Failure
	if !errors.As(err, &f) || f.Ending != job.Local || job.ExitCode(f) != 6 || !errors.Is(err, state.ErrDamaged) {
		t.Fatalf("got %v, want the damaged-history ending", err)
	}
	if len(sv.plans) != 0 || len(s.Outbox()) != 0 {
		t.Error("the run went on")
	}
}

// TestRefusedFileIsUnreadableInput: a CSV refused as it streams (a quote that never
// closes) names the row where it opened, yet none of its rows are used: the run is
// refused as unreadable input (exit 2), like a workbook bomb, not a partial run.
func TestRefusedFileIsUnreadableInput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "quote.csv")
	body := "Email,First Name,Last Name,Permissions\n\"ann@example.com,Ann,Lee,Sales\n" + strings.Repeat("padding line\n", 20_000)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	var shown []importer.Problem
	_, err := job.ReadInput(job.Request{Mode: job.Plan, Files: []string{path}}, func(ps []importer.Problem) { shown = ps })
	var f *job.Failure
	if !errors.As(err, &f) || f.Ending != job.Refused || job.ExitCode(f) != 2 {
		t.Fatalf("ReadInput = %v, want refused (exit 2)", err)
	}
	if len(shown) == 0 || shown[0].Source.Row != 2 || !strings.Contains(shown[0].Message, "never closed") {
		t.Errorf("problems shown: %+v, want the quote of row 2", shown)
	}
}

// TestYCMUsersReadOnlyForReinvites: YCM's users are read only when the plan re-invites
// someone; a run whose sheet leaves the expired colleague out spends no call on them.
func TestYCMUsersReadOnlyForReinvites(t *testing.T) {
	usersRead := func(s *sim.Server) int64 {
		var n int64
		for _, rc := range s.Stats().Routes {
			if rc.Route == "GET /dm/open_api/v2/users" {
				n += rc.Count
			}
		}
		return n
	}
	for _, tt := range []struct {
		name, row string
		reads     int64
		plan      string
	}{
		{"no re-invite", "new.person@demo.example,New,Person,Dashboard,no", 0, "Plan: 1 to create, 0 to update, 0 to delete, 0 to re-invite"},
		{"the expired colleague", "stale.invite@demo.example,Sam,Stale,Dashboard; Customers,no", 1, "Plan: 0 to create, 0 to update, 0 to delete, 1 to re-invite"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var sv seen
			d, s := deps(t, &sv, false)
			in := filepath.Join(t.TempDir(), "in.csv")
			if err := os.WriteFile(in, []byte("Email,First Name,Last Name,Permissions,YCM Manager\n"+tt.row+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			req := request(t, job.Plan)
			req.Files = []string{in}
			if _, err := job.Run(t.Context(), req, d); err != nil {
				t.Fatal(err)
			}
			if len(sv.plans) != 1 || !strings.HasPrefix(sv.plans[0].Counts().Line(), tt.plan) {
				t.Fatalf("plans %d: %v", len(sv.plans), sv.plans)
			}
			if n := usersRead(s); n != tt.reads {
				t.Errorf("YCM's users read %d times, want %d", n, tt.reads)
			}
		})
	}
}
