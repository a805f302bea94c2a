package ingest

import (
	"context"

	"hail/stix"
	"hail/store"
)

// BatchWriter stores batches of objects in one collection on a goroutine of
// its own, one batch at a time, so that its caller reads and checks the
// next batch meanwhile: a store has one writer, and reading is a fifth of
// an import's work. Start and Wait are called from one goroutine.
type BatchWriter struct {
	Store        store.Store
	CollectionID string

	storing chan Stored // the batch being stored; nil when none
}

// Stored is the outcome of storing one batch.
type Stored struct {
	Added, Duplicates int
	// NewVersions counts the added versions of objects the collection
	// already held (store.AddResult.NewVersion).
	NewVersions int
	Err         error
}

// Start starts storing batch, which the writer then owns. The batch
// before it must have been waited for.
func (w *BatchWriter) Start(ctx context.Context, batch []stix.Object) {
	done := make(chan Stored, 1)
	w.storing = done
	go func() {
		var s Stored
		res, err := w.Store.AddObjects(ctx, w.CollectionID, batch)
		s.Err = err
		for _, r := range res {
			switch {
			case r.Duplicate:
				s.Duplicates++
			case r.NewVersion:
				s.NewVersions++
				fallthrough
			default:
				s.Added++
			}
		}
		done <- s
	}()
}

// Wait waits for the batch being stored and returns its outcome; false
// when none is.
func (w *BatchWriter) Wait() (Stored, bool) {
	if w.storing == nil {
		return Stored{}, false
	}
	out := <-w.storing
	w.storing = nil
	return out, true
}
