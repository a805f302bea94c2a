package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hail/auth"
	"hail/notify"
	"hail/notify/pgnotify"
	"hail/server"
	"hail/stix"
	"hail/store"
	"hail/store/postgres"
	"hail/store/postgres/pgtest"
	"hail/taxii"
)

// event is one server-sent event, or a comment line when comment is set.
type event struct {
	id, typ, data string
	comment       bool
}

// stream is an open stream as a client sees it.
type stream struct {
	res    *http.Response
	ctx    context.Context
	cancel context.CancelFunc
	events chan event
	// lastID is the last event id the client processed: what it sends as
	// Last-Event-ID when it reconnects.
	lastID string
}

// eventWait bounds every wait for an event; the machines are shared and
// slow, and a healthy stream answers in milliseconds.
const eventWait = 20 * time.Second

// openStream connects to a stream path with the named key and header.
// The stream is closed at cleanup, before the server.
func (e *env) openStream(t testing.TB, path, key string, header map[string]string) *stream {
	t.Helper()
	s, res := connectStream(t, e.srv.URL+path, basicOrNone(e, key), header)
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("GET %s: status %d, body %s", path, res.StatusCode, b)
	}
	return s
}

// basicOrNone returns the Authorization value for a fixture key.
func basicOrNone(e *env, key string) string {
	if key == "" {
		return ""
	}
	return basic("apikey", e.keys[key])
}

// connectStream sends the request and, for a 200, starts reading events.
func connectStream(t testing.TB, u, authorization string, header map[string]string) (*stream, *http.Response) {
	t.Helper()
	s := dialStream(t, http.DefaultClient, u, authorization, header)
	if s.res.StatusCode == http.StatusOK {
		go s.read()
	}
	return s, s.res
}

// dialStream sends the request with client; it reads nothing of the body.
func dialStream(t testing.TB, client *http.Client, u, authorization string, header map[string]string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &stream{res: res, ctx: ctx, cancel: cancel, events: make(chan event, 1024)}
	t.Cleanup(s.close)
	return s
}

// close hangs up.
func (s *stream) close() {
	s.cancel()
	s.res.Body.Close()
}

// read parses the body as the HTML standard's EventSource does (§9.2.6):
// fields up to a blank line make an event, which is dispatched only if it
// has data; a block with an id alone moves the last event id, and is
// passed on as an item of type "(id)". Comment lines are passed on too.
func (s *stream) read() {
	defer close(s.events)
	sc := bufio.NewScanner(s.res.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var ev event
	var data []string
	idSet := false // the block being read has an id field
	emit := func(ev event) bool {
		select {
		case s.events <- ev:
			return true
		case <-s.ctx.Done():
			return false
		}
	}
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			item := ev
			item.data = strings.Join(data, "\n")
			if data == nil && idSet {
				item.typ = "(id)"
			}
			if (data != nil || idSet) && !emit(item) {
				return
			}
			ev, data, idSet = event{id: ev.id}, nil, false
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "":
			if !emit(event{comment: true, data: value}) {
				return
			}
		case "id":
			ev.id, idSet = value, true
		case "event":
			ev.typ = value
		case "data":
			data = append(data, value)
		}
	}
}

// next returns the next event that is not a comment or a bare id, failing
// the test if none comes within eventWait.
func (s *stream) next(t testing.TB) event {
	t.Helper()
	deadline := time.Now().Add(eventWait)
	for {
		ev, ok := s.nextBefore(t, deadline)
		if !ok {
			t.Fatalf("stream ended, want an event")
		}
		if !ev.comment && ev.typ != "(id)" {
			return ev
		}
	}
}

// nextAny returns the next item of the stream, comments and bare ids
// included; false when the stream ended.
func (s *stream) nextAny(t testing.TB) (event, bool) {
	t.Helper()
	return s.nextBefore(t, time.Now().Add(eventWait))
}

// nextBefore is nextAny, failing the test at deadline.
func (s *stream) nextBefore(t testing.TB, deadline time.Time) (event, bool) {
	t.Helper()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case ev, ok := <-s.events:
		if ok && !ev.comment {
			s.lastID = ev.id
		}
		return ev, ok
	case <-timer.C:
		t.Fatalf("no event within %v", eventWait)
		return event{}, false
	}
}

// entries returns what the store holds of a collection after pos, every
// version, as the stream should send it.
func (e *env) entries(t testing.TB, coll string, pos time.Time) []store.Entry {
	t.Helper()
	page, err := e.db.Objects(context.Background(), coll, store.Filter{AddedAfter: pos, Versions: []string{"all"}})
	if err != nil {
		t.Fatal(err)
	}
	return page.Entries
}

// checkEvent compares an event with the entry it should carry.
func checkEvent(t *testing.T, got event, want store.Entry) {
	t.Helper()
	if wantID := taxii.FormatTimestamp(want.DateAdded); got.id != wantID || got.typ != "object" || got.data != string(want.Object.Raw) {
		t.Errorf("event id %q event %q data %s\nwant id %q event \"object\" data %s", got.id, got.typ, got.data, wantID, want.Object.Raw)
	}
}

const streamPath = "/taxii2/api/collections/intel/stream/"

// notifiedOnly configures streams that never poll on their own, so that a
// test proves the wake-up of each commit.
var notifiedOnly = server.Config{Stream: server.StreamConfig{Poll: time.Hour}}

func TestStreamLive(t *testing.T) {
	e := newEnv(t, notifiedOnly, true)
	e.seed(t, collIntel, indicator(1, "2024-01-01T00:00:00.000Z"))
	old := e.entries(t, collIntel, time.Time{})

	s := e.openStream(t, streamPath, "reader", nil)
	for k, want := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"} {
		if got := s.res.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	// Without a position the stream starts after the newest entry, and
	// says so with a bare id.
	first, _ := s.nextAny(t)
	if want := taxii.FormatTimestamp(old[0].DateAdded); first.id != want || first.typ != "(id)" {
		t.Errorf("first item %+v, want a bare id %q", first, want)
	}

	r := e.post(t, "intel", "admin", envelope(indicator(2, "2024-01-01T00:00:00.000Z"), malware(3)))
	if r.status != http.StatusAccepted {
		t.Fatalf("POST: status %d, body %s", r.status, r.body)
	}
	want := e.entries(t, collIntel, old[0].DateAdded)
	if len(want) != 2 {
		t.Fatalf("store holds %d new entries, want 2", len(want))
	}
	for _, w := range want {
		checkEvent(t, s.next(t), w)
	}

	// A new version is an event too.
	e.post(t, "intel", "admin", envelope(indicator(2, "2024-02-01T00:00:00.000Z")))
	checkEvent(t, s.next(t), e.entries(t, collIntel, want[1].DateAdded)[0])
}

func TestStreamResume(t *testing.T) {
	e := newEnv(t, server.Config{}, true)
	for i := 1; i <= 4; i++ {
		e.seed(t, collIntel, indicator(i, "2024-01-01T00:00:00.000Z"))
	}
	all := e.entries(t, collIntel, time.Time{})
	pos := url.QueryEscape(taxii.FormatTimestamp(all[1].DateAdded))
	tests := []struct {
		name   string
		path   string
		header map[string]string
	}{
		{"Last-Event-ID", streamPath, map[string]string{"Last-Event-ID": taxii.FormatTimestamp(all[1].DateAdded)}},
		{"after", streamPath + "?after=" + pos, nil},
		{"added_after", streamPath + "?added_after=" + pos, nil},
		// Last-Event-ID, sent on reconnection, is later than the URL's.
		{"latest wins", streamPath + "?after=" + url.QueryEscape(taxii.FormatTimestamp(all[0].DateAdded)),
			map[string]string{"Last-Event-ID": taxii.FormatTimestamp(all[1].DateAdded)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := e.openStream(t, tt.path, "reader", tt.header)
			checkEvent(t, s.next(t), all[2])
			checkEvent(t, s.next(t), all[3])
			s.close()
		})
	}
}

// TestStreamReconnectBurst reconnects again and again with Last-Event-ID
// while a writer adds objects: the client must see each exactly once.
func TestStreamReconnectBurst(t *testing.T) {
	e := newEnv(t, notifiedOnly, true)
	const posts, per = 40, 5
	s := e.openStream(t, streamPath, "reader", nil)
	s.nextAny(t) // the bare id: the stream is subscribed

	errc := make(chan error, 1)
	go func() {
		for i := range posts {
			objs := make([]string, per)
			for j := range objs {
				objs[j] = indicator(i*per+j+1, "2024-01-01T00:00:00.000Z")
			}
			if err := postEnvelope(e, "intel", "admin", envelope(objs...)); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()

	seen := map[string]int{}
	var order []string
	for n := 0; len(seen) < posts*per; n++ {
		ev := s.next(t)
		var h struct{ ID string }
		if err := json.Unmarshal([]byte(ev.data), &h); err != nil {
			t.Fatalf("event data %s: %v", ev.data, err)
		}
		seen[h.ID]++
		order = append(order, ev.id)
		if n%23 == 22 { // hang up now and then, mid-burst, and resume
			last := s.lastID
			s.close()
			s = e.openStream(t, streamPath, "reader", map[string]string{"Last-Event-ID": last})
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s received %d times, want once", id, n)
		}
	}
	if len(order) != posts*per || !slices.IsSorted(order) {
		t.Errorf("received %d events, ids sorted %v; want %d in date_added order", len(order), slices.IsSorted(order), posts*per)
	}
	want := e.entries(t, collIntel, time.Time{})
	for _, w := range want {
		if seen[w.Object.ID] != 1 {
			t.Errorf("stored %s received %d times, want once", w.Object.ID, seen[w.Object.ID])
		}
	}
}

// postEnvelope posts from any goroutine, returning what went wrong.
func postEnvelope(e *env, coll, key, body string) error {
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/taxii2/api/collections/"+coll+"/objects/", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Accept", taxii.MediaType)
	req.Header.Set("Content-Type", taxii.MediaType)
	req.Header.Set("Authorization", basic("apikey", e.keys[key]))
	res, err := e.srv.Client().Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusAccepted {
		return fmt.Errorf("POST: status %d, body %s", res.StatusCode, b)
	}
	return nil
}

func TestStreamErrors(t *testing.T) {
	e := newEnv(t, server.Config{}, true)
	sse := map[string]string{"Accept": "text/event-stream"}
	with := func(k, v string) map[string]string { return map[string]string{"Accept": "text/event-stream", k: v} }
	e.run(t, []scenario{
		{name: "key may not see the collection", path: "/taxii2/api/collections/secret/stream/", key: "reader", header: sse, wantStatus: 404},
		{name: "missing collection", path: "/taxii2/api/collections/nope/stream/", key: "reader", header: sse, wantStatus: 404},
		{name: "write-only key", path: "/taxii2/api/collections/drop/stream/", key: "writer", header: sse, wantStatus: 403},
		{name: "anonymous", path: streamPath, header: sse, wantStatus: 401},
		{name: "bad key", path: streamPath, header: with("Authorization", "Bearer nope"), wantStatus: 401},
		{name: "TAXII Accept", path: streamPath, key: "reader", header: with("Accept", taxii.MediaType), wantStatus: 406},
		{name: "Accept refuses event-stream", path: streamPath, key: "reader", header: with("Accept", "text/event-stream;q=0, text/html"), wantStatus: 406},
		{name: "bad Last-Event-ID", path: streamPath, key: "reader", header: with("Last-Event-ID", "yesterday"), wantStatus: 400},
		{name: "bad after", path: streamPath + "?after=yesterday", key: "reader", header: sse, wantStatus: 400},
		{name: "bad match[type]", path: streamPath + "?match[type]=" + url.QueryEscape("no such type!"), key: "reader", header: sse, wantStatus: 400},
		{name: "POST", method: http.MethodPost, path: streamPath, key: "admin", header: sse, wantStatus: 405},
	})
	// A public collection streams to anyone, with any Accept that admits
	// event streams, or none.
	for _, accept := range []string{"", "*/*", "text/*", "text/event-stream; q=0.5, application/json"} {
		s, res := connectStream(t, e.srv.URL+"/taxii2/api/collections/open/stream", "", map[string]string{"Accept": accept})
		if res.StatusCode != http.StatusOK {
			t.Errorf("Accept %q: status %d, want 200", accept, res.StatusCode)
		}
		s.close()
	}
}

func TestStreamHeartbeat(t *testing.T) {
	e := newEnv(t, server.Config{Stream: server.StreamConfig{Heartbeat: 20 * time.Millisecond}}, true)
	s := e.openStream(t, streamPath, "reader", nil)
	for {
		ev, ok := s.nextAny(t)
		if !ok {
			t.Fatal("stream ended before a heartbeat")
		}
		if ev.comment && ev.data == "ping" {
			return
		}
	}
}

func TestStreamMatchType(t *testing.T) {
	e := newEnv(t, notifiedOnly, true)
	s := e.openStream(t, streamPath+"?match[type]=malware", "reader", nil)
	s.nextAny(t)
	e.post(t, "intel", "admin", envelope(indicator(1, "2024-01-01T00:00:00.000Z"), malware(2)))
	e.post(t, "intel", "admin", envelope(indicator(3, "2024-01-01T00:00:00.000Z")))
	e.post(t, "intel", "admin", envelope(malware(4)))
	for _, want := range []string{"malware--" + uuidN(2), "malware--" + uuidN(4)} {
		ev := s.next(t)
		if !strings.Contains(ev.data, want) || strings.Contains(ev.data, "indicator--") {
			t.Errorf("event %s, want %s alone", ev.data, want)
		}
	}
}

// TestStreamPoll: objects stored without a notification (hail import,
// another process) reach the stream at its next poll.
func TestStreamPoll(t *testing.T) {
	e := newEnv(t, server.Config{Stream: server.StreamConfig{Poll: 20 * time.Millisecond}}, true)
	s := e.openStream(t, streamPath, "reader", nil)
	s.nextAny(t)
	e.seed(t, collIntel, indicator(1, "2024-01-01T00:00:00.000Z"))
	checkEvent(t, s.next(t), e.entries(t, collIntel, time.Time{})[0])
}

// TestStreamLineBreaks: an object received pretty-printed is sent on one
// data line, its bytes otherwise as received.
func TestStreamLineBreaks(t *testing.T) {
	e := newEnv(t, notifiedOnly, true)
	s := e.openStream(t, streamPath, "reader", nil)
	s.nextAny(t)
	pretty := strings.ReplaceAll(strings.ReplaceAll(malware(1), `","`, "\",\r\n  \""), `{"type"`, "{\n  \"type\"")
	e.post(t, "intel", "admin", `{"objects":[`+pretty+`]}`)
	ev := s.next(t)
	if want := strings.NewReplacer("\r", " ", "\n", " ").Replace(pretty); ev.data != want {
		t.Errorf("data %q, want %q", ev.data, want)
	}
}

// TestStreamShutdown: closing the notifier, as serve does on shutdown, ends
// every stream, so that the server can stop.
func TestStreamShutdown(t *testing.T) {
	hub := notify.NewHub()
	e := newEnv(t, server.Config{Notifier: hub}, true)
	s := e.openStream(t, streamPath, "reader", nil)
	s.nextAny(t)
	hub.Close()
	for {
		if _, ok := s.nextAny(t); !ok {
			return
		}
	}
}

// smallBuffers makes the server's connections buffer little, so that a
// client that does not read blocks the server's writes soon.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}

// TestStreamSlowConsumer: a client that stops reading is disconnected after
// the write timeout, without holding up writers or other clients, and
// resumes where it stopped, losing and repeating nothing.
func TestStreamSlowConsumer(t *testing.T) {
	e := newEnv(t, server.Config{}, true)
	const backlog = 500 // about 1 MB of events
	pad := strings.Repeat("x", 2000)
	for i := 1; i <= backlog; i += 100 {
		objs := make([]string, 100)
		for j := range objs {
			objs[j] = strings.Replace(indicator(i+j, "2024-01-01T00:00:00.000Z"), `"name":`, `"description":"`+pad+`","name":`, 1)
		}
		e.seed(t, collIntel, objs...)
	}
	hub := notify.NewHub()
	srv := httptest.NewUnstartedServer(server.New(server.Config{Notifier: hub, Stream: server.StreamConfig{WriteTimeout: 200 * time.Millisecond}}, e.db, nil))
	srv.Listener = smallBuffers{srv.Listener}
	srv.Start()
	t.Cleanup(srv.Close)
	e.srv = srv
	reader := basic("apikey", e.keys["reader"])

	slow := dialStream(t, &http.Client{Transport: &http.Transport{}}, srv.URL+streamPath, reader, map[string]string{"Last-Event-ID": "2000-01-01T00:00:00Z"})
	if slow.res.StatusCode != http.StatusOK {
		t.Fatalf("slow stream: status %d", slow.res.StatusCode)
	}
	fast, _ := connectStream(t, srv.URL+streamPath, reader, nil)
	fast.nextAny(t)
	if err := postEnvelope(e, "intel", "admin", envelope(malware(backlog+1))); err != nil {
		t.Fatalf("a write while a client does not read: %v", err)
	}
	if ev := fast.next(t); !strings.Contains(ev.data, uuidN(backlog+1)) {
		t.Errorf("other client received %s, want malware %d", ev.data, backlog+1)
	}
	// Both streams are subscribed until the server gives up on the slow one.
	deadline := time.Now().Add(eventWait)
	for hub.Subscribers() != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := hub.Subscribers(); n != 1 {
		t.Fatalf("%d streams subscribed, want 1: the slow client still connected", n)
	}

	// The slow client reads what reached it, then resumes.
	seen := map[string]int{}
	go slow.read()
	for {
		ev, ok := slow.nextAny(t)
		if !ok {
			break
		}
		if ev.typ == "object" {
			seen[ev.id]++
		}
	}
	if len(seen) >= backlog+1 {
		t.Fatalf("the slow client received all %d events before it was cut off; the test did not fill the buffers", len(seen))
	}
	// Each connection may be cut again when the machine is slow; a client
	// resumes as often as it takes.
	last, deadline := slow.lastID, time.Now().Add(2*eventWait)
	for len(seen) < backlog+1 {
		resumed, _ := connectStream(t, srv.URL+streamPath, reader, map[string]string{"Last-Event-ID": last})
		for len(seen) < backlog+1 {
			ev, ok := resumed.nextBefore(t, deadline)
			if !ok {
				break
			}
			if ev.typ == "object" {
				seen[ev.id]++
			}
		}
		last = resumed.lastID
		resumed.close()
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event %s received %d times, want once", id, n)
		}
	}
}

// TestStreamFilterCollection: a filter collection defined by observable
// types streams the matching objects that other collections of its API
// root receive, and only those.
func TestStreamFilterCollection(t *testing.T) {
	e := newEnv(t, notifiedOnly, true)
	const collIPs = "88888888-8888-4888-8888-888888888888"
	err := e.db.CreateCollection(context.Background(), store.Collection{ID: collIPs, APIRoot: "api", Alias: "ips",
		Title: "IP indicators", Kind: store.KindFilter, Filter: `{"observables":["ipv4"]}`})
	if err != nil {
		t.Fatal(err)
	}
	s := e.openStream(t, "/taxii2/api/collections/ips/stream/", "admin", nil)
	s.nextAny(t)
	e.post(t, "rw", "admin", envelope(malware(1), indicator(2, "2024-01-01T00:00:00.000Z")))
	e.post(t, "drop", "admin", envelope(malware(3)))
	e.post(t, "drop", "admin", envelope(indicator(4, "2024-01-01T00:00:00.000Z")))
	for _, want := range []string{"indicator--" + uuidN(2), "indicator--" + uuidN(4)} {
		if ev := s.next(t); !strings.Contains(ev.data, want) || strings.Contains(ev.data, "malware--") {
			t.Errorf("event %s, want %s alone", ev.data, want)
		}
	}
}

// replica is one hail process over a PostgreSQL database shared with others.
type replica struct {
	db  *postgres.DB
	srv *httptest.Server
}

// newReplica opens its own pool on dsn and serves it with a pgnotify
// notifier on channel. Streams never poll on their own: only notifications
// wake them.
func newReplica(t *testing.T, dsn, channel string) *replica {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	n, err := pgnotify.New(ctx, db.Pool(), pgnotify.Options{Channel: channel})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	cfg := server.Config{Notifier: n, Stream: server.StreamConfig{Poll: time.Hour}}
	srv := httptest.NewServer(server.New(cfg, db, nil))
	t.Cleanup(srv.Close)
	return &replica{db: db, srv: srv}
}

// TestStreamAcrossReplicas: an object POSTed to one replica reaches a stream
// served by another, through PostgreSQL LISTEN/NOTIFY.
func TestStreamAcrossReplicas(t *testing.T) {
	dsn := pgtest.Schema(t)
	r := make([]byte, 6)
	rand.Read(r)
	channel := "hail_t_" + hex.EncodeToString(r) // NOTIFY channels span schemas; this one is the test's own
	a, b := newReplica(t, dsn, channel), newReplica(t, dsn, channel)
	ctx := context.Background()
	if err := a.db.CreateAPIRoot(ctx, store.APIRoot{Name: "api", Title: "API"}); err != nil {
		t.Fatal(err)
	}
	if err := a.db.CreateCollection(ctx, store.Collection{ID: collIntel, APIRoot: "api", Alias: "intel", Title: "Intel"}); err != nil {
		t.Fatal(err)
	}
	secret, hash := auth.NewKey()
	if err := a.db.CreateKey(ctx, store.Key{Name: "admin", Admin: true, Hash: hash}); err != nil {
		t.Fatal(err)
	}
	key := basic("apikey", secret)

	s, res := connectStream(t, b.srv.URL+streamPath, key, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("stream on replica B: status %d", res.StatusCode)
	}
	s.nextAny(t)
	req, err := http.NewRequest(http.MethodPost, a.srv.URL+"/taxii2/api/collections/intel/objects/",
		strings.NewReader(envelope(indicator(1, "2024-01-01T00:00:00.000Z"))))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", taxii.MediaType)
	req.Header.Set("Authorization", key)
	pres, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pres.Body.Close()
	if pres.StatusCode != http.StatusAccepted {
		t.Fatalf("POST to replica A: status %d", pres.StatusCode)
	}
	page, err := b.db.Objects(ctx, collIntel, store.Filter{Versions: []string{"all"}})
	if err != nil || len(page.Entries) != 1 {
		t.Fatalf("store holds %d entries (err %v), want 1", len(page.Entries), err)
	}
	checkEvent(t, s.next(t), page.Entries[0])
}

// commitClock is a store that records when each object's commit returned,
// the start of a stream event's latency.
type commitClock struct {
	store.Store
	mu    sync.RWMutex
	at    map[string]time.Time // STIX id → commit time
	reads atomic.Int64         // Objects calls
}

func (c *commitClock) Objects(ctx context.Context, collectionID string, f store.Filter) (store.Page, error) {
	c.reads.Add(1)
	return c.Store.Objects(ctx, collectionID, f)
}

func (c *commitClock) AddObjects(ctx context.Context, collectionID string, objs []stix.Object) ([]store.AddResult, error) {
	res, err := c.Store.AddObjects(ctx, collectionID, objs)
	c.stamp(objs)
	return res, err
}

func (c *commitClock) AddObjectsStatus(ctx context.Context, collectionID string, objs []stix.Object,
	status func([]store.AddResult) store.Status) ([]store.AddResult, error) {
	res, err := c.Store.AddObjectsStatus(ctx, collectionID, objs, status)
	c.stamp(objs)
	return res, err
}

// stamp records now as the commit time of objs.
func (c *commitClock) stamp(objs []stix.Object) {
	now := time.Now()
	c.mu.Lock()
	for _, o := range objs {
		c.at[o.ID] = now
	}
	c.mu.Unlock()
}

// committed returns when the object with that id was committed.
func (c *commitClock) committed(id string) (time.Time, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.at[id]
	return t, ok
}

// BenchmarkStreamFanout posts envelopes of 10 new objects to a collection
// that 0, 100 or 1,000 clients stream, each over its own connection, and
// reports ingest (objects/s, each POST committed before the next) and,
// with subscribers, the latency from commit to a client's receipt of each
// event (p50-ms, p99-ms). Streams are woken by notifications only.
// Run it by hand, e.g. go test -run '^$' -bench StreamFanout -benchtime 50x ./server/
func BenchmarkStreamFanout(b *testing.B) {
	for _, subscribers := range []int{0, 100, 1000} {
		b.Run(fmt.Sprintf("subscribers=%d", subscribers), func(b *testing.B) { benchFanout(b, subscribers) })
	}
}

func benchFanout(b *testing.B, subscribers int) {
	const batch = 10
	e := newEnv(b, server.Config{}, true)
	clock := &commitClock{Store: e.db, at: map[string]time.Time{}}
	srv := httptest.NewServer(server.New(server.Config{Stream: server.StreamConfig{Poll: time.Hour}}, clock, nil))
	b.Cleanup(srv.Close)
	transport := &http.Transport{MaxIdleConnsPerHost: 10}
	b.Cleanup(transport.CloseIdleConnections)
	client := &http.Client{Transport: transport}
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)

	var (
		received  atomic.Int64
		mu        sync.Mutex
		latencies []time.Duration
		ready     sync.WaitGroup
		done      sync.WaitGroup
	)
	b.Cleanup(done.Wait) // after cancel, which runs first
	for range subscribers {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+streamPath, nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", basic("apikey", e.keys["reader"]))
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		if res.StatusCode != http.StatusOK {
			b.Fatalf("stream: status %d", res.StatusCode)
		}
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			defer res.Body.Close()
			var mine []time.Duration
			defer func() {
				mu.Lock()
				latencies = append(latencies, mine...)
				mu.Unlock()
			}()
			r := bufio.NewReader(res.Body)
			first := true
			for {
				line, err := r.ReadSlice('\n')
				if err != nil {
					return
				}
				now := time.Now()
				if first {
					first = false
					ready.Done()
				}
				const idKey = `"id":"`
				if !bytes.HasPrefix(line, []byte("data: ")) {
					continue
				}
				i := bytes.Index(line, []byte(idKey))
				j := bytes.IndexByte(line[i+len(idKey):], '"')
				if t, ok := clock.committed(string(line[i+len(idKey) : i+len(idKey)+j])); ok {
					mine = append(mine, now.Sub(t))
				}
				received.Add(1)
			}
		}()
	}
	ready.Wait()

	post := func(n int) {
		objs := make([]string, batch)
		for j := range objs {
			objs[j] = indicator(n*batch+j+1, "2024-01-01T00:00:00.000Z")
		}
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/taxii2/api/collections/intel/objects/", strings.NewReader(envelope(objs...)))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", taxii.MediaType)
		req.Header.Set("Authorization", basic("apikey", e.keys["admin"]))
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusAccepted {
			b.Fatalf("POST: status %d", res.StatusCode)
		}
	}
	n := 0
	readsBefore := clock.reads.Load()
	for b.Loop() {
		post(n)
		n++
	}
	b.ReportMetric(float64(n*batch)/b.Elapsed().Seconds(), "objects/s")
	b.ReportMetric(float64(clock.reads.Load()-readsBefore)/float64(n), "reads/post")
	if subscribers == 0 {
		return
	}
	want := int64(n * batch * subscribers)
	deadline := time.Now().Add(5 * time.Minute)
	for received.Load() < want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // waiting for clients to drain, not for a state change of the server
	}
	if got := received.Load(); got != want {
		b.Fatalf("clients received %d events, want %d", got, want)
	}
	cancel()
	done.Wait()
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
}
