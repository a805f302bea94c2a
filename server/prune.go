package server

import (
	"context"
	"errors"
	"sync"
	"time"

	"hail/store"
)

// PruneInterval is how often hail serve calls PruneDue: deletions come in
// runs (a script withdrawing a list of false positives), and each prune
// reads the whole of each filter collection of the API root.
const PruneInterval = time.Minute

// prunes holds the API roots whose explicit collections lost object
// versions since the last PruneDue.
type prunes struct {
	mu    sync.Mutex
	roots map[string]bool
}

// notePrune records that an explicit collection of API root root lost
// versions: the filter collections may hold context only those named.
func (s *Server) notePrune(root string) {
	s.prunes.mu.Lock()
	defer s.prunes.mu.Unlock()
	if s.prunes.roots == nil {
		s.prunes.roots = make(map[string]bool)
	}
	s.prunes.roots[root] = true
}

// PruneDue prunes (store.Store.PruneCollection) the filter collections of
// the API roots that objects were deleted from since the last call, and
// returns how many identities and marking definitions left them. A root
// whose prune fails is tried again at the next call.
func (s *Server) PruneDue(ctx context.Context) (int, error) {
	s.prunes.mu.Lock()
	roots := s.prunes.roots
	s.prunes.roots = nil
	s.prunes.mu.Unlock()
	total := 0
	var errs []error
	for root := range roots {
		n, err := store.PruneAPIRoot(ctx, s.store, root)
		total += n
		if n > 0 {
			s.logger.InfoContext(ctx, "pruned filter collections", "api_root", root, "objects", n)
		}
		if err != nil {
			s.notePrune(root)
			errs = append(errs, err)
		}
	}
	return total, errors.Join(errs...)
}
