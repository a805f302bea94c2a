package sqlite

import (
	"context"
	"sync"

	"hail/stix"
	"hail/store"
)

// maxGroupObjects bounds the objects one grouped transaction takes on
// beyond its first call, so that a call arriving behind a queue waits for
// at most a bulk import's batch.
const maxGroupObjects = 20000

// addCall is one AddObjects call waiting for, or done by, a grouped
// transaction.
type addCall struct {
	ctx          context.Context
	collectionID string
	objs         []stix.Object
	status       func([]store.AddResult) store.Status // nil for none
	results      []store.AddResult
	err          error
	finished     chan struct{} // closed once results and err are final
}

// groups gathers concurrent AddObjects calls into shared transactions.
// Calls queue; whichever call holds the writer's turn takes the calls
// queued so far, its own among them, and runs them together. The others
// find theirs done when they get the turn, or take the next group.
type groups struct {
	run func([]*addCall) // DB.addGroup
	// turn holds a token while a group runs: one group at a time. A
	// channel rather than a mutex, so that a call can stop waiting for it.
	turn chan struct{}
	mu   sync.Mutex // guards queue
	// queue holds the calls not yet taken, in arrival order.
	queue []*addCall
}

// newGroups returns groups that run each group with run.
func newGroups(run func([]*addCall)) groups {
	return groups{run: run, turn: make(chan struct{}, 1)}
}

// add queues one call and returns its results once a group has run it.
// A call whose context ends while it is still queued leaves the queue and
// returns the context's error, having stored nothing. Once a group has
// taken it, the group's outcome is the call's: it waits for that, since
// the transaction may commit its objects.
func (g *groups) add(ctx context.Context, collectionID string, objs []stix.Object,
	status func([]store.AddResult) store.Status) ([]store.AddResult, error) {
	c := &addCall{ctx: ctx, collectionID: collectionID, objs: objs, status: status, finished: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, c)
	g.mu.Unlock()
	for {
		select {
		case <-c.finished:
			return c.results, c.err
		case <-ctx.Done():
			if g.leave(c) {
				return nil, ctx.Err()
			}
			<-c.finished
			return c.results, c.err
		case g.turn <- struct{}{}:
		}
		select {
		case <-c.finished: // run by the group before, which held the turn
			<-g.turn
			return c.results, c.err
		default:
		}
		g.mu.Lock()
		group := g.take()
		g.mu.Unlock()
		g.run(group)
		for _, d := range group {
			close(d.finished)
		}
		<-g.turn
	}
}

// leave removes c from the queue and reports whether it was still there,
// not yet taken by a group.
func (g *groups) leave(c *addCall) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, d := range g.queue {
		if d == c {
			g.queue = append(g.queue[:i], g.queue[i+1:]...)
			return true
		}
	}
	return false
}

// take removes from the queue the calls of the next group: the first, and
// those after it while their objects stay within maxGroupObjects.
func (g *groups) take() []*addCall {
	n, objs := 1, 0
	for n < len(g.queue) && objs+len(g.queue[n].objs) <= maxGroupObjects {
		objs += len(g.queue[n].objs)
		n++
	}
	group := make([]*addCall, n)
	copy(group, g.queue)
	g.queue = append(g.queue[:0], g.queue[n:]...)
	return group
}
