package main

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"hail/internal/pkitest"
)

func TestFeedCommands(t *testing.T) {
	r := newRemote(t)
	r.add(t, pullIndicator(1), pullIndicator(2))
	db := filepath.Join(t.TempDir(), "hail.db")

	out := mustHail(t, "feed", "add", "--db", db, "--name", "peer", "--url", r.url, "--kind", "taxii21",
		"--taxii-collection", "src", "--token", r.key, "--every", "2h")
	if !strings.Contains(out, `added feed "peer"`) {
		t.Errorf("feed add said:\n%s", out)
	}
	out = mustHail(t, "feed", "run", "--db", db, "peer")
	if !strings.Contains(out, "2 read, 2 added, 0 duplicate, 0 rejected") {
		t.Errorf("first run said:\n%s", out)
	}
	r.add(t, pullIndicator(3))
	out = mustHail(t, "feed", "run", "--db", db, "peer")
	if !strings.Contains(out, "1 read, 1 added") {
		t.Errorf("second run, from the mark, said:\n%s", out)
	}
	out = mustHail(t, "feed", "list", "--db", db)
	listed := out
	// A revision of an object mirrored before is a new version, and said so.
	r.add(t, bytes.Replace(pullIndicator(3), []byte(`"modified":"2024-01-01T00:00:00.000Z"`), []byte(`"modified":"2024-02-01T00:00:00.000Z"`), 1))
	out = mustHail(t, "feed", "run", "--db", db, "peer")
	if !strings.Contains(out, "1 read, 1 added") || !strings.Contains(out, "1 of those added are new versions") {
		t.Errorf("run of a revision said:\n%s", out)
	}
	out = listed
	if !regexp.MustCompile(`peer\s+taxii21\s+2h0m0s\s+\S+\s+\S+\s+1\s+1\s+0\s+0\s+0\s+0\s+added_after \S+\s+ok in`).MatchString(out) {
		t.Errorf("feed list:\n%s", out)
	}
	if strings.Contains(out, r.key) {
		t.Errorf("feed list shows the token:\n%s", out)
	}
	if ids := localIDs(t, db, "default"); len(ids) != 4 {
		t.Errorf("local collection holds %d versions, want 4 (of 3 objects)", len(ids))
	}

	out = mustHail(t, "feed", "runs", "--db", db, "peer")
	if !regexp.MustCompile(`(?s)STARTED.*\n\S+\s+1\s+1\s+1\s+0\s+0\s+0\s+ok in.*\n\S+\s+1\s+1\s+0\s+0\s+0\s+0\s+ok in.*\n\S+\s+2\s+2\s+0\s+0\s+0\s+0\s+ok in`).MatchString(out) {
		t.Errorf("feed runs, newest first:\n%s", out)
	}

	mustHail(t, "feed", "rm", "--db", db, "peer")
	if out := mustHail(t, "feed", "list", "--db", db); !strings.Contains(out, "no feeds") {
		t.Errorf("feed list after rm:\n%s", out)
	}
	if _, err := runHail(t, "feed", "rm", "--db", db, "peer"); err == nil {
		t.Errorf("feed rm of a missing feed succeeded")
	}
}

func TestFeedAddRefusals(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "hail.db")
	notPEM := filepath.Join(dir, "ca.txt")
	os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600)
	for _, args := range [][]string{
		{"--name", "x", "--url", "https://x/", "--kind", "txt", "--ca", notPEM},
		{"--name", "x", "--url", "https://x/", "--kind", "txt", "--ca", filepath.Join(dir, "missing.pem")},
		{"--name", "x", "--url", "http://x/", "--kind", "rss"},
		{"--name", "x", "--url", "http://x/", "--kind", "txt", "--token", "t", "--user", "u"},
		{"--name", "x", "--url", "http://x/", "--kind", "txt", "--collection", "ips"},
		{"--name", "x", "--url", "http://x/", "--kind", "txt", "--snapshot"},
		{"--name", "x", "--url", "http://x/", "--kind", "csv", "--all-versions"},
		{"--name", "x", "--url", "https://x/", "--kind", "txt", "--cert", notPEM},
		{"--name", "x", "--url", "https://x/", "--kind", "txt", "--cert", notPEM, "--key", notPEM},
		{"--name", "x", "--url", "http://x/", "--kind", "taxii21"},
		{"--name", "x", "--url", "http://x/", "--kind", "txt", "--every", "10s"},
		{"--name", "x", "--url", "http://x/", "--kind", "txt", "--tlp", "purple"},
		{"--name", "-x", "--url", "http://x/", "--kind", "txt"},
		{"--name", "x", "--url", "http://x/", "--kind", "txt", "--all-attributes"},
		{"--name", "x", "--url", "http://x/", "--kind", "txt", "--confidence", "101"},
		{"--url", "http://x/", "--kind", "txt"},
	} {
		if out, err := runHail(t, append([]string{"feed", "add", "--db", db}, args...)...); err == nil {
			t.Errorf("feed add %q succeeded:\n%s", args, out)
		}
	}
	if out := mustHail(t, "feed", "list", "--db", db); !strings.Contains(out, "no feeds") {
		t.Errorf("feed list after refusals:\n%s", out)
	}
}

// TestFeedAddCA runs a list feed from a TLS source whose certificate only
// the --ca file given to feed add signs.
func TestFeedAddCA(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "203.0.113.9")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	dir := t.TempDir()
	db := filepath.Join(dir, "hail.db")
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(ca, []byte(pkitest.ServerPEM(srv)), 0o600)
	mustHail(t, "feed", "add", "--db", db, "--name", "private", "--url", srv.URL, "--kind", "txt", "--ca", ca)
	if out := mustHail(t, "feed", "run", "--db", db, "private"); !strings.Contains(out, "1 read, 1 added") {
		t.Errorf("run of a feed with its CA said:\n%s", out)
	}
	mustHail(t, "feed", "add", "--db", db, "--name", "public-roots", "--url", srv.URL, "--kind", "txt")
	if out, err := runHail(t, "feed", "run", "--db", db, "public-roots"); err == nil || !strings.Contains(out+err.Error(), "certificate") {
		t.Errorf("run of a feed without the CA: %v\n%s", err, out)
	}
}

func TestFeedRunReportsAFailingSource(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	db := filepath.Join(t.TempDir(), "hail.db")
	mustHail(t, "feed", "add", "--db", db, "--name", "down", "--url", srv.URL, "--kind", "csv")
	out, err := runHail(t, "feed", "run", "--db", db, "down")
	if err == nil || !strings.Contains(err.Error(), "503 Service Unavailable") {
		t.Errorf("run of a failing source: %v\n%s", err, out)
	}
	if out := mustHail(t, "feed", "list", "--db", db); !strings.Contains(out, "error: ") {
		t.Errorf("feed list does not show the failure:\n%s", out)
	}
}

func TestServeRunsDueFeeds(t *testing.T) {
	hits := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits <- r.Header.Get("If-None-Match")
		w.Header().Set("ETag", `"1"`)
		fmt.Fprint(w, "203.0.113.9\n")
	}))
	defer srv.Close()
	db := filepath.Join(t.TempDir(), "hail.db")
	mustHail(t, "feed", "add", "--db", db, "--name", "list", "--url", srv.URL, "--kind", "txt", "--source", "Served")
	startServer(t, db)
	select {
	case <-hits:
	case <-time.After(30 * time.Second):
		t.Fatal("hail serve did not run the due feed")
	}
	// The run is recorded once it ends: poll the list until it shows.
	deadline := time.Now().Add(30 * time.Second)
	out := ""
	for time.Now().Before(deadline) {
		out = mustHail(t, "feed", "list", "--db", db)
		if strings.Contains(out, `etag "1"`) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !regexp.MustCompile(`list\s+txt\s+1h0m0s\s+\S+\s+\S+\s+1\s+1\s+0\s+0\s+0\s+0\s+etag "1"\s+ok`).MatchString(out) {
		t.Errorf("feed list after the server ran it:\n%s", out)
	}
}

func TestImportSnapshotRevokesDropped(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "hail.db")
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	full := write("full.txt", "203.0.113.1\n203.0.113.2\n198.51.100.0/24\n")
	short := write("short.txt", "203.0.113.2\n")
	out := mustHail(t, "import", "--db", db, "--source", "Acme", "--snapshot", full)
	if !strings.Contains(out, `0 indicators of "Acme" revoked`) {
		t.Errorf("first snapshot import:\n%s", out)
	}
	out = mustHail(t, "import", "--db", db, "--source", "Acme", "--snapshot", short)
	if !strings.Contains(out, `2 indicators of "Acme" revoked`) {
		t.Errorf("second snapshot import:\n%s", out)
	}
	if _, err := runHail(t, "import", "--db", db, "--snapshot", short); err == nil {
		t.Errorf("--snapshot without --source succeeded")
	}
}

// TestFeedRunListsRejections: a run's first rejections, with their line
// and reason, are printed by feed run, kept with the run and printed by
// feed runs, with the count of the rest.
func TestFeedRunListsRejections(t *testing.T) {
	var list strings.Builder
	list.WriteString("203.0.113.9\n")
	for i := range 12 {
		fmt.Fprintf(&list, "not-an-ioc-%d\n", i)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, list.String())
	}))
	defer srv.Close()
	db := filepath.Join(t.TempDir(), "hail.db")
	mustHail(t, "feed", "add", "--db", db, "--name", "list", "--url", srv.URL, "--kind", "txt", "--source", "Lists")
	out := mustHail(t, "feed", "run", "--db", db, "list")
	if !strings.Contains(out, "13 read, 1 added, 0 duplicate, 12 rejected") || !strings.Contains(out, "  line 2: ") ||
		!strings.Contains(out, "  and 2 more\n") || strings.Contains(out, "line 12:") {
		t.Errorf("feed run said:\n%s", out)
	}
	out = mustHail(t, "feed", "runs", "--db", db, "list")
	if !strings.Contains(out, "rejected by the run of ") || strings.Count(out, "  line ") != 10 || !strings.Contains(out, "not-an-ioc-0") {
		t.Errorf("feed runs said:\n%s", out)
	}
}

// TestFeedSet rotates a TAXII feed's credentials: the next run reads from
// the mark with the new key, fetching nothing again; a refused change
// leaves the feed as it was; --reset-mark starts it over.
func TestFeedSet(t *testing.T) {
	r := newRemote(t)
	r.add(t, pullIndicator(1), pullIndicator(2))
	db := filepath.Join(t.TempDir(), "hail.db")
	mustHail(t, "feed", "add", "--db", db, "--name", "peer", "--url", r.url, "--kind", "taxii21",
		"--taxii-collection", "src", "--user", "apikey", "--password", "wrong")
	if _, err := runHail(t, "feed", "run", "--db", db, "peer"); err == nil {
		t.Fatalf("run with a wrong password succeeded")
	}
	out := mustHail(t, "feed", "set", "peer", "--db", db, "--token", r.key, "--every", "1d")
	if !strings.Contains(out, `feed "peer": taxii21 `+r.url+" every 24h0m0s") {
		t.Errorf("feed set said:\n%s", out)
	}
	if out := mustHail(t, "feed", "run", "--db", db, "peer"); !strings.Contains(out, "2 read, 2 added") {
		t.Errorf("run with the new token said:\n%s", out)
	}
	r.add(t, pullIndicator(3))
	mustHail(t, "feed", "set", "peer", "--db", db, "--token", r.key) // the mark stays
	if out := mustHail(t, "feed", "run", "--db", db, "peer"); !strings.Contains(out, "1 read, 1 added") {
		t.Errorf("run after a second rotation, from the mark, said:\n%s", out)
	}
	for _, args := range [][]string{
		{"peer", "--every", "1s"},
		{"peer", "--token", "t", "--user", "u"},
		{"peer", "--cert", filepath.Join(t.TempDir(), "missing.pem"), "--key", "x"},
		{"missing", "--every", "1h"},
		{"peer"},
	} {
		if out, err := runHail(t, append([]string{"feed", "set", args[0], "--db", db}, args[1:]...)...); err == nil {
			t.Errorf("feed set %q succeeded:\n%s", args, out)
		}
	}
	mustHail(t, "feed", "set", "peer", "--db", db, "--reset-mark")
	if out := mustHail(t, "feed", "run", "--db", db, "peer"); !strings.Contains(out, "3 read, 0 added, 3 duplicate") {
		t.Errorf("run after --reset-mark said:\n%s", out)
	}
}
