package portal

import (
	"context"
	"time"

	"github.com/sourcegraph/conc/pool"
)

// Snapshot is what the two APIs hold: everything a plan is made from.
type Snapshot struct {
	Colleagues  []Colleague // the partner's own and every subordinate partner's
	PBXs        []PBX
	Permissions []Permission
	Partners    []Partner
	Now         time.Time // the portal's clock
}

// Read reads both APIs' lists at once. The colleagues of each subordinate partner wait
// for the partner list; the partner's own do not.
func Read(ctx context.Context, p *PartnerClient, y *YCMClient) (Snapshot, error) {
	var s Snapshot
	wp := pool.New().WithErrors().WithContext(ctx).WithCancelOnError().WithFirstError()
	wp.Go(func(ctx context.Context) (err error) {
		s.Partners, s.Colleagues, err = p.PartnersAndColleagues(ctx)
		return err
	})
	wp.Go(func(ctx context.Context) error {
		for pbx, err := range y.PBXs(ctx) {
			if err != nil {
				return err
			}
			s.PBXs = append(s.PBXs, pbx)
		}
		return nil
	})
	wp.Go(func(ctx context.Context) (err error) {
		s.Permissions, err = p.Permissions(ctx)
		return err
	})
	if err := wp.Wait(); err != nil {
		return s, err
	}
	s.Now = p.PortalNow()
	return s, nil
}

// ReadUsers lists every YCM user.
func (y *YCMClient) ReadUsers(ctx context.Context) ([]YCMUser, error) {
	var out []YCMUser
	for u, err := range y.Users(ctx) {
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}
