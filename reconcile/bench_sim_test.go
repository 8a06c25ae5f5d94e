//go:build bench

package reconcile_test

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ycm-onboard/ycm-onboard/portal"
	"github.com/ycm-onboard/ycm-onboard/portal/sim"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
)

// benchWorld is a simulator over loopback HTTP and production-configured clients.
func benchWorld(b *testing.B, f sim.Faults) (*sim.Server, clients) {
	s, err := sim.New(sim.Options{Faults: f})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(s)
	b.Cleanup(ts.Close)
	pc := portal.Config{BaseURL: ts.URL, ClientID: sim.DemoPartnerID, ClientSecret: sim.DemoPartnerSecret}
	yc := portal.Config{BaseURL: ts.URL, ClientID: sim.DemoYCMID, ClientSecret: sim.DemoYCMSecret}
	p, _ := portal.NewPartner(pc)
	y, _ := portal.NewYCM(yc)
	return s, clients{p, y}
}

func creates(n int) reconcile.Plan {
	var p reconcile.Plan
	for i := range n {
		e := fmt.Sprintf("bench%05d@demo.example", i)
		p.Actions = append(p.Actions, reconcile.Action{Kind: reconcile.Create, Key: e, Label: e,
			Want: portal.NewColleague{Email: e, FirstName: "Bench", PermissionIDs: []int64{101}}})
	}
	return p
}

// BenchmarkApplyLatency: creates against a simulator answering in 20 ms. The bound is
// concurrency / latency actions per second.
func BenchmarkApplyLatency(b *testing.B) {
	for _, tc := range []struct{ conc, n int }{{16, 5000}, {1, 250}} {
		b.Run(fmt.Sprintf("concurrency=%d/creates=%d", tc.conc, tc.n), func(b *testing.B) {
			for b.Loop() {
				_, c := benchWorld(b, sim.Faults{Latency: 20 * time.Millisecond})
				start := time.Now()
				rs, err := reconcile.Apply(b.Context(), creates(tc.n), c, reconcile.ApplyOptions{Concurrency: tc.conc})
				el := time.Since(start)
				if tl := reconcile.TallyResults(rs); err != nil || tl.Succeeded != tc.n {
					b.Fatalf("%v %+v", err, tl)
				}
				rate := float64(tc.n) / el.Seconds()
				bound := float64(tc.conc) / 0.020
				b.ReportMetric(rate, "actions/s")
				b.ReportMetric(100*rate/bound, "%bound")
			}
		})
	}
}

// BenchmarkApplyThrottled: creates against a simulator that throttles above 50
// requests/s per API. The adaptive limiter should settle just under it.
func BenchmarkApplyThrottled(b *testing.B) {
	const n = 3000
	for b.Loop() {
		s, c := benchWorld(b, sim.Faults{ThrottleRate: 50, ThrottleBurst: 50})
		var st portal.CallStats
		ctx := portal.WithCallStats(b.Context(), &st)
		start := time.Now()
		rs, err := reconcile.Apply(ctx, creates(n), c, reconcile.ApplyOptions{Concurrency: 16})
		el := time.Since(start)
		tl := reconcile.TallyResults(rs)
		if err != nil || tl.Failed > 0 {
			b.Fatalf("%v %+v", err, tl)
		}
		throttled := 0
		total := 0
		for _, rc := range s.Stats().Routes {
			if rc.Route == "POST /user/openapi/user/v1/colleagues" {
				total += int(rc.Count)
				if rc.Status == 429 {
					throttled += int(rc.Count)
				}
			}
		}
		rate := float64(n) / el.Seconds()
		b.ReportMetric(rate, "actions/s")
		b.ReportMetric(100*rate/50, "%limit")
		b.ReportMetric(100*float64(throttled)/float64(total), "%throttled")
		b.ReportMetric(float64(tl.Failed), "failed")
	}
}
