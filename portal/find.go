package portal

import (
	"context"
	"strings"
	"sync"
)

// finder looks colleagues up by e-mail for creates whose answer was lost. The API has
// no lookup by e-mail, only the whole list of an owner's colleagues, so lookups that
// wait at the same time share one pass over it: a lookup joins the next pass to start
// (never one already under way, which may predate its write), and one owner's passes
// run one at a time, so lookups gather while one runs.
type finder struct {
	mu      sync.Mutex
	next    map[int64]*pass       // per owner: the pass new lookups join
	running map[int64]*sync.Mutex // per owner: held while a pass lists
}

// pass is one listing of an owner's colleagues, shared by the lookups that joined it.
type pass struct {
	done    chan struct{}
	byEmail map[string]Colleague
	err     error
}

// find returns the colleague of owner with this e-mail (case-insensitive), or an
// error of KindNotFound. list lists owner's colleagues.
func (f *finder) find(ctx context.Context, email string, owner int64, list func(context.Context) ([]Colleague, error)) (Colleague, error) {
	f.mu.Lock()
	if f.next == nil {
		f.next, f.running = map[int64]*pass{}, map[int64]*sync.Mutex{}
	}
	ps := f.next[owner]
	if ps == nil {
		ps = &pass{done: make(chan struct{})}
		f.next[owner] = ps
		run := f.running[owner]
		if run == nil {
			run = &sync.Mutex{}
			f.running[owner] = run
		}
		// The pass outlives the lookup that started it: others may be waiting on it.
		go f.list(context.WithoutCancel(ctx), owner, ps, run, list)
	}
	f.mu.Unlock()
	select {
	case <-ps.done:
	case <-ctx.Done():
		return Colleague{}, ctx.Err()
	}
	if ps.err != nil {
		return Colleague{}, ps.err
	}
	if c, ok := ps.byEmail[strings.ToLower(email)]; ok {
		return c, nil
	}
	return Colleague{}, &Error{Kind: KindNotFound, API: partnerAPI, Op: "find colleague " + email,
		Message: "no colleague " + email}
}

func (f *finder) list(ctx context.Context, owner int64, ps *pass, run *sync.Mutex, list func(context.Context) ([]Colleague, error)) {
	run.Lock() // after the pass before it: lookups keep joining this one meanwhile
	defer run.Unlock()
	f.mu.Lock()
	delete(f.next, owner) // from here on, new lookups start the next pass
	f.mu.Unlock()
	defer close(ps.done)
	all, err := list(ctx)
	if err != nil {
		ps.err = err
		return
	}
	ps.byEmail = make(map[string]Colleague, len(all))
	for _, c := range all {
		ps.byEmail[strings.ToLower(c.Email)] = c
	}
}
