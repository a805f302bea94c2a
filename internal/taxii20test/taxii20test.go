// Package taxii20test serves a TAXII 2.0 API root over loopback, as servers
// of that version do, for tests of clients that read from them: only the
// TAXII 2.0 media types (406 for any other Accept), objects as a STIX 2.0
// bundle, and pages by the Range and Content-Range headers of TAXII 2.0
// §3.4 rather than by limit and next.
package taxii20test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Media types of TAXII 2.0 §1.4.8, spelled as servers of that version
// compare them.
const (
	MediaType     = "application/vnd.oasis.taxii+json; version=2.0"
	STIXMediaType = "application/vnd.oasis.stix+json; version=2.0"
)

// CollectionID is the one collection the server holds.
const CollectionID = "52892447-4d7e-4f70-b94d-d7f22742ff63"

// Server is a TAXII 2.0 API root at URL holding one collection.
type Server struct {
	URL string // the API root, ending in "/"
	// IgnoreRange makes the server answer every objects request with all
	// it selects, as some 2.0 servers do.
	IgnoreRange bool
	// Lenient makes the server answer any Accept header, with
	// application/json, as some 2.0 servers do.
	Lenient bool
	// MaxPage, when set, is the most objects the server sends at once,
	// with a 206 and a Content-Range even to a request without Range.
	MaxPage int

	mu      sync.Mutex
	objects []json.RawMessage
	added   []time.Time
	accepts []string
	ranges  []string
}

// Start serves an empty collection until the test ends.
func Start(tb testing.TB) *Server {
	s := &Server{}
	srv := httptest.NewServer(s)
	tb.Cleanup(srv.Close)
	s.URL = srv.URL + "/api/"
	return s
}

// Add adds objects, given as JSON, to the collection, each one a
// millisecond after the last.
func (s *Server) Add(tb testing.TB, objects ...string) {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range objects {
		if !json.Valid([]byte(o)) {
			tb.Fatalf("not JSON: %s", o)
		}
		at := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		if n := len(s.added); n > 0 {
			at = s.added[n-1].Add(time.Millisecond)
		}
		s.objects, s.added = append(s.objects, json.RawMessage(o)), append(s.added, at)
	}
}

// DateAdded returns when object i was added.
func (s *Server) DateAdded(i int) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.added[i]
}

// Accepts returns the Accept header of every request so far.
func (s *Server) Accepts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.accepts...)
}

// Ranges returns the Range header of every objects request so far.
func (s *Server) Ranges() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ranges...)
}

// Indicator returns a STIX 2.0 indicator of an IPv4 address: no
// spec_version, which 2.0 puts on the bundle.
func Indicator(n int) string {
	return fmt.Sprintf(`{"type":"indicator","id":"indicator--%08x-1111-4222-8333-444444444444",`+
		`"created":"2019-06-01T00:00:00.000Z","modified":"2019-06-01T00:00:00.000Z","labels":["malicious-activity"],`+
		`"pattern":"[ipv4-addr:value = '203.0.113.%d']","valid_from":"2019-06-01T00:00:00Z"}`, n, n%256)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	accept := r.Header.Get("Accept")
	s.accepts = append(s.accepts, accept)
	fail := func(status int, title string) {
		w.Header().Set("Content-Type", s.contentType(MediaType))
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"title":%q}`, title)
	}
	switch r.URL.Path {
	case "/api/collections/":
		if accept != MediaType && !s.Lenient {
			fail(http.StatusNotAcceptable, "The Accept header must be "+MediaType)
			return
		}
		w.Header().Set("Content-Type", s.contentType(MediaType))
		fmt.Fprintf(w, `{"collections":[{"id":%q,"title":"Indicators","can_read":true,"can_write":false,"media_types":[%q]}]}`,
			CollectionID, STIXMediaType)
	case "/api/collections/" + CollectionID + "/objects/":
		if accept != STIXMediaType && !s.Lenient {
			fail(http.StatusNotAcceptable, "The Accept header must be "+STIXMediaType)
			return
		}
		s.ranges = append(s.ranges, r.Header.Get("Range"))
		s.serveObjects(w, r, fail)
	default:
		fail(http.StatusNotFound, "No such resource")
	}
}

func (s *Server) serveObjects(w http.ResponseWriter, r *http.Request, fail func(int, string)) {
	var after time.Time
	if v := r.URL.Query().Get("added_after"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			fail(http.StatusBadRequest, "added_after is not a timestamp")
			return
		}
		after = t
	}
	var picked []int
	for i, at := range s.added {
		if at.After(after) {
			picked = append(picked, i)
		}
	}
	first, last := 0, len(picked)-1
	partial := false
	if v := r.Header.Get("Range"); v != "" && !s.IgnoreRange && len(picked) > 0 {
		a, b, ok := strings.Cut(strings.TrimPrefix(v, "items "), "-")
		lo, err1 := strconv.Atoi(a)
		hi, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || lo > hi || lo >= len(picked) {
			fail(http.StatusRequestedRangeNotSatisfiable, "Range "+v+" is not satisfiable")
			return
		}
		first, last, partial = lo, min(hi, len(picked)-1), true
	}
	if s.MaxPage > 0 && last-first+1 > s.MaxPage {
		last, partial = first+s.MaxPage-1, true
	}
	var objs []string
	for _, i := range picked[first : last+1] {
		objs = append(objs, string(s.objects[i]))
	}
	w.Header().Set("Content-Type", s.contentType(STIXMediaType))
	if len(objs) > 0 {
		w.Header().Set("X-TAXII-Date-Added-First", s.added[picked[first]].Format("2006-01-02T15:04:05.000000Z"))
		w.Header().Set("X-TAXII-Date-Added-Last", s.added[picked[last]].Format("2006-01-02T15:04:05.000000Z"))
	}
	if partial {
		w.Header().Set("Content-Range", fmt.Sprintf("items %d-%d/%d", first, last, len(picked)))
		w.WriteHeader(http.StatusPartialContent)
	}
	fmt.Fprintf(w, `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","spec_version":"2.0","objects":[%s]}`,
		strings.Join(objs, ","))
}

// contentType is the Content-Type of an answer of media type mt.
func (s *Server) contentType(mt string) string {
	if s.Lenient {
		return "application/json"
	}
	return mt
}
