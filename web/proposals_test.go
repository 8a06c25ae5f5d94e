package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ycm-onboard/ycm-onboard/reconcile"
	"github.com/ycm-onboard/ycm-onboard/state"
)

// newApprovalSite is a page where every plan needs approval, with a second approver,
// then changed by configure.
func newApprovalSite(t *testing.T, configure ...func(*Config)) *site {
	t.Helper()
	return newSiteWith(t, func(c *Config) {
		c.Approval = reconcile.Approval{Always: true}
		c.DemoAccounts = append(append([]DemoAccount(nil), testAccounts...), DemoAccount{Name: "ada", Password: "approver-password-2", Role: "approver"})
		for _, f := range configure {
			f(c)
		}
	})
}

var proposedRE = regexp.MustCompile(`proposal (\d+) is waiting`)

// propose uploads the sample as abe and proposes its plan; it returns the proposal's id.
func propose(t *testing.T, st *site, abe *client) string {
	t.Helper()
	_, body := abe.upload("../samples/onboarding.xlsx")
	if !strings.Contains(body, "Propose Plan: 21 to create") || strings.Contains(body, "Apply Plan:") {
		t.Fatalf("the approver is not offered Propose:\n%s", body)
	}
	body = proposeUpload(t, abe, pageOf(body))
	m := proposedRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("after Propose:\n%s", body)
	}
	if n := len(st.sim.Outbox()); n != 0 {
		t.Fatalf("%d e-mails after a proposal, want none", n)
	}
	return m[1]
}

// proposeUpload presses Propose on an upload's page and returns the page once the
// proposal is saved.
func proposeUpload(t *testing.T, c *client, page string) string {
	t.Helper()
	c.post(page+"/apply", url.Values{"csrf": {c.csrf()}})
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body := c.get(page)
		if strings.Contains(body, "Proposed by") {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("not proposed:\n%s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// proposals are every proposal in the page's run history.
func proposals(t *testing.T, st *site) []state.Proposal {
	t.Helper()
	s, err := state.Open(st.cfgd.StateDir, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ps, err := s.Proposals(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func proposalStatus(t *testing.T, st *site, id string) state.Proposal {
	t.Helper()
	ps := proposals(t, st)
	for _, p := range ps {
		if id == strconv.FormatInt(p.ID, 10) {
			return p
		}
	}
	t.Fatalf("no proposal %s in %+v", id, ps)
	return state.Proposal{}
}

// The author of a proposal cannot approve it; another approver applies it exactly.
func TestProposalApprovedByAnotherApprover(t *testing.T) {
	st := newApprovalSite(t)
	abe := st.client(t)
	abe.signin("abe", "approver-password-1")
	id := propose(t, st, abe)

	_, body := abe.get("/proposals")
	if !strings.Contains(body, "another approver decides") || strings.Contains(body, `action="/proposals/`+id+`/approve"`) {
		t.Errorf("the author is offered Approve:\n%s", body)
	}
	if code, _ := abe.post("/proposals/"+id+"/approve", url.Values{"csrf": {abe.csrf()}}); code != http.StatusForbidden {
		t.Errorf("the author's approve: %d, want 403", code)
	}
	if code, _ := abe.post("/proposals/"+id+"/refuse", url.Values{"csrf": {abe.csrf()}, "reason": {"mine"}}); code != http.StatusForbidden {
		t.Errorf("the author's refusal: %d, want 403", code)
	}
	una := st.client(t)
	una.signin("una", "uploader-password-1")
	if code, _ := una.post("/proposals/"+id+"/approve", url.Values{"csrf": {una.csrf()}}); code != http.StatusForbidden {
		t.Errorf("an uploader's approve: %d, want 403", code)
	}
	if n := len(st.sim.Outbox()); n != 0 {
		t.Fatalf("%d e-mails before the approval", n)
	}

	ada := st.client(t)
	ada.signin("ada", "approver-password-2")
	if _, body := ada.get("/proposals"); !strings.Contains(body, `action="/proposals/`+id+`/approve"`) {
		t.Fatalf("another approver has no Approve button:\n%s", body)
	}
	code, body := ada.post("/proposals/"+id+"/approve", url.Values{"csrf": {ada.csrf()}})
	if code != http.StatusOK || !strings.Contains(body, "approved by ada and applied") || !strings.Contains(body, "Applied: 25 succeeded, 0 failed") {
		t.Fatalf("approve: %d\n%s", code, body)
	}
	if n := len(st.sim.Outbox()); n != 22 {
		t.Errorf("%d e-mails, want 22: the plan as proposed", n)
	}
	if p := proposalStatus(t, st, id); p.Status != state.ProposalApplied || p.DecidedBy != "ada" || p.Author != "abe" {
		t.Errorf("proposal %+v, want applied by ada", p)
	}
	if _, body := ada.get("/runs"); !strings.Contains(body, "<td>ada</td>") {
		t.Errorf("the Runs page does not name the approver:\n%s", body)
	}
	if code, _ := ada.post("/proposals/"+id+"/approve", url.Values{"csrf": {ada.csrf()}}); code != http.StatusConflict {
		t.Errorf("a second approve: %d, want 409", code)
	}
}

// A proposal the portal changed since is refused as stale; a refusal keeps its reason.
func TestProposalStaleOrRefused(t *testing.T) {
	st := newApprovalSite(t)
	abe := st.client(t)
	abe.signin("abe", "approver-password-1")
	id := propose(t, st, abe)
	w := st.sim.State()
	for i, c := range w.Colleagues {
		if c.YeastarID == "finance@demo.example" {
			w.Colleagues[i].LastName = "Changed"
		}
	}
	if err := st.sim.LoadState(w); err != nil {
		t.Fatal(err)
	}
	ada := st.client(t)
	ada.signin("ada", "approver-password-2")
	code, body := ada.post("/proposals/"+id+"/approve", url.Values{"csrf": {ada.csrf()}})
	if code != http.StatusConflict || !strings.Contains(body, "is stale") {
		t.Fatalf("a stale approve: %d\n%s", code, body)
	}
	if n := len(st.sim.Outbox()); n != 0 {
		t.Errorf("%d e-mails after a stale approve, want none", n)
	}
	if p := proposalStatus(t, st, id); p.Status != state.ProposalStale {
		t.Errorf("proposal %+v, want stale", p)
	}

	id = propose(t, st, abe)
	if code, _ := ada.post("/proposals/"+id+"/refuse", url.Values{"csrf": {ada.csrf()}}); code != http.StatusBadRequest {
		t.Errorf("a refusal without a reason: %d, want 400", code)
	}
	if code, _ := ada.post("/proposals/"+id+"/refuse", url.Values{"csrf": {ada.csrf()}, "reason": {"not today"}}); code != http.StatusOK {
		t.Errorf("a refusal: %d", code)
	}
	if p := proposalStatus(t, st, id); p.Status != state.ProposalRefused || p.DecidedBy != "ada" || p.Reason != "not today" {
		t.Errorf("proposal %+v, want refused by ada", p)
	}
}
