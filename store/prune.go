package store

import (
	"context"
	"errors"
	"maps"
	"slices"
)

// PruneAPIRoot prunes every filter collection of API root root (see
// Store.PruneCollection), as a deletion from one of its collections calls
// for, and returns how many objects left them. Once every prune has
// succeeded the root is no longer due (Store.PrunesDue), unless a deletion
// came meanwhile.
func PruneAPIRoot(ctx context.Context, st Store, root string) (int, error) {
	due, err := st.PrunesDue(ctx)
	if err != nil {
		return 0, err
	}
	return pruneRoot(ctx, st, root, due[root])
}

// PruneDue prunes the filter collections of the API roots that are due
// (Store.PrunesDue) and returns how many objects left each root's. A
// root whose prune fails stays due, for the next call. Each root's mark
// is read again just before its prune, so that replicas calling PruneDue
// in turn do not prune again what another has just pruned.
func PruneDue(ctx context.Context, st Store) (map[string]int, error) {
	due, err := st.PrunesDue(ctx)
	if err != nil {
		return nil, err
	}
	pruned := make(map[string]int, len(due))
	var errs []error
	for i, root := range slices.Sorted(maps.Keys(due)) {
		if i > 0 {
			if due, err = st.PrunesDue(ctx); err != nil {
				return pruned, errors.Join(append(errs, err)...)
			}
		}
		if due[root] == 0 {
			continue
		}
		n, err := pruneRoot(ctx, st, root, due[root])
		pruned[root] = n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return pruned, errors.Join(errs...)
}

// pruneRoot prunes the filter collections of root, then ends its due
// prune if mark (0 for none) is still its mark.
func pruneRoot(ctx context.Context, st Store, root string, mark int64) (int, error) {
	cols, err := st.Collections(ctx, root)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, c := range cols {
		if c.Kind != KindFilter {
			continue
		}
		n, err := st.PruneCollection(ctx, c.ID)
		total += n
		if err != nil {
			return total, err
		}
	}
	if mark > 0 {
		return total, st.PruneDone(ctx, root, mark)
	}
	return total, nil
}
