package storetest

import (
	"testing"
	"time"

	"hail"
	"hail/store"
)

// testWebhookUpdate changes a webhook's URL alone, then its secret, batch
// size and wait: what is not given stays, and so does its delivery state.
func testWebhookUpdate(t *testing.T, s store.Store) {
	setup(t, s)
	h := newHook(hook1, 0)
	h.State = store.WebhookState{Cursor: created.Add(-time.Hour), PendingLast: created.Add(-time.Minute), Failures: 2,
		FailingSince: created, LastError: "503"}
	if err := s.CreateWebhook(ctx, h); err != nil {
		t.Fatalf("CreateWebhook: %v", err)
	}
	other := newHook(hook2, 1)
	if err := s.CreateWebhook(ctx, other); err != nil {
		t.Fatalf("CreateWebhook: %v", err)
	}
	url := "https://new.example/hook"
	if err := s.UpdateWebhook(ctx, hook1, store.WebhookUpdate{URL: &url}); err != nil {
		t.Fatalf("UpdateWebhook(url): %v", err)
	}
	h.URL = url
	if got, err := s.Webhook(ctx, hook1); err != nil || !equalHook(got, h) {
		t.Errorf("after a new URL: %+v, %v\nwant %+v", got, err, h)
	}
	secret, batch, wait := "n3w", 7, time.Duration(0)
	if err := s.UpdateWebhook(ctx, hook1, store.WebhookUpdate{Secret: &secret, BatchSize: &batch, MaxWait: &wait}); err != nil {
		t.Fatalf("UpdateWebhook(secret, batch, wait): %v", err)
	}
	h.Secret, h.BatchSize, h.MaxWait = secret, batch, wait
	if got, err := s.Webhook(ctx, hook1); err != nil || !equalHook(got, h) {
		t.Errorf("after a new secret, batch and wait: %+v, %v\nwant %+v", got, err, h)
	}
	if got, err := s.Webhook(ctx, hook2); err != nil || !equalHook(got, other) {
		t.Errorf("the other webhook changed: %+v, %v", got, err)
	}
	err := s.UpdateWebhook(ctx, "5f4e3d2c-1b0a-4c9d-8e7f-6a5b4c3d2e1f", store.WebhookUpdate{URL: &url})
	wantCode(t, "UpdateWebhook(missing)", err, hail.ENOTFOUND)
}
