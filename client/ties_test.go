package client_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hail/client"
	"hail/taxii"
)

// tieServer is a TAXII server of the kind other implementations are:
// objects added by one request share a date_added, and its next token is
// a session that stays the same from page to page, as the OASIS reference
// server's (medallion) is, or it gives no next at all.
type tieServer struct {
	t        *testing.T
	ids      []string
	added    []time.Time // date_added of ids[i], in order, with ties
	page     int         // objects per page when the request has no limit
	next     string      // "session", or "" for none
	limit500 bool        // answer 500 to a next without a limit, as medallion does
	maxPage  int         // the most objects in a page whatever the limit; 0 for no bound

	mu       sync.Mutex
	sessions map[string]int // next token: position of the next page
	requests []string
}

// newTieServer serves n indicators added in groups of group, each group
// sharing one date_added.
func newTieServer(t *testing.T, n, group, page int, next string) (*tieServer, *client.Client) {
	s := &tieServer{t: t, page: page, next: next, sessions: map[string]int{}}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		s.ids = append(s.ids, fmt.Sprintf("indicator--%08x-0000-4000-8000-%012x", i+1, i+1))
		s.added = append(s.added, base.Add(time.Duration(i/group)*time.Second))
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL + "/api1/")
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func (s *tieServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := r.URL.Query()
	s.requests = append(s.requests, r.URL.RawQuery)
	if len(s.requests) > 200 {
		// A walk that has not ended by now is going round: stop it.
		http.Error(w, "too many requests: the walk goes round", http.StatusBadRequest)
		return
	}
	limit := s.page
	if l := q.Get("limit"); l != "" {
		limit, _ = strconv.Atoi(l)
	}
	if s.maxPage > 0 {
		limit = min(limit, s.maxPage)
	}
	from := 0
	token := q.Get("next")
	switch {
	case token != "":
		if s.limit500 && q.Get("limit") == "" {
			http.Error(w, "KeyError: 'limit'", http.StatusInternalServerError)
			return
		}
		pos, ok := s.sessions[token]
		if !ok {
			http.Error(w, "no such session", http.StatusBadRequest)
			return
		}
		from = pos
	case q.Get("added_after") != "":
		after, err := taxii.ParseTimestamp(q.Get("added_after"))
		if err != nil {
			s.t.Errorf("added_after %q: %v", q.Get("added_after"), err)
		}
		for from < len(s.ids) && !s.added[from].After(after) {
			from++
		}
	}
	to := min(from+limit, len(s.ids))
	var objs []string
	for i := from; i < to; i++ {
		objs = append(objs, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`, s.ids[i], i%250))
	}
	more := to < len(s.ids)
	env := fmt.Sprintf(`{"more":%t,"objects":[%s]`, more, strings.Join(objs, ","))
	if more && s.next == "session" {
		if token == "" {
			token = "session-" + strconv.Itoa(len(s.sessions)+1)
		}
		s.sessions[token] = to
		env += fmt.Sprintf(`,"next":%q`, token)
	}
	w.Header().Set("Content-Type", taxii.MediaType)
	if to > from {
		w.Header().Set("X-TAXII-Date-Added-First", taxii.FormatTimestamp(s.added[from]))
		w.Header().Set("X-TAXII-Date-Added-Last", taxii.FormatTimestamp(s.added[to-1]))
	}
	io.WriteString(w, env+"}")
}

// walkIDs walks the tie server's collection and returns the ids handed
// over, in order, the mark and the error.
func walkIDs(t *testing.T, c *client.Client, f client.Filter, fail int) ([]string, time.Time, error) {
	var got []string
	pages := 0
	last, err := c.Walk(ctx, "91a7b528-80eb-42ed-a74d-c6fbd5a26116", f, func(p client.Page) error {
		if pages++; pages == fail {
			return errStop
		}
		got = append(got, ids(t, p.Objects)...)
		return nil
	})
	return got, last, err
}

var errStop = errors.New("stop")

// TestWalkSessionNext: a next token that stays the same while the pages
// change is followed to the end, not taken for a loop; and with no limit
// asked, the walk sends the server's page size with next, which medallion
// needs.
func TestWalkSessionNext(t *testing.T) {
	for _, limit := range []int{7, 0} {
		s, c := newTieServer(t, 50, 3, 10, "session")
		s.limit500 = true
		got, last, err := walkIDs(t, c, client.Filter{Limit: limit}, 0)
		if err != nil {
			t.Fatalf("limit %d: %v (requests %q)", limit, err, s.requests)
		}
		if !reflect.DeepEqual(got, s.ids) {
			t.Errorf("limit %d: walked %d objects, want the %d in order", limit, len(got), len(s.ids))
		}
		if !last.Equal(s.added[len(s.added)-1]) {
			t.Errorf("limit %d: mark %v, want the last date_added %v", limit, last, s.added[len(s.added)-1])
		}
	}
}

// TestWalkSessionNextLoop: the same token with the same page again is a
// loop.
func TestWalkSessionNextLoop(t *testing.T) {
	s, c := newTieServer(t, 50, 3, 10, "session")
	stuck := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if next := r.URL.Query().Get("next"); next != "" {
			s.mu.Lock()
			s.sessions[next] = 10 // never moves on
			s.mu.Unlock()
		}
		s.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(stuck)
	defer srv.Close()
	c, _ = client.New(srv.URL + "/api1/")
	_, _, err := walkIDs(t, c, client.Filter{Limit: 10}, 0)
	if !errors.Is(err, client.ErrLoop) {
		t.Errorf("a next that serves the same page forever: %v, want ErrLoop", err)
	}
}

// TestWalkByAddedAfterTies: paging by added_after through groups of
// objects that share a date_added, across page boundaries, hands over
// every object once, in order; groups as large as a page or larger too,
// the walk asking for larger pages.
func TestWalkByAddedAfterTies(t *testing.T) {
	for _, tc := range []struct{ n, group, page int }{{50, 3, 4}, {50, 7, 20}, {30, 1, 10}, {40, 4, 4}, {30, 6, 4}, {60, 25, 4}} {
		s, c := newTieServer(t, tc.n, tc.group, tc.page, "")
		got, last, err := walkIDs(t, c, client.Filter{}, 0)
		if err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		if !reflect.DeepEqual(got, s.ids) {
			t.Errorf("%+v: walked %d objects, want the %d once each, in order\n got %v", tc, len(got), len(s.ids), got)
		}
		if !last.Equal(s.added[len(s.added)-1]) {
			t.Errorf("%+v: mark %v, want %v", tc, last, s.added[len(s.added)-1])
		}
	}
}

// TestWalkTieLargerThanPage: when more objects share a date_added than
// the server puts in a page whatever the limit, paging by added_after
// cannot reach the rest; the walk says so instead of skipping them, and
// its mark is not past them.
func TestWalkTieLargerThanPage(t *testing.T) {
	s, c := newTieServer(t, 30, 6, 4, "")
	s.maxPage = 4
	got, last, err := walkIDs(t, c, client.Filter{}, 0)
	if !errors.Is(err, client.ErrLoop) || !strings.Contains(err.Error(), "added at") {
		t.Fatalf("a group of 6 in pages of at most 4: %v, want ErrLoop saying the pages are full of objects added at one instant", err)
	}
	if !reflect.DeepEqual(got, s.ids[:4]) {
		t.Errorf("handed over %v, want the first page once", got)
	}
	if !last.Before(s.added[0]) {
		t.Errorf("mark %v, want one before the group's date_added %v", last, s.added[0])
	}
}

// TestWalkResumeMarkWithTies: a walk that stops part way returns a mark
// from which a new walk reads everything it did not hand over, although
// the page it stopped after ended inside a group sharing a date_added.
func TestWalkResumeMarkWithTies(t *testing.T) {
	for _, next := range []string{"session", ""} {
		s, c := newTieServer(t, 40, 3, 4, next)
		first, mark, err := walkIDs(t, c, client.Filter{}, 3)
		if !errors.Is(err, errStop) || len(first) == 0 {
			t.Fatalf("next %q: stopped walk: %v after %d objects", next, err, len(first))
		}
		rest, _, err := walkIDs(t, c, client.Filter{AddedAfter: mark}, 0)
		if err != nil {
			t.Fatal(err)
		}
		var missing []string
		for _, id := range s.ids {
			if !slices.Contains(first, id) && !slices.Contains(rest, id) {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			t.Errorf("next %q: resuming from %v missed %v", next, mark, missing)
		}
		if len(rest) >= len(s.ids) {
			t.Errorf("next %q: resuming read %d objects, all over again", next, len(rest))
		}
	}
}

// TestWalkResumeFromMarkByAddedAfter: a walk that starts from a mark just
// before a group of objects sharing a date_added, larger than a page, from
// a server that gives no next (as the next run of a feed that stopped
// does), reads on to the end, each object once: its second page asks
// from the same added_after as its first, and must still be taken as a
// continuation.
func TestWalkResumeFromMarkByAddedAfter(t *testing.T) {
	s, c := newTieServer(t, 40, 7, 5, "")
	got, _, err := walkIDs(t, c, client.Filter{AddedAfter: taxii.JustBefore(s.added[7])}, 0)
	if err != nil {
		t.Fatalf("walk from the mark: %v after %d requests", err, len(s.requests))
	}
	if !reflect.DeepEqual(got, s.ids[7:]) {
		t.Errorf("walk from the mark handed over %d objects, want the %d from the group on, once each, in order", len(got), len(s.ids[7:]))
	}
}

// FuzzWalkTies pages through servers of every shape the walk must read:
// n objects added in groups sharing a date_added, pages of a given size
// (bounded or not whatever the limit), a session next token or none, and
// a walk that starts from the mark just before some object. A walk that
// ends well hands over every object after its start once, in order; one
// that fails says that a group is larger than the server's largest page,
// which happens only when pages are bounded and there is no next, and
// hands over nothing twice.
func FuzzWalkTies(f *testing.F) {
	f.Add(uint8(40), uint8(7), uint8(5), false, false, uint8(7))
	f.Add(uint8(50), uint8(3), uint8(4), true, false, uint8(0))
	f.Add(uint8(30), uint8(6), uint8(4), false, true, uint8(0))
	f.Add(uint8(60), uint8(25), uint8(4), false, false, uint8(30))
	f.Add(uint8(1), uint8(1), uint8(1), false, false, uint8(0))
	f.Fuzz(func(t *testing.T, n, group, page uint8, session, bounded bool, from uint8) {
		if n == 0 || group == 0 || page == 0 || n > 120 || page > 30 {
			return
		}
		next := ""
		if session {
			next = "session"
		}
		s, c := newTieServer(t, int(n), int(group), int(page), next)
		if bounded {
			s.maxPage = int(page)
		}
		var f client.Filter
		start := int(from) % int(n)
		if start > 0 {
			f.AddedAfter = taxii.JustBefore(s.added[start])
			for start > 0 && s.added[start-1].Equal(s.added[start]) {
				start-- // the whole group is after the mark
			}
		}
		got, _, err := walkIDs(t, c, f, 0)
		if err == nil {
			if !reflect.DeepEqual(got, s.ids[start:]) {
				t.Fatalf("walked %d objects, want the %d from %d, once each, in order (requests %q)", len(got), len(s.ids[start:]), start, s.requests)
			}
			return
		}
		// A bounded page full of one date_added may be all of those
		// objects or the first of more: added_after cannot tell.
		if !errors.Is(err, client.ErrLoop) || !strings.Contains(err.Error(), "added at") || session || !bounded || group < page {
			t.Fatalf("walk failed: %v (requests %q)", err, s.requests)
		}
		if len(slices.Compact(slices.Clone(got))) != len(got) || !reflect.DeepEqual(got, s.ids[start:start+len(got)]) {
			t.Fatalf("a failed walk handed over %v, want a prefix of the objects, once each", got)
		}
	})
}
