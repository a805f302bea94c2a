package server

import (
	"net/http"

	"hail/store"
)

// handleVersionsGet serves Get Object Versions (TAXII 2.1 §5.8): every
// version of one object, oldest date_added first.
func (s *Server) handleVersionsGet(w http.ResponseWriter, r *http.Request) {
	c, err := s.readableCollection(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	q, err := s.parseQuery(r.URL.RawQuery, versionsParams)
	if err != nil {
		s.error(w, r, err)
		return
	}
	q.Versions, q.HeadersOnly = []string{"all"}, true
	page, err := s.objectPage(r, c, q)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writePage(w, r, q, page, "versions", appendVersion)
}

// appendVersion appends an entry's version string.
func appendVersion(b []byte, e store.Entry) []byte { return appendString(b, entryVersion(e)) }
