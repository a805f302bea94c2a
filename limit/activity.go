package limit

import (
	"context"
	"sync"
	"time"

	"hail/store"
)

// Event is what one authenticated request did, as a Recorder counts it.
type Event struct {
	Key        string
	Collection string // as the request named it; "" for none
	Time       time.Time
	// Poll is true for a request that starts a walk of a collection's
	// objects or manifest (one without a next token).
	Poll          bool
	Objects       int
	Bytes         int64
	Status        int
	AddedAfter    time.Time // the added_after asked for, if any
	DateAddedLast time.Time // the X-TAXII-Date-Added-Last served, if any
}

// DefaultMaxRows bounds the rows a Recorder holds between flushes.
const DefaultMaxRows = 10000

// Recorder sums Events into per-key, per-collection, per-hour deltas in
// memory and writes them with one call of Write (store.Store's
// RecordActivity) per flush, so that the cost a request adds is a map
// update under a mutex. It is safe for concurrent use.
type Recorder struct {
	// Write stores a batch of deltas.
	Write func(context.Context, []store.Activity) error
	// Every is the delay from the first event of a batch to its flush; 0
	// leaves flushing to the caller (Flush).
	Every time.Duration
	// MaxRows bounds the rows held (DefaultMaxRows when 0): events for a
	// new row beyond it are dropped and counted in Dropped, so that a
	// database that cannot be written does not exhaust memory.
	MaxRows int
	// OnError hears the errors of timed flushes.
	OnError func(error)

	mu      sync.Mutex
	rows    map[rowKey]*store.Activity
	timer   *time.Timer
	dropped int64
	flushMu sync.Mutex // one flush at a time, so that batches land in order
}

type rowKey struct {
	key, collection string
	hour            int64
}

// Add counts one event.
func (r *Recorder) Add(e Event) {
	k := rowKey{e.Key, e.Collection, e.Time.Truncate(time.Hour).Unix()}
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.rows[k]
	if a == nil {
		if r.rows == nil {
			r.rows = map[rowKey]*store.Activity{}
		}
		if len(r.rows) >= r.maxRows() {
			r.dropped++
			return
		}
		a = &store.Activity{Key: e.Key, Collection: e.Collection, First: e.Time}
		r.rows[k] = a
	}
	merge(a, e)
	if r.Every > 0 && r.timer == nil {
		r.timer = time.AfterFunc(r.Every, r.timedFlush)
	}
}

func (r *Recorder) maxRows() int {
	if r.MaxRows > 0 {
		return r.MaxRows
	}
	return DefaultMaxRows
}

// merge adds e to a.
func merge(a *store.Activity, e Event) {
	if e.Time.Before(a.First) {
		a.First = e.Time
	}
	if e.Time.After(a.Last) {
		a.Last = e.Time
	}
	a.Requests++
	if e.Poll {
		a.Polls++
		if e.Time.After(a.LastPoll) {
			a.LastPoll = e.Time
		}
	}
	a.Objects += int64(e.Objects)
	a.Bytes += e.Bytes
	if e.AddedAfter.After(a.LastAddedAfter) {
		a.LastAddedAfter = e.AddedAfter
	}
	if e.DateAddedLast.After(a.LastDateAddedLast) {
		a.LastDateAddedLast = e.DateAddedLast
	}
	if e.Status >= 400 {
		if a.Errors == nil {
			a.Errors = map[int]int64{}
		}
		a.Errors[e.Status]++
	}
}

func (r *Recorder) timedFlush() {
	if err := r.Flush(context.Background()); err != nil && r.OnError != nil {
		r.OnError(err)
	}
}

// Flush writes what has been counted since the last flush. When Write
// fails, the deltas are kept for the next flush, within MaxRows.
func (r *Recorder) Flush(ctx context.Context) error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	r.mu.Lock()
	rows := r.rows
	r.rows = nil
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	r.mu.Unlock()
	if len(rows) == 0 {
		return nil
	}
	batch := make([]store.Activity, 0, len(rows))
	for _, a := range rows {
		batch = append(batch, *a)
	}
	err := r.Write(ctx, batch)
	if err != nil {
		r.restore(rows)
	}
	return err
}

// restore puts back the rows of a failed flush, merged with what came
// since.
func (r *Recorder) restore(rows map[rowKey]*store.Activity) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rows == nil {
		r.rows = map[rowKey]*store.Activity{}
	}
	for k, a := range rows {
		cur := r.rows[k]
		switch {
		case cur != nil:
			add(cur, a)
		case len(r.rows) < r.maxRows():
			r.rows[k] = a
		default:
			r.dropped += a.Requests
		}
	}
	if r.Every > 0 && r.timer == nil {
		r.timer = time.AfterFunc(r.Every, r.timedFlush)
	}
}

// Total sums a key's activity over its collections: the earliest first
// and latest last times, the counts, the errors and the recent counts.
func Total(acts []store.Activity) store.Activity {
	var t store.Activity
	for i := range acts {
		a := &acts[i]
		if i == 0 {
			t.First = a.First
		}
		add(&t, a)
		t.Recent.Requests += a.Recent.Requests
		t.Recent.Polls += a.Recent.Polls
		t.Recent.Objects += a.Recent.Objects
	}
	return t
}

// add adds delta b to a.
func add(a, b *store.Activity) {
	if b.First.Before(a.First) {
		a.First = b.First
	}
	a.Last = later(a.Last, b.Last)
	a.LastPoll = later(a.LastPoll, b.LastPoll)
	a.LastAddedAfter = later(a.LastAddedAfter, b.LastAddedAfter)
	a.LastDateAddedLast = later(a.LastDateAddedLast, b.LastDateAddedLast)
	a.Requests += b.Requests
	a.Polls += b.Polls
	a.Objects += b.Objects
	a.Bytes += b.Bytes
	for s, n := range b.Errors {
		if a.Errors == nil {
			a.Errors = map[int]int64{}
		}
		a.Errors[s] += n
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Dropped returns how many requests went uncounted because MaxRows was
// reached.
func (r *Recorder) Dropped() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}
