package feed

import (
	"context"
	"fmt"
	"io"
	"time"

	"hail"
	"hail/ingest"
	"hail/store"
)

// Snapshot imports an IOC list with im, as ImportList does, and then
// revokes the indicators of opt.Source that im's collection holds and the
// list no longer names: each gets a new version with revoked true (STIX 2.1
// §3.6). It returns the import summary and the number revoked. Nothing is
// revoked unless the whole list was read and stored, so a list cut short
// never revokes what it did not get to. Returns EINVALID when opt.Source is
// empty: without a source there is no telling whose indicators to revoke.
//
// Cost: the list is parsed twice, once to store it and once, beside, to
// collect the ids it names (a set held in memory, about 100 bytes per
// value); then the collection's IOC index is read in full, page by page,
// keeping the rows created by the source that are neither revoked nor
// expired. That is one pass over the index per snapshot: the store has no
// index on created_by, and the IOC index is the smallest listing that
// names it.
func Snapshot(ctx context.Context, im *ingest.Importer, r io.Reader, opt ingest.ListOptions) (ingest.Summary, int, error) {
	if opt.Source == "" {
		return ingest.Summary{}, 0, hail.Errorf(hail.EINVALID, "A snapshot needs the list's source.")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	now := opt.Now()
	opt.Now = func() time.Time { return now }

	pr, pw := io.Pipe()
	names := make(chan map[string]bool, 1)
	go func() {
		seen := map[string]bool{}
		ingest.ReadList(pr, opt, func(ioc ingest.IOC) error {
			if o, err := ingest.Indicator(ioc, opt); err == nil {
				seen[o.ID] = true
			}
			return nil
		}, nil)
		// ReadList may stop before the end (a CSV without an indicator
		// column); the import reads on, and must not block on the pipe.
		io.Copy(io.Discard, pr)
		names <- seen
	}()
	sum, err := im.ImportList(ctx, io.TeeReader(r, pw), opt)
	if err != nil {
		pw.CloseWithError(err)
		<-names
		return sum, 0, err
	}
	// The import read until ReadList saw the end; the rest (nothing, or
	// what follows a read error) goes to the other reader too.
	if _, err := io.Copy(pw, r); err != nil {
		pw.CloseWithError(err)
		<-names
		return sum, 0, fmt.Errorf("read list: %w", err)
	}
	pw.Close()
	keep := <-names
	if im.DryRun {
		return sum, 0, nil
	}
	n, err := Revoke(ctx, im.Store, im.CollectionID, ingest.Identity(opt.Source).ID, keep, now)
	return sum, n, err
}

// Revoke gives a revoked version, modified at now (or just after the
// current version), to every indicator and vulnerability of a collection
// that was created by createdBy, is neither revoked nor expired at now, and
// is not in keep. It returns how many it revoked.
func Revoke(ctx context.Context, st store.Store, collectionID, createdBy string, keep map[string]bool, now time.Time) (int, error) {
	var ids []string
	listed := map[string]bool{}
	f := store.IOCFilter{Now: now, Limit: store.MaxLimit}
	for {
		page, err := st.IOCs(ctx, collectionID, f)
		if err != nil {
			return 0, err
		}
		for _, row := range page.IOCs {
			if row.CreatedBy == createdBy && !keep[row.IndicatorID] && !listed[row.IndicatorID] {
				listed[row.IndicatorID] = true
				ids = append(ids, row.IndicatorID)
			}
		}
		if !page.More || len(page.IOCs) == 0 {
			break
		}
		f.After = page.IOCs[len(page.IOCs)-1].Cursor()
	}
	return ingest.RevokeIDs(ctx, st, collectionID, ids, now)
}
