// Package notify carries commit wake-ups from the requests that add objects
// to the streams that push them to clients.
//
// A wake-up says only "collection X changed"; it carries no objects. The
// store stays the source of truth: a woken stream reads what is new from the
// store, from its own cursor. So a lost or repeated wake-up costs latency at
// worst, never an object, and a subscriber that is slow to react never holds
// up a publisher: wake-ups coalesce, one pending per subscriber.
//
// Hub delivers wake-ups within one process. notify/pgnotify carries them
// between processes that share a PostgreSQL database, with LISTEN/NOTIFY.
package notify

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// AnyCollection, given to Subscribe, asks for a wake-up whenever any
// collection changes. Streams of filter collections use it: a write to any
// collection of their API root may add entries to them.
const AnyCollection = "*"

// Notifier publishes and delivers commit wake-ups. Implementations are safe
// for concurrent use.
type Notifier interface {
	// Publish announces that objects were committed to a collection. It
	// never waits for subscribers. An error means other processes may not
	// hear of this commit; subscribers in this process always do.
	Publish(ctx context.Context, collectionID string) error
	// Subscribe returns a subscription woken after each Publish for
	// collectionID, or for any collection when collectionID is
	// AnyCollection. Close it when done.
	Subscribe(collectionID string) *Subscription
	// Close ends every subscription (their channels are closed) and releases
	// the notifier's resources. Later subscriptions start closed.
	Close() error
}

// Subscription receives wake-ups for one collection.
type Subscription struct {
	c     chan struct{}
	hub   *Hub
	topic string
	last  atomic.Int64 // when the latest wake-up was sent, as time since epoch
}

// epoch is the origin of Subscription.last: a monotonic clock reading.
var epoch = time.Now()

// C returns the channel that receives a value after each commit. Wake-ups
// coalesce: while one is pending, more are dropped, since a single read of
// the store catches up with all of them. The channel is closed when the
// notifier closes.
func (s *Subscription) C() <-chan struct{} { return s.c }

// Woken returns when the latest wake-up was sent to s, zero if none was.
// Read after receiving from C, it bounds the commits to see: every commit
// s was woken for ended before it, so a read of the store that starts
// after it sees them all. Streams use it to share one read among many
// subscribers.
func (s *Subscription) Woken() time.Time {
	ns := s.last.Load()
	if ns == 0 {
		return time.Time{}
	}
	return epoch.Add(time.Duration(ns))
}

// Close stops the subscription. It is safe to call more than once.
func (s *Subscription) Close() { s.hub.remove(s) }

// Hub is the in-process Notifier: a set of subscriptions per collection.
// The zero value is not usable; call NewHub.
type Hub struct {
	mu     sync.RWMutex
	topics map[string]map[*Subscription]struct{}
	closed bool
}

var _ Notifier = (*Hub)(nil)

// NewHub returns an empty hub.
func NewHub() *Hub {
	return &Hub{topics: map[string]map[*Subscription]struct{}{}}
}

// Publish wakes the subscribers of collectionID and of AnyCollection. It
// returns nil.
func (h *Hub) Publish(_ context.Context, collectionID string) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	now := int64(time.Since(epoch))
	wake(h.topics[collectionID], now)
	if collectionID != AnyCollection {
		wake(h.topics[AnyCollection], now)
	}
	return nil
}

// WakeAll wakes every subscriber, whatever its collection. A notifier that
// may have missed wake-ups (a lost database connection) calls it so that
// every stream reads the store again.
func (h *Hub) WakeAll() {
	h.mu.RLock()
	defer h.mu.RUnlock()
	now := int64(time.Since(epoch))
	for _, subs := range h.topics {
		wake(subs, now)
	}
}

// wake sends to each channel that has no wake-up pending, after recording
// the time (the send orders the record before the receiver's read). The
// time only moves forward: publishers run concurrently.
func wake(subs map[*Subscription]struct{}, now int64) {
	now = max(now, 1)
	for s := range subs {
		for old := s.last.Load(); old < now && !s.last.CompareAndSwap(old, now); old = s.last.Load() {
		}
		select {
		case s.c <- struct{}{}:
		default:
		}
	}
}

// Subscribe returns a subscription to collectionID (or AnyCollection).
func (h *Hub) Subscribe(collectionID string) *Subscription {
	s := &Subscription{c: make(chan struct{}, 1), hub: h, topic: collectionID}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(s.c)
		return s
	}
	subs := h.topics[collectionID]
	if subs == nil {
		subs = map[*Subscription]struct{}{}
		h.topics[collectionID] = subs
	}
	subs[s] = struct{}{}
	return s
}

// remove ends s. Channels are closed only here and in Close, under the
// write lock, so that Publish never sends on a closed channel.
func (h *Hub) remove(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	subs := h.topics[s.topic]
	if _, ok := subs[s]; !ok {
		return
	}
	delete(subs, s)
	if len(subs) == 0 {
		delete(h.topics, s.topic)
	}
	close(s.c)
}

// Close closes every subscription's channel. It returns nil.
func (h *Hub) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	for _, subs := range h.topics {
		for s := range subs {
			close(s.c)
		}
	}
	h.topics = map[string]map[*Subscription]struct{}{}
	return nil
}

// Subscribers returns how many subscriptions are open, for metrics and tests.
func (h *Hub) Subscribers() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	for _, subs := range h.topics {
		n += len(subs)
	}
	return n
}
