// Package storecopy moves the content of one store into another, as
// `hail copy` does to take a SQLite install to PostgreSQL: API roots,
// collections with their ids, aliases and filters, API keys with their
// hashes, plans, statuses with their ids, feeds with their marks and runs,
// webhooks with their delivery state, the API roots due a prune, and every
// object version with its
// date_added, so that clients keep their collection ids, keys, status
// links and added_after positions, feeds resume where they were and
// webhooks deliver from where they were.
//
// A copy streams: it reads one page of a collection at a time and writes
// it in one transaction. It is resumable: run again after a failure, it
// finds what the target holds and continues after the last date_added of
// each collection. It ends by comparing each collection's counts in both
// stores and fails if they differ. The source should not be written while
// it runs, or the counts will not match.
package storecopy

import (
	"context"
	"fmt"
	"strings"
	"time"

	"hail"
	"hail/store"
)

// DefaultBatch is how many entries one page read and one transaction
// written hold when Options.Batch is 0.
const DefaultBatch = 5000

// specVersions are the spec_version values a copy reads. store.Filter
// offers no "every spec_version", and STIX has had these two; a version of
// another one would be left behind, and the count check would report it.
var specVersions = []string{"2.0", "2.1"}

// Options tune a copy.
type Options struct {
	// Batch is the page size, at most store.MaxLimit; 0 means DefaultBatch.
	Batch int
	// Progress, when set, is called after each batch of entries written.
	Progress func(Progress)
}

// Progress tells how far the copy of one collection is.
type Progress struct {
	Collection store.Collection
	// Copied counts the versions the target holds now, Total those the
	// source held when the collection's copy began.
	Copied, Total int64
	// Written counts the versions this run wrote to the target, all
	// collections together, and Elapsed the time since the run began.
	Written int64
	Elapsed time.Duration
}

// Result tells what a copy did.
type Result struct {
	// Created counts what this run created in the target; what a previous
	// run created is not counted again.
	APIRoots, Collections, Keys, Statuses int
	Plans, Feeds, Webhooks                int
	// Written counts the object versions this run wrote.
	Written int64
	// Counts are the verified counts, one per collection, in the order of
	// the source's API roots and collections.
	Counts []Count
	// Elapsed is the time the run took.
	Elapsed time.Duration
}

// Count is a collection's counts, equal in source and target.
type Count struct {
	Collection store.Collection
	Stats      store.CollectionStats
}

// Copy copies src into dst; see the package comment. dst must implement
// store.Copier (to keep date_added) and src must too (to list statuses).
// Returns ECONFLICT when dst holds an API root's collection or a key under
// the same alias or name as src but not the same one (a target that is
// neither empty nor an earlier copy of src), and an error naming each
// collection whose counts differ after the copy.
func Copy(ctx context.Context, src, dst store.Store, opt Options) (Result, error) {
	c := copier{src: src, dst: dst, opt: opt, start: time.Now()}
	var ok bool
	if c.from, ok = src.(store.Copier); !ok {
		return Result{}, fmt.Errorf("copy: the source store (%T) cannot list its statuses", src)
	}
	if c.to, ok = dst.(store.Copier); !ok {
		return Result{}, fmt.Errorf("copy: the target store (%T) cannot take entries with their date_added", dst)
	}
	if c.opt.Batch <= 0 {
		c.opt.Batch = DefaultBatch
	}
	c.opt.Batch = min(c.opt.Batch, store.MaxLimit)
	colls, err := c.structure(ctx)
	if err != nil {
		return c.res, err
	}
	for _, step := range []func(context.Context) error{c.plans, c.keys, c.statuses, c.feeds, c.webhooks, c.prunes} {
		if err := step(ctx); err != nil {
			return c.res, err
		}
	}
	for _, coll := range colls {
		if err := c.entries(ctx, coll); err != nil {
			return c.res, err
		}
	}
	err = c.verify(ctx, colls)
	c.res.Elapsed = time.Since(c.start)
	return c.res, err
}

// copier is one run of Copy.
type copier struct {
	src, dst store.Store
	from, to store.Copier
	opt      Options
	start    time.Time
	res      Result
}

// structure creates the API roots and every collection in dst, in the
// source's order, before any entry is copied: a filter collection created
// later would be filled from what the target holds by then, with new
// date_added values, instead of taking its own entries from the source.
func (c *copier) structure(ctx context.Context) ([]store.Collection, error) {
	roots, err := c.src.APIRoots(ctx)
	if err != nil {
		return nil, fmt.Errorf("read API roots: %w", err)
	}
	var all []store.Collection
	for _, r := range roots {
		switch err := c.dst.CreateAPIRoot(ctx, r); hail.ErrorCode(err) {
		case "":
			c.res.APIRoots++
		case hail.ECONFLICT: // made by an earlier run
		default:
			return nil, fmt.Errorf("create API root %q: %w", r.Name, err)
		}
		colls, err := c.src.Collections(ctx, r.Name)
		if err != nil {
			return nil, fmt.Errorf("read collections of %q: %w", r.Name, err)
		}
		for _, coll := range colls {
			if err := c.collection(ctx, coll); err != nil {
				return nil, err
			}
		}
		all = append(all, colls...)
	}
	return all, nil
}

// collection creates coll in dst unless an earlier run did.
func (c *copier) collection(ctx context.Context, coll store.Collection) error {
	err := c.dst.CreateCollection(ctx, coll)
	if err == nil {
		c.res.Collections++
		return nil
	}
	if hail.ErrorCode(err) != hail.ECONFLICT {
		return fmt.Errorf("create collection %s: %w", coll.ID, err)
	}
	held, gerr := c.dst.Collection(ctx, coll.APIRoot, coll.ID)
	if gerr == nil && held.ID == coll.ID {
		return nil
	}
	return hail.Errorf(hail.ECONFLICT, "The target already has a collection with the id %s or the alias %q in API root %q, "+
		"and it is not this one: copy into an empty database.", coll.ID, coll.Alias, coll.APIRoot)
}

// keys creates every key of src in dst, with its hash, unless an earlier
// run did.
func (c *copier) keys(ctx context.Context) error {
	keys, err := c.src.Keys(ctx)
	if err != nil {
		return fmt.Errorf("read keys: %w", err)
	}
	held, err := c.dst.Keys(ctx)
	if err != nil {
		return fmt.Errorf("read target keys: %w", err)
	}
	byName := make(map[string]store.Key, len(held))
	for _, k := range held {
		byName[k.Name] = k
	}
	for _, k := range keys {
		if h, ok := byName[k.Name]; ok {
			if string(h.Hash) != string(k.Hash) {
				return hail.Errorf(hail.ECONFLICT, "The target already has another key named %q: copy into an empty database.", k.Name)
			}
			continue
		}
		if err := c.dst.CreateKey(ctx, k); err != nil {
			return fmt.Errorf("create key %q: %w", k.Name, err)
		}
		c.res.Keys++
	}
	return nil
}

// statusBatch is how many statuses one read returns.
const statusBatch = 1000

// statuses creates every status of src in dst, with its id, unless an
// earlier run did.
func (c *copier) statuses(ctx context.Context) error {
	after := ""
	for {
		page, err := c.from.StatusesAfter(ctx, after, statusBatch)
		if err != nil {
			return fmt.Errorf("read statuses: %w", err)
		}
		for _, s := range page {
			switch err := c.dst.CreateStatus(ctx, s); hail.ErrorCode(err) {
			case "":
				c.res.Statuses++
			case hail.ECONFLICT: // made by an earlier run
			default:
				return fmt.Errorf("create status %s: %w", s.ID, err)
			}
		}
		if len(page) < statusBatch {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

// entries copies the versions of one collection that dst lacks: those
// added after the last date_added dst holds for it. Pages are read and
// written in date_added order, each write one transaction, so that what
// dst holds is always a prefix of what src holds.
func (c *copier) entries(ctx context.Context, coll store.Collection) error {
	total, err := c.src.CollectionStats(ctx, coll.ID)
	if err != nil {
		return fmt.Errorf("count collection %s: %w", coll.ID, err)
	}
	held, err := c.dst.CollectionStats(ctx, coll.ID)
	if err != nil {
		return fmt.Errorf("count target collection %s: %w", coll.ID, err)
	}
	copied := held.Versions
	f := store.Filter{Versions: []string{"all"}, SpecVersions: specVersions, AddedAfter: held.LastDateAdded, Limit: c.opt.Batch}
	for {
		page, err := c.src.Objects(ctx, coll.ID, f)
		if err != nil {
			return fmt.Errorf("read collection %s: %w", coll.ID, err)
		}
		if len(page.Entries) == 0 {
			return nil
		}
		n, err := c.to.CopyEntries(ctx, coll.ID, page.Entries)
		if err != nil {
			return fmt.Errorf("copy into collection %s: %w", coll.ID, err)
		}
		copied += int64(n)
		c.res.Written += int64(n)
		if c.opt.Progress != nil {
			c.opt.Progress(Progress{Collection: coll, Copied: copied, Total: total.Versions,
				Written: c.res.Written, Elapsed: time.Since(c.start)})
		}
		if !page.More {
			return nil
		}
		f.AddedAfter = page.Entries[len(page.Entries)-1].DateAdded
	}
}

// verify compares each collection's counts and date_added range in src
// and dst, and fails naming every collection that differs.
func (c *copier) verify(ctx context.Context, colls []store.Collection) error {
	var bad []string
	for _, coll := range colls {
		s, err := c.src.CollectionStats(ctx, coll.ID)
		if err != nil {
			return fmt.Errorf("count collection %s: %w", coll.ID, err)
		}
		d, err := c.dst.CollectionStats(ctx, coll.ID)
		if err != nil {
			return fmt.Errorf("count target collection %s: %w", coll.ID, err)
		}
		if s.Objects != d.Objects || s.Versions != d.Versions ||
			!s.FirstDateAdded.Equal(d.FirstDateAdded) || !s.LastDateAdded.Equal(d.LastDateAdded) {
			bad = append(bad, fmt.Sprintf("collection %s (%s): source %d objects, %d versions, added %s to %s; "+
				"target %d objects, %d versions, added %s to %s", coll.ID, coll.Alias,
				s.Objects, s.Versions, stamp(s.FirstDateAdded), stamp(s.LastDateAdded),
				d.Objects, d.Versions, stamp(d.FirstDateAdded), stamp(d.LastDateAdded)))
			continue
		}
		c.res.Counts = append(c.res.Counts, Count{Collection: coll, Stats: d})
	}
	if len(bad) > 0 {
		return fmt.Errorf("copy: counts differ after the copy:\n  %s", strings.Join(bad, "\n  "))
	}
	return nil
}

// stamp formats a date_added for messages.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}

// prunes makes the target's API roots due a prune where the source's are,
// so that what a deletion left in the filter collections is pruned there.
func (c *copier) prunes(ctx context.Context) error {
	due, err := c.src.PrunesDue(ctx)
	if err != nil {
		return err
	}
	for root := range due {
		if err := c.to.MarkPruneDue(ctx, root); err != nil {
			return fmt.Errorf("copy: prune due of API root %q: %w", root, err)
		}
	}
	return nil
}
