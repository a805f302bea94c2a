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
	results      []store.AddResult
	err          error
	done         bool // set under groups.mu once results and err are final
}

// groups gathers concurrent AddObjects calls into shared transactions.
// Calls queue; whichever call holds the writer's turn takes the calls
// queued so far, its own among them, and runs them together. The others
// find theirs done when they get the turn, or take the next group.
type groups struct {
	run  func([]*addCall) // DB.addGroup
	turn sync.Mutex       // one group at a time
	mu   sync.Mutex       // guards queue and addCall.done
	// queue holds the calls not yet taken, in arrival order.
	queue []*addCall
}

// add queues one call and returns its results once a group has run it.
func (g *groups) add(ctx context.Context, collectionID string, objs []stix.Object) ([]store.AddResult, error) {
	c := &addCall{ctx: ctx, collectionID: collectionID, objs: objs}
	g.mu.Lock()
	g.queue = append(g.queue, c)
	g.mu.Unlock()
	for {
		g.turn.Lock()
		g.mu.Lock()
		if c.done {
			g.mu.Unlock()
			g.turn.Unlock()
			return c.results, c.err
		}
		group := g.take()
		g.mu.Unlock()
		g.run(group)
		g.mu.Lock()
		for _, d := range group {
			d.done = true
		}
		g.mu.Unlock()
		g.turn.Unlock()
	}
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
