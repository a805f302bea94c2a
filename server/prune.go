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

// pruneBucket is the rate bucket (Store.TakeToken) that admits one
// replica's prune per half PruneInterval.
const pruneBucket = "prune"

// PruneDue prunes (store.PruneDue) the filter collections of the API roots
// that objects were deleted from since they were last pruned, and returns
// how many identities and marking definitions left them. The store keeps
// which roots are due, so a root whose prune fails, or that a restart or
// another replica interrupts, is pruned at a later call.
//
// Replicas sharing a store each call it every PruneInterval. Once some
// root is due, one of them takes the store's pruneBucket token and prunes;
// the others, finding it taken, leave the roots due for their next call,
// so two replicas whose tickers coincide do not read every filter
// collection twice over.
func (s *Server) PruneDue(ctx context.Context) (int, error) {
	due, err := s.store.PrunesDue(ctx)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	wait, err := s.store.TakeToken(ctx, pruneBucket, s.cfg.Now(), PruneInterval/2, 1)
	if err != nil {
		return 0, err
	}
	if wait > 0 {
		return 0, nil // another replica prunes, or has just pruned
	}
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
