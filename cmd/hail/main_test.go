package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"hail/store/cache"
)

// syncBuffer is a bytes.Buffer safe for a server goroutine writing while the
// test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func noenv(string) string { return "" }

// hail runs one command to completion and returns its stdout.
func runHail(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, noenv, strings.NewReader(""), &out, &errOut)
	return out.String() + errOut.String(), err
}

func mustHail(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runHail(t, args...)
	if err != nil {
		t.Fatalf("hail %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// startServer runs `hail serve` on a free port and returns its base URL and
// the admin key printed on first start.
func startServer(t *testing.T, db string) (base, key string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, noenv, strings.NewReader(""), &out, &errOut)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v", err)
		}
	})
	discovery := regexp.MustCompile(`discovery:\s+(http://\S+)/taxii2/`)
	keyLine := regexp.MustCompile(`(?m)^\s+(hail_\S+)$`)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		// The "serving" log line comes after everything is printed.
		if strings.Contains(errOut.String(), `"msg":"serving"`) {
			s := out.String()
			m := discovery.FindStringSubmatch(s)
			if m == nil {
				t.Fatalf("no discovery URL in:\n%s", s)
			}
			if k := keyLine.FindStringSubmatch(s); k != nil {
				key = k[1]
			}
			return m[1], key
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited early: %v\n%s", err, errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("serve printed no discovery URL:\n%s\n%s", out.String(), errOut.String())
	return "", ""
}

func get(t *testing.T, url, key string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	if key != "" {
		req.SetBasicAuth("apikey", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp, b.Bytes()
}

func TestServeFirstStartPrintsAWorkingKey(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hail.db")
	base, key := startServer(t, db)

	resp, _ := get(t, base+"/taxii2/", "")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("discovery without key: status %d, want 401", resp.StatusCode)
	}
	resp, body := get(t, base+"/taxii2/", key)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery with the printed key: status %d, body %s", resp.StatusCode, body)
	}
	var d struct {
		Default  string   `json:"default"`
		APIRoots []string `json:"api_roots"`
	}
	if err := json.Unmarshal(body, &d); err != nil || d.Default != base+"/taxii2/api/" {
		t.Errorf("discovery = %s, want default %s/taxii2/api/", body, base)
	}
	resp, body = get(t, base+"/taxii2/api/collections/default/", key)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"alias":"default"`) {
		t.Errorf("default collection: %d %s", resp.StatusCode, body)
	}

	// The same key signs in to the dashboard, which lists the collections.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	form := strings.NewReader(url.Values{"key": {key}}.Encode())
	req, _ := http.NewRequest(http.MethodPost, base+"/ui/login", form)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := browser.Do(req) // follows the redirect to /ui/ with the cookie
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/ui/" || !strings.Contains(string(page), "Default collection") {
		t.Errorf("dashboard sign-in with the printed key: %d at %s\n%s", resp.StatusCode, resp.Request.URL, page)
	}
}

func TestSecondStartMakesNoNewKey(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hail.db")
	mustHail(t, "collection", "list", "--db", db) // creates nothing: list only reads
	out := mustHail(t, "key", "add", "--db", db, "--name", "soc1", "--read", "default")
	if !regexp.MustCompile(`(?m)^hail_\S+$`).MatchString(out) {
		t.Errorf("key add printed no key:\n%s", out)
	}
	keys := mustHail(t, "key", "list", "--db", db, "--json")
	var rows []keyRow
	if err := json.Unmarshal([]byte(keys), &rows); err != nil {
		t.Fatalf("key list --json: %v\n%s", err, keys)
	}
	if len(rows) != 2 || rows[0].Name != "admin" || rows[1].Name != "soc1" {
		t.Errorf("keys after bootstrap + add = %+v, want admin and soc1", rows)
	}
}

func TestCollectionCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hail.db")
	id := "2f3b6a8e-6c5d-4e1f-9a7b-0c1d2e3f4a5b"
	mustHail(t, "collection", "add", "--db", db, "--alias", "ingest", "--title", "Ingest", "--id", id, "--public")

	if _, err := runHail(t, "collection", "add", "--db", db, "--alias", "ingest", "--title", "Again"); err == nil {
		t.Error("a second collection with alias ingest was accepted")
	}
	if _, err := runHail(t, "collection", "add", "--db", db, "--alias", "x", "--id", "not-a-uuid"); err == nil {
		t.Error("a collection id that is not a UUIDv4 was accepted")
	}
	if _, err := runHail(t, "collection", "add", "--db", db, "--alias", "y", "--id", "2f3b6a8e-6c5d-1e1f-9a7b-0c1d2e3f4a5b"); err == nil {
		t.Error("a UUIDv1 collection id was accepted")
	}

	out := mustHail(t, "collection", "list", "--db", db, "--json")
	var rows []collectionRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("collection list --json: %v\n%s", err, out)
	}
	var found bool
	for _, r := range rows {
		if r.ID == id {
			found = true
			if r.Alias != "ingest" || r.Title != "Ingest" || !r.Public || r.Kind != "explicit" || r.Objects != 0 {
				t.Errorf("listed collection = %+v", r)
			}
		}
	}
	if !found {
		t.Errorf("collection %s not listed:\n%s", id, out)
	}
	table := mustHail(t, "collection", "list", "--db", db)
	if !strings.Contains(table, "ALIAS") || !strings.Contains(table, "ingest") {
		t.Errorf("table output:\n%s", table)
	}

	mustHail(t, "key", "add", "--db", db, "--name", "soc1", "--read", "ingest,default", "--write", "ingest")
	keys := mustHail(t, "key", "list", "--db", db)
	if !regexp.MustCompile(`soc1\s+false\s+ingest,default\s+ingest`).MatchString(keys) {
		t.Errorf("key list:\n%s", keys)
	}
	if _, err := runHail(t, "key", "add", "--db", db, "--name", "bad", "--read", "nosuch"); err == nil {
		t.Error("a key reading a missing collection was accepted")
	}

	mustHail(t, "collection", "rm", "--db", db, "ingest")
	if _, err := runHail(t, "collection", "rm", "--db", db, "ingest"); err == nil {
		t.Error("removing a removed collection succeeded")
	}
	keys = mustHail(t, "key", "list", "--db", db)
	if !strings.Contains(keys, "(removed)") {
		t.Errorf("key list after collection rm should mark the removed collection:\n%s", keys)
	}

	mustHail(t, "key", "revoke", "--db", db, "soc1")
	keys = mustHail(t, "key", "list", "--db", db)
	if !strings.Contains(keys, "revoked") {
		t.Errorf("key list after revoke:\n%s", keys)
	}
	if _, err := runHail(t, "key", "revoke", "--db", db, "soc1"); err == nil {
		t.Error("revoking a revoked key succeeded")
	}
}

func TestRevokedKeyIsRefused(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hail.db")
	out := mustHail(t, "key", "add", "--db", db, "--name", "soc1", "--read", "default")
	key := regexp.MustCompile(`hail_\S+`).FindString(out)
	base, _ := startServer(t, db)
	if resp, body := get(t, base+"/taxii2/api/collections/default/objects/", key); resp.StatusCode != http.StatusOK {
		t.Fatalf("soc1 reading default: %d %s", resp.StatusCode, body)
	}
	mustHail(t, "key", "revoke", "--db", db, "soc1")
	// The server holds keys for cache.DefaultTTL; the revocation, made by
	// another process, shows once that has passed.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, _ := get(t, base+"/taxii2/api/collections/default/objects/", key)
		if resp.StatusCode == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("revoked key: status %d, want 401 within %s", resp.StatusCode, cache.DefaultTTL)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestEnvironmentSetsFlags(t *testing.T) {
	db := filepath.Join(t.TempDir(), "env.db")
	getenv := func(k string) string {
		if k == "HAIL_DB" {
			return db
		}
		return ""
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"collection", "add", "--alias", "fromenv"}, getenv, nil, &out, &out); err != nil {
		t.Fatal(err, out.String())
	}
	list := mustHail(t, "collection", "list", "--db", db)
	if !strings.Contains(list, "fromenv") {
		t.Errorf("HAIL_DB was not used:\n%s", list)
	}
}

func TestUnknownCommand(t *testing.T) {
	if _, err := runHail(t, "frobnicate"); err == nil {
		t.Error("unknown command succeeded")
	}
	if out := mustHail(t, "version"); !strings.HasPrefix(out, "hail ") {
		t.Errorf("version printed %q", out)
	}
}
