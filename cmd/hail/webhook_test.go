package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"hail/webhook"
)

// hookReceiver accepts deliveries signed with the secret it is given,
// counting objects once per delivery id.
type hookReceiver struct {
	mu       sync.Mutex
	secret   string
	objects  map[string]bool
	delivery map[string]bool
	bad      int
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !webhook.Verify(h.secret, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, time.Now(), time.Minute) {
		h.bad++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var env webhook.Envelope
	json.Unmarshal(body, &env)
	if h.delivery[env.Delivery] {
		return
	}
	h.delivery[env.Delivery] = true
	for _, o := range env.Objects {
		var obj struct{ ID string }
		json.Unmarshal(o, &obj)
		h.objects[obj.ID] = true
	}
}

func (h *hookReceiver) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.objects)
}

// serveArgs runs hail serve with extra flags until the test ends.
func serveArgs(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), noenv, strings.NewReader(""), &out, &errOut)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v", err)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(errOut.String(), `"msg":"serving"`) {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", errOut.String())
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited early: %v\n%s", err, errOut.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestWebhookCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "hail.db")
	recv := &hookReceiver{objects: map[string]bool{}, delivery: map[string]bool{}}
	srv := httptest.NewServer(recv)
	defer srv.Close()

	if out, err := runHail(t, "webhook", "add", "--db", db, "--collection", "all", "--url", srv.URL); err == nil ||
		!strings.Contains(err.Error(), "private") {
		t.Errorf("webhook add to loopback without --allow-private: %v\n%s", err, out)
	}
	if _, err := runHail(t, "webhook", "add", "--db", db, "--collection", "nope", "--url", "https://hooks.example"); err == nil {
		t.Errorf("webhook add to an unknown collection succeeded")
	}
	out := mustHail(t, "webhook", "add", "--db", db, "--collection", "all", "--url", srv.URL+"/hail",
		"--allow-private", "--max-wait", "0", "--batch", "2")
	m := regexp.MustCompile(`created webhook (\S+):`).FindStringSubmatch(out)
	s := regexp.MustCompile(`signing secret \(shown once\): (\S+)`).FindStringSubmatch(out)
	if m == nil || s == nil {
		t.Fatalf("webhook add said:\n%s\nwant the id and the secret", out)
	}
	id := m[1]
	recv.mu.Lock()
	recv.secret = s[1]
	recv.mu.Unlock()

	out = mustHail(t, "webhook", "test", "--db", db, "--allow-private", id)
	if !strings.Contains(out, ": ok (status 200") {
		t.Errorf("webhook test said:\n%s", out)
	}
	out = mustHail(t, "webhook", "list", "--db", db)
	if !strings.Contains(out, id) || !strings.Contains(out, srv.URL+"/hail") || !strings.Contains(out, "active") ||
		strings.Contains(out, s[1]) {
		t.Errorf("webhook list:\n%s\nwant the webhook, active, without its secret", out)
	}

	// hail serve delivers what hail import adds, from another store handle
	// and so without a wake-up: found by polling.
	serveArgs(t, "--db", db, "--webhook-allow-private", "--webhook-poll", "50ms")
	list := filepath.Join(dir, "iocs.txt")
	if err := os.WriteFile(list, []byte("198.51.100.1\n198.51.100.2\nevil.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustHail(t, "import", "--db", db, "--source", "ACME", list)
	deadline := time.Now().Add(20 * time.Second)
	for recv.count() < 4 && time.Now().Before(deadline) { // three indicators and their source
		time.Sleep(10 * time.Millisecond)
	}
	if n := recv.count(); n != 4 {
		t.Errorf("receiver got %d objects, want 4", n)
	}
	recv.mu.Lock()
	if recv.bad != 0 {
		t.Errorf("%d deliveries with a bad signature", recv.bad)
	}
	recv.mu.Unlock()

	out = mustHail(t, "webhook", "show", "--db", db, id)
	for _, want := range []string{"state       active", "delivery log (newest first):", "LATENCY", " ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("webhook show lacks %q:\n%s", want, out)
		}
	}
	var v webhook.View
	if err := json.Unmarshal([]byte(mustHail(t, "webhook", "show", "--db", db, "--json", "-n", "50", id)), &v); err != nil {
		t.Fatal(err)
	}
	objects := 0
	for _, a := range v.Log {
		if a.OK {
			objects += a.Objects
		}
	}
	if objects != 4 || v.Cursor == nil || v.Secret != "" {
		t.Errorf("show --json: %d objects in successful attempts, cursor %v, secret %q; want 4, a cursor, none", objects, v.Cursor, v.Secret)
	}

	mustHail(t, "webhook", "pause", "--db", db, "--reason", "receiver moving", id)
	if out := mustHail(t, "webhook", "list", "--db", db); !strings.Contains(out, "paused: receiver moving") {
		t.Errorf("list after pause:\n%s", out)
	}
	mustHail(t, "webhook", "resume", "--db", db, id)
	mustHail(t, "webhook", "rm", "--db", db, id)
	if _, err := runHail(t, "webhook", "show", "--db", db, id); err == nil {
		t.Errorf("show after rm succeeded")
	}
}

// TestWebhookSet moves a webhook to a new receiver with a new secret
// before anything was delivered: the server then delivers to the new
// receiver, signed with the new secret, what was added since the webhook
// was created, and nothing to the old one.
func TestWebhookSet(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "hail.db")
	old := &hookReceiver{objects: map[string]bool{}, delivery: map[string]bool{}, secret: "old-secret"}
	oldSrv := httptest.NewServer(old)
	defer oldSrv.Close()
	recv := &hookReceiver{objects: map[string]bool{}, delivery: map[string]bool{}}
	srv := httptest.NewServer(recv)
	defer srv.Close()

	out := mustHail(t, "webhook", "add", "--db", db, "--collection", "all", "--url", oldSrv.URL, "--secret", "old-secret",
		"--allow-private", "--max-wait", "0")
	id := regexp.MustCompile(`created webhook (\S+):`).FindStringSubmatch(out)[1]
	list := filepath.Join(dir, "iocs.txt")
	if err := os.WriteFile(list, []byte("198.51.100.7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustHail(t, "import", "--db", db, "--source", "ACME", list)

	for _, args := range [][]string{
		{id},
		{id, "--secret", "s", "--new-secret"},
		{id, "--batch", "-1"},
		{id, "--url", srv.URL},
		{id, "--url", "ftp://hooks.example/"},
		{"5f4e3d2c-1b0a-4c9d-8e7f-6a5b4c3d2e1f", "--batch", "5"},
	} {
		if out, err := runHail(t, append([]string{"webhook", "set", args[0], "--db", db}, args[1:]...)...); err == nil {
			t.Errorf("webhook set %q succeeded:\n%s", args, out)
		}
	}
	out = mustHail(t, "webhook", "set", id, "--db", db, "--url", srv.URL+"/new", "--new-secret", "--allow-private", "--batch", "5")
	s := regexp.MustCompile(`signing secret \(shown once\): (\S+)`).FindStringSubmatch(out)
	if s == nil || !strings.Contains(out, "to "+srv.URL+"/new, batches of 5") {
		t.Fatalf("webhook set said:\n%s", out)
	}
	recv.mu.Lock()
	recv.secret = s[1]
	recv.mu.Unlock()

	serveArgs(t, "--db", db, "--webhook-allow-private", "--webhook-poll", "50ms")
	deadline := time.Now().Add(20 * time.Second)
	for recv.count() < 2 && time.Now().Before(deadline) { // the indicator and its source
		time.Sleep(10 * time.Millisecond)
	}
	recv.mu.Lock()
	defer recv.mu.Unlock()
	if len(recv.objects) != 2 || recv.bad != 0 {
		t.Errorf("new receiver got %d objects and %d badly signed deliveries, want 2 and none", len(recv.objects), recv.bad)
	}
	if n := old.count(); n != 0 {
		t.Errorf("old receiver got %d objects after the move", n)
	}
}
