package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"hail"
	"hail/stix"
	"hail/store"
	"hail/taxii"
)

// Puller adds the pages of a walk of a remote TAXII collection to one
// local collection: `hail pull` and scheduled TAXII feeds. It gathers the
// checked objects of consecutive pages into transactions of up to
// BatchSize objects (growing to it as NextBatch does), and stores each on
// a goroutine of its own while the next pages are fetched and checked:
// the local store's single writer is the slow part of a pull.
//
// Each page comes with its high-water mark (the remote's
// X-TAXII-Date-Added-Last); Stored is just before the mark of the last
// batch stored, from which a pull stopped by a failure to store goes on.
type Puller struct {
	Store        store.Store
	CollectionID string
	BatchSize    int // default DefaultBatch
	// Reject, when set, is called for each object that fails its checks,
	// with its id ("" when it has none) and the reason.
	Reject func(id, reason string)
	// MaxRejections bounds Summary.Rejections (default 100); the count
	// goes on.
	MaxRejections int

	summary     Summary
	pending     []stix.Object
	size        int                    // the objects pending is stored at
	seen        map[pulledVersion]bool // the versions in pending
	pendingMark time.Time              // the mark of the last page in pending
	writer      BatchWriter
	storingMark time.Time // the mark of the batch being stored
	stored      time.Time // the mark of the last batch stored
	resumed     time.Time // the mark given to Resume
	failed      error     // why storing a batch failed
}

// pulledVersion is an object version, to store it once per transaction.
type pulledVersion struct {
	id string
	ns int64
}

// Summary returns the running totals: Read counts the objects fetched.
func (p *Puller) Summary() Summary { return p.summary }

// Stored returns the mark to go on from after a failure to store: just
// before the mark of the last batch stored (taxii.JustBefore: the remote
// may have more objects sharing that date_added than the batch held), or
// the mark the Puller was given by Resume when none was stored.
func (p *Puller) Stored() time.Time {
	if p.stored.After(p.resumed) {
		return taxii.JustBefore(p.stored)
	}
	return p.stored
}

// Failed returns why storing a batch failed, nil if none did.
func (p *Puller) Failed() error { return p.failed }

// Resume sets the mark Stored reports until a batch is stored: where the
// walk started.
func (p *Puller) Resume(mark time.Time) { p.stored, p.resumed = mark, mark }

// Add checks the objects of one page and adds them to the pending batch,
// which is stored once it is large enough. A rejected object is counted
// and reported; it never stops the others. STIX 2.0 objects, which some
// servers serve, are converted as for files. mark is the page's
// high-water mark.
func (p *Puller) Add(ctx context.Context, objects []json.RawMessage, mark time.Time) error {
	if p.seen == nil {
		p.seen = make(map[pulledVersion]bool)
	}
	for _, raw := range objects {
		p.summary.Read++
		if is20(raw, Source{}) {
			conv, err := stix.Convert20(raw)
			if err != nil {
				p.reject(idOf(raw), hail.ErrorMessage(err))
				continue
			}
			raw = conv
			p.summary.Converted++
		}
		o, err := stix.Parse(raw)
		if err == nil {
			err = stix.Validate(o)
		}
		if err != nil {
			p.reject(o.ID, hail.ErrorMessage(err))
			continue
		}
		// The same version twice in a transaction is stored once.
		v := pulledVersion{o.ID, o.Version.UnixNano()}
		if p.seen[v] {
			p.summary.Duplicates++
			continue
		}
		p.seen[v] = true
		p.pending = append(p.pending, o)
	}
	p.pendingMark = mark
	limit := p.BatchSize
	if limit <= 0 {
		limit = DefaultBatch
	}
	if p.size == 0 {
		p.size = NextBatch(0, limit)
	}
	if len(p.pending) < p.size {
		return nil
	}
	p.size = NextBatch(p.size, limit)
	return p.flush(ctx)
}

// Finish stores the pending batch and waits for it. After a failure to
// store, it only reports that failure.
func (p *Puller) Finish(ctx context.Context) error {
	if p.failed != nil {
		return p.failed
	}
	if err := p.flush(ctx); err != nil {
		return err
	}
	return p.wait()
}

// flush waits for the batch being stored and starts storing the pending
// one.
func (p *Puller) flush(ctx context.Context) error {
	if err := p.wait(); err != nil || len(p.pending) == 0 {
		return err
	}
	p.writer.Store, p.writer.CollectionID = p.Store, p.CollectionID
	p.writer.Start(ctx, p.pending)
	p.storingMark = p.pendingMark
	p.pending, p.seen = nil, nil
	return nil
}

// wait waits for the batch being stored, if any, and counts it.
func (p *Puller) wait() error {
	out, ok := p.writer.Wait()
	if !ok {
		return p.failed
	}
	if out.Err != nil {
		p.failed = out.Err
		return out.Err
	}
	p.summary.Added += out.Added
	p.summary.NewVersions += out.NewVersions
	p.summary.Duplicates += out.Duplicates
	if p.storingMark.After(p.stored) {
		p.stored = p.storingMark
	}
	return nil
}

func (p *Puller) reject(id, reason string) {
	p.summary.reject(p.MaxRejections, Rejection{Where: fmt.Sprintf("object %d", p.summary.Read), ID: id, Reason: reason})
	if p.Reject != nil {
		p.Reject(id, reason)
	}
}
