package feed_test

import (
	"fmt"
	"hash/fnv"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hail/store"
)

// mispFeedServer serves a MISP feed: a manifest with an ETag and event
// files, counting the requests for each path.
type mispFeedServer struct {
	mu       sync.Mutex
	manifest map[string]int64 // event uuid → timestamp
	events   map[string]string
	fail     map[string]int // path → status to answer
	requests map[string]int
}

func (m *mispFeedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[r.URL.Path]++
	if code := m.fail[r.URL.Path]; code != 0 {
		http.Error(w, "no", code)
		return
	}
	if r.URL.Path == "/feed/manifest.json" {
		var b strings.Builder
		b.WriteString("{")
		first := true
		for _, id := range slices.Sorted(maps.Keys(m.manifest)) {
			ts := m.manifest[id]
			if !first {
				b.WriteString(",")
			}
			first = false
			fmt.Fprintf(&b, `"%s":{"info":"x","timestamp":"%d","Orgc":{"name":"CIRCL"}}`, id, ts)
		}
		b.WriteString("}")
		h := fnv.New64a()
		h.Write([]byte(b.String()))
		etag := fmt.Sprintf(`"%x"`, h.Sum64())
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		fmt.Fprint(w, b.String())
		return
	}
	ev, ok := m.events[strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/feed/"), ".json")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	fmt.Fprint(w, ev)
}

func mispEventJSON(info string, values ...string) string {
	var attrs []string
	for _, v := range values {
		attrs = append(attrs, fmt.Sprintf(`{"type":"ip-dst","value":%q,"to_ids":true}`, v))
	}
	return fmt.Sprintf(`{"Event":{"info":%q,"Orgc":{"name":"CIRCL"},"Tag":[{"name":"tlp:white"}],"Attribute":[%s]}}`,
		info, strings.Join(attrs, ","))
}

func TestMISPManifestFeed(t *testing.T) {
	const (
		evA     = "5d9b516c-e5f0-4e7c-a958-5d8c0a019371"
		evB     = "50c22e72-d95e-4ac9-a5d3-5ed05246d239"
		evC     = "6a1b2c3d-0000-4000-8000-000000000001"
		missing = "6a1b2c3d-0000-4000-8000-000000000002"
		damaged = "6a1b2c3d-0000-4000-8000-000000000003"
	)
	ms := &mispFeedServer{
		manifest: map[string]int64{evA: 1700000000, evB: 1700000100, missing: 1700000050, damaged: 1700000060, "../x": 1700000070},
		events: map[string]string{evA: mispEventJSON("A", "203.0.113.1", "203.0.113.2"),
			evB: mispEventJSON("B", "203.0.113.3"), damaged: `{"name":"no event"}`},
		fail: map[string]int{}, requests: map[string]int{},
	}
	srv := httptest.NewServer(ms)
	defer srv.Close()
	local := openStore(t, localColl, "local")
	mustCreate(t, local, store.Feed{Name: "circl", Kind: store.FeedMISP, URL: srv.URL + "/feed/manifest.json"})
	s, c := scheduler(local)

	// First run: every event, the missing, damaged and oddly named ones
	// rejected with the reason; the mark is the newest event's timestamp.
	runDue(t, s, "circl")
	f := checkLastRun(t, local, "circl", counts{Read: 3, Added: 3, Rejected: 3}, "")
	if want := time.Unix(1700000100, 0).UTC(); !f.Mark.AddedAfter.Equal(want) || f.Mark.ETag == "" {
		t.Errorf("mark %+v, want the newest event's time %v and the manifest's ETag", f.Mark, want)
	}
	var reasons []string
	for _, r := range f.LastRun.Rejections {
		reasons = append(reasons, r.Where)
	}
	if want := []string{"event " + missing, "event " + damaged, "event ../x"}; !reflect.DeepEqual(reasons, want) {
		t.Errorf("rejections %q, want %q (oldest first)", reasons, want)
	}

	// The manifest unchanged: 304, no event fetched.
	c.Advance(time.Hour)
	runDue(t, s, "circl")
	if f := checkLastRun(t, local, "circl", counts{}, ""); !f.LastRun.NotChanged {
		t.Errorf("unchanged manifest: %+v, want not modified", f.LastRun)
	}

	// A new event and a changed one: only those are fetched.
	ms.mu.Lock()
	ms.manifest[evC] = 1700000200
	ms.manifest[evA] = 1700000300
	ms.events[evC] = mispEventJSON("C", "203.0.113.4")
	ms.events[evA] = mispEventJSON("A", "203.0.113.1", "203.0.113.2", "203.0.113.5")
	before := map[string]int{}
	for k, v := range ms.requests {
		before[k] = v
	}
	ms.mu.Unlock()
	c.Advance(time.Hour)
	runDue(t, s, "circl")
	checkLastRun(t, local, "circl", counts{Read: 4, Added: 2, Duplicates: 2}, "")
	ms.mu.Lock()
	for _, id := range []string{evA, evC} {
		if n := ms.requests["/feed/"+id+".json"] - before["/feed/"+id+".json"]; n != 1 {
			t.Errorf("event %s fetched %d times by the third run, want once", id, n)
		}
	}
	if n := ms.requests["/feed/"+evB+".json"] - before["/feed/"+evB+".json"]; n != 0 {
		t.Errorf("unchanged event fetched %d times, want none", n)
	}

	// An event the source fails to serve stops the run with a mark just
	// before it, and without the manifest's ETag: the next run goes on.
	ms.manifest[evB] = 1700000400
	ms.events[evB] = mispEventJSON("B", "203.0.113.3", "203.0.113.6")
	ms.fail["/feed/"+evB+".json"] = http.StatusBadGateway
	ms.mu.Unlock()
	c.Advance(time.Hour)
	runDue(t, s, "circl")
	f = checkLastRun(t, local, "circl", counts{}, "502 Bad Gateway")
	if want := time.Unix(1700000300, 0).UTC(); !f.Mark.AddedAfter.Equal(want) || f.Mark.ETag != "" {
		t.Errorf("mark after a failed event %+v, want %v and no ETag", f.Mark, want)
	}
	ms.mu.Lock()
	delete(ms.fail, "/feed/"+evB+".json")
	ms.mu.Unlock()
	c.Advance(time.Hour)
	runDue(t, s, "circl")
	f = checkLastRun(t, local, "circl", counts{Read: 2, Added: 1, Duplicates: 1}, "")
	if want := time.Unix(1700000400, 0).UTC(); !f.Mark.AddedAfter.Equal(want) {
		t.Errorf("mark after the retry %v, want %v", f.Mark.AddedAfter, want)
	}
	page, err := local.IOCs(ctx, localColl, store.IOCFilter{})
	if err != nil || len(page.IOCs) != 6 {
		t.Errorf("IOCs stored: %d (%v), want the 6 addresses of the events", len(page.IOCs), err)
	}
	for _, i := range page.IOCs {
		if i.Source != "CIRCL" || i.TLP != "clear" {
			t.Errorf("IOC %s: source %q TLP %q, want CIRCL and clear", i.Value, i.Source, i.TLP)
		}
	}
}
