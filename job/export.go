package job

import (
	"slices"
	"strconv"
	"strings"

	"github.com/ycm-onboard/ycm-onboard/importer"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
)

// Export turns the portal's state into the input format's rows.
func Export(a reconcile.Actual) ([]importer.ExportColleague, []importer.ExportInstance) {
	names := map[int64]string{}
	order := map[int64]int{}
	for i, p := range a.Permissions {
		names[p.ID], order[p.ID] = p.Name, i
	}
	owners := map[int64]string{}
	for _, p := range a.Partners {
		owners[p.ID] = p.Email
	}
	cols := make([]importer.ExportColleague, 0, len(a.Colleagues))
	for _, c := range a.Colleagues {
		ids := slices.Clone(c.PermissionIDs)
		slices.SortFunc(ids, func(x, y int64) int { return order[x] - order[y] })
		perms := make([]string, 0, len(ids))
		for _, id := range ids {
			if n, ok := names[id]; ok {
				perms = append(perms, n)
			}
		}
		owner := ""
		if c.OwnerID != 0 {
			owner = owners[c.OwnerID]
			if owner == "" {
				owner = strconv.FormatInt(c.OwnerID, 10)
			}
		}
		cols = append(cols, importer.ExportColleague{Email: c.Email, FirstName: c.FirstName, LastName: c.LastName,
			Permissions: perms, YCMManager: c.YCMManager, Owner: owner, Remark: c.Remark})
	}
	insts := make([]importer.ExportInstance, 0, len(a.PBXs))
	for _, p := range a.PBXs {
		insts = append(insts, importer.ExportInstance{Name: p.Name, SN: p.SN, Extensions: p.Extensions, ConcurrentCalls: p.ConcurrentCalls})
	}
	return cols, insts
}

// Desired is one colleague as the portal has them, as an input row: planned with it, the
// colleague changes only if their invitation has expired (a re-invite, within the same
// limits as any plan's). ok is false when the portal has no such colleague.
func Desired(a reconcile.Actual, email string, source importer.Source) (d *importer.Desired, ok bool) {
	cols, _ := Export(a)
	for _, c := range cols {
		if !strings.EqualFold(c.Email, email) {
			continue
		}
		ycm, owner, remark := c.YCMManager, c.Owner, c.Remark
		d = &importer.Desired{Colleagues: []importer.Colleague{importer.NewColleague(importer.ColleagueFields{Source: source,
			Email: c.Email, FirstName: c.FirstName, LastName: c.LastName, Permissions: c.Permissions,
			YCMManager: &ycm, Owner: &owner, Remark: &remark})}}
		return d, true
	}
	return nil, false
}
