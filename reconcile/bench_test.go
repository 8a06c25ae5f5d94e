package reconcile_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/ycm-onboard/ycm-onboard/importer"
	"github.com/ycm-onboard/ycm-onboard/portal"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
)

// diffInputs makes n desired colleagues against n existing ones, a tenth of them changed.
func diffInputs(n int) (*importer.Desired, reconcile.Actual) {
	perms := []portal.Permission{{ID: 101, Name: "Dashboard"}, {ID: 102, Name: "Customers"}, {ID: 103, Name: "Orders"}}
	a := reconcile.Actual{Now: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), Permissions: perms,
		Colleagues: make([]portal.Colleague, n)}
	d := &importer.Desired{Colleagues: make([]importer.Colleague, n)}
	for i := range n {
		e := fmt.Sprintf("person%07d@demo.example", i)
		a.Colleagues[i] = portal.Colleague{ID: int64(i + 1), Email: e, FirstName: "P", LastName: fmt.Sprint(i),
			Status: portal.StatusActive, PermissionIDs: []int64{101, 102}}
		want := []string{"Dashboard", "Customers"}
		if i%10 == 0 {
			want = append(want, "Orders")
		}
		d.Colleagues[i] = importer.NewColleague(importer.ColleagueFields{Source: importer.Source{File: "big.xlsx", Sheet: "Colleagues", Row: i + 2},
			Email: e, FirstName: "P", LastName: fmt.Sprint(i), Permissions: want})
	}
	return d, a
}

func BenchmarkDiff(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			d, a := diffInputs(n)
			for b.Loop() {
				// Each Diff starts on a collected heap, as a run's single Diff does, rather
				// than paying for the garbage of the previous iteration.
				b.StopTimer()
				runtime.GC()
				b.StartTimer()
				p := reconcile.Diff(d, a, reconcile.DefaultOptions())
				if c := p.Counts(); c.Update != n/10 {
					b.Fatalf("%s", c.Line())
				}
			}
		})
	}
}
