package portal_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ycm-onboard/ycm-onboard/portal"
	"github.com/ycm-onboard/ycm-onboard/portal/sim"
)

// TestEveryDialect runs the client's whole range of calls against each shape the
// simulator can serve where Yeastar's guides are silent or were read otherwise.
func TestEveryDialect(t *testing.T) {
	for _, nd := range sim.Dialects() {
		t.Run(nd.Name, func(t *testing.T) {
			t.Parallel()
			s, base := startSim(t, sim.Options{Dialect: nd.Dialect})
			ctx := t.Context()
			p, y := partnerClient(t, base, nil), ycmClient(t, base, nil)

			snap, err := portal.Read(ctx, p, y)
			if err != nil {
				t.Fatalf("read the portal: %v", err)
			}
			if len(snap.Colleagues) != 5 || len(snap.Partners) != 2 || len(snap.Permissions) != 9 || len(snap.PBXs) != 3 {
				t.Fatalf("read %d colleagues, %d partners, %d permissions, %d PBXs",
					len(snap.Colleagues), len(snap.Partners), len(snap.Permissions), len(snap.PBXs))
			}
			if snap.Colleagues[0].ID != 10001 || snap.Partners[0].ID != 2001 || snap.Permissions[0].ID != 101 {
				t.Errorf("ids misread: colleague %d, partner %d, permission %d",
					snap.Colleagues[0].ID, snap.Partners[0].ID, snap.Permissions[0].ID)
			}
			if snap.Colleagues[2].CreatedAt.IsZero() || snap.Colleagues[0].Status != portal.StatusActive {
				t.Errorf("colleague misread: %+v", snap.Colleagues[0])
			}

			// A colleague of a subordinate partner: created, listed under its owner, edited, deleted.
			id, recovered, err := p.CreateColleague(ctx, portal.NewColleague{Email: "sub.one@demo.example",
				FirstName: "Sub", PermissionIDs: []int64{101}, OwnerID: 2001})
			if err != nil || recovered {
				t.Fatalf("create: id %d, recovered %v, %v", id, recovered, err)
			}
			created := s.Colleagues()[len(s.Colleagues())-1]
			answersID := nd.Dialect.Create == sim.CreateString || nd.Dialect.Create == sim.CreateObject
			if created.OwnerID != 2001 || (answersID && id != created.ColleaguesID) || (!answersID && id != 0) {
				t.Fatalf("created %d under %d, the client says %d", created.ColleaguesID, created.OwnerID, id)
			}
			id = created.ColleaguesID
			cols, err := p.Colleagues(ctx, snap.Partners)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(cols, func(c portal.Colleague) bool { return c.ID == id })
			if len(cols) != 6 || i < 0 || cols[i].OwnerID != 2001 {
				t.Fatalf("after the create: %d colleagues, the new one at %d: %+v", len(cols), i, cols)
			}
			if err := p.EditColleague(ctx, id, portal.ColleagueEdit{FirstName: "Sub", LastName: "Edited", PermissionIDs: []int64{101, 102}}); err != nil {
				t.Fatalf("edit: %v", err)
			}
			if c, err := p.Colleague(ctx, id); err != nil || c.LastName != "Edited" || len(c.PermissionIDs) != 2 {
				t.Fatalf("read back: %+v, %v", c, err)
			}
			if _, _, err := p.CreateColleague(ctx, portal.NewColleague{Email: "SUB.ONE@demo.example", FirstName: "x",
				PermissionIDs: []int64{101}, OwnerID: 2001}); !errors.Is(err, portal.ErrExists) {
				t.Errorf("a second create: %v, want already exists", err)
			}
			if err := p.DeleteColleagues(ctx, id); err != nil {
				t.Fatalf("delete: %v", err)
			}
			if _, err := p.Colleague(ctx, id); !errors.Is(err, portal.ErrNotFound) {
				t.Errorf("after the delete: %v, want not found", err)
			}
			if _, err := p.Colleague(ctx, 999999); !errors.Is(err, portal.ErrNotFound) {
				t.Errorf("unknown colleague: %v, want not found", err)
			}
			if _, _, err := p.CreateColleague(ctx, portal.NewColleague{Email: "not an address", FirstName: "x",
				PermissionIDs: []int64{101}}); !errors.Is(err, portal.ErrValidation) {
				t.Errorf("a bad e-mail: %v, want validation", err)
			}

			// A resize keeps the transcription capacity nobody asked to change.
			var globex portal.PBX
			for _, pb := range snap.PBXs {
				if pb.Name == "Globex Branch" {
					globex = pb
				}
			}
			if globex.Transcription != 100 {
				t.Fatalf("Globex's transcription capacity read as %d", globex.Transcription)
			}
			want := portal.CapacityOf(globex)
			want.Extensions = 25
			if err := y.Resize(ctx, globex.ID, want); err != nil {
				t.Fatalf("resize: %v", err)
			}
			if got, _ := y.PBX(ctx, globex.ID); got.Extensions != 25 || got.Transcription != 100 {
				t.Errorf("after the resize: %d extensions, transcription %d", got.Extensions, got.Transcription)
			}
			if _, err := y.PBX(ctx, 999999); !errors.Is(err, portal.ErrNotFound) {
				t.Errorf("unknown PBX: %v, want not found", err)
			}
			bad := portal.CapacityOf(globex)
			bad.Extensions = 501
			if err := y.Resize(ctx, globex.ID, bad); !errors.Is(err, portal.ErrValidation) {
				t.Errorf("501 extensions: %v, want validation", err)
			}

			// YCM's users and its activation e-mail, which keeps the colleague's id.
			users, err := y.ReadUsers(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var stale portal.YCMUser
			for _, u := range users {
				if strings.EqualFold(u.Email, "ops.lead@demo.example") && !u.Colleague() {
					t.Errorf("ops.lead is a YCM user of type %q", u.Type)
				}
				if strings.EqualFold(u.Email, "stale.invite@demo.example") {
					stale = u
				}
			}
			if stale.ID != 0 {
				t.Errorf("stale.invite is not a YCM manager but is listed as user %d", stale.ID)
			}
			if err := y.SendActivation(ctx, 424242); !errors.Is(err, portal.ErrNotFound) {
				t.Errorf("activation e-mail to an unknown user: %v, want not found", err)
			}

			// An expired token is renewed once, whatever the error looks like.
			s.Advance(31 * time.Minute)
			if _, err := p.Colleague(ctx, 10001); err != nil {
				t.Errorf("partner portal after the token expired: %v", err)
			}
			if _, err := y.PBX(ctx, globex.ID); err != nil {
				t.Errorf("YCM after the token expired: %v", err)
			}
		})
	}
}

// TestWrongSecretInEveryDialect: one failed login per API, then a fatal error,
// whatever the refusal looks like.
func TestWrongSecretInEveryDialect(t *testing.T) {
	for _, nd := range sim.Dialects() {
		t.Run(nd.Name, func(t *testing.T) {
			t.Parallel()
			s, base := startSim(t, sim.Options{Dialect: nd.Dialect})
			p, err := portal.NewPartner(testConfig(base, sim.DemoPartnerID, "wrong", nil))
			if err != nil {
				t.Fatal(err)
			}
			y, err := portal.NewYCM(testConfig(base, sim.DemoYCMID, "wrong", nil))
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				if _, err := p.Colleague(t.Context(), 10001); !portal.Fatal(err) {
					t.Fatalf("partner portal: %v, want fatal", err)
				}
				_, err := y.PBX(t.Context(), 7701)
				if !portal.Fatal(err) {
					t.Fatalf("ycm: %v, want fatal", err)
				}
				if strings.Contains(err.Error(), "could not be read") {
					t.Errorf("a refusal that was read says it was not: %v", err)
				}
			}
			if n := routeCount(s, "POST /auth/openapi/v1/oauth/token", -1); n != 1 {
				t.Errorf("%d partner portal logins, want 1", n)
			}
			if n := routeCount(s, "POST /dm/open_api/oauth/token", -1); n != 1 {
				t.Errorf("%d YCM logins, want 1", n)
			}
		})
	}
}
