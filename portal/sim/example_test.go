package sim_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/ycm-onboard/ycm-onboard/portal/sim"
)

// The simulator is an http.Handler: serve it with httptest in tests, or with
// an http.Server on an address (ycm-onboard sim).
func ExampleNew() {
	s, err := sim.New(sim.Options{Faults: sim.Faults{ThrottleRate: 50, ThrottleBurst: 10}})
	if err != nil {
		panic(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()

	res, err := http.Get(ts.URL + "/_sim/clock")
	if err != nil {
		panic(err)
	}
	res.Body.Close()
	fmt.Println(res.Status, len(s.Colleagues()), "colleagues,", len(s.PBXs()), "cloud PBXs")
	// Output: 200 OK 5 colleagues, 3 cloud PBXs
}
