package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"hail/server"
	"hail/webhook"
)

// webhookReceiver is an endpoint that checks signatures with the secret
// it is told later, answering 401 to a bad one.
func webhookReceiver(t *testing.T, secret *string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !webhook.Verify(*secret, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body,
			time.Now(), time.Minute) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestWebhookAPI(t *testing.T) {
	e := newEnv(t, server.Config{Webhooks: webhook.NewSender(webhook.SenderOptions{AllowPrivate: true})}, false)
	var secret string
	recv := webhookReceiver(t, &secret)

	r := e.rest(t, "POST", "/api/v1/webhooks", "admin", strings.NewReader(
		`{"collection":"intel","url":"`+recv.URL+`/in","batch":50,"max_wait":"2s"}`))
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var created webhook.View
	if err := json.Unmarshal(r.body, &created); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.Secret, "whsec_") || created.Collection != collIntel || created.Batch != 50 ||
		created.MaxWait != "2s" || created.URL != recv.URL+"/in" || created.Paused {
		t.Errorf("created %+v", created)
	}
	secret = created.Secret
	path := "/api/v1/webhooks/" + created.ID

	r = e.rest(t, "GET", "/api/v1/webhooks/", "admin", nil)
	if r.status != http.StatusOK || strings.Contains(string(r.body), secret) || !strings.Contains(string(r.body), created.ID) {
		t.Errorf("list: %d %s; want the webhook without its secret", r.status, r.body)
	}

	r = e.rest(t, "POST", path+"/test", "admin", nil)
	var a webhook.AttemptView
	json.Unmarshal(r.body, &a)
	if r.status != http.StatusOK || !a.OK || a.Status != 200 || !strings.HasPrefix(a.Delivery, "test-") {
		t.Errorf("test: %d %s; want a successful attempt", r.status, r.body)
	}
	secret = "changed"
	r = e.rest(t, "POST", path+"/test/", "admin", nil)
	json.Unmarshal(r.body, &a)
	if r.status != http.StatusOK || a.OK || a.Status != 401 || !strings.Contains(a.Error, "bad signature") {
		t.Errorf("test against a receiver with another secret: %d %s; want the 401 reported", r.status, r.body)
	}

	// PATCH gives the webhook a new secret, answered once, and a new
	// batch size; the receiver, told the new secret, accepts a test again.
	r = e.rest(t, "PATCH", path, "admin", strings.NewReader(`{"new_secret":true,"batch":20,"max_wait":"0s"}`))
	var patched webhook.View
	json.Unmarshal(r.body, &patched)
	if r.status != http.StatusOK || !strings.HasPrefix(patched.Secret, "whsec_") || patched.Secret == created.Secret ||
		patched.Batch != 20 || patched.MaxWait != "0s" || patched.URL != created.URL {
		t.Errorf("patch: %d %s; want a new secret, batch 20, no wait, the same URL", r.status, r.body)
	}
	secret = patched.Secret
	r = e.rest(t, "POST", path+"/test/", "admin", nil)
	a = webhook.AttemptView{}
	json.Unmarshal(r.body, &a)
	if r.status != http.StatusOK || !a.OK {
		t.Errorf("test after the new secret: %d %s; want a success", r.status, r.body)
	}
	for body, want := range map[string]int{`{}`: 400, `{"secret":"a","new_secret":true}`: 400, `{"url":"file:///etc/passwd"}`: 400,
		`{"batch":-1}`: 400, `{"max_wait":"soon"}`: 400, `[1]`: 400} {
		if r := e.rest(t, "PATCH", path, "admin", strings.NewReader(body)); r.status != want {
			t.Errorf("patch %s: %d %s, want %d", body, r.status, r.body, want)
		}
	}
	if r := e.rest(t, "PATCH", path, "reader", strings.NewReader(`{"batch":3}`)); r.status != http.StatusForbidden {
		t.Errorf("patch with a reader key: %d, want 403", r.status)
	}
	if r := e.rest(t, "PATCH", "/api/v1/webhooks/0f5c2a9e-3b1d-4c6e-8a7f-1e2d3c4b5a60", "admin", strings.NewReader(`{"batch":3}`)); r.status != http.StatusNotFound {
		t.Errorf("patch of a missing webhook: %d, want 404", r.status)
	}

	r = e.rest(t, "POST", path+"/pause", "admin", strings.NewReader(`{"reason":"receiver moving"}`))
	var v webhook.View
	json.Unmarshal(r.body, &v)
	if r.status != http.StatusOK || !v.Paused || v.PausedReason != "receiver moving" {
		t.Errorf("pause: %d %s", r.status, r.body)
	}
	r = e.rest(t, "POST", path+"/resume", "admin", nil)
	v = webhook.View{}
	json.Unmarshal(r.body, &v)
	if r.status != http.StatusOK || v.Paused || len(v.Log) != 3 || v.Log[0].Status != 200 || v.Log[1].Status != 401 || v.Log[2].Status != 200 {
		t.Errorf("resume: %d %s; want unpaused with the three attempts, newest first", r.status, r.body)
	}
	if v.Secret != "" {
		t.Errorf("the secret is shown after creation")
	}

	if r = e.rest(t, "DELETE", path, "admin", nil); r.status != http.StatusNoContent {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	if r = e.rest(t, "GET", path, "admin", nil); r.status != http.StatusNotFound {
		t.Errorf("get after delete: %d %s", r.status, r.body)
	}
}

func TestWebhookAPIRefusals(t *testing.T) {
	e := newEnv(t, server.Config{}, false)
	tests := []struct {
		name, method, path, key, body string
		want                          int
	}{
		{"anonymous", "GET", "/api/v1/webhooks", "", "", 401},
		{"not admin", "GET", "/api/v1/webhooks", "reader", "", 403},
		{"not admin create", "POST", "/api/v1/webhooks", "writer", `{"collection":"drop","url":"https://hooks.example"}`, 403},
		{"loopback", "POST", "/api/v1/webhooks", "admin", `{"collection":"drop","url":"http://127.0.0.1:9/"}`, 400},
		{"metadata", "POST", "/api/v1/webhooks", "admin", `{"collection":"drop","url":"http://169.254.169.254/"}`, 400},
		{"scheme", "POST", "/api/v1/webhooks", "admin", `{"collection":"drop","url":"file:///etc/passwd"}`, 400},
		{"no url", "POST", "/api/v1/webhooks", "admin", `{"collection":"drop"}`, 400},
		{"bad wait", "POST", "/api/v1/webhooks", "admin", `{"collection":"drop","url":"https://hooks.example","max_wait":"soon"}`, 400},
		{"long wait", "POST", "/api/v1/webhooks", "admin", `{"collection":"drop","url":"https://hooks.example","max_wait":"3h"}`, 400},
		{"batch", "POST", "/api/v1/webhooks", "admin", `{"collection":"drop","url":"https://hooks.example","batch":100000}`, 400},
		{"not JSON", "POST", "/api/v1/webhooks", "admin", `collection=drop`, 400},
		{"no collection", "POST", "/api/v1/webhooks", "admin", `{"collection":"nope","url":"https://hooks.example"}`, 404},
		{"unknown", "GET", "/api/v1/webhooks/0f5c2a9e-3b1d-4c6e-8a7f-1e2d3c4b5a60", "admin", "", 404},
		{"unknown delete", "DELETE", "/api/v1/webhooks/x", "admin", "", 404},
		{"unknown test", "POST", "/api/v1/webhooks/x/test", "admin", "", 404},
		{"method", "PUT", "/api/v1/webhooks", "admin", "", 405},
	}
	for _, tt := range tests {
		var body io.Reader
		if tt.body != "" {
			body = strings.NewReader(tt.body)
		}
		if r := e.rest(t, tt.method, tt.path, tt.key, body); r.status != tt.want {
			t.Errorf("%s: %s %s = %d %s, want %d", tt.name, tt.method, tt.path, r.status, r.body, tt.want)
		}
	}
	// A public-looking name passes; its addresses are checked when it is dialled.
	r := e.rest(t, "POST", "/api/v1/webhooks", "admin", strings.NewReader(
		`{"collection":"drop","url":"https://hooks.example/x","secret":"my-secret"}`))
	var v webhook.View
	json.Unmarshal(r.body, &v)
	if r.status != http.StatusCreated || v.Secret != "my-secret" || v.MaxWait != "5s" || v.Batch != 100 {
		t.Errorf("create with defaults: %d %s", r.status, r.body)
	}
}
