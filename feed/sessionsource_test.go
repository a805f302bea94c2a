package feed_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hail/store"
	"hail/taxii"
)

// sessionSource serves TAXII 2.1 objects as the OASIS reference server
// (medallion) does: the objects of one request share a date_added, the
// next token is one session for all the pages of a walk, a next without a
// limit is a 500, and pages are 10 objects unless asked otherwise. failAt,
// when not 0, makes the request of that number fail with a 403.
type sessionSource struct {
	mu       sync.Mutex
	objects  []string
	added    []time.Time
	sessions map[string]int
	requests int
	failAt   int
}

func newSessionSource(n, group int) *sessionSource {
	s := &sessionSource{sessions: map[string]int{}}
	base := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		s.objects = append(s.objects, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-1111-4111-8111-111111111111",`+
			`"created":"2025-05-01T00:00:00.000Z","modified":"2025-05-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '192.0.2.%d']",`+
			`"pattern_type":"stix","valid_from":"2025-05-01T00:00:00Z"}`, i+1, i%250))
		s.added = append(s.added, base.Add(time.Duration(i/group)*time.Second))
	}
	return s
}

func (s *sessionSource) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !strings.HasSuffix(r.URL.Path, "/objects/") {
		http.NotFound(w, r)
		return
	}
	if s.requests++; s.requests == s.failAt {
		w.Header().Set("Content-Type", taxii.MediaType)
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"title":"Stopped for the test.","http_status":"403"}`)
		return
	}
	q := r.URL.Query()
	limit := 10
	if l := q.Get("limit"); l != "" {
		limit, _ = strconv.Atoi(l)
	}
	from := 0
	next := q.Get("next")
	switch {
	case next != "" && q.Get("limit") == "":
		http.Error(w, "KeyError: 'limit'", http.StatusInternalServerError)
		return
	case next != "":
		from = s.sessions[next]
	case q.Get("added_after") != "":
		after, _ := taxii.ParseTimestamp(q.Get("added_after"))
		for from < len(s.objects) && !s.added[from].After(after) {
			from++
		}
	}
	to := min(from+limit, len(s.objects))
	body := `{"more":` + strconv.FormatBool(to < len(s.objects)) + `,"objects":[` + strings.Join(s.objects[from:to], ",") + `]`
	if to < len(s.objects) {
		if next == "" {
			next = "session-" + strconv.Itoa(len(s.sessions)+1)
		}
		s.sessions[next] = to
		body += `,"next":"` + next + `"`
	}
	w.Header().Set("Content-Type", taxii.MediaType)
	if to > from {
		w.Header().Set("X-TAXII-Date-Added-First", taxii.FormatTimestamp(s.added[from]))
		w.Header().Set("X-TAXII-Date-Added-Last", taxii.FormatTimestamp(s.added[to-1]))
	}
	fmt.Fprint(w, body+"}")
}

// TestTAXIIFeedFromSessionServer: a feed reads the whole of a source that
// keeps one next token for all pages and wants a limit with it; a run the
// source stops part way keeps a mark from which the next run reads the
// rest, although the page it stopped after ended inside a group of
// objects sharing a date_added.
func TestTAXIIFeedFromSessionServer(t *testing.T) {
	src := newSessionSource(45, 3)
	src.failAt = 3
	srv := httptest.NewServer(src)
	defer srv.Close()
	local := openStore(t, localColl, "local")
	mustCreate(t, local, store.Feed{Name: "ref", Kind: store.FeedTAXII21, URL: srv.URL + "/api1/",
		TAXIICollection: "91a7b528-80eb-42ed-a74d-c6fbd5a26116", User: "admin", Password: "Password0"})
	s, c := scheduler(local)

	// Requests: collections (404, so the id is used), pages 1 and 2 of
	// 10, then the stop. Page 2 ends inside the group of objects 19-21.
	runDue(t, s, "ref")
	checkLastRun(t, local, "ref", counts{Read: 20, Added: 20}, "Stopped for the test")
	c.Advance(time.Hour)
	runDue(t, s, "ref")
	f := mustFeed(t, local, "ref")
	if f.LastRun.Error != "" || f.LastRun.Added != 25 {
		t.Errorf("second run: %+v, want the other 25 added and no error", f.LastRun)
	}
	page, err := local.Objects(ctx, localColl, store.Filter{Limit: 100})
	if err != nil || len(page.Entries) != 45 {
		t.Fatalf("local collection holds %d objects (%v), want all 45", len(page.Entries), err)
	}
	if want := src.added[44]; !f.Mark.AddedAfter.Equal(want) {
		t.Errorf("mark %v after a complete run, want the last date_added %v", f.Mark.AddedAfter, want)
	}
	c.Advance(time.Hour)
	runDue(t, s, "ref")
	checkLastRun(t, local, "ref", counts{}, "")
}
