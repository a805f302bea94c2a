package server

import (
	"context"
	"time"

	"hail/store"
)

// PruneInterval is how often hail serve calls PruneDue: deletions come in
// runs (a script withdrawing a list of false positives), and each prune
// reads the whole of each filter collection of the API root.
const PruneInterval = time.Minute

// PruneDue prunes (store.PruneDue) the filter collections of the API roots
// that objects were deleted from since they were last pruned, and returns
// how many identities and marking definitions left them. The store keeps
// which roots are due, so a root whose prune fails, or that a restart or
// another replica interrupts, is pruned at a later call.
func (s *Server) PruneDue(ctx context.Context) (int, error) {
	pruned, err := store.PruneDue(ctx, s.store)
	total := 0
	for root, n := range pruned {
		total += n
		if n > 0 {
			s.logger.InfoContext(ctx, "pruned filter collections", "api_root", root, "objects", n)
		}
	}
	return total, err
}
