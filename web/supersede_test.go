package web

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCorrectedUploadSupersedesItsProposal: an account manager uploads a sheet,
// proposes its plan, then uploads the corrected sheet under the same name and
// proposes again: the first proposal can no longer be approved. Another person's
// sheet of the same name supersedes nothing.
func TestCorrectedUploadSupersedesItsProposal(t *testing.T) {
	st := newApprovalSite(t)
	sheet := func(rows int) string {
		t.Helper()
		var b strings.Builder
		b.WriteString("Email,First Name,Last Name,Permissions,YCM Manager\n")
		for i := range rows {
			b.WriteString("wave" + string(rune('a'+i)) + "@demo.example,Wave,Person,Dashboard,no\n")
		}
		p := filepath.Join(t.TempDir(), "wave.csv")
		if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	propose := func(c *client, path string) {
		t.Helper()
		_, body := c.upload(path)
		proposeUpload(t, c, pageOf(body))
	}
	pending := func() map[string]int {
		t.Helper()
		n := map[string]int{}
		for _, p := range proposals(t, st) {
			n[string(p.Status)+" by "+p.Author]++
		}
		return n
	}
	abe := st.client(t)
	abe.signin("abe", "approver-password-1")
	propose(abe, sheet(3))
	propose(abe, sheet(2)) // corrected: one row fewer
	if got := pending(); got["pending by abe"] != 1 || got["stale by abe"] != 1 {
		t.Fatalf("after the corrected upload: %v, want one pending and one stale", got)
	}
	ada := st.client(t)
	ada.signin("ada", "approver-password-2")
	propose(ada, sheet(4))
	if got := pending(); got["pending by abe"] != 1 || got["pending by ada"] != 1 || got["stale by abe"] != 1 {
		t.Errorf("after another person's sheet of the same name: %v", got)
	}
}
