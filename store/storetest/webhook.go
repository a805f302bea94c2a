package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"hail"
	"hail/store"
)

// Fixture webhook ids.
const (
	hook1 = "0f5c2a9e-3b1d-4c6e-8a7f-1e2d3c4b5a60"
	hook2 = "7d3e1f20-5a4b-4c3d-9e8f-0a1b2c3d4e5f"
)

// newHook returns a webhook on coll1 created at created+n seconds.
func newHook(id string, n int) store.Webhook {
	return store.Webhook{ID: id, CollectionID: coll1, URL: "https://hooks.example/" + id[:4], Secret: "s3cret",
		BatchSize: 100, MaxWait: 5 * time.Second, Created: created.Add(time.Duration(n) * time.Second)}
}

// equalHook compares webhooks, times as instants.
func equalHook(got, want store.Webhook) bool {
	norm := func(w store.Webhook) store.Webhook {
		for _, t := range []*time.Time{&w.Created, &w.LeaseUntil, &w.State.Cursor, &w.State.PendingLast,
			&w.State.FailingSince, &w.State.NextAttempt} {
			if !t.IsZero() {
				*t = t.UTC()
			}
		}
		return w
	}
	return reflect.DeepEqual(norm(got), norm(want))
}

func testWebhookCreateAndGet(t *testing.T, s store.Store) {
	setup(t, s)
	h2, h1 := newHook(hook2, 0), newHook(hook1, 1)
	h1.State = store.WebhookState{Cursor: created.Add(-time.Hour)}
	for _, h := range []store.Webhook{h1, h2} {
		if err := s.CreateWebhook(ctx, h); err != nil {
			t.Fatalf("CreateWebhook(%s): %v", h.ID, err)
		}
	}
	got, err := s.Webhook(ctx, hook1)
	if err != nil || !equalHook(got, h1) {
		t.Errorf("Webhook(%s) = %+v, %v\nwant %+v", hook1, got, err, h1)
	}
	list, err := s.Webhooks(ctx)
	if err != nil || len(list) != 2 || !equalHook(list[0], h2) || !equalHook(list[1], h1) {
		t.Errorf("Webhooks = %+v, %v; want %s then %s", list, err, hook2, hook1)
	}
	err = s.CreateWebhook(ctx, newHook(hook1, 2))
	wantCode(t, "CreateWebhook with a taken id", err, hail.ECONFLICT)
	missing := newHook("3a8c1d2e-0000-4000-8000-000000000000", 3)
	missing.CollectionID = "5b0e2f6a-9c1d-4e3f-8a7b-6c5d4e3f2a1b"
	err = s.CreateWebhook(ctx, missing)
	wantCode(t, "CreateWebhook on a missing collection", err, hail.ENOTFOUND)
	_, err = s.Webhook(ctx, missing.ID)
	wantCode(t, "Webhook of an unknown id", err, hail.ENOTFOUND)

	if err := s.DeleteWebhook(ctx, hook1); err != nil {
		t.Errorf("DeleteWebhook: %v", err)
	}
	_, err = s.Webhook(ctx, hook1)
	wantCode(t, "Webhook after DeleteWebhook", err, hail.ENOTFOUND)
	wantCode(t, "DeleteWebhook twice", s.DeleteWebhook(ctx, hook1), hail.ENOTFOUND)
	_, err = s.WebhookAttempts(ctx, hook1, 0)
	wantCode(t, "WebhookAttempts of a deleted webhook", err, hail.ENOTFOUND)

	// Deleting the collection deletes its webhooks.
	if err := s.DeleteCollection(ctx, coll1); err != nil {
		t.Fatal(err)
	}
	if list, err := s.Webhooks(ctx); err != nil || len(list) != 0 {
		t.Errorf("Webhooks after deleting their collection = %+v, %v; want none", list, err)
	}
}

func testWebhookLease(t *testing.T, s store.Store) {
	setup(t, s)
	if err := s.CreateWebhook(ctx, newHook(hook1, 0)); err != nil {
		t.Fatal(err)
	}
	now, ttl := created.Add(time.Hour), 30*time.Second
	acquire := func(holder string, at time.Time, want bool) {
		t.Helper()
		if got, err := s.AcquireWebhookLease(ctx, hook1, holder, at, ttl); err != nil || got != want {
			t.Errorf("AcquireWebhookLease(%s, %v) = %v, %v; want %v", holder, at.Sub(now), got, err, want)
		}
	}
	acquire("a", now, true)
	acquire("b", now.Add(10*time.Second), false)
	acquire("a", now.Add(20*time.Second), true) // extended to +50s
	acquire("b", now.Add(40*time.Second), false)
	if w, err := s.Webhook(ctx, hook1); err != nil || w.LeaseHolder != "a" || !w.LeaseUntil.Equal(now.Add(50*time.Second)) {
		t.Errorf("Webhook lease = %q until %v, %v; want a until %v", w.LeaseHolder, w.LeaseUntil, err, now.Add(50*time.Second))
	}
	acquire("b", now.Add(50*time.Second), true) // expired

	st := &store.WebhookState{Cursor: created}
	err := s.RecordWebhookAttempt(ctx, hook1, "a", store.WebhookAttempt{Delivery: "d1", Time: now}, st)
	wantCode(t, "RecordWebhookAttempt with a state by a former holder", err, hail.ECONFLICT)
	if w, _ := s.Webhook(ctx, hook1); !w.State.Cursor.IsZero() {
		t.Errorf("cursor moved to %v by a process without the lease", w.State.Cursor)
	}
	if err := s.RecordWebhookAttempt(ctx, hook1, "b", store.WebhookAttempt{Delivery: "d1", Time: now}, st); err != nil {
		t.Errorf("RecordWebhookAttempt by the holder: %v", err)
	}
	if err := s.ReleaseWebhookLease(ctx, hook1, "a"); err != nil {
		t.Errorf("ReleaseWebhookLease by a non-holder: %v", err)
	}
	acquire("a", now.Add(51*time.Second), false)
	if err := s.ReleaseWebhookLease(ctx, hook1, "b"); err != nil {
		t.Errorf("ReleaseWebhookLease: %v", err)
	}
	if w, err := s.Webhook(ctx, hook1); err != nil || w.LeaseHolder != "" || !w.LeaseUntil.IsZero() {
		t.Errorf("released lease = %q until %v, %v; want none", w.LeaseHolder, w.LeaseUntil, err)
	}
	acquire("a", now.Add(52*time.Second), true)
	_, err = s.AcquireWebhookLease(ctx, hook2, "a", now, ttl)
	wantCode(t, "AcquireWebhookLease of an unknown webhook", err, hail.ENOTFOUND)
}

func testWebhookState(t *testing.T, s store.Store) {
	setup(t, s)
	if err := s.CreateWebhook(ctx, newHook(hook1, 0)); err != nil {
		t.Fatal(err)
	}
	now := created.Add(time.Hour)
	if ok, err := s.AcquireWebhookLease(ctx, hook1, "a", now, time.Minute); !ok || err != nil {
		t.Fatalf("AcquireWebhookLease = %v, %v", ok, err)
	}
	save := func(st store.WebhookState) {
		t.Helper()
		if err := s.RecordWebhookAttempt(ctx, hook1, "a", store.WebhookAttempt{Delivery: "d", Time: now}, &st); err != nil {
			t.Fatalf("RecordWebhookAttempt: %v", err)
		}
	}
	failing := store.WebhookState{Cursor: now.Add(-time.Minute), PendingLast: now.Add(-time.Second), Failures: 3,
		FailingSince: now.Add(-10 * time.Minute), NextAttempt: now.Add(time.Minute), LastError: "HTTP 503"}
	save(failing)
	if w, err := s.Webhook(ctx, hook1); err != nil || !equalHook(store.Webhook{State: w.State}, store.Webhook{State: failing}) {
		t.Errorf("state = %+v, %v\nwant %+v", w.State, err, failing)
	}
	// The cursor never moves back.
	save(store.WebhookState{Cursor: now.Add(-time.Hour)})
	if w, _ := s.Webhook(ctx, hook1); !w.State.Cursor.Equal(failing.Cursor) || w.State.Failures != 0 {
		t.Errorf("after saving an older cursor: %+v, want cursor %v and no failures", w.State, failing.Cursor)
	}
	// An operator's pause survives the worker's next save.
	if err := s.SetWebhookPaused(ctx, hook1, true, "maintenance"); err != nil {
		t.Fatalf("SetWebhookPaused: %v", err)
	}
	save(store.WebhookState{Cursor: now, Failures: 1, FailingSince: now, LastError: "timeout"})
	w, _ := s.Webhook(ctx, hook1)
	if !w.State.Paused || w.State.PausedReason != "maintenance" {
		t.Errorf("after a save during a pause: paused %v %q, want paused \"maintenance\"", w.State.Paused, w.State.PausedReason)
	}
	// Resuming clears the failures and the wait, not the cursor.
	if err := s.SetWebhookPaused(ctx, hook1, false, ""); err != nil {
		t.Fatalf("SetWebhookPaused(false): %v", err)
	}
	w, _ = s.Webhook(ctx, hook1)
	want := store.WebhookState{Cursor: now, LastError: "timeout"}
	if !equalHook(store.Webhook{State: w.State}, store.Webhook{State: want}) {
		t.Errorf("after resume: %+v\nwant %+v", w.State, want)
	}
	// The worker pauses a webhook that has failed for too long.
	save(store.WebhookState{Cursor: now, Failures: 9, Paused: true, PausedReason: "failing since …"})
	if w, _ := s.Webhook(ctx, hook1); !w.State.Paused || w.State.PausedReason != "failing since …" {
		t.Errorf("paused by the worker: %v %q", w.State.Paused, w.State.PausedReason)
	}
	wantCode(t, "SetWebhookPaused of an unknown webhook", s.SetWebhookPaused(ctx, hook2, true, "x"), hail.ENOTFOUND)
}

func testWebhookLog(t *testing.T, s store.Store) {
	setup(t, s)
	for _, h := range []store.Webhook{newHook(hook1, 0), newHook(hook2, 1)} {
		if err := s.CreateWebhook(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	if log, err := s.WebhookAttempts(ctx, hook1, 0); err != nil || len(log) != 0 {
		t.Errorf("WebhookAttempts of a new webhook = %+v, %v; want none", log, err)
	}
	n := store.WebhookLogSize + 5
	var all []store.WebhookAttempt
	for i := range n {
		a := store.WebhookAttempt{Delivery: fmt.Sprintf("d%03d", i), Time: created.Add(time.Duration(i) * time.Second),
			Objects: i, Status: 200, Latency: time.Duration(i) * time.Millisecond}
		if i%3 == 0 {
			a.Status, a.Error = 0, "dial tcp: connection refused"
		}
		all = append(all, a)
		// Attempts without a state need no lease: a test delivery.
		if err := s.RecordWebhookAttempt(ctx, hook1, "", a, nil); err != nil {
			t.Fatalf("RecordWebhookAttempt %d: %v", i, err)
		}
	}
	if err := s.RecordWebhookAttempt(ctx, hook2, "", store.WebhookAttempt{Delivery: "other", Time: created}, nil); err != nil {
		t.Fatal(err)
	}
	log, err := s.WebhookAttempts(ctx, hook1, 0)
	if err != nil || len(log) != store.WebhookLogSize {
		t.Fatalf("WebhookAttempts = %d attempts, %v; want %d", len(log), err, store.WebhookLogSize)
	}
	for i, a := range log {
		want := all[n-1-i]
		if a.Delivery != want.Delivery || !a.Time.Equal(want.Time) || a.Objects != want.Objects ||
			a.Status != want.Status || a.Latency != want.Latency || a.Error != want.Error || a.OK() != (want.Error == "") {
			t.Errorf("WebhookAttempts[%d] = %+v, want %+v", i, a, want)
		}
	}
	if log, err := s.WebhookAttempts(ctx, hook1, 3); err != nil || len(log) != 3 || log[0].Delivery != all[n-1].Delivery {
		t.Errorf("WebhookAttempts(limit 3) = %+v, %v; want the 3 newest", log, err)
	}
	if log, err := s.WebhookAttempts(ctx, hook2, 0); err != nil || len(log) != 1 || log[0].Delivery != "other" {
		t.Errorf("WebhookAttempts(%s) = %+v, %v; want its one attempt", hook2, log, err)
	}
	err = s.RecordWebhookAttempt(ctx, "3a8c1d2e-0000-4000-8000-000000000000", "", store.WebhookAttempt{}, nil)
	wantCode(t, "RecordWebhookAttempt of an unknown webhook", err, hail.ENOTFOUND)
}

// runWebhooks runs the webhook tests, each on a store from open.
func runWebhooks(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		f    func(*testing.T, store.Store)
	}{
		{"CreateAndGet", testWebhookCreateAndGet},
		{"Lease", testWebhookLease},
		{"State", testWebhookState},
		{"Log", testWebhookLog},
		{"Update", testWebhookUpdate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.f(t, open(t)) })
	}
}
