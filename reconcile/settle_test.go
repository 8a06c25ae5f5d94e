package reconcile

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ycm-onboard/ycm-onboard/portal"
)

func TestSettle(t *testing.T) {
	started := now.Add(-time.Hour)
	created := now.Add(-30 * time.Minute)
	actual := []portal.Colleague{
		{ID: 20, Email: "New@demo.example", CreatedAt: created},
		{ID: 21, Email: "nocreatetime@demo.example"},
		{ID: 4, Email: "stale.invite@demo.example"},
		{ID: 30, Email: "reinvited@demo.example", CreatedAt: created},
		{ID: 7, Email: "ycm.user@demo.example"},
	}
	col := func(kind, key string, id int64) Unsettled {
		return Unsettled{Object: "colleague", Key: key, Kind: kind, PortalID: id, Started: started}
	}
	tests := []struct {
		name string
		in   Unsettled
		want Settlement
	}{
		{"a create found", col("create", "new@demo.example", 0), Settlement{Outcome: "applied",
			Message: "found on the portal after the earlier run stopped",
			Invited: &Invitation{Email: "New@demo.example", ColleagueID: 20, At: created}}},
		{"a create found, no creation time", col("create", "nocreatetime@demo.example", 0), Settlement{Outcome: "applied",
			Message: "found on the portal after the earlier run stopped",
			Invited: &Invitation{Email: "nocreatetime@demo.example", ColleagueID: 21, At: started}}},
		{"a create not there", col("create", "missing@demo.example", 0), Settlement{Outcome: "not run",
			Message: "not on the portal after the earlier run stopped: this run plans it again"}},
		{"a re-invite that never deleted", col("re-invite", "stale.invite@demo.example", 4), Settlement{Outcome: "not run",
			Message: "the expired invitation is still there: this run plans it again"}},
		{"a re-invite that re-created", col("re-invite", "reinvited@demo.example", 3), Settlement{Outcome: "applied",
			Message: "found on the portal after the earlier run stopped",
			Invited: &Invitation{Email: "reinvited@demo.example", ColleagueID: 30, At: created, Reinvite: true}}},
		{"a re-invite deleted, not re-created", col("re-invite", "gone@demo.example", 9), Settlement{Outcome: "not run",
			Message: "not on the portal after the earlier run stopped: this run plans it again"}},
		{"a YCM resend", col(KindResend, "ycm.user@demo.example", 7), Settlement{Outcome: "unknown",
			Message: "an earlier run stopped while asking YCM to send the activation e-mail; it may not have been sent, so this run sends it again if the link is still expired"}},
		{"a delete done", col("delete", "gone@demo.example", 9), Settlement{Outcome: "applied",
			Message: "gone from the portal after the earlier run stopped"}},
		{"a delete not done", col("delete", "stale.invite@demo.example", 4), Settlement{Outcome: "unknown",
			Message: "an earlier run stopped before it recorded the result; the portal was read again"}},
		{"an update", col("update", "stale.invite@demo.example", 4), Settlement{Outcome: "unknown",
			Message: "an earlier run stopped before it recorded the result; the portal was read again"}},
		{"a resize", Unsettled{Object: "PBX", Key: "PCE-ACME-0001", Kind: "resize", PortalID: 7701}, Settlement{Outcome: "unknown",
			Message: "an earlier run stopped before it recorded the result; the portal was read again"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Settle([]Unsettled{tt.in}, actual)
			if diff := cmp.Diff([]Settlement{tt.want}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
