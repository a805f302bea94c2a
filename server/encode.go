package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

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

// listBody is the list of a TAXII list resource as it is built: its items,
// comma-separated, and the date_added of the first and last. A page is
// bounded by the limit, so it is built whole before anything is sent: the
// X-TAXII-Date-Added-Last header and "more", which come before the list,
// are only known once the last item has been read.
type listBody struct {
	items       []byte
	n           int
	first, last time.Time
}

// add starts the next item, added at dateAdded, and returns the buffer to
// append it to.
func (b *listBody) add(dateAdded time.Time) []byte {
	if b.n == 0 {
		b.first = dateAdded
	} else {
		b.items = append(b.items, ',')
	}
	b.last = dateAdded
	b.n++
	return b.items
}

// addObject adds an envelope object: the stored bytes, never re-encoded.
// It is a store.RawFunc.
func (b *listBody) addObject(dateAdded time.Time, raw []byte) error {
	b.items = append(b.add(dateAdded), raw...)
	return nil
}

// addEntries adds a page of entries, each encoded by appendItem.
func (b *listBody) addEntries(es []store.Entry, appendItem func([]byte, store.Entry) []byte) {
	for _, e := range es {
		b.items = appendItem(b.add(e.DateAdded), e)
	}
}

// listBodies recycles list buffers: a full page is hundreds of kilobytes,
// and polls come one after another.
var listBodies = sync.Pool{New: func() any { return &listBody{items: make([]byte, 0, 64<<10)} }}

// maxPooledList is the largest buffer kept for reuse, so that one page of
// unusually large objects does not stay in memory.
const maxPooledList = 4 << 20

// newListBody returns an empty list from the pool; release returns it.
func newListBody() *listBody { return listBodies.Get().(*listBody) }

// release returns b to the pool.
func (b *listBody) release() {
	if cap(b.items) > maxPooledList {
		return
	}
	*b = listBody{items: b.items[:0]}
	listBodies.Put(b)
}

// writeList writes one page as a TAXII list resource: the envelope (§3.7),
// manifest (§5.3.1) or versions (§5.8.1), whose list is under listKey.
//
// "more" is always present; "next" only when more is true. A non-empty page
// carries X-TAXII-Date-Added-First and -Last (TAXII 2.1 §3.2); an empty one
// omits them, as the reference server does, since there is no first or last.
func (s *Server) writeList(w http.ResponseWriter, r *http.Request, q query, more bool, listKey string, b *listBody) {
	pos := q.AddedAfter
	if b.n > 0 {
		// Set as spelt in TAXII 2.1 §3.2, not canonicalised, for clients that
		// look headers up case-sensitively.
		w.Header()["X-TAXII-Date-Added-First"] = []string{taxii.FormatTimestamp(b.first)}
		w.Header()["X-TAXII-Date-Added-Last"] = []string{taxii.FormatTimestamp(b.last)}
		pos = b.last
		ri := info(r.Context())
		ri.objects, ri.lastAdded = b.n, b.last
	}
	list := b.n > 0 || !s.cfg.StrictEmpty
	head := make([]byte, 0, 256)
	head = append(head, `{"more":`...)
	head = strconv.AppendBool(head, more)
	if more {
		head = append(head, `,"next":`...)
		head = appendString(head, formatToken(pos, q.Carry))
	}
	tail := "}"
	if list {
		head = append(head, `,"`+listKey+`":[`...)
		tail = "]}"
	}
	// The length is known, so the body goes out as it is, without chunk
	// framing.
	w.Header().Set("Content-Length", strconv.Itoa(len(head)+len(b.items)+len(tail)))
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(head); err != nil {
		return // the client is gone
	}
	if _, err := w.Write(b.items); err != nil {
		return
	}
	io.WriteString(w, tail)
}

// writePage writes a page of entries read by Objects as a TAXII list
// resource (see writeList), encoding each entry with appendItem.
func (s *Server) writePage(w http.ResponseWriter, r *http.Request, q query, page store.Page,
	listKey string, appendItem func([]byte, store.Entry) []byte) {
	b := newListBody()
	defer b.release()
	b.addEntries(page.Entries, appendItem)
	s.writeList(w, r, q, page.More, listKey, b)
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
