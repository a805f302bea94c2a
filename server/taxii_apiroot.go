package server

import (
	"net/http"

	"hail/store"
	"hail/taxii"
)

// handleAPIRootGet serves the api-root resource (TAXII 2.1 §4.2).
func (s *Server) handleAPIRootGet(w http.ResponseWriter, r *http.Request) {
	root, _, err := s.apiRoot(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, taxii.APIRoot{
		Title:            root.Title,
		Description:      root.Description,
		Versions:         []string{taxii.MediaType},
		MaxContentLength: s.maxContentLength(root),
	})
}

// apiRoot loads the API root the URL names and the collections of it the
// requester may see. An anonymous request gets 401 unless the root holds a
// public collection; an unknown root then also gets 401, so that anonymous
// requests learn nothing about which roots exist.
func (s *Server) apiRoot(r *http.Request) (store.APIRoot, []store.Collection, error) {
	name := r.PathValue("root")
	cols, err := s.store.Collections(r.Context(), name)
	if err != nil {
		return store.APIRoot{}, nil, err
	}
	k := requestKey(r.Context())
	visible := cols[:0]
	for _, c := range cols {
		if canRead(k, c) || canWrite(k, c) {
			visible = append(visible, c)
		}
	}
	if k == nil && len(visible) == 0 {
		return store.APIRoot{}, nil, errUnauthenticated
	}
	root, err := s.store.APIRoot(r.Context(), name)
	return root, visible, err
}

// maxContentLength is the largest request body the API root accepts: its
// own setting, else the server's.
func (s *Server) maxContentLength(root store.APIRoot) int64 {
	if root.MaxContentLength > 0 {
		return root.MaxContentLength
	}
	return s.cfg.MaxContentLength
}
