package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"time"

	"hail/jsonscan"
	"hail/taxii"
)

// ErrLoop is returned by Walk when the server hands back a position it has
// already given, which would page forever.
var ErrLoop = errors.New("client: the server repeats a paging position")

// ErrStuck is returned by Walk when the server says more objects remain but
// gives neither a next token nor an X-TAXII-Date-Added-Last header, so
// there is no way to ask for them.
var ErrStuck = errors.New("client: the server says more remains but gives no way to continue")

// Walk reads every page of a collection's objects that f selects, oldest
// first, and calls fn with each page that holds objects. It continues with
// the page's next token when the server gives one, and otherwise with
// added_after: the two strategies of TAXII 2.1 §3.5. It stops when a page
// says more is false, or when fn returns an error, which Walk returns.
//
// Paging by added_after asks from just before the page's
// X-TAXII-Date-Added-Last (taxii.JustBefore), since objects may share a
// date_added and the rest of those added then would be skipped, and drops
// the objects it has already handed over; a page that holds nothing else
// is asked for again, twice as large, as long as the server gives more. A server whose next token stays
// the same from page to page, as the OASIS reference server's does, is
// followed as long as its pages change.
//
// last is the high-water mark: the latest X-TAXII-Date-Added-Last seen, or
// f.AddedAfter when there was none. Passing it as AddedAfter to the next
// Walk reads only what was added since. On error, last is just before the
// mark of the pages fn accepted (or f.AddedAfter, when it accepted none),
// so that a Walk from it reads the rest of the objects that shared that
// date_added, along with the few it already had.
//
// A server that repeats a position gets ErrLoop rather than an endless walk.
func (c *Client) Walk(ctx context.Context, collectionID string, f Filter, fn func(Page) error) (last time.Time, err error) {
	start := f.AddedAfter
	last = start
	defer func() {
		if err != nil && last.After(start) {
			last = taxii.JustBefore(last)
		}
	}()
	w := walker{seed: maphash.MakeSeed(), seen: map[pagePosition]bool{}}
	for {
		p, err := c.Objects(ctx, collectionID, f)
		if err != nil {
			return last, err
		}
		all := p.Objects
		if w.byAddedAfter {
			p.Objects = w.fresh(all) // the page began with the last one's tail
		}
		if len(p.Objects) > 0 {
			if err := fn(p); err != nil {
				return last, err
			}
		}
		progressed := len(p.Objects) > 0 || p.DateAddedLast.After(last)
		if p.DateAddedLast.After(last) {
			last = p.DateAddedLast
		}
		if !p.More {
			return last, nil
		}
		switch {
		case p.Next != "":
			// TAXII 2.1 §3.4: next goes with the original filters. The
			// token may stay the same (it is opaque, TAXII 2.1 §3.7): what
			// must not come back is the same page for the same token.
			pos := pagePosition{next: p.Next, page: w.sum(all, p.DateAddedLast)}
			if w.seen[pos] {
				return last, fmt.Errorf("%w: next %s, with the same page again", ErrLoop, p.Next)
			}
			w.seen[pos] = true
			f.Next, w.byAddedAfter = p.Next, false
			if f.Limit == 0 && len(all) > 0 {
				// The OASIS reference server (medallion) fails a next
				// without a limit; the server's own page size is safe.
				f.Limit = len(all)
			}
		case !p.DateAddedLast.IsZero():
			if w.byAddedAfter && !progressed {
				if len(all) > w.grown {
					// The page was all objects added at its mark, which
					// may be all of them or the first of more: ask
					// again for a page twice as large.
					w.grown, f.Limit = len(all), 2*len(all)
					continue
				}
				return last, fmt.Errorf("%w: the page after added_after %s held nothing new: the server's pages are full of objects added at %s, "+
					"and without a next token paging by added_after cannot get past them without skipping some",
					ErrLoop, taxii.FormatTimestamp(f.AddedAfter), taxii.FormatTimestamp(p.DateAddedLast))
			}
			if !p.DateAddedLast.After(f.AddedAfter) {
				return last, fmt.Errorf("%w: X-TAXII-Date-Added-Last %s is not after added_after %s",
					ErrLoop, taxii.FormatTimestamp(p.DateAddedLast), taxii.FormatTimestamp(f.AddedAfter))
			}
			w.handed(all, p.DateAddedLast)
			f.Next, f.AddedAfter, w.byAddedAfter = "", taxii.JustBefore(p.DateAddedLast), true
		default:
			return last, ErrStuck
		}
	}
}

// walker is what Walk remembers of the pages it has read.
type walker struct {
	seed maphash.Seed
	// seen holds the positions that next tokens have led to.
	seen map[pagePosition]bool
	// at is the X-TAXII-Date-Added-Last of the page paging by added_after
	// goes on from, and tail the versions handed over since it was
	// reached (versionKey): those of the next page that the walk has
	// already had.
	at   time.Time
	tail map[string]bool
	// grown is the size of the last page after which the walk asked for
	// a larger one, for want of anything new in it.
	grown int
	// byAddedAfter is set while the walk pages by added_after: the page
	// asked for begins where the last one ended. It is a flag of its own,
	// since the added_after asked for may equal the walk's start, as it
	// does when the walk resumes from a mark (taxii.JustBefore).
	byAddedAfter bool
}

// pagePosition is a next token with the page it came with.
type pagePosition struct {
	next string
	page uint64
}

// sum is a page's fingerprint: its objects and its mark.
func (w *walker) sum(objects []json.RawMessage, mark time.Time) uint64 {
	var h maphash.Hash
	h.SetSeed(w.seed)
	for _, o := range objects {
		h.Write(o)
		h.WriteByte(0)
	}
	h.WriteString(mark.String())
	return h.Sum64()
}

// handed records the objects of a page that ended at mark, before paging
// on from just before mark.
func (w *walker) handed(objects []json.RawMessage, mark time.Time) {
	if !mark.Equal(w.at) {
		w.at, w.tail = mark, map[string]bool{}
	}
	for _, o := range objects {
		w.tail[versionKey(o)] = true
	}
}

// fresh returns the objects not handed over yet, in order.
func (w *walker) fresh(objects []json.RawMessage) []json.RawMessage {
	var out []json.RawMessage
	for _, o := range objects {
		if !w.tail[versionKey(o)] {
			out = append(out, o)
		}
	}
	return out
}

// versionKey names the object version o: its id and modified as the server
// wrote them, or all of o when it has no id. A server need not write an
// object with the same bytes twice, but these two it does not reformat.
func versionKey(o json.RawMessage) string {
	var id, modified []byte
	jsonscan.Members(o, func(name, v []byte) bool {
		switch string(name) {
		case "id":
			id = v
		case "modified":
			modified = v
		}
		return true
	})
	if id == nil {
		return string(o)
	}
	return string(id) + "\x00" + string(modified)
}
