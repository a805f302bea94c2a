package server

import (
	"net/http"

	"hail/store"
	"hail/taxii"
)

// handleManifestGet serves Get Object Manifests (TAXII 2.1 §5.3): one record
// per object version, with the same filters and paging as Get Objects.
func (s *Server) handleManifestGet(w http.ResponseWriter, r *http.Request) {
	c, err := s.readableCollection(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	q, err := s.parseQuery(r.URL.RawQuery, collectionParams)
	if err != nil {
		s.error(w, r, err)
		return
	}
	q.HeadersOnly = true
	page, err := s.store.Objects(r.Context(), c.ID, q.Filter)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writePage(w, r, q, page, "objects", appendManifestRecord)
}

// appendManifestRecord appends the manifest-record of an entry (TAXII 2.1
// §5.3.1).
func appendManifestRecord(b []byte, e store.Entry) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, e.Object.ID)
	b = append(b, `,"date_added":"`...)
	b = e.DateAdded.UTC().AppendFormat(b, taxii.TimestampLayout)
	b = append(b, `","version":`...)
	b = appendString(b, entryVersion(e))
	b = append(b, `,"media_type":"`+taxii.STIXMediaType+`"}`...)
	return b
}
