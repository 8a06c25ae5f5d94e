package report

import (
	"errors"
	"fmt"
	"time"

	"github.com/ycm-onboard/ycm-onboard/importer"
	"github.com/ycm-onboard/ycm-onboard/portal"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
)

// The pinned clock of every fixture.
var (
	t0      = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	started = t0.Add(-90 * time.Second)
)

func src(row int) *importer.Source {
	return &importer.Source{File: "onboarding.xlsx", Sheet: "Colleagues", Row: row}
}

func pbxSrc(row int) *importer.Source {
	return &importer.Source{File: "onboarding.xlsx", Sheet: "Instances", Row: row}
}

// applyRun is an apply with one of everything, including input that looks like formulas.
func applyRun() Run {
	C, P := reconcile.ColleagueObject, reconcile.InstanceObject
	actions := []reconcile.Action{
		{Kind: reconcile.Create, Object: C, Key: "alice@acme.example", Label: "Alice@acme.example", Name: "Alice Martin", Source: src(2),
			Changes: []reconcile.Change{{Field: "State", Old: "absent", New: "present"}}, Reason: "not in the portal"},
		{Kind: reconcile.Update, Object: C, Key: "bob@acme.example", Label: "bob@acme.example", Name: "Bob Stone", Source: src(3), ColleagueID: 12,
			Changes:    []reconcile.Change{{Field: "Last name", Old: "Ston", New: "Stone"}, {Field: "Permissions", Old: "Sales", New: "Sales, Support"}},
			Activation: reconcile.ActivationActive, InvitedAt: t0.Add(-30 * 24 * time.Hour)},
		{Kind: reconcile.Delete, Object: C, Key: "carol@acme.example", Label: "carol@acme.example", Name: "Carol Old", ColleagueID: 13,
			Reason: "not in the input and --prune", Activation: reconcile.ActivationActive},
		{Kind: reconcile.Reinvite, Object: C, Key: "dave@acme.example", Label: "dave@acme.example", Name: "Dave Late", Source: src(5), ColleagueID: 14,
			Reason: "invitation expired 24h ago", Activation: reconcile.ActivationExpired, InvitedAt: t0.Add(-72 * time.Hour)},
		{Kind: reconcile.Noop, Object: C, Key: "eve@acme.example", Label: "eve@acme.example", Name: "Eve Same", Source: src(6), ColleagueID: 15,
			Activation: reconcile.ActivationActive},
		// Formula injection and leading zeros: every one of these must stay text.
		{Kind: reconcile.Skip, Object: C, Key: `=hyperlink("http://evil.example","x")`, Label: `=HYPERLINK("http://evil.example","x")`,
			Name: "+cmd|' /C calc'!A0", Source: src(7)},
		{Kind: reconcile.Update, Object: C, Key: "frank@acme.example", Label: "frank@acme.example", Name: "-2+3", Source: src(8), ColleagueID: 16,
			Changes: []reconcile.Change{{Field: "Remark", Old: "0012", New: "@SUM(A1:A2)"}},
			Blocked: "Frank is the account owner: the portal never edits the owner; change him in the portal by hand.", Activation: reconcile.ActivationActive},
		{Kind: reconcile.Create, Object: C, Key: "gina@acme.example", Label: "gina@acme.example", Name: "Gina Fail", Source: src(9),
			Changes: []reconcile.Change{{Field: "State", Old: "absent", New: "present"}}},
		{Kind: reconcile.Create, Object: C, Key: "hugo@acme.example", Label: "hugo@acme.example", Name: "Hugo Fail", Source: src(10),
			Changes: []reconcile.Change{{Field: "State", Old: "absent", New: "present"}}},
		{Kind: reconcile.Create, Object: C, Key: "ivan@acme.example", Label: "ivan@acme.example", Name: "Ivan Later", Source: src(11),
			Changes: []reconcile.Change{{Field: "State", Old: "absent", New: "present"}}},
		{Kind: reconcile.Noop, Object: C, Key: "judy@acme.example", Label: "judy@acme.example", Name: "Judy Ice", Source: src(12), ColleagueID: 17,
			Activation: reconcile.ActivationActive, Frozen: true},
		{Kind: reconcile.Noop, Object: C, Key: "kim@acme.example", Label: "kim@acme.example", Name: "Kim Wait", Source: src(13), ColleagueID: 18,
			Activation: reconcile.ActivationPending, InvitedAt: t0.Add(-50 * time.Hour)},
		{Kind: reconcile.Noop, Object: C, Key: "lea@acme.example", Label: "lea@acme.example", Name: "Léa Soon", Source: src(14), ColleagueID: 19,
			Activation: reconcile.ActivationPending, InvitedAt: t0.Add(-12*time.Hour - 30*time.Minute)},
		{Kind: reconcile.Resize, Object: P, Key: "PCE-ACME-0001", Label: "Acme HQ", Source: pbxSrc(2), Sizing: &reconcile.Sizing{PBXID: 7715,
			Before: portal.Capacity{Extensions: 50, ConcurrentCalls: 10}, After: portal.Capacity{Extensions: 151, ConcurrentCalls: 20},
			ExtensionsUsed: 42, Derivation: "137 users in 3cx.csv + 10% = 151"},
			Changes: []reconcile.Change{{Field: "Extensions", Old: "50", New: "151"}, {Field: "Concurrent calls", Old: "10", New: "20"}}},
		{Kind: reconcile.Noop, Object: P, Key: "PCE-ACME-0002", Label: "Acme Branch", Source: pbxSrc(3), Sizing: &reconcile.Sizing{PBXID: 7716,
			Before: portal.Capacity{Extensions: 20, ConcurrentCalls: 4}, After: portal.Capacity{Extensions: 20, ConcurrentCalls: 4}, ExtensionsUsed: -1}},
		{Kind: reconcile.Skip, Object: P, Key: "0007", Label: "0007", Source: pbxSrc(4), Sizing: &reconcile.Sizing{ExtensionsUsed: -1}},
		{Kind: reconcile.Resize, Object: P, Key: "PCE-ACME-0003", Label: "=1+1", Source: pbxSrc(5), Sizing: &reconcile.Sizing{PBXID: 7717,
			Before: portal.Capacity{Extensions: 100, ConcurrentCalls: 10}, After: portal.Capacity{Extensions: 30, ConcurrentCalls: 10},
			ExtensionsUsed: 64}, Changes: []reconcile.Change{{Field: "Extensions", Old: "100", New: "30"}}},
	}
	refused := "The portal refused the e-mail domain; use the colleague's company address, then run apply again."
	results := []reconcile.Result{
		{Outcome: reconcile.Applied, Attempts: 1, ColleagueID: 20, Activation: reconcile.ActivationPending, InvitedAt: t0.Add(-time.Minute)},
		{Outcome: reconcile.Failed, Class: reconcile.ClassRowTerminal, Attempts: 1, Message: refused},
		{Outcome: reconcile.Applied, Attempts: 1},
		{Outcome: reconcile.Applied, Attempts: 2, Activation: reconcile.ActivationReinvited, InvitedAt: t0.Add(-2 * time.Minute)},
		{Outcome: reconcile.Unchanged},
		{Outcome: reconcile.Skipped},
		{Outcome: reconcile.Blocked},
		{Outcome: reconcile.Failed, Class: reconcile.ClassRowTerminal, Attempts: 1, Message: refused},
		{Outcome: reconcile.Failed, Class: reconcile.ClassRetryable, Attempts: 5, Err: errors.New("create colleague \"hugo@acme.example\": portal answered 503 five times")},
		{Outcome: reconcile.NotRun},
		{Outcome: reconcile.Unchanged},
		{Outcome: reconcile.Unchanged},
		{Outcome: reconcile.Unchanged},
		{Outcome: reconcile.Applied, Attempts: 1},
		{Outcome: reconcile.Unchanged},
		{Outcome: reconcile.Skipped},
		{Outcome: reconcile.Failed, Class: reconcile.ClassRowTerminal, Attempts: 1,
			Message: "Extensions 30 is below the 64 in use; raise Extensions to at least 64 (Instances row 5)."},
	}
	problems := []importer.Problem{
		{Source: *src(7), Column: "A", Header: "Email", Value: `=HYPERLINK("http://evil.example","x")`, Severity: importer.Error,
			Message: "not an e-mail address", Fix: "write the colleague's e-mail address, e.g. name@company.com"},
		{Source: *src(7), Column: "B", Header: "First name", Value: "+cmd|' /C calc'!A0", Severity: importer.Warning,
			Message: "starts with +", Fix: "check the name"},
		{Source: *pbxSrc(4), Column: "A", Header: "PBX", Value: "0007", Severity: importer.Error,
			Message: "no PBX named or numbered 0007", Fix: "write the PBX's name or SN as YCM shows it"},
		{Source: *pbxSrc(4), Column: "B", Header: "Extensions", Value: "-5", Severity: importer.Error,
			Message: "Extensions must be between 5 and 500", Fix: "write a whole number from 5 to 500"},
		{Source: importer.Source{File: "onboarding.xlsx", Sheet: "Colleagues"}, Column: "F", Header: "Colour", Severity: importer.Warning,
			Message: "unknown column, ignored", Fix: "remove it or rename it to one of the documented headers"},
	}
	return Run{
		Version: "v1.2.3", Mode: "apply",
		Files:      []importer.File{{Path: "onboarding.xlsx", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}},
		PartnerURL: "https://partner:s3cret@partner.example/openapi?access_token=abc#frag",
		YCMURL:     "https://ycm.example/dm/open_api",
		Started:    started, Finished: t0, Concurrency: 4,
		Guards:   []string{"max-delete 5", "max-shrink 10%"},
		ExitCode: 1,
		Plan:     reconcile.Plan{Actions: actions, Fingerprint: "sha256:3f2a…", Made: started},
		Results:  results, Problems: problems, Now: t0,
		ExtensionPool: 300, ExtensionsAllocated: 170,
	}
}

// interruptedRun is the apply stopped half-way by a fatal error and Ctrl-C.
func interruptedRun() Run {
	r := applyRun()
	r.Interrupted = true
	r.Fatal = "the portal blocked this IP address after too many failed logins (errno 10005); ask Yeastar to unblock it"
	r.ExitCode = 4
	for i := 8; i < len(r.Results); i++ {
		if r.Plan.Actions[i].Kind.Changes() && r.Plan.Actions[i].Blocked == "" {
			r.Results[i] = reconcile.Result{Outcome: reconcile.NotRun}
		}
	}
	r.Results = r.Results[:14] // the rest never got a result
	return r
}

// planRun is the same input in plan mode, with a guard tripped.
func planRun() Run {
	r := applyRun()
	r.Mode = "plan"
	r.Results = nil
	r.Tripped = []string{"max-shrink 10%: PCE-ACME-0003 shrinks from 100 to 30 extensions"}
	r.Plan.Tripped = r.Tripped
	r.ExitCode = 3
	return r
}

// bigRun is an apply of n colleagues: the cycle create, update, no-op, failed create.
func bigRun(n int) Run {
	actions := make([]reconcile.Action, n)
	results := make([]reconcile.Result, n)
	for i := range n {
		email := fmt.Sprintf("user%06d@bigcorp.example", i)
		a := reconcile.Action{Object: reconcile.ColleagueObject, Key: email, Label: email,
			Name: fmt.Sprintf("User %06d", i), Source: src(i + 2)}
		res := reconcile.Result{Outcome: reconcile.Applied, Attempts: 1}
		switch i % 4 {
		case 0:
			a.Kind = reconcile.Create
			a.Changes = []reconcile.Change{{Field: "State", Old: "absent", New: "present"}}
			res.Activation, res.InvitedAt = reconcile.ActivationPending, t0.Add(-time.Duration(i%48)*time.Hour)
		case 1:
			a.Kind = reconcile.Update
			a.Activation = reconcile.ActivationActive
			a.Changes = []reconcile.Change{{Field: "Permissions", Old: "Sales", New: "Sales, Support"}, {Field: "Remark", Old: "", New: "0042"}}
		case 2:
			a.Kind = reconcile.Noop
			a.Activation = reconcile.ActivationActive
			res = reconcile.Result{Outcome: reconcile.Unchanged}
		case 3:
			a.Kind = reconcile.Create
			res = reconcile.Result{Outcome: reconcile.Failed, Attempts: 3, Message: fmt.Sprintf("The portal kept failing (HTTP 503, case %d); run apply again.", i%7)}
		}
		actions[i], results[i] = a, res
	}
	return Run{
		Version: "v1.2.3", Mode: "apply", Started: started, Finished: t0, Now: t0, Concurrency: 8,
		Files: []importer.File{{Path: "big.xlsx", SHA256: "00"}},
		Plan:  reconcile.Plan{Actions: actions}, Results: results,
	}
}
