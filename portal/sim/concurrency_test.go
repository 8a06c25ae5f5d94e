package sim

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// Many clients create the same colleagues at once: each address is created
// exactly once, the others get 409, and one e-mail goes out per colleague.
func TestConcurrentCreates(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.ppLogin().Token
	ytok := e.ycmLogin().AccessToken
	const clients, people = 12, 30
	var created, conflicts atomic.Int64
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			for p := range people {
				body := fmt.Sprintf(`{"yeastarId":"p%d@X.example","resourceIds":[101],"firstName":"P"}`, p)
				if i%2 == 1 { // the same address in another case
					body = fmt.Sprintf(`{"yeastarId":"P%d@x.example","resourceIds":[101],"firstName":"P"}`, p)
				}
				r, err := e.send("POST", pathColleagues, tok, body)
				switch {
				case err != nil:
					t.Error(err)
				case r.status == 200:
					created.Add(1)
				case r.status == 409:
					conflicts.Add(1)
				default:
					t.Errorf("HTTP %d %s", r.status, r.body)
				}
				if _, err := e.send("GET", pathColleagues+"?pageSize=100", tok, nil); err != nil {
					t.Error(err)
				}
				if _, err := e.send("GET", pathPBXList, ytok, nil); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if created.Load() != people || conflicts.Load() != clients*people-people {
		t.Errorf("%d created, %d conflicts; want %d and %d", created.Load(), conflicts.Load(), people, clients*people-people)
	}
	if n := len(e.s.Outbox()); n != people {
		t.Errorf("%d e-mails, want %d", n, people)
	}
	seen := map[int64]bool{}
	for _, c := range e.s.Colleagues() {
		if seen[c.ColleaguesID] {
			t.Errorf("colleague id %d twice", c.ColleaguesID)
		}
		seen[c.ColleaguesID] = true
	}
	e.checkWire()
	if st := e.s.Stats(); st.Total != 2+3*clients*people+4 || st.PeakInFlight < 1 {
		t.Errorf("stats: total %d, peak %d", st.Total, st.PeakInFlight)
	}
}
