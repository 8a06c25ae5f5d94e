package state

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ycm-onboard/ycm-onboard/reconcile"
)

// TestInvitationLifecycle follows one colleague over two days and a half: invited,
// pending, expired, re-invited (counted once, even when recorded twice), activated.
func TestInvitationLifecycle(t *testing.T) {
	c := newClock(t0)
	s := openStore(t, t.TempDir(), c)
	ctx := t.Context()
	get := func() Invitation {
		t.Helper()
		inv, ok, err := s.Invitation(ctx, "Ann@Example.com ")
		if err != nil || !ok {
			t.Fatalf("Invitation: %v, found %v", err, ok)
		}
		return inv
	}
	if _, ok, err := s.Invitation(ctx, "ann@example.com"); ok || err != nil {
		t.Fatalf("Invitation before any: found %v, %v", ok, err)
	}

	if err := s.Invited(ctx, "Ann@Example.com", 101, c.Now(), false); err != nil {
		t.Fatal(err)
	}
	inv := get()
	if d := cmp.Diff(Invitation{Email: "ann@example.com", ColleagueID: 101, InvitedAt: t0,
		ExpiresAt: t0.Add(48 * time.Hour), LastStatus: "Pending", LastSeen: t0}, inv); d != "" {
		t.Errorf("after the invitation (-want +got):\n%s", d)
	}
	for _, tc := range []struct {
		at     time.Duration
		status reconcile.Activation
		left   int
	}{
		{0, reconcile.ActivationPending, 48},
		{30 * time.Minute, reconcile.ActivationPending, 47},
		{47*time.Hour + 59*time.Minute, reconcile.ActivationPending, 0},
		{48 * time.Hour, reconcile.ActivationExpired, 0},
	} {
		now := t0.Add(tc.at)
		if st, left := inv.Status(now), inv.HoursLeft(now); st != tc.status || left != tc.left {
			t.Errorf("at +%v: %s with %d hours left, want %s with %d", tc.at, st, left, tc.status, tc.left)
		}
	}

	c.Advance(49 * time.Hour)
	if err := s.Observed(ctx, "ann@example.com", reconcile.ActivationExpired, c.Now()); err != nil {
		t.Fatal(err)
	}
	if st := get().Status(c.Now()); st != reconcile.ActivationExpired {
		t.Errorf("at +49h: %s, want Expired", st)
	}
	reinvited := c.Now()
	for range 2 { // the second is a resumed run recording it again
		if err := s.Invited(ctx, "ann@example.com", 102, reinvited, true); err != nil {
			t.Fatal(err)
		}
	}
	// A late record of the first invitation changes nothing.
	if err := s.Invited(ctx, "ann@example.com", 101, t0, false); err != nil {
		t.Fatal(err)
	}
	inv = get()
	if inv.Reinvites != 1 || inv.ColleagueID != 102 || !inv.InvitedAt.Equal(reinvited) || inv.Status(c.Now()) != reconcile.ActivationPending {
		t.Errorf("after the re-invitation: %+v; want 1 re-invite, colleague 102, pending since +49h", inv)
	}
	if left := inv.HoursLeft(c.Now()); left != 48 {
		t.Errorf("hours left after the re-invitation: %d, want 48", left)
	}

	c.Advance(5 * time.Hour)
	activated := c.Now()
	if err := s.Activated(ctx, "ann@example.com", activated); err != nil {
		t.Fatal(err)
	}
	c.Advance(24 * time.Hour)
	if err := s.Observed(ctx, "ANN@example.com", reconcile.ActivationActive, c.Now()); err != nil {
		t.Fatal(err)
	}
	inv = get()
	if !inv.ActivatedAt.Equal(activated) || inv.Status(c.Now()) != reconcile.ActivationActive || inv.HoursLeft(c.Now()) != 0 || inv.Reinvites != 1 {
		t.Errorf("after activation: %+v; want active since +54h, 1 re-invite", inv)
	}

	// Observing an untracked address records nothing; activation of one does.
	if err := s.Observed(ctx, "bob@example.com", reconcile.ActivationPending, c.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.Activated(ctx, "cy@example.com", c.Now()); err != nil {
		t.Fatal(err)
	}
	all, err := s.Invitations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var emails []string
	for _, i := range all {
		emails = append(emails, i.Email)
	}
	if d := cmp.Diff([]string{"ann@example.com", "cy@example.com"}, emails); d != "" {
		t.Errorf("Invitations (-want +got):\n%s", d)
	}
}
