package feed_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hail"
	"hail/auth"
	"hail/client"
	"hail/feed"
	"hail/internal/taxii20test"
	"hail/server"
	"hail/stix"
	"hail/store"
	"hail/store/sqlite"
)

var ctx = context.Background()

const (
	localColl  = "0c6b2a1e-7a57-4c1b-9a9e-6d0b1f3c2a11"
	remoteColl = "9d2f1c3b-5e4a-4b6c-8d7e-1a2b3c4d5e6f"
)

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// openStore opens an SQLite store with API root "api" and one collection.
func openStore(tb testing.TB, collID, alias string) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(filepath.Join(tb.TempDir(), "hail.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.CreateAPIRoot(ctx, store.APIRoot{Name: "api", Title: "API", MaxContentLength: 10 << 20, Default: true}); err != nil {
		tb.Fatal(err)
	}
	if err := db.CreateCollection(ctx, store.Collection{ID: collID, APIRoot: "api", Alias: alias, Title: alias}); err != nil {
		tb.Fatal(err)
	}
	return db
}

// source is a second hail serving TAXII 2.1 from its own store, with a key.
type source struct {
	st  *sqlite.DB
	srv *httptest.Server
	key string
}

func newSource(tb testing.TB) *source {
	tb.Helper()
	st := openStore(tb, remoteColl, "intel")
	key, hash := auth.NewKey()
	if err := st.CreateKey(ctx, store.Key{Name: "puller", Hash: hash, Read: []string{store.AllCollections}}); err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Config{}, st, nil))
	tb.Cleanup(srv.Close)
	return &source{st: st, srv: srv, key: key}
}

// indicator returns indicator n, an IPv4 address.
func indicator(tb testing.TB, n int) stix.Object {
	tb.Helper()
	o, err := stix.Parse([]byte(fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-1111-4222-8333-444455556666",`+
		`"created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '203.0.113.%d']",`+
		`"pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z"}`, n, n)))
	if err != nil {
		tb.Fatal(err)
	}
	return o
}

func (s *source) add(tb testing.TB, from, to int) {
	tb.Helper()
	var objs []stix.Object
	for n := from; n < to; n++ {
		objs = append(objs, indicator(tb, n))
	}
	if _, err := s.st.AddObjects(ctx, remoteColl, objs); err != nil {
		tb.Fatal(err)
	}
}

// scheduler returns a scheduler over st with a test clock at 2025-06-01.
func scheduler(st store.Store) (*feed.Scheduler, *clock) {
	c := &clock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	r := &feed.Runner{Store: st, Now: c.Now, ClientOptions: []client.Option{client.WithRetries(0)}}
	return &feed.Scheduler{Runner: r, Now: c.Now, Logger: slog.New(slog.DiscardHandler)}, c
}

func mustCreate(tb testing.TB, st store.Store, f store.Feed) {
	tb.Helper()
	if f.CollectionID == "" {
		f.CollectionID = localColl
	}
	if f.Every == 0 {
		f.Every = time.Hour
	}
	if err := st.CreateFeed(ctx, f); err != nil {
		tb.Fatalf("CreateFeed: %v", err)
	}
}

func mustFeed(tb testing.TB, st store.Store, name string) store.Feed {
	tb.Helper()
	f, err := st.Feed(ctx, name)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

func runDue(t *testing.T, s *feed.Scheduler, want ...string) {
	t.Helper()
	ran, err := s.RunDue(ctx)
	if err != nil {
		t.Fatalf("RunDue: %v", err)
	}
	if !reflect.DeepEqual(ran, want) && (len(ran) > 0 || len(want) > 0) {
		t.Errorf("RunDue ran %q, want %q", ran, want)
	}
}

// counts is the part of a run a test compares.
type counts struct{ Read, Added, NewVersions, Duplicates, Rejected, Revoked int }

func runCounts(r store.FeedRun) counts {
	return counts{r.Read, r.Added, r.NewVersions, r.Duplicates, r.Rejected, r.Revoked}
}

func checkLastRun(t *testing.T, st store.Store, name string, want counts, wantErr string) store.Feed {
	t.Helper()
	f := mustFeed(t, st, name)
	if got := runCounts(f.LastRun); got != want {
		t.Errorf("%s last run counts %+v, want %+v", name, got, want)
	}
	if !strings.Contains(f.LastRun.Error, wantErr) || (wantErr == "" && f.LastRun.Error != "") {
		t.Errorf("%s last run error %q, want %q", name, f.LastRun.Error, wantErr)
	}
	return f
}

func TestTAXIIFeedResumesFromMark(t *testing.T) {
	src := newSource(t)
	src.add(t, 0, 3)
	local := openStore(t, localColl, "local")
	mustCreate(t, local, store.Feed{Name: "peer", Kind: store.FeedTAXII21, URL: src.srv.URL + "/taxii2/api/",
		TAXIICollection: "intel", Token: src.key})
	s, c := scheduler(local)

	runDue(t, s, "peer")
	f := checkLastRun(t, local, "peer", counts{Read: 3, Added: 3}, "")
	if f.Mark.AddedAfter.IsZero() {
		t.Errorf("mark after first run is zero; want the remote's last date_added")
	}
	if want := c.Now().Add(time.Hour); !f.NextRun.Equal(want) {
		t.Errorf("next run %v, want %v", f.NextRun, want)
	}

	src.add(t, 3, 5)
	c.Advance(30 * time.Minute)
	runDue(t, s) // not due yet

	// A restart: a new scheduler reads the mark from the store and fetches
	// only what the source added since.
	s2, _ := scheduler(local)
	s2.Now, s2.Runner.Now = c.Now, c.Now
	c.Advance(30 * time.Minute)
	runDue(t, s2, "peer")
	checkLastRun(t, local, "peer", counts{Read: 2, Added: 2}, "")
	page, err := local.Objects(ctx, localColl, store.Filter{})
	if err != nil || len(page.Entries) != 5 {
		t.Errorf("local collection holds %d objects (%v), want 5", len(page.Entries), err)
	}

	c.Advance(time.Hour)
	runDue(t, s2, "peer")
	checkLastRun(t, local, "peer", counts{}, "")
	if runs, err := local.FeedRuns(ctx, "peer", 0); err != nil || len(runs) != 3 {
		t.Errorf("FeedRuns = %d runs (%v), want 3", len(runs), err)
	}
}

func TestTAXIIFeedBadKey(t *testing.T) {
	src := newSource(t)
	src.add(t, 0, 1)
	local := openStore(t, localColl, "local")
	mustCreate(t, local, store.Feed{Name: "peer", Kind: store.FeedTAXII21, URL: src.srv.URL + "/taxii2/api/",
		TAXIICollection: remoteColl, User: "apikey", Password: "wrong"})
	s, _ := scheduler(local)
	runDue(t, s, "peer")
	f := checkLastRun(t, local, "peer", counts{}, "API key is not valid")
	if !f.Mark.AddedAfter.IsZero() {
		t.Errorf("mark after a failed run = %v, want zero", f.Mark.AddedAfter)
	}
}

// listServer serves body at /list with an ETag and Last-Modified, answers
// 304 to a request that names the current ETag, and counts requests.
type listServer struct {
	mu       sync.Mutex
	body     string
	etag     string
	status   int // when not 0, every answer has this status
	requests int
	notMod   int
	auth     []string
}

func (ls *listServer) set(body, etag string) {
	ls.mu.Lock()
	ls.body, ls.etag = body, etag
	ls.mu.Unlock()
}

func (ls *listServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.requests++
	ls.auth = append(ls.auth, r.Header.Get("Authorization"))
	if ls.status != 0 {
		http.Error(w, "broken", ls.status)
		return
	}
	if r.Header.Get("If-None-Match") == ls.etag {
		ls.notMod++
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", ls.etag)
	w.Header().Set("Last-Modified", "Sun, 01 Jun 2025 10:00:00 GMT")
	fmt.Fprint(w, ls.body)
}

func TestListFeedConditional(t *testing.T) {
	ls := &listServer{}
	ls.set("203.0.113.1\n203.0.113.2\nnot an ioc\n", `"v1"`)
	srv := httptest.NewServer(ls)
	defer srv.Close()
	local := openStore(t, localColl, "local")
	mustCreate(t, local, store.Feed{Name: "list", Kind: store.FeedText, URL: srv.URL + "/list", Token: "t0k",
		List: store.FeedList{Source: "Example list", TLP: "green"}})
	s, c := scheduler(local)

	runDue(t, s, "list")
	f := checkLastRun(t, local, "list", counts{Read: 3, Added: 2, Rejected: 1}, "")
	want := store.FeedMark{ETag: `"v1"`, LastModified: "Sun, 01 Jun 2025 10:00:00 GMT"}
	if f.Mark != want {
		t.Errorf("mark %+v, want %+v", f.Mark, want)
	}
	c.Advance(time.Hour)
	runDue(t, s, "list")
	f = checkLastRun(t, local, "list", counts{}, "")
	if !f.LastRun.NotChanged || f.Mark != want {
		t.Errorf("unchanged list: NotChanged %v mark %+v; want true, %+v", f.LastRun.NotChanged, f.Mark, want)
	}
	ls.set("203.0.113.1\n203.0.113.3\n", `"v2"`)
	c.Advance(time.Hour)
	runDue(t, s, "list")
	f = checkLastRun(t, local, "list", counts{Read: 2, Added: 1, Duplicates: 1}, "")
	if f.Mark.ETag != `"v2"` {
		t.Errorf("mark ETag %q, want \"v2\"", f.Mark.ETag)
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.requests != 3 || ls.notMod != 1 {
		t.Errorf("source saw %d requests, %d not modified; want 3, 1", ls.requests, ls.notMod)
	}
	if ls.auth[0] != "Bearer t0k" {
		t.Errorf("Authorization %q, want the feed's token", ls.auth[0])
	}
}

func TestListFeedFailingSource(t *testing.T) {
	ls := &listServer{status: http.StatusBadGateway}
	srv := httptest.NewServer(ls)
	defer srv.Close()
	local := openStore(t, localColl, "local")
	old := store.FeedMark{ETag: `"old"`}
	mustCreate(t, local, store.Feed{Name: "list", Kind: store.FeedCSV, URL: srv.URL + "/list", Mark: old})
	s, c := scheduler(local)
	runDue(t, s, "list")
	f := checkLastRun(t, local, "list", counts{}, "502 Bad Gateway")
	if f.Mark != old {
		t.Errorf("mark after a failure %+v, want the old one %+v", f.Mark, old)
	}
	if want := c.Now().Add(time.Hour); !f.NextRun.Equal(want) {
		t.Errorf("next run after a failure %v, want %v", f.NextRun, want)
	}
}

func TestListFeedSlowSource(t *testing.T) {
	// The source trickles the list line by line; the run reads it whole.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range 20 {
			fmt.Fprintf(w, "198.51.100.%d\n", i)
			w.(http.Flusher).Flush()
			time.Sleep(5 * time.Millisecond)
		}
	}))
	defer srv.Close()
	local := openStore(t, localColl, "local")
	mustCreate(t, local, store.Feed{Name: "slow", Kind: store.FeedText, URL: srv.URL})
	s, _ := scheduler(local)
	runDue(t, s, "slow")
	checkLastRun(t, local, "slow", counts{Read: 20, Added: 20}, "")
}

func TestListFeedStalledSourceTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "198.51.100.1\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	local := openStore(t, localColl, "local")
	mustCreate(t, local, store.Feed{Name: "stalled", Kind: store.FeedText, URL: srv.URL})
	s, _ := scheduler(local)
	s.Runner.Timeout = 100 * time.Millisecond
	runDue(t, s, "stalled")
	f := mustFeed(t, local, "stalled")
	if !strings.Contains(f.LastRun.Error, "deadline exceeded") {
		t.Errorf("stalled run error %q, want a deadline", f.LastRun.Error)
	}
	if f.Mark != (store.FeedMark{}) {
		t.Errorf("mark after a stalled run %+v, want none", f.Mark)
	}
}

func TestSTIXBundleFeed(t *testing.T) {
	bundle := `{"type":"bundle","id":"bundle--6e1d1d2a-4d3b-4b4e-9a4f-1c2d3e4f5a6b","objects":[` +
		string(indicator(t, 1).Raw) + `,` + string(indicator(t, 2).Raw) + `,{"type":"indicator","id":"bad"}]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "me" || p != "pw" {
			http.Error(w, "who?", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, bundle)
	}))
	defer srv.Close()
	local := openStore(t, localColl, "local")
	mustCreate(t, local, store.Feed{Name: "bundle", Kind: store.FeedSTIXBundle, URL: srv.URL, User: "me", Password: "pw"})
	s, _ := scheduler(local)
	runDue(t, s, "bundle")
	checkLastRun(t, local, "bundle", counts{Read: 3, Added: 2, Rejected: 1}, "")
}

func TestClaimedFeedIsSkipped(t *testing.T) {
	ls := &listServer{}
	ls.set("203.0.113.1\n", `"v1"`)
	srv := httptest.NewServer(ls)
	defer srv.Close()
	local := openStore(t, localColl, "local")
	mustCreate(t, local, store.Feed{Name: "list", Kind: store.FeedText, URL: srv.URL})
	s, c := scheduler(local)
	// Another replica holds the feed.
	if _, err := local.ClaimFeed(ctx, "list", c.Now(), c.Now().Add(time.Hour), false); err != nil {
		t.Fatal(err)
	}
	runDue(t, s)
	if _, err := s.Run(ctx, "list"); hail.ErrorCode(err) != hail.ECONFLICT {
		t.Errorf("Run of a claimed feed: %v, want ECONFLICT", err)
	}
	// Its lease runs out (it died): this scheduler takes the feed over.
	c.Advance(time.Hour)
	runDue(t, s, "list")
	checkLastRun(t, local, "list", counts{Read: 1, Added: 1}, "")
	if _, err := s.Run(ctx, "missing"); hail.ErrorCode(err) != hail.ENOTFOUND {
		t.Errorf("Run(missing): %v, want ENOTFOUND", err)
	}
}

func TestSnapshotFeedRevokesDropped(t *testing.T) {
	ls := &listServer{}
	ls.set("203.0.113.1\n203.0.113.2\nevil.example\n", `"v1"`)
	srv := httptest.NewServer(ls)
	defer srv.Close()
	local := openStore(t, localColl, "local")
	mustCreate(t, local, store.Feed{Name: "snap", Kind: store.FeedText, URL: srv.URL,
		List: store.FeedList{Source: "Snap", Snapshot: true}})
	// An indicator of a value the new list drops, from no source, stays.
	other := addUnsourced(t, local)
	s, c := scheduler(local)
	runDue(t, s, "snap")
	checkLastRun(t, local, "snap", counts{Read: 3, Added: 3}, "")

	ls.set("203.0.113.1\n", `"v2"`)
	c.Advance(time.Hour)
	runDue(t, s, "snap")
	checkLastRun(t, local, "snap", counts{Read: 1, Duplicates: 1, Revoked: 2}, "")
	got := activeValues(t, local)
	if want := []string{"203.0.113.1", other}; !reflect.DeepEqual(got, want) {
		t.Errorf("active IOCs after the snapshot %q, want %q", got, want)
	}
	// Unchanged list again: nothing more to revoke.
	ls.set("203.0.113.1\n", `"v3"`)
	c.Advance(time.Hour)
	runDue(t, s, "snap")
	checkLastRun(t, local, "snap", counts{Read: 1, Duplicates: 1}, "")
}

// addUnsourced adds an indicator of 203.0.113.2 from no source and
// returns its value.
func addUnsourced(tb testing.TB, st store.Store) string {
	tb.Helper()
	o := indicator(tb, 2)
	if _, err := st.AddObjects(ctx, localColl, []stix.Object{o}); err != nil {
		tb.Fatal(err)
	}
	return "203.0.113.2"
}

// activeValues lists the values of the unrevoked IOCs of the local
// collection, sorted.
func activeValues(tb testing.TB, st store.Store) []string {
	tb.Helper()
	page, err := st.IOCs(ctx, localColl, store.IOCFilter{IncludeExpired: true})
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, i := range page.IOCs {
		out = append(out, i.Value)
	}
	slices.Sort(out)
	return out
}

func TestListFeedLastModifiedOnly(t *testing.T) {
	// A source without ETags: the feed sends If-Modified-Since back.
	const stamp = "Sun, 01 Jun 2025 10:00:00 GMT"
	var seen []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("If-Modified-Since"))
		mu.Unlock()
		if r.Header.Get("If-Modified-Since") == stamp {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Last-Modified", stamp)
		fmt.Fprint(w, "ip,comment\n203.0.113.5,scanner\n")
	}))
	defer srv.Close()
	local := openStore(t, localColl, "local")
	mustCreate(t, local, store.Feed{Name: "csv", Kind: store.FeedCSV, URL: srv.URL})
	s, c := scheduler(local)
	runDue(t, s, "csv")
	f := checkLastRun(t, local, "csv", counts{Read: 1, Added: 1}, "")
	if f.Mark != (store.FeedMark{LastModified: stamp}) {
		t.Errorf("mark %+v, want Last-Modified %q", f.Mark, stamp)
	}
	c.Advance(time.Hour)
	runDue(t, s, "csv")
	if f := mustFeed(t, local, "csv"); !f.LastRun.NotChanged {
		t.Errorf("second run %+v, want not modified", f.LastRun)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"", stamp}; !reflect.DeepEqual(seen, want) {
		t.Errorf("If-Modified-Since sent %q, want %q", seen, want)
	}
}

// TestTAXIIFeedAllVersions: a feed with AllVersions mirrors every version
// of the source's objects; one without, the latest of each.
func TestTAXIIFeedAllVersions(t *testing.T) {
	src := newSource(t)
	src.add(t, 0, 2)
	v2, err := stix.Parse([]byte(strings.Replace(string(indicator(t, 0).Raw), `"modified":"2025-01-01T00:00:00.000Z"`,
		`"modified":"2025-02-01T00:00:00.000Z"`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.st.AddObjects(ctx, remoteColl, []stix.Object{v2}); err != nil {
		t.Fatal(err)
	}
	for _, all := range []bool{false, true} {
		local := openStore(t, localColl, "local")
		mustCreate(t, local, store.Feed{Name: "peer", Kind: store.FeedTAXII21, URL: src.srv.URL + "/taxii2/api/",
			TAXIICollection: "intel", Token: src.key, AllVersions: all})
		s, _ := scheduler(local)
		runDue(t, s, "peer")
		want := map[bool]int{false: 2, true: 3}[all]
		// With every version, v2 comes after v1 and is a new version of it.
		newVersions := map[bool]int{false: 0, true: 1}[all]
		checkLastRun(t, local, "peer", counts{Read: want, Added: want, NewVersions: newVersions}, "")
		page, err := local.Objects(ctx, localColl, store.Filter{Versions: []string{"all"}})
		if err != nil || len(page.Entries) != want {
			t.Errorf("all versions %v: local collection holds %d versions (%v), want %d", all, len(page.Entries), err, want)
		}
	}
}

func TestMarkResetDuringRunStands(t *testing.T) {
	// The feed's mark is reset (hail feed set --reset-mark) while a run is
	// reading the list: the run is recorded, but the mark stays reset, so
	// the next run fetches the list whole instead of asking if it changed.
	local := openStore(t, localColl, "local")
	var mu sync.Mutex
	var requests []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests = append(requests, r.Header.Get("If-None-Match"))
		first := len(requests) == 1
		mu.Unlock()
		if first {
			if _, err := local.UpdateFeed(r.Context(), "list", store.FeedUpdate{ResetMark: true}); err != nil {
				t.Errorf("UpdateFeed(ResetMark) during the run: %v", err)
			}
		}
		w.Header().Set("ETag", `"v2"`)
		fmt.Fprint(w, "203.0.113.1\n")
	}))
	defer srv.Close()
	mustCreate(t, local, store.Feed{Name: "list", Kind: store.FeedText, URL: srv.URL, Mark: store.FeedMark{ETag: `"v1"`}})
	s, c := scheduler(local)

	runDue(t, s, "list")
	f := checkLastRun(t, local, "list", counts{Read: 1, Added: 1}, "")
	if f.Mark.ETag != "" {
		t.Errorf("mark after a run during which it was reset: ETag %q, want none", f.Mark.ETag)
	}
	c.Advance(time.Hour)
	runDue(t, s, "list")
	f = checkLastRun(t, local, "list", counts{Read: 1, Duplicates: 1}, "")
	if f.Mark.ETag != `"v2"` {
		t.Errorf("mark after the next run: ETag %q, want \"v2\"", f.Mark.ETag)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{`"v1"`, ""}; !reflect.DeepEqual(requests, want) {
		t.Errorf("If-None-Match of the two runs %q, want %q", requests, want)
	}
}

func TestCompressedFeeds(t *testing.T) {
	// A gzipped bundle and a zipped CSV list, served as the files they are
	// (application/gzip, application/zip), not with Content-Encoding.
	bundle := `{"type":"bundle","id":"bundle--6e1d1d2a-4d3b-4b4e-9a4f-1c2d3e4f5a6b","objects":[` +
		string(indicator(t, 1).Raw) + `,` + string(indicator(t, 2).Raw) + `]}`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(bundle))
	zw.Close()
	var zb bytes.Buffer
	arc := zip.NewWriter(&zb)
	w, _ := arc.Create("csv.txt")
	fmt.Fprint(w, "# id,dateadded,url\n\"1\",\"2024-01-01\",\"http://evil.example/a.exe\"\n\"2\",\"2024-01-01\",\"http://evil.example/b.exe\"\n")
	arc.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/bundle.json.gz":
			w.Header().Set("Content-Type", "application/gzip")
			w.Write(gz.Bytes())
		case "/urls.zip":
			w.Header().Set("Content-Type", "application/zip")
			w.Write(zb.Bytes())
		case "/broken.gz":
			w.Write(gz.Bytes()[:gz.Len()/2])
		}
	}))
	defer srv.Close()
	local := openStore(t, localColl, "local")
	mustCreate(t, local, store.Feed{Name: "bundle", Kind: store.FeedSTIXBundle, URL: srv.URL + "/bundle.json.gz"})
	mustCreate(t, local, store.Feed{Name: "broken", Kind: store.FeedSTIXBundle, URL: srv.URL + "/broken.gz"})
	mustCreate(t, local, store.Feed{Name: "urls", Kind: store.FeedCSV, URL: srv.URL + "/urls.zip",
		List: store.FeedList{Source: "Example", Columns: []string{"3"}}})
	s, _ := scheduler(local)
	runDue(t, s, "broken", "bundle", "urls")
	checkLastRun(t, local, "bundle", counts{Read: 2, Added: 2}, "")
	checkLastRun(t, local, "urls", counts{Read: 2, Added: 2}, "")
	checkLastRun(t, local, "broken", counts{}, "gzip input is damaged")
}

func TestTextFeedServingCSV(t *testing.T) {
	// A txt feed whose source serves CSV, as abuse.ch's csv.txt is, is read
	// as CSV: as plain lines each row would be rejected.
	ls := &listServer{}
	ls.set("# id,dateadded,url,url_status\n\"1\",\"2024-01-01\",\"http://evil.example/a.exe\",\"online\"\n"+
		"\"2\",\"2024-01-01\",\"http://evil.example/b.exe\",\"offline\"\n", `"c1"`)
	srv := httptest.NewServer(ls)
	defer srv.Close()
	local := openStore(t, localColl, "local")
	mustCreate(t, local, store.Feed{Name: "urlhaus", Kind: store.FeedText, URL: srv.URL + "/csv.txt",
		List: store.FeedList{Source: "URLhaus"}})
	s, _ := scheduler(local)
	runDue(t, s, "urlhaus")
	checkLastRun(t, local, "urlhaus", counts{Read: 2, Added: 2}, "")
	page, err := local.IOCs(ctx, localColl, store.IOCFilter{})
	if err != nil || len(page.IOCs) != 2 || page.IOCs[0].Value != "http://evil.example/a.exe" {
		t.Errorf("IOCs %+v (%v), want the two URLs", page.IOCs, err)
	}
}

func TestFeedSizeLimit(t *testing.T) {
	// A list that unpacks past the runner's bound fails its run with the
	// reason; nothing of it is stored and its ETag is not kept, so the
	// next run asks for it whole again.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(strings.Repeat("203.0.113.5\n", 1<<20/12)))
	zw.Close()
	ls := &listServer{}
	ls.set(gz.String(), `"b1"`)
	srv := httptest.NewServer(ls)
	defer srv.Close()
	local := openStore(t, localColl, "local")
	mustCreate(t, local, store.Feed{Name: "bomb", Kind: store.FeedText, URL: srv.URL + "/list.txt.gz",
		List: store.FeedList{Source: "Example"}})
	s, _ := scheduler(local)
	s.Runner.MaxSize = 64 << 10
	runDue(t, s, "bomb")
	// 5,461 lines fit in 64 KiB, the same address each time.
	f := checkLastRun(t, local, "bomb", counts{Read: 5461, Duplicates: 5460}, "larger than the limit of 65536 bytes once decompressed")
	if f.Mark.ETag != "" {
		t.Errorf("mark %+v after a refused list, want no ETag kept", f.Mark)
	}
	if page, err := local.IOCs(ctx, localColl, store.IOCFilter{}); err != nil || len(page.IOCs) != 0 {
		t.Errorf("IOCs %+v (%v) after a refused list, want none", page.IOCs, err)
	}
}

func TestMISPFeed(t *testing.T) {
	// A MISP feed publishes each event as a JSON file; the feed imports its
	// indicators, created by the event's organisation, and asks again with
	// the ETag.
	event := `{"Event":{"info":"Op A","Orgc":{"name":"CIRCL"},"Tag":[{"name":"tlp:white"}],"Attribute":[
		{"type":"ip-dst","value":"203.0.113.9","to_ids":true},
		{"type":"domain","value":"c2.example","to_ids":false},
		{"type":"comment","value":"see the report","to_ids":false}]}}`
	ls := &listServer{}
	ls.set(event, `"e1"`)
	srv := httptest.NewServer(ls)
	defer srv.Close()
	local := openStore(t, localColl, "local")
	mustCreate(t, local, store.Feed{Name: "misp", Kind: store.FeedMISP, URL: srv.URL + "/event.json",
		List: store.FeedList{AllAttributes: true}})
	s, c := scheduler(local)
	runDue(t, s, "misp")
	checkLastRun(t, local, "misp", counts{Read: 3, Added: 2, Rejected: 1}, "")
	page, err := local.IOCs(ctx, localColl, store.IOCFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, i := range page.IOCs {
		got = append(got, i.Value+" "+i.Source+" "+i.TLP)
	}
	if want := []string{"203.0.113.9 CIRCL clear", "c2.example CIRCL clear"}; !reflect.DeepEqual(got, want) {
		t.Errorf("IOCs %q, want %q", got, want)
	}
	c.Advance(time.Hour)
	runDue(t, s, "misp")
	if f := checkLastRun(t, local, "misp", counts{}, ""); !f.LastRun.NotChanged {
		t.Errorf("second run of an unchanged event: %+v, want not modified", f.LastRun)
	}
}

func TestJSONListFeed(t *testing.T) {
	ls := &listServer{}
	ls.set("{\"cidr\":\"1.10.16.0/20\",\"sblid\":\"SBL256894\"}\n{\"cidr\":\"1.19.0.0/16\",\"sblid\":\"SBL434604\"}\n", `"d1"`)
	srv := httptest.NewServer(ls)
	defer srv.Close()
	local := openStore(t, localColl, "local")
	mustCreate(t, local, store.Feed{Name: "drop", Kind: store.FeedJSONList, URL: srv.URL + "/drop_v4.json",
		List: store.FeedList{Source: "Spamhaus", Snapshot: true}})
	s, _ := scheduler(local)
	runDue(t, s, "drop")
	checkLastRun(t, local, "drop", counts{Read: 2, Added: 2}, "")
}

// TestTAXIIFeedFromTAXII20 runs a taxii21 feed whose source speaks only
// TAXII 2.0: the client changes version, and the feed keeps its mark.
func TestTAXIIFeedFromTAXII20(t *testing.T) {
	src := taxii20test.Start(t)
	src.Add(t, taxii20test.Indicator(1), taxii20test.Indicator(2))
	local := openStore(t, localColl, "local")
	mustCreate(t, local, store.Feed{Name: "old", Kind: store.FeedTAXII21, URL: src.URL, TAXIICollection: taxii20test.CollectionID})
	s, c := scheduler(local)
	runDue(t, s, "old")
	f := checkLastRun(t, local, "old", counts{Read: 2, Added: 2}, "")
	if !f.Mark.AddedAfter.Equal(src.DateAdded(1)) {
		t.Errorf("mark %v, want the source's last date_added %v", f.Mark.AddedAfter, src.DateAdded(1))
	}
	src.Add(t, taxii20test.Indicator(3))
	c.Advance(time.Hour)
	runDue(t, s, "old")
	checkLastRun(t, local, "old", counts{Read: 1, Added: 1}, "")
}

// TestTAXIIFeedFromDiscoveryURL runs a feed given the source's discovery
// URL: it reads the default API root's collection.
func TestTAXIIFeedFromDiscoveryURL(t *testing.T) {
	src := newSource(t)
	src.add(t, 0, 3)
	local := openStore(t, localColl, "local")
	mustCreate(t, local, store.Feed{Name: "peer", Kind: store.FeedTAXII21, URL: src.srv.URL + "/taxii2/",
		TAXIICollection: "intel", Token: src.key})
	s, _ := scheduler(local)
	runDue(t, s, "peer")
	checkLastRun(t, local, "peer", counts{Read: 3, Added: 3}, "")
}
