package client

import (
	"context"
	"time"

	"hail/taxii"
)

// WalkAhead is Walk with the next page fetched while fn handles the current
// one, for callers whose fn does slow work of its own, such as storing the
// page: the remote server, the network and the decoding then overlap with
// it instead of following it. At most one page is read ahead, so memory
// stays that of two pages.
//
// fn is called in page order, never concurrently. last and err mean what
// they mean for Walk: when fn fails, last is just before the mark of the
// pages fn accepted, and the page read ahead is dropped.
func (c *Client) WalkAhead(ctx context.Context, collectionID string, f Filter, fn func(Page) error) (last time.Time, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan Page) // unbuffered: one page handled, one fetched
	var walkLast time.Time
	var walkErr error
	go func() {
		defer close(pages)
		walkLast, walkErr = c.Walk(ctx, collectionID, f, func(p Page) error {
			select {
			case pages <- p:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	last = f.AddedAfter
	for p := range pages {
		if err != nil {
			continue // drain until the walk sees the cancellation
		}
		if err = fn(p); err != nil {
			cancel()
			continue
		}
		if p.DateAddedLast.After(last) {
			last = p.DateAddedLast
		}
	}
	if err != nil {
		if last.After(f.AddedAfter) {
			last = taxii.JustBefore(last) // as Walk's on error
		}
		return last, err
	}
	// Every page the walk handed over was accepted, so its mark, which
	// also covers pages without objects, is the caller's.
	return walkLast, walkErr
}
