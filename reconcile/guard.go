package reconcile

import (
	"fmt"
	"math"

	"github.com/ycm-onboard/ycm-onboard/internal/words"
)

// Guards checks the whole plan before the first write and returns what it trips.
// Re-invites delete too, but only never-activated colleagues, and are not counted.
func Guards(p Plan, portalColleagues int, opts Options) []string {
	deletes := 0
	for _, a := range p.Actions {
		if a.Kind == Delete && a.Blocked == "" {
			deletes++
		}
	}
	var tripped []string
	if deletes > opts.MaxDelete {
		tripped = append(tripped, fmt.Sprintf("the plan deletes %s, more than --max-delete %d", words.Count(deletes, "colleague"), opts.MaxDelete))
	}
	if portalColleagues >= 50 && opts.MaxDeletePercent > 0 {
		limit := int(math.Floor(float64(portalColleagues) * opts.MaxDeletePercent / 100))
		if deletes > limit {
			tripped = append(tripped, fmt.Sprintf("the plan deletes %d of the portal's %d colleagues, more than --max-delete-percent %g%% (%d)",
				deletes, portalColleagues, opts.MaxDeletePercent, limit))
		}
	}
	return tripped
}
