package server

import (
	"net/http"
	"time"

	"hail"
	"hail/store"
	"hail/taxii"
)

// handleStatusGet serves Get Status (TAXII 2.1 §4.3). A status names the
// objects of one request to one collection, so a key sees it only if it
// may see that collection; to any other it is missing, as the collection
// is (TAXII 2.1 Appendix B). Statuses stored before their collection was
// recorded are shown to any key, as they were then.
func (s *Server) handleStatusGet(w http.ResponseWriter, r *http.Request) {
	k := requestKey(r.Context())
	if k == nil {
		s.error(w, r, errUnauthenticated)
		return
	}
	st, err := s.store.Status(r.Context(), r.PathValue("root"), r.PathValue("sid"))
	if err == nil && !s.maySee(r, k, st) {
		err = hail.Errorf(hail.ENOTFOUND, "Status %q not found.", st.ID)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, statusResource(st))
}

// maySee reports whether k may see status st: it may read or write st's
// collection, or the collection is public.
func (s *Server) maySee(r *http.Request, k *store.Key, st store.Status) bool {
	if st.CollectionID == "" || k.CanRead(st.CollectionID) || k.CanWrite(st.CollectionID) {
		return true
	}
	c, err := s.store.Collection(r.Context(), st.APIRoot, st.CollectionID)
	return err == nil && c.Public
}

// statusResource converts a stored status. The counts are the lengths of the
// lists, so they always agree with them (taxii2-client checks it).
func statusResource(st store.Status) taxii.Status {
	return taxii.Status{
		ID:               st.ID,
		Status:           st.Status,
		RequestTimestamp: taxii.FormatTimestamp(st.RequestTimestamp),
		TotalCount:       st.Total,
		SuccessCount:     len(st.Successes),
		Successes:        statusDetails(st.Successes),
		FailureCount:     len(st.Failures),
		Failures:         statusDetails(st.Failures),
		PendingCount:     len(st.Pendings),
		Pendings:         statusDetails(st.Pendings),
	}
}

func statusDetails(ds []store.StatusDetail) []taxii.StatusDetails {
	if len(ds) == 0 {
		return nil
	}
	out := make([]taxii.StatusDetails, len(ds))
	for i, d := range ds {
		out[i] = taxii.StatusDetails{ID: d.ID, Version: d.Version, Message: d.Message}
	}
	return out
}

// purgeInterval is how often, at most, old statuses are deleted.
const purgeInterval = time.Hour

// purgeStatuses deletes the statuses older than the retention period, at
// most once per purgeInterval, from the request that finds it due: a
// long-running server needs no separate job for it. A failure is logged and
// retried at the next interval; it does not fail the request.
func (s *Server) purgeStatuses(r *http.Request) {
	now := s.cfg.Now()
	last := s.lastPurge.Load()
	if now.Unix()-last < int64(min(purgeInterval, s.cfg.StatusRetention)/time.Second) ||
		!s.lastPurge.CompareAndSwap(last, now.Unix()) {
		return
	}
	n, err := s.store.DeleteStatusesBefore(r.Context(), now.Add(-s.cfg.StatusRetention))
	if err != nil {
		s.logger.WarnContext(r.Context(), "purge statuses", "err", err)
		return
	}
	if n > 0 {
		s.logger.InfoContext(r.Context(), "purged statuses", "count", n, "retention", s.cfg.StatusRetention)
	}
}
