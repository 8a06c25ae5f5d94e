package state

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// statusFixture has a pending proposal of run 2's, and an older one saved before its
// plan line was recorded.
func statusFixture() Status {
	now := t0.Add(50 * time.Hour)
	inv := []Invitation{
		{Email: "active@example.com", ColleagueID: 3, InvitedAt: t0, ExpiresAt: t0.Add(48 * time.Hour),
			ActivatedAt: t0.Add(2 * time.Hour), LastStatus: "Active", LastSeen: now},
		{Email: "expired@example.com", ColleagueID: 2, InvitedAt: t0, ExpiresAt: t0.Add(48 * time.Hour), LastStatus: "Pending"},
		{Email: "late@example.com", ColleagueID: 5, InvitedAt: t0.Add(40 * time.Hour), ExpiresAt: t0.Add(88 * time.Hour), Reinvites: 1},
		{Email: "soon@example.com", ColleagueID: 4, InvitedAt: t0.Add(10 * time.Hour), ExpiresAt: t0.Add(58 * time.Hour)},
	}
	runs := []Run{
		{ID: 2, Mode: "apply", Started: now.Add(-time.Hour)},
		{ID: 1, Mode: "apply", Inputs: []Input{{"wave1.xlsx", "ab12"}}, Started: t0, Finished: t0.Add(3 * time.Minute),
			Counts: map[string]int{"create": 4, "failed": 1, "update": 0}, ExitCode: 1, ReportPath: "reports/ycm-onboard-apply-20260302T090000Z.xlsx"},
	}
	ps := []Proposal{
		{ID: 2, Author: "schedule", Created: now.Add(-50 * time.Minute), Status: ProposalPending, Reason: "it deletes 1 colleague(s)",
			PlanLine: "Plan: 0 to create, 0 to update, 1 to delete, 0 to re-invite, 0 to resize, 9 unchanged."},
		{ID: 1, Author: "ann", Created: t0.Add(time.Minute), Status: ProposalPending, Reason: "it changes 4 objects, more than 2"},
	}
	return Status{Invitations: inv, Runs: runs, Proposals: ps, Now: now}
}

func TestWriteStatusTable(t *testing.T) {
	st := statusFixture()
	var b bytes.Buffer
	if err := WriteStatus(&b, "table", st); err != nil {
		t.Fatal(err)
	}
	want := `Invitations: 2 pending, 1 expired, 1 active (times UTC)
EMAIL                STATUS   INVITED           EXPIRES           HOURS LEFT  RE-INVITES  ACTIVATED
soon@example.com     pending  2026-03-02 19:00  2026-03-04 19:00  8           0           -
late@example.com     pending  2026-03-04 01:00  2026-03-06 01:00  38          1           -
expired@example.com  expired  2026-03-02 09:00  2026-03-04 09:00  -           0           -
active@example.com   active   2026-03-02 09:00  2026-03-04 09:00  -           0           2026-03-02 11:00

Last runs: 2
RUN  MODE   STARTED           FINISHED          EXIT  COUNTS              REPORT
2    apply  2026-03-04 10:00  did not finish    -     -                   -
1    apply  2026-03-02 09:00  2026-03-02 09:03  1     create 4, failed 1  reports/ycm-onboard-apply-20260302T090000Z.xlsx

Pending proposals: 2
RUN  AUTHOR    PROPOSED          WHY                                APPROVE WITH
2    schedule  2026-03-04 10:10  it deletes 1 colleague(s)          ycm-onboard approve 2
1    ann       2026-03-02 09:01  it changes 4 objects, more than 2  ycm-onboard approve 1
`
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Errorf("table (-want +got):\n%s", d)
	}

	// Times follow now's location.
	b.Reset()
	loc := time.FixedZone("CET", 3600)
	if err := WriteStatus(&b, "table", Status{Invitations: st.Invitations[:1], Now: st.Now.In(loc)}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "2026-03-02 12:00") || !strings.Contains(b.String(), "(times CET)") || strings.Contains(b.String(), "proposals") {
		t.Errorf("table in CET, without proposals:\n%s", b.String())
	}
}

func TestWriteStatusJSON(t *testing.T) {
	st := statusFixture()
	var b bytes.Buffer
	if err := WriteStatus(&b, "json", st); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b.String())
	}
	want := map[string]any{
		"now": "2026-03-04T11:00:00Z",
		"invitations": []any{
			map[string]any{"email": "soon@example.com", "colleague_id": 4.0, "status": "pending", "invited_at": "2026-03-02T19:00:00Z",
				"expires_at": "2026-03-04T19:00:00Z", "hours_left": 8.0, "reinvites": 0.0},
			map[string]any{"email": "late@example.com", "colleague_id": 5.0, "status": "pending", "invited_at": "2026-03-04T01:00:00Z",
				"expires_at": "2026-03-06T01:00:00Z", "hours_left": 38.0, "reinvites": 1.0},
			map[string]any{"email": "expired@example.com", "colleague_id": 2.0, "status": "expired", "invited_at": "2026-03-02T09:00:00Z",
				"expires_at": "2026-03-04T09:00:00Z", "reinvites": 0.0, "last_status": "Pending"},
			map[string]any{"email": "active@example.com", "colleague_id": 3.0, "status": "active", "invited_at": "2026-03-02T09:00:00Z",
				"expires_at": "2026-03-04T09:00:00Z", "reinvites": 0.0, "activated_at": "2026-03-02T11:00:00Z",
				"last_status": "Active", "last_seen": "2026-03-04T11:00:00Z"},
		},
		"runs": []any{
			map[string]any{"id": 2.0, "mode": "apply", "inputs": []any{}, "started": "2026-03-04T10:00:00Z"},
			map[string]any{"id": 1.0, "mode": "apply", "inputs": []any{map[string]any{"path": "wave1.xlsx", "sha256": "ab12"}},
				"started": "2026-03-02T09:00:00Z", "finished": "2026-03-02T09:03:00Z", "exit_code": 1.0,
				"counts":      map[string]any{"create": 4.0, "failed": 1.0, "update": 0.0},
				"report_path": "reports/ycm-onboard-apply-20260302T090000Z.xlsx"},
		},
		"proposals": []any{
			map[string]any{"id": 2.0, "author": "schedule", "created": "2026-03-04T10:10:00Z", "status": "pending",
				"reason":    "it deletes 1 colleague(s)",
				"plan_line": "Plan: 0 to create, 0 to update, 1 to delete, 0 to re-invite, 0 to resize, 9 unchanged.",
				"command":   "ycm-onboard approve 2"},
			map[string]any{"id": 1.0, "author": "ann", "created": "2026-03-02T09:01:00Z", "status": "pending",
				"reason": "it changes 4 objects, more than 2", "command": "ycm-onboard approve 1"},
		},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("json (-want +got):\n%s", d)
	}

	b.Reset()
	if err := WriteStatus(&b, "json", Status{Now: st.Now}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"invitations": []`) || !strings.Contains(b.String(), `"runs": []`) || !strings.Contains(b.String(), `"proposals": []`) {
		t.Errorf("empty status should have empty lists, not null:\n%s", b.String())
	}
}

func TestWriteStatusUnknownFormat(t *testing.T) {
	err := WriteStatus(&bytes.Buffer{}, "xml", Status{Now: t0})
	if err == nil || !strings.Contains(err.Error(), "table or json") {
		t.Errorf("format xml: %v", err)
	}
}
