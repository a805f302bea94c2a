package client

import (
	"context"
	"errors"
	"fmt"
	"time"

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
// added_after set to the page's X-TAXII-Date-Added-Last: the two strategies
// of TAXII 2.1 §3.5. It stops when a page says more is false, or when fn
// returns an error, which Walk returns.
//
// last is the high-water mark: the latest X-TAXII-Date-Added-Last seen, or
// f.AddedAfter when there was none. Passing it as AddedAfter to the next
// Walk reads only what was added since. On error, last covers the pages fn
// accepted.
//
// A server that repeats a position gets ErrLoop rather than an endless walk.
func (c *Client) Walk(ctx context.Context, collectionID string, f Filter, fn func(Page) error) (last time.Time, err error) {
	last = f.AddedAfter
	seen := map[string]bool{}
	for {
		p, err := c.Objects(ctx, collectionID, f)
		if err != nil {
			return last, err
		}
		if len(p.Objects) > 0 {
			if err := fn(p); err != nil {
				return last, err
			}
		}
		if p.DateAddedLast.After(last) {
			last = p.DateAddedLast
		}
		if !p.More {
			return last, nil
		}
		var pos string
		switch {
		case p.Next != "":
			// TAXII 2.1 §3.4: next goes with the original filters.
			f.Next, pos = p.Next, "next "+p.Next
		case !p.DateAddedLast.IsZero():
			if !p.DateAddedLast.After(f.AddedAfter) {
				return last, fmt.Errorf("%w: X-TAXII-Date-Added-Last %s is not after added_after %s",
					ErrLoop, taxii.FormatTimestamp(p.DateAddedLast), taxii.FormatTimestamp(f.AddedAfter))
			}
			f.Next, f.AddedAfter = "", p.DateAddedLast
			pos = "added_after " + taxii.FormatTimestamp(p.DateAddedLast)
		default:
			return last, ErrStuck
		}
		if seen[pos] {
			return last, fmt.Errorf("%w: %s", ErrLoop, pos)
		}
		seen[pos] = true
	}
}
