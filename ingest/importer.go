package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hail/jsonscan"
	"io"

	"hail"
	"hail/stix"
	"hail/store"
)

// Importer adds what a reader yields to one collection of a store, in
// batches of one transaction each, so that a large import streams with flat
// memory and a failure loses at most the batch under way. A batch is
// stored while the next one is read and validated (see BatchWriter). An
// Importer runs one import at a time.
type Importer struct {
	Store        store.Store
	CollectionID string
	// BatchSize is the number of objects per transaction (default
	// DefaultBatch).
	BatchSize int
	// DryRun validates without writing.
	DryRun bool
	// Progress, when set, is called after every batch with the running totals.
	Progress func(Summary)
	// MaxRejections bounds Summary.Rejections (default 100); the count goes on.
	MaxRejections int

	writer BatchWriter
}

// DefaultBatch is the default number of objects per transaction. Larger
// transactions write each page an import dirties to the WAL fewer times:
// a bulk import of 1,000,000 versions into SQLite ran at 9,075 objects/s
// in transactions of 5,000 and 10,950 in transactions of 20,000. A batch
// of 20,000 average objects holds about 30 MB, and an import holds two.
const DefaultBatch = 20000

// Summary counts what an import did.
type Summary struct {
	Read  int // objects or list values read
	Added int // new object versions stored (or that would be, with DryRun)
	// NewVersions counts those of Added that are new versions of objects
	// the collection held (unknown with DryRun, which reads no store).
	NewVersions int
	Duplicates  int // versions the collection already held
	// Revoked counts the indicators given a revoked version because the
	// input withdrew them (a MISP attribute deleted).
	Revoked    int
	Converted  int // STIX 2.0 objects converted to 2.1
	Rejected   int
	Rejections []Rejection // the first MaxRejections
}

// Rejection tells why one object or line was not imported.
type Rejection struct {
	Where  string // "object 12" or "line 40"
	ID     string // the STIX id when known
	Reason string
}

func (im *Importer) batchSize() int {
	if im.BatchSize <= 0 {
		return DefaultBatch
	}
	return im.BatchSize
}

// firstBatch is the size of an import's first batch.
const firstBatch = 1000

// NextBatch returns the size of the batch after one of n objects, for
// batches of at most limit: they start at 1,000 and double. Storing a
// batch overlaps with reading the next, and the first batch is read with
// nothing to overlap with: at 20,000 objects that was a tenth of a pull of
// 80,000. n is 0 for the first batch.
func NextBatch(n, limit int) int {
	if n <= 0 {
		return min(firstBatch, limit)
	}
	return min(2*n, limit)
}

func (im *Importer) reject(s *Summary, where, id, reason string) {
	s.reject(im.MaxRejections, Rejection{Where: where, ID: id, Reason: reason})
}

// reject counts r and keeps it while s holds fewer than max rejections
// (100 when max is not positive).
func (s *Summary) reject(max int, r Rejection) {
	s.Rejected++
	if max <= 0 {
		max = 100
	}
	if len(s.Rejections) < max {
		s.Rejections = append(s.Rejections, r)
	}
}

// flush starts storing a batch, which the Importer then owns, once the
// batch before it is stored, and counts that one's outcome.
func (im *Importer) flush(ctx context.Context, s *Summary, batch []stix.Object) error {
	if err := im.wait(s); err != nil || len(batch) == 0 {
		return err
	}
	if im.DryRun {
		s.Added += len(batch)
		im.progress(s)
		return nil
	}
	im.writer.Store, im.writer.CollectionID = im.Store, im.CollectionID
	im.writer.Start(ctx, batch)
	return nil
}

// wait waits for the batch being stored, if any, and counts its outcome.
func (im *Importer) wait(s *Summary) error {
	out, ok := im.writer.Wait()
	if !ok {
		return nil
	}
	if out.Err != nil {
		return out.Err
	}
	s.Added += out.Added
	s.NewVersions += out.NewVersions
	s.Duplicates += out.Duplicates
	im.progress(s)
	return nil
}

func (im *Importer) progress(s *Summary) {
	if im.Progress != nil {
		im.Progress(*s)
	}
}

// ImportSTIX imports a STIX 2.0 or 2.1 bundle, a TAXII envelope, a JSON
// array of objects or newline-delimited objects. STIX 2.0 objects are
// converted to 2.1 with their ids kept. Objects that fail validation are
// counted as rejected and never stop the rest; malformed JSON stops the
// import with hail.EINVALID after the batches before it were stored.
func (im *Importer) ImportSTIX(ctx context.Context, r io.Reader) (Summary, error) {
	var s Summary
	rd := NewReader(r)
	batch := make([]stix.Object, 0, NextBatch(0, im.batchSize()))
	for {
		raw, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if ferr := im.finish(ctx, &s, batch); ferr != nil {
				return s, ferr
			}
			return s, err
		}
		s.Read++
		where := fmt.Sprintf("object %d", s.Read)
		if is20(raw, rd.Source()) {
			conv, err := stix.Convert20(raw)
			if err != nil {
				im.reject(&s, where, idOf(raw), hail.ErrorMessage(err))
				continue
			}
			raw = conv
			s.Converted++
		}
		obj, err := stix.Parse(raw)
		if err == nil {
			err = stix.Validate(obj)
		}
		if err != nil {
			im.reject(&s, where, obj.ID, hail.ErrorMessage(err))
			continue
		}
		batch = append(batch, obj)
		if len(batch) == cap(batch) {
			if err := im.flush(ctx, &s, batch); err != nil {
				return s, err
			}
			batch = make([]stix.Object, 0, NextBatch(len(batch), im.batchSize()))
		}
	}
	return s, im.finish(ctx, &s, batch)
}

// finish stores the last batch and waits for it; on an error it still
// waits for the batch being stored, so that an import never returns while
// a write of its runs.
func (im *Importer) finish(ctx context.Context, s *Summary, batch []stix.Object) error {
	err := im.flush(ctx, s, batch)
	if werr := im.wait(s); err == nil {
		err = werr
	}
	return err
}

// is20 tells whether raw is a STIX 2.0 object: it has no spec_version
// (2.1 SDOs must have one) and either its bundle says 2.0 or it is an SDO or
// SRO, which 2.1 would have marked. 2.1 SCOs may omit spec_version, so an
// SCO outside a 2.0 bundle is taken as 2.1.
func is20(raw json.RawMessage, src Source) bool {
	// raw is valid JSON (the reader decoded it); reading two members by
	// splitting it spares a full decoding of every object of an import.
	spec, created, wrong := false, false, false
	if !jsonscan.Members(raw, func(name, v []byte) bool {
		switch string(name) {
		case "spec_version":
			spec = string(v) != "null"
		case "created":
			created = string(v) != "null"
			wrong = wrong || created && v[0] != '"'
		}
		return true
	}) || spec || wrong {
		return false // not an object, a 2.1 object, or one Parse rejects
	}
	return src.SpecVersion == "2.0" || created
}

func idOf(raw json.RawMessage) string {
	var h struct {
		ID string `json:"id"`
	}
	json.Unmarshal(raw, &h)
	return h.ID
}

// ImportList imports a plain or CSV IOC list as STIX indicators created by
// an identity named opt.Source, with the TLP marking opt.TLP. Re-importing
// an unchanged list adds nothing; a value whose attributes changed gets one
// new version (see Revise). Bad lines are rejected with their number and
// never stop the good ones.
func (im *Importer) ImportList(ctx context.Context, r io.Reader, opt ListOptions) (Summary, error) {
	var s Summary
	if err := opt.Check(); err != nil {
		return s, err // before any line, which it would each reject
	}
	var head []stix.Object
	if opt.Source != "" {
		head = append(head, Identity(opt.Source))
	}
	if opt.TLP != "" {
		m, err := TLPMarking(opt.TLP)
		if err != nil {
			return s, err
		}
		head = append(head, m)
	}
	if err := im.finish(ctx, &s, head); err != nil {
		return s, err
	}
	s.Added, s.NewVersions, s.Duplicates = 0, 0, 0 // the identity and marking are context, not list values

	b := newIndicatorBatches(im, &s)
	err := ReadList(r, opt, func(ioc IOC) error {
		s.Read++
		obj, err := Indicator(ioc, opt)
		if err != nil {
			im.reject(&s, fmt.Sprintf("line %d", ioc.Line), "", hail.ErrorMessage(err))
			return nil
		}
		return b.add(ctx, obj)
	}, func(line int, text, reason string) {
		s.Read++
		im.reject(&s, fmt.Sprintf("line %d", line), "", reason+": "+text)
	})
	return s, b.finish(ctx, err)
}

// indicatorBatches gathers the indicators an import makes into batches:
// the same value twice in a batch is one indicator, and a batch keeps only
// what is new or changed against what the store holds (revise).
type indicatorBatches struct {
	im      *Importer
	s       *Summary
	pending []stix.Object
	seen    map[string]bool
}

func newIndicatorBatches(im *Importer, s *Summary) *indicatorBatches {
	return &indicatorBatches{im: im, s: s, pending: make([]stix.Object, 0, NextBatch(0, im.batchSize())),
		seen: map[string]bool{}}
}

// add takes one indicator, storing the batch when it is full.
func (b *indicatorBatches) add(ctx context.Context, obj stix.Object) error {
	if b.seen[obj.ID] {
		b.s.Duplicates++
		return nil
	}
	b.seen[obj.ID] = true
	b.pending = append(b.pending, obj)
	if len(b.pending) == cap(b.pending) {
		clear(b.seen)
		return b.flush(ctx)
	}
	return nil
}

// flush starts storing the pending batch.
func (b *indicatorBatches) flush(ctx context.Context) error {
	if len(b.pending) == 0 {
		return nil
	}
	// revise compares with what the store holds, the batches before
	// included.
	if err := b.im.wait(b.s); err != nil {
		return err
	}
	revised, err := b.im.revise(ctx, b.pending)
	if err != nil {
		return err
	}
	b.s.Duplicates += len(b.pending) - len(revised)
	b.pending = make([]stix.Object, 0, NextBatch(len(b.pending), b.im.batchSize()))
	return b.im.flush(ctx, b.s, revised)
}

// finish stores what is pending unless err, the reading's outcome, is set,
// and waits for the batch being stored; it returns the first error.
func (b *indicatorBatches) finish(ctx context.Context, err error) error {
	if err == nil {
		err = b.flush(ctx)
	}
	if werr := b.im.wait(b.s); err == nil {
		err = werr
	}
	return err
}

// revise keeps, of a batch of freshly built objects, those that are new or
// changed compared with the latest version the collection holds.
func (im *Importer) revise(ctx context.Context, objs []stix.Object) ([]stix.Object, error) {
	ids := make([]string, len(objs))
	for i, o := range objs {
		ids[i] = o.ID
	}
	prev := map[string]stix.Object{}
	// A page holds the current version of each id asked for; ask for few
	// enough that it fits in one, and for few values to bind.
	const chunk = 500
	for lo := 0; im.Store != nil && lo < len(ids); lo += chunk {
		part := ids[lo:min(lo+chunk, len(ids))]
		page, err := im.Store.Objects(ctx, im.CollectionID, store.Filter{IDs: part, Limit: len(part)})
		if err != nil {
			return nil, err
		}
		for _, e := range page.Entries {
			prev[e.Object.ID] = e.Object
		}
	}
	out := objs[:0:0]
	for _, o := range objs {
		next, changed, err := Revise(prev[o.ID], o)
		if err != nil {
			return nil, err
		}
		if changed {
			out = append(out, next)
		}
	}
	return out, nil
}
