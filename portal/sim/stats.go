package sim

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
)

// Stats counts the API requests served (the admin API is not counted).
type Stats struct {
	Total        int64        `json:"total"`
	InFlight     int          `json:"inFlight"`
	PeakInFlight int          `json:"peakInFlight"`
	Routes       []RouteCount `json:"routes"` // by route, then status
}

// RouteCount is how many requests of a route got a status. Status 0 means the
// connection was closed without an answer (a drop fault); 499 that the client
// left during the injected latency.
type RouteCount struct {
	Route  string `json:"route"`
	Status int    `json:"status"`
	Count  int64  `json:"count"`
}

type statKey struct {
	route  string
	status int
}

type statsCounter struct {
	inFlight atomic.Int64
	peak     atomic.Int64
	mu       sync.Mutex
	total    int64
	counts   map[statKey]int64
}

func (c *statsCounter) init() { c.counts = map[statKey]int64{} }

func (c *statsCounter) enter() {
	n := c.inFlight.Add(1)
	for {
		p := c.peak.Load()
		if n <= p || c.peak.CompareAndSwap(p, n) {
			return
		}
	}
}

func (c *statsCounter) leave(route string, status int) {
	c.inFlight.Add(-1)
	c.mu.Lock()
	c.total++
	c.counts[statKey{route, status}]++
	c.mu.Unlock()
}

func (c *statsCounter) reset() {
	c.mu.Lock()
	c.total = 0
	c.counts = map[statKey]int64{}
	c.mu.Unlock()
	c.peak.Store(c.inFlight.Load())
}

// Stats returns the request counts since the start (or the last Reset).
func (s *Server) Stats() Stats {
	c := &s.stats
	c.mu.Lock()
	st := Stats{Total: c.total, Routes: make([]RouteCount, 0, len(c.counts))}
	for k, n := range c.counts {
		st.Routes = append(st.Routes, RouteCount{k.route, k.status, n})
	}
	c.mu.Unlock()
	st.InFlight = int(c.inFlight.Load())
	st.PeakInFlight = int(c.peak.Load())
	slices.SortFunc(st.Routes, func(a, b RouteCount) int {
		return cmp.Or(cmp.Compare(a.Route, b.Route), cmp.Compare(a.Status, b.Status))
	})
	return st
}
