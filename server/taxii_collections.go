package server

import (
	"net/http"

	"hail"
	"hail/store"
	"hail/taxii"
)

// handleCollectionsGet serves the collections resource (TAXII 2.1 §5.1): the
// collections the requester may read or write, in creation order.
func (s *Server) handleCollectionsGet(w http.ResponseWriter, r *http.Request) {
	_, cols, err := s.apiRoot(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	k := requestKey(r.Context())
	var res taxii.Collections
	for _, c := range cols {
		res.Collections = append(res.Collections, collectionResource(k, c))
	}
	writeJSON(w, http.StatusOK, res)
}

// handleCollectionGet serves one collection resource (TAXII 2.1 §5.2), by id
// or alias.
func (s *Server) handleCollectionGet(w http.ResponseWriter, r *http.Request) {
	c, err := s.collection(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, collectionResource(requestKey(r.Context()), c))
}

// collectionResource describes c with the requester's rights (TAXII 2.1
// §5.2.1: can_read and can_write are the requester's, not the collection's).
func collectionResource(k *store.Key, c store.Collection) taxii.Collection {
	return taxii.Collection{
		ID:          c.ID,
		Title:       c.Title,
		Description: c.Description,
		Alias:       c.Alias,
		CanRead:     canRead(k, c),
		CanWrite:    canWrite(k, c),
		MediaTypes:  []string{taxii.STIXMediaType},
	}
}

// canRead reports whether the requester (k is nil when anonymous) may read c.
func canRead(k *store.Key, c store.Collection) bool {
	return c.Public || k != nil && k.CanRead(c.ID)
}

// canWrite reports whether the requester may add objects to c. A filter
// collection is computed from others, so nobody adds to it.
func canWrite(k *store.Key, c store.Collection) bool {
	return k != nil && c.Kind != store.KindFilter && k.CanWrite(c.ID)
}

// collection loads the collection the URL names, by id or alias, if the
// requester may see it. Collections a key can neither read nor write answer
// exactly like missing ones (TAXII 2.1 Appendix B: do not leak existence).
// An anonymous request for anything but a public collection gets 401, so
// that clients that wait for a challenge (TAXII 2.1 §1.6.9) send their key.
func (s *Server) collection(r *http.Request) (store.Collection, error) {
	root, id := r.PathValue("root"), r.PathValue("id")
	c, err := s.store.Collection(r.Context(), root, id)
	if err != nil && hail.ErrorCode(err) != hail.ENOTFOUND {
		return c, err
	}
	k := requestKey(r.Context())
	switch {
	case err == nil && (canRead(k, c) || canWrite(k, c)):
		return c, nil
	case k == nil:
		return c, errUnauthenticated
	}
	return c, hail.Errorf(hail.ENOTFOUND, "Collection %q not found.", id)
}

// readableCollection loads the collection the URL names for a read (TAXII
// 2.1 §5.3, §5.4, §5.6, §5.8). A key that may only write gets 403: it knows
// the collection exists.
func (s *Server) readableCollection(r *http.Request) (store.Collection, error) {
	c, err := s.collection(r)
	if err == nil && !canRead(requestKey(r.Context()), c) {
		err = hail.Errorf(hail.EFORBIDDEN, "The API key may not read this collection.")
	}
	return c, err
}

// writableCollection loads the collection the URL names for Add Objects
// (TAXII 2.1 §5.5): 401 without a key, 403 for a key that may see the
// collection but not write to it, 404 for one that may not see it.
func (s *Server) writableCollection(r *http.Request) (store.Collection, error) {
	c, err := s.collection(r)
	k := requestKey(r.Context())
	switch {
	case err != nil:
		return c, err
	case k == nil:
		return c, errUnauthenticated
	case !canWrite(k, c):
		return c, hail.Errorf(hail.EFORBIDDEN, "The API key may not add objects to this collection.")
	}
	return c, nil
}

// deletableCollection loads the collection the URL names for Delete An
// Object. TAXII 2.1 §5.7 gives the matrix: neither read nor write 404, one
// of them 403, both (or admin) allowed.
func (s *Server) deletableCollection(r *http.Request) (store.Collection, error) {
	c, err := s.collection(r)
	k := requestKey(r.Context())
	switch {
	case err != nil:
		return c, err
	case k == nil:
		return c, errUnauthenticated
	case !k.Admin && !(canRead(k, c) && canWrite(k, c)):
		return c, hail.Errorf(hail.EFORBIDDEN, "Deleting objects needs both read and write rights on the collection.")
	}
	return c, nil
}
