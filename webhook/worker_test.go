package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hail/notify"
	"hail/stix"
	"hail/store"
	"hail/store/sqlite"
	"hail/store/storetest"
	"hail/webhook"
)

const (
	testColl   = "64993447-4d7e-4f70-b94d-d7f33742ee63"
	testHook   = "0f5c2a9e-3b1d-4c6e-8a7f-1e2d3c4b5a60"
	testSecret = "it's a secret"
)

// openStore opens a SQLite store holding API root "api" and testColl.
func openStore(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(filepath.Join(tb.TempDir(), "hail.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if err := db.CreateAPIRoot(ctx, store.APIRoot{Name: "api", Title: "API"}); err != nil {
		tb.Fatal(err)
	}
	if err := db.CreateCollection(ctx, store.Collection{ID: testColl, APIRoot: "api", Title: "C"}); err != nil {
		tb.Fatal(err)
	}
	return db
}

// indicator is indicator number n.
func indicator(tb testing.TB, n int) stix.Object {
	return storetest.MustObject(tb, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1",`+
		`"id":"indicator--%08x-8e2e-4cbf-938f-98ee46b3cd3f","created":"2024-01-01T00:00:00.000Z",`+
		`"modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.%d']",`+
		`"pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`, n, n%256))
}

// addObjects adds indicators from..to-1 and wakes hub.
func addObjects(tb testing.TB, st store.Store, hub notify.Notifier, from, to int) {
	tb.Helper()
	var objs []stix.Object
	for n := from; n < to; n++ {
		objs = append(objs, indicator(tb, n))
	}
	if _, err := st.AddObjects(context.Background(), testColl, objs); err != nil {
		tb.Fatal(err)
	}
	hub.Publish(context.Background(), testColl)
}

// receiver is a webhook endpoint that follows a script of answers, checks
// every signature, and keeps what it accepted, deduplicated by delivery id.
type receiver struct {
	t      *testing.T
	script []string // "ok", "fail", "hang", "busy" (429 with Retry-After: 0); "ok" once it runs out
	mu     sync.Mutex
	calls  int
	bad    []string // problems seen
	seen   map[string][]string
	order  []string // object ids, in the order first accepted
	inside int      // requests being served
	most   int      // the most served at once
}

func newReceiver(t *testing.T, script ...string) (*receiver, *httptest.Server) {
	rc := &receiver{t: t, script: script, seen: map[string][]string{}}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return rc, srv
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.inside++
	rc.most = max(rc.most, rc.inside)
	step := "ok"
	if rc.calls < len(rc.script) {
		step = rc.script[rc.calls]
	}
	rc.calls++
	rc.mu.Unlock()
	defer func() {
		rc.mu.Lock()
		rc.inside--
		rc.mu.Unlock()
	}()
	switch step {
	case "fail":
		http.Error(w, "receiver down", http.StatusInternalServerError)
		return
	case "busy":
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusTooManyRequests)
		return
	case "hang":
		<-r.Context().Done() // until the sender gives up
		return
	}
	rc.accept(r, body)
	w.WriteHeader(http.StatusNoContent)
}

// accept checks a delivery and records it once.
func (rc *receiver) accept(r *http.Request, body []byte) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !webhook.Verify(testSecret, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body,
		time.Now(), 5*time.Minute) {
		rc.bad = append(rc.bad, "bad signature on "+r.Header.Get(webhook.HeaderDelivery))
		return
	}
	var env webhook.Envelope
	if err := json.Unmarshal(body, &env); err != nil {
		rc.bad = append(rc.bad, "body: "+err.Error())
		return
	}
	if env.Delivery != r.Header.Get(webhook.HeaderDelivery) || env.Webhook != testHook || env.Collection != testColl {
		rc.bad = append(rc.bad, fmt.Sprintf("envelope %s/%s/%s does not match the headers", env.Delivery, env.Webhook, env.Collection))
	}
	var ids []string
	for _, o := range env.Objects {
		var obj struct{ ID string }
		json.Unmarshal(o, &obj)
		ids = append(ids, obj.ID)
	}
	if prev, ok := rc.seen[env.Delivery]; ok {
		if !slices.Equal(prev, ids) {
			rc.bad = append(rc.bad, fmt.Sprintf("delivery %s sent again with other objects: %v, then %v", env.Delivery, prev, ids))
		}
		return
	}
	rc.seen[env.Delivery] = ids
	rc.order = append(rc.order, ids...)
}

// accepted returns the object ids accepted so far.
func (rc *receiver) accepted() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.order)
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitSaved waits until the webhook's saved cursor is past every object.
// The receiver has a batch before the worker has read its answer and saved
// the cursor: a stop in between cuts that attempt short, and the next
// worker rightly sends those objects again, in a batch of other bounds,
// as at-least-once delivery allows. Tests that count deliveries across a
// stop wait for this first.
func waitSaved(t *testing.T, st store.Store) {
	t.Helper()
	ctx := context.Background()
	waitFor(t, "the cursor past every object", func() bool {
		h, err := st.Webhook(ctx, testHook)
		if err != nil {
			t.Fatal(err)
		}
		page, err := st.Objects(ctx, testColl, store.Filter{AddedAfter: h.State.Cursor, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Entries) == 0
	})
}

// fastConfig is a worker configuration with millisecond waits, allowing
// the loopback receivers of tests.
func fastConfig(hub notify.Notifier) webhook.Config {
	return webhook.Config{
		Sender:     webhook.NewSender(webhook.SenderOptions{AllowPrivate: true, Timeout: 300 * time.Millisecond}),
		Notifier:   hub,
		Poll:       20 * time.Millisecond,
		LeaseTTL:   time.Second,
		BackoffMin: 2 * time.Millisecond,
		BackoffMax: 10 * time.Millisecond,
	}
}

// startWorker runs a worker until the returned stop is called (or the
// test ends).
func startWorker(t *testing.T, st store.Store, cfg webhook.Config) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		webhook.NewWorker(st, cfg).Run(ctx)
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func createHook(t *testing.T, st store.Store, url string, batch int) {
	t.Helper()
	err := st.CreateWebhook(context.Background(), store.Webhook{ID: testHook, CollectionID: testColl, URL: url,
		Secret: testSecret, BatchSize: batch})
	if err != nil {
		t.Fatal(err)
	}
}

func wantIDs(tb testing.TB, from, to int) []string {
	var ids []string
	for n := from; n < to; n++ {
		ids = append(ids, indicator(tb, n).ID)
	}
	return ids
}

// TestDeliveryFailsTimesOutRecovers is the proof of the design: a receiver
// that fails, times out and then recovers gets every object, in date_added
// order, verifies every signature, and sees each delivery id with the same
// objects whenever it is sent again.
func TestDeliveryFailsTimesOutRecovers(t *testing.T) {
	st := openStore(t)
	hub := notify.NewHub()
	defer hub.Close()
	rc, srv := newReceiver(t, "fail", "fail", "hang", "busy", "ok", "fail", "hang", "ok", "fail")
	createHook(t, st, srv.URL+"/hook", 3)
	addObjects(t, st, hub, 0, 5)
	stop := startWorker(t, st, fastConfig(hub))
	addObjects(t, st, hub, 5, 8)
	waitFor(t, "8 objects", func() bool { return len(rc.accepted()) >= 8 })
	waitSaved(t, st)

	// A restart resumes from the saved cursor.
	stop()
	addObjects(t, st, hub, 8, 13)
	startWorker(t, st, fastConfig(hub))
	waitFor(t, "13 objects", func() bool { return len(rc.accepted()) >= 13 })

	if got, want := rc.accepted(), wantIDs(t, 0, 13); !slices.Equal(got, want) {
		t.Errorf("objects accepted:\n got %v\nwant %v", got, want)
	}
	rc.mu.Lock()
	if len(rc.bad) > 0 {
		t.Errorf("receiver problems: %v", rc.bad)
	}
	rc.mu.Unlock()

	h, err := st.Webhook(context.Background(), testHook)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the cursor at the last object", func() bool {
		h, _ = st.Webhook(context.Background(), testHook)
		return h.State.Failures == 0 && h.State.PendingLast.IsZero()
	})
	log, err := st.WebhookAttempts(context.Background(), testHook, 0)
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, a := range slices.Backward(log) {
		s := fmt.Sprint(a.Status)
		if a.Status == 0 {
			s = "timeout"
		}
		statuses = append(statuses, s)
		if a.OK() != (a.Status == http.StatusNoContent) {
			t.Errorf("attempt %+v: OK() = %v", a, a.OK())
		}
	}
	wantStart := []string{"500", "500", "timeout", "429", "204"}
	if len(statuses) < len(wantStart) || !slices.Equal(statuses[:len(wantStart)], wantStart) {
		t.Errorf("log statuses = %v, want them to start %v", statuses, wantStart)
	}
	if !strings.Contains(h.State.LastError, "HTTP 500: receiver down") {
		t.Errorf("LastError = %q, want the latest failure kept", h.State.LastError)
	}
}

// TestOneDelivererAtATime runs two workers, as two replicas would, on one
// store: the receiver never serves two requests at once, and gets every
// object.
func TestOneDelivererAtATime(t *testing.T) {
	st := openStore(t)
	hub := notify.NewHub()
	defer hub.Close()
	rc, srv := newReceiver(t, "fail", "ok", "fail")
	createHook(t, st, srv.URL, 2)
	for _, holder := range []string{"replica-a", "replica-b"} {
		cfg := fastConfig(hub)
		cfg.Holder = holder
		startWorker(t, st, cfg)
	}
	for n := 0; n < 12; n += 3 {
		addObjects(t, st, hub, n, n+3)
	}
	waitFor(t, "12 objects", func() bool { return len(rc.accepted()) >= 12 })
	if got, want := rc.accepted(), wantIDs(t, 0, 12); !slices.Equal(got, want) {
		t.Errorf("objects accepted:\n got %v\nwant %v", got, want)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.most != 1 {
		t.Errorf("the receiver served %d requests at once, want 1", rc.most)
	}
}

// TestPauseAfterFailingTooLong: a webhook that keeps failing is paused with
// the reason, and delivers again once resumed.
func TestPauseAfterFailingTooLong(t *testing.T) {
	st := openStore(t)
	hub := notify.NewHub()
	defer hub.Close()
	script := make([]string, 0, 1000)
	for range 1000 {
		script = append(script, "fail")
	}
	rc, srv := newReceiver(t, script...)
	createHook(t, st, srv.URL, 10)
	addObjects(t, st, hub, 0, 2)
	cfg := fastConfig(hub)
	cfg.PauseAfter = 50 * time.Millisecond
	startWorker(t, st, cfg)
	var h store.Webhook
	waitFor(t, "the webhook paused", func() bool {
		h, _ = st.Webhook(context.Background(), testHook)
		return h.State.Paused
	})
	if r := h.State.PausedReason; !strings.HasPrefix(r, "failing since ") || !strings.Contains(r, "HTTP 500: receiver down") {
		t.Errorf("PausedReason = %q, want when and why it failed", r)
	}
	rc.mu.Lock()
	rc.script = nil
	rc.mu.Unlock()
	if err := st.SetWebhookPaused(context.Background(), testHook, false, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delivery after resuming", func() bool { return len(rc.accepted()) == 2 })
}

// TestRetryAfter: the wait after a failure honours a Retry-After longer
// than the backoff.
func TestRetryAfter(t *testing.T) {
	st := openStore(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	createHook(t, st, srv.URL, 10)
	addObjects(t, st, notify.NewHub(), 0, 1)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cfg := fastConfig(nil)
	cfg.Now = func() time.Time { return now }
	cfg.Holder = "me"
	w := webhook.NewWorker(st, cfg)
	ctx := context.Background()
	if ok, err := st.AcquireWebhookLease(ctx, testHook, "me", now, time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	h, _ := st.Webhook(ctx, testHook)
	wait, err := w.Step(ctx, h)
	if err != nil || wait != 120*time.Second {
		t.Errorf("Step = %v, %v; want the 120s Retry-After", wait, err)
	}
	h, _ = st.Webhook(ctx, testHook)
	if !h.State.NextAttempt.Equal(now.Add(120*time.Second)) || h.State.Failures != 1 || !h.State.FailingSince.Equal(now) {
		t.Errorf("state after a 503 = %+v", h.State)
	}
	// Before NextAttempt, a step sends nothing.
	if wait, err := w.Step(ctx, h); err != nil || wait != 120*time.Second {
		t.Errorf("early Step = %v, %v; want the remaining 120s", wait, err)
	}
	if log, _ := st.WebhookAttempts(ctx, testHook, 0); len(log) != 1 || log[0].Status != 503 {
		t.Errorf("log = %+v, want one 503", log)
	}
}

// TestMaxWait: a batch that is not full waits for more until its oldest
// entry has waited MaxWait.
func TestMaxWait(t *testing.T) {
	st := openStore(t)
	rc, srv := newReceiver(t)
	ctx := context.Background()
	if err := st.CreateWebhook(ctx, store.Webhook{ID: testHook, CollectionID: testColl, URL: srv.URL,
		Secret: testSecret, BatchSize: 10, MaxWait: time.Minute}); err != nil {
		t.Fatal(err)
	}
	addObjects(t, st, notify.NewHub(), 0, 3)
	now := time.Now().Add(30 * time.Second)
	cfg := fastConfig(nil)
	cfg.Now = func() time.Time { return now }
	cfg.Holder = "me"
	w := webhook.NewWorker(st, cfg)
	st.AcquireWebhookLease(ctx, testHook, "me", now, time.Hour)
	h, _ := st.Webhook(ctx, testHook)
	if wait, err := w.Step(ctx, h); err != nil || wait <= 0 || wait > 30*time.Second {
		t.Errorf("Step with a young batch = %v, %v; want a wait of at most 30s", wait, err)
	}
	if n := len(rc.accepted()); n != 0 {
		t.Errorf("%d objects sent before MaxWait", n)
	}
	now = now.Add(time.Minute)
	if _, err := w.Step(ctx, h); err != nil {
		t.Fatal(err)
	}
	if n := len(rc.accepted()); n != 3 {
		t.Errorf("%d objects sent after MaxWait, want 3", n)
	}
}

func TestTestDelivery(t *testing.T) {
	st := openStore(t)
	var got webhook.Envelope
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !webhook.Verify(testSecret, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, time.Now(), time.Minute) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		json.Unmarshal(body, &got)
	}))
	defer srv.Close()
	createHook(t, st, srv.URL, 10)
	ctx := context.Background()
	h, _ := st.Webhook(ctx, testHook)
	a, err := webhook.Test(ctx, st, webhook.NewSender(webhook.SenderOptions{AllowPrivate: true}), h)
	if err != nil || !a.OK() || a.Status != 200 {
		t.Errorf("Test = %+v, %v; want a 200", a, err)
	}
	if !got.Test || len(got.Objects) != 0 || got.Delivery != a.Delivery {
		t.Errorf("test envelope = %+v, want test true, no objects, delivery %s", got, a.Delivery)
	}
	if log, _ := st.WebhookAttempts(ctx, testHook, 0); len(log) != 1 || log[0].Delivery != a.Delivery {
		t.Errorf("log = %+v, want the test attempt", log)
	}
	if h2, _ := st.Webhook(ctx, testHook); !h2.State.Cursor.IsZero() {
		t.Errorf("a test moved the cursor to %v", h2.State.Cursor)
	}
}

// TestShutdownFinishesAttempt stops a worker while the receiver is taking
// a batch: the attempt runs to its answer and the cursor is saved, so
// whoever resumes the webhook does not send the batch again.
func TestShutdownFinishesAttempt(t *testing.T) {
	st := openStore(t)
	hub := notify.NewHub()
	defer hub.Close()
	inside, release := make(chan struct{}), make(chan struct{})
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if requests.Add(1) == 1 {
			close(inside)
			<-release
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	createHook(t, st, srv.URL, 10)
	addObjects(t, st, hub, 0, 3)

	cfg := fastConfig(hub)
	cfg.Sender = webhook.NewSender(webhook.SenderOptions{AllowPrivate: true, Timeout: 20 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		webhook.NewWorker(st, cfg).Run(ctx)
	}()
	<-inside
	cancel() // shutdown begins while the receiver holds the batch
	close(release)
	<-done

	h, err := st.Webhook(context.Background(), testHook)
	if err != nil {
		t.Fatal(err)
	}
	page, err := st.Objects(context.Background(), testColl, store.Filter{AddedAfter: h.State.Cursor})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 0 || h.LeaseHolder != "" {
		t.Errorf("after shutdown: %d objects past the saved cursor, lease held by %q; want none and none",
			len(page.Entries), h.LeaseHolder)
	}
}
