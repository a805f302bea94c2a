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
		late    = "6a1b2c3d-0000-4000-8000-000000000004"
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
	// The feed's directory, as MISP's feed list gives it.
	mustCreate(t, local, store.Feed{Name: "circl", Kind: store.FeedMISP, URL: srv.URL + "/feed/"})
	s, c := scheduler(local)
	fetched := func(id string) int {
		ms.mu.Lock()
		defer ms.mu.Unlock()
		return ms.requests["/feed/"+id+".json"]
	}

	// First run: every event; the missing, damaged and oddly named ones
	// rejected with the reason, oldest first. They keep the manifest's
	// ETag from being stored, so the next run reads it again.
	runDue(t, s, "circl")
	f := checkLastRun(t, local, "circl", counts{Read: 3, Added: 3, Rejected: 3}, "")
	if want := time.Unix(1700000100, 0).UTC(); !f.Mark.AddedAfter.Equal(want) || f.Mark.ETag != "" {
		t.Errorf("mark %+v, want the newest event's time %v and no ETag", f.Mark, want)
	}
	var reasons []string
	for _, r := range f.LastRun.Rejections {
		reasons = append(reasons, r.Where)
	}
	if want := []string{"event " + missing, "event " + damaged, "event ../x"}; !reflect.DeepEqual(reasons, want) {
		t.Errorf("rejections %q, want %q (oldest first)", reasons, want)
	}

	// The publisher fixes the manifest and adds an event published late,
	// whose timestamp is older than what was imported: it is fetched, the
	// others are not.
	ms.mu.Lock()
	delete(ms.manifest, missing)
	delete(ms.manifest, damaged)
	delete(ms.manifest, "../x")
	ms.manifest[late] = 1700000010
	ms.events[late] = mispEventJSON("Late", "203.0.113.7")
	ms.mu.Unlock()
	c.Advance(time.Hour)
	runDue(t, s, "circl")
	f = checkLastRun(t, local, "circl", counts{Read: 1, Added: 1}, "")
	if f.Mark.ETag == "" || fetched(late) != 1 || fetched(evA) != 1 || fetched(evB) != 1 {
		t.Errorf("second run: ETag %q, fetched late %d, A %d, B %d; want an ETag, each event fetched once in all",
			f.Mark.ETag, fetched(late), fetched(evA), fetched(evB))
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
	ms.mu.Unlock()
	c.Advance(time.Hour)
	runDue(t, s, "circl")
	checkLastRun(t, local, "circl", counts{Read: 4, Added: 2, Duplicates: 2}, "")
	if fetched(evA) != 2 || fetched(evC) != 1 || fetched(evB) != 1 {
		t.Errorf("after the third run: A fetched %d, C %d, B %d times; want 2, 1, 1", fetched(evA), fetched(evC), fetched(evB))
	}

	// An event the source fails to serve stops the run without the
	// manifest's ETag; what was imported before stays imported, and the
	// next run fetches only that event.
	ms.mu.Lock()
	ms.manifest[evB] = 1700000400
	ms.events[evB] = mispEventJSON("B", "203.0.113.3", "203.0.113.6")
	ms.fail["/feed/"+evB+".json"] = http.StatusBadGateway
	ms.mu.Unlock()
	c.Advance(time.Hour)
	runDue(t, s, "circl")
	f = checkLastRun(t, local, "circl", counts{}, "502 Bad Gateway")
	if f.Mark.ETag != "" || !strings.Contains(f.Mark.State, evA) {
		t.Errorf("mark after a failed event %+v, want no ETag and the events imported kept", f.Mark)
	}
	ms.mu.Lock()
	delete(ms.fail, "/feed/"+evB+".json")
	ms.mu.Unlock()
	c.Advance(time.Hour)
	runDue(t, s, "circl")
	f = checkLastRun(t, local, "circl", counts{Read: 2, Added: 1, Duplicates: 1}, "")
	if want := time.Unix(1700000400, 0).UTC(); !f.Mark.AddedAfter.Equal(want) || fetched(evA) != 2 {
		t.Errorf("mark after the retry %v, A fetched %d times; want %v and A not again", f.Mark.AddedAfter, fetched(evA), want)
	}
	page, err := local.IOCs(ctx, localColl, store.IOCFilter{})
	if err != nil || len(page.IOCs) != 7 {
		t.Errorf("IOCs stored: %d (%v), want the 7 addresses of the events", len(page.IOCs), err)
	}
	for _, i := range page.IOCs {
		if i.Source != "CIRCL" || i.TLP != "clear" {
			t.Errorf("IOC %s: source %q TLP %q, want CIRCL and clear", i.Value, i.Source, i.TLP)
		}
	}
}

func TestMISPFeedEventCutShort(t *testing.T) {
	// An event damaged part way does not stop the feed at it for good: what
	// it held before is stored, the event is rejected and fetched again
	// next run, and the other events are imported.
	const evA, evB = "5d9b516c-e5f0-4e7c-a958-5d8c0a019371", "50c22e72-d95e-4ac9-a5d3-5ed05246d239"
	whole := mispEventJSON("A", "203.0.113.1", "203.0.113.2")
	ms := &mispFeedServer{
		manifest: map[string]int64{evA: 1700000000, evB: 1700000100},
		events:   map[string]string{evA: whole[:len(whole)-20], evB: mispEventJSON("B", "203.0.113.3")},
		fail:     map[string]int{}, requests: map[string]int{},
	}
	srv := httptest.NewServer(ms)
	defer srv.Close()
	local := openStore(t, localColl, "local")
	mustCreate(t, local, store.Feed{Name: "circl", Kind: store.FeedMISP, URL: srv.URL + "/feed/manifest.json"})
	s, c := scheduler(local)
	runDue(t, s, "circl")
	f := checkLastRun(t, local, "circl", counts{Read: 1, Added: 1, Rejected: 1}, "")
	if len(f.LastRun.Rejections) != 1 || f.LastRun.Rejections[0].Where != "event "+evA {
		t.Errorf("rejections %+v, want event A's", f.LastRun.Rejections)
	}
	ms.mu.Lock()
	ms.events[evA] = whole
	ms.mu.Unlock()
	c.Advance(time.Hour)
	runDue(t, s, "circl")
	checkLastRun(t, local, "circl", counts{Read: 2, Added: 2}, "")
}
