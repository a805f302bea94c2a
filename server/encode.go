package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"hail/store"
	"hail/taxii"
)

// writeJSON writes v as the response body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Every value written here is a taxii resource of plain fields.
		panic(fmt.Sprintf("server: encode %T: %v", v, err))
	}
	w.WriteHeader(status)
	w.Write(body)
}

// writePage writes one page of entries as a TAXII list resource: the
// envelope (§3.7), manifest (§5.3.1) or versions (§5.8.1), whose list is
// under listKey and whose items appendItem encodes. Envelope objects are the
// stored bytes, never re-encoded.
//
// "more" is always present; "next" only when more is true. A non-empty page
// carries X-TAXII-Date-Added-First and -Last (TAXII 2.1 §3.2); an empty one
// omits them, as the reference server does, since there is no first or last.
func (s *Server) writePage(w http.ResponseWriter, r *http.Request, q query, page store.Page,
	listKey string, appendItem func([]byte, store.Entry) []byte) {
	n := len(page.Entries)
	pos := q.AddedAfter
	if n > 0 {
		first, last := page.Entries[0].DateAdded, page.Entries[n-1].DateAdded
		// Set as spelt in TAXII 2.1 §3.2, not canonicalised, for clients that
		// look headers up case-sensitively.
		w.Header()["X-TAXII-Date-Added-First"] = []string{taxii.FormatTimestamp(first)}
		w.Header()["X-TAXII-Date-Added-Last"] = []string{taxii.FormatTimestamp(last)}
		pos = last
		ri := info(r.Context())
		ri.objects, ri.lastAdded = n, last
	}
	list := n > 0 || !s.cfg.StrictEmpty
	buf := make([]byte, 0, 64<<10)
	buf = append(buf, `{"more":`...)
	buf = strconv.AppendBool(buf, page.More)
	if page.More {
		buf = append(buf, `,"next":`...)
		buf = appendString(buf, formatToken(pos, q.Carry))
	}
	if list {
		buf = append(buf, `,"`+listKey+`":[`...)
	}
	w.WriteHeader(http.StatusOK)
	for i, e := range page.Entries {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendItem(buf, e)
		if len(buf) >= 48<<10 {
			if _, err := w.Write(buf); err != nil {
				return // the client is gone
			}
			buf = buf[:0]
		}
	}
	if list {
		buf = append(buf, ']')
	}
	buf = append(buf, '}')
	w.Write(buf)
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// entryVersion is the version string of an entry as TAXII reports it:
// modified, else created, else date_added, the server-consistent value
// TAXII 2.1 §5.3.1 asks for objects with neither.
func entryVersion(e store.Entry) string {
	if v := e.Object.VersionString(); v != "" {
		return v
	}
	return taxii.FormatTimestamp(e.DateAdded)
}
