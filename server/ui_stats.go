package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"hail"
	"hail/store"
)

// statsCache keeps the dashboard's collection counts. Counting a
// collection reads its whole index: at a million entries that takes a
// fifth of a second on SQLite, and the overview counts every collection. So
// counts are kept for statsTTL and made again in the background, one at a
// time (a count holds one of the store's read connections for its whole
// length, and TAXII's polls need the others); a page waits at most the
// configured time for counts it lacks and is shown without them otherwise.
type statsCache struct {
	st     store.Store
	now    func() time.Time
	wait   time.Duration
	logger *slog.Logger
	// one is held by the count that runs.
	one chan struct{}

	mu sync.Mutex
	m  map[string]*statsEntry
}

// statsTTL is how old a count may be before a page has it made again.
const statsTTL = time.Minute

// maxCachedStats bounds the cache; past it, idle stale counts are dropped.
const maxCachedStats = 10000

// statsEntry is one collection's count.
type statsEntry struct {
	stats store.CollectionStats
	at    time.Time // when counted; zero before the first count ends
	// running is closed when the count under way ends; nil when none runs.
	running chan struct{}
}

// counted is a count and when it was made.
type counted struct {
	stats store.CollectionStats
	at    time.Time
}

func newStatsCache(st store.Store, now func() time.Time, wait time.Duration, logger *slog.Logger) statsCache {
	return statsCache{st: st, now: now, wait: wait, logger: logger, one: make(chan struct{}, 1), m: map[string]*statsEntry{}}
}

// get returns the counts of the collections ids that it has or that come
// within the wait; a collection it has no count of is absent. Stale counts
// are returned as they are and made again for the next page.
func (c *statsCache) get(ctx context.Context, ids ...string) map[string]counted {
	now := c.now()
	var waits []chan struct{}
	c.mu.Lock()
	if len(c.m) >= maxCachedStats {
		for id, e := range c.m {
			if e.running == nil && now.Sub(e.at) >= statsTTL {
				delete(c.m, id)
			}
		}
	}
	for _, id := range ids {
		e := c.m[id]
		if e == nil {
			e = &statsEntry{}
			c.m[id] = e
		}
		if !e.at.IsZero() && now.Sub(e.at) < statsTTL {
			continue
		}
		if e.running == nil {
			e.running = make(chan struct{})
			go c.count(id, e, e.running)
		}
		if e.at.IsZero() {
			waits = append(waits, e.running) // a stale count is shown at once
		}
	}
	c.mu.Unlock()

	if len(waits) > 0 {
		deadline := time.NewTimer(c.wait)
		defer deadline.Stop()
	wait:
		for _, done := range waits {
			select {
			case <-done:
			case <-deadline.C:
				break wait
			case <-ctx.Done():
				break wait
			}
		}
	}

	out := make(map[string]counted, len(ids))
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		if e := c.m[id]; e != nil && !e.at.IsZero() {
			out[id] = counted{stats: e.stats, at: e.at}
		}
	}
	return out
}

// count counts one collection, detached from the page that asked: the
// next page shows the result.
func (c *statsCache) count(id string, e *statsEntry, done chan struct{}) {
	defer close(done)
	c.one <- struct{}{}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	stats, err := c.st.CollectionStats(ctx, id)
	cancel()
	<-c.one
	c.mu.Lock()
	defer c.mu.Unlock()
	e.running = nil
	switch {
	case err == nil:
		e.stats, e.at = stats, c.now()
	case hail.ErrorCode(err) == hail.ENOTFOUND:
		delete(c.m, id) // deleted meanwhile
	default:
		c.logger.Warn("dashboard: count collection", "collection", id, "err", err)
	}
}
