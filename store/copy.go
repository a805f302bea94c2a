package store

import (
	"context"

	"hail"
)

// Copier is what a store offers beyond Store so that its content can be
// moved to another store with nothing renumbered (`hail copy`): entries
// keep their date_added, so a poller's added_after and next tokens stay
// valid against the copy, and statuses can be listed to be carried over.
// Both backends implement it.
type Copier interface {
	// CopyEntries adds entries to a collection in one transaction, each
	// with its own DateAdded, and returns how many it added. An entry whose
	// version (same object id and Version) the collection holds already is
	// skipped, so a copy resumed after a failure may send a batch again.
	// The store's clock is advanced past every DateAdded written, so that
	// later AddObjects calls assign greater ones. Copies go to the named
	// collection only: they are not added to filter collections, whose own
	// entries are copied as they are. The IOC index and the identity names
	// are kept up to date as AddObjects keeps them.
	//
	// DateAdded must be unique store-wide, as the source store assigned it.
	// Returns EINVALID if an entry has no DateAdded or no Raw bytes,
	// ECONFLICT if another version of the collection already has that
	// DateAdded (SQLite, whose entries are keyed by date_added alone, also
	// refuses one another collection has), and ENOTFOUND if the collection
	// does not exist; then nothing is written.
	CopyEntries(ctx context.Context, collectionID string, entries []Entry) (int, error)
	// StatusesAfter returns up to limit statuses of every API root whose
	// id sorts after after (byte order), ordered by id, so that all of them
	// can be read page by page. A limit of 0 or less means MaxLimit.
	StatusesAfter(ctx context.Context, after string, limit int) ([]Status, error)
	// MarkPruneDue makes API root root due a prune (Store.PrunesDue), as a
	// deletion from one of its collections does: a copy of a store whose
	// root was due carries it. Returns ENOTFOUND if the root does not exist.
	MarkPruneDue(ctx context.Context, root string) error
}

// CheckCopies returns EINVALID unless every entry can be copied: it has
// Raw bytes and a DateAdded after the Unix epoch (stores keep date_added as
// microseconds since then, 0 meaning none).
func CheckCopies(entries []Entry) error {
	for _, e := range entries {
		if len(e.Object.Raw) == 0 {
			return hail.Errorf(hail.EINVALID, "Entry %s has no object body to copy.", e.Object.ID)
		}
		if e.DateAdded.UnixMicro() <= 0 {
			return hail.Errorf(hail.EINVALID, "Entry %s has no date_added.", e.Object.ID)
		}
	}
	return nil
}
