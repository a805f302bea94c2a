package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestCollectionFilter(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "hail.db")
	list := filepath.Join(dir, "iocs.txt")
	if err := os.WriteFile(list, []byte("198.51.100.1\n198.51.100.2\n2001:db8::1\nevil.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustHail(t, "import", "--db", db, "--confidence", "80", "--source", "ACME", list)

	// Filled from what the store holds when it is made.
	out := mustHail(t, "collection", "add", "--db", db, "--alias", "sure-ips", "--title", "Sure IPs",
		"--filter", "observables=ipv4,ipv6 min_confidence=50")
	if !strings.Contains(out, "created filter collection") || !strings.Contains(out, "holding 4 objects") {
		// Three indicators and the identity they name as their source.
		t.Errorf("collection add --filter said:\n%s\nwant a filter collection holding 4 objects", out)
	}
	for _, bad := range []string{"observables=ip", `{"min_confidence":"high"}`, "colour=red"} {
		if out, err := runHail(t, "collection", "add", "--db", db, "--alias", "bad", "--filter", bad); err == nil ||
			!strings.Contains(err.Error(), "--filter") {
			t.Errorf("--filter %q: %v, want an error naming --filter\n%s", bad, err, out)
		}
	}

	out = mustHail(t, "collection", "list", "--db", db, "--json")
	var rows []collectionRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("collection list --json: %v\n%s", err, out)
	}
	got := map[string]collectionRow{}
	for _, r := range rows {
		got[r.Alias] = r
	}
	want := map[string]struct {
		kind, filter string
		objects      int64
	}{
		"default":  {"explicit", "", 5},
		"all":      {"filter", "{}", 5},
		"ips":      {"filter", `{"observables":["ipv4","ipv6","cidr"]}`, 4},
		"domains":  {"filter", `{"observables":["domain"]}`, 2},
		"cves":     {"filter", `{"types":["vulnerability"]}`, 0},
		"sure-ips": {"filter", `{"observables":["ipv4","ipv6"],"min_confidence":50}`, 4},
	}
	for alias, w := range want {
		r := got[alias]
		if r.Kind != w.kind || r.Filter != w.filter || r.Objects != w.objects {
			t.Errorf("%s listed as %+v, want kind %s, filter %s, %d objects", alias, r, w.kind, w.filter, w.objects)
		}
	}
	table := mustHail(t, "collection", "list", "--db", db)
	if !strings.Contains(table, "FILTER") || !strings.Contains(table, `{"observables":["ipv4","ipv6"],"min_confidence":50}`) {
		t.Errorf("collection list does not show filters:\n%s", table)
	}

	// A new filter redoes what the collection holds: the domain and the
	// identity it names as its source.
	out = mustHail(t, "collection", "set", "sure-ips", "--db", db, "--filter", "observables=domain min_confidence=50")
	if !strings.Contains(out, "refiltered: it holds 2 objects") {
		t.Errorf("collection set --filter said:\n%s", out)
	}
	for _, bad := range [][]string{{"sure-ips", "--filter", "observables=ip"}, {"default", "--filter", "{}"}} {
		args := append([]string{"collection", "set", bad[0], "--db", db}, bad[1:]...)
		if out, err := runHail(t, args...); err == nil || !strings.Contains(err.Error(), "--filter") {
			t.Errorf("collection set %v: %v, want an error naming --filter\n%s", bad, err, out)
		}
	}
	table = mustHail(t, "collection", "list", "--db", db)
	if !strings.Contains(table, `{"observables":["domain"],"min_confidence":50}`) {
		t.Errorf("collection list after the refilter:\n%s", table)
	}
}

// TestCollectionSet changes a served collection from another process: the
// server shows the new title, and a collection made private stops being
// readable without a key.
func TestCollectionSet(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hail.db")
	const id = "3b7c1a4e-8f2d-4c6b-9e1a-5d3f7b2c8a41"
	mustHail(t, "collection", "add", "--db", db, "--id", id, "--alias", "ingest", "--title", "Ingest", "--public")
	out := mustHail(t, "key", "add", "--db", db, "--name", "member", "--read", "ingest")
	key := regexp.MustCompile(`hail_\S+`).FindString(out)
	base, _ := startServer(t, db)
	url := base + "/taxii2/api/collections/" + id + "/"
	if resp, body := get(t, url, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("public collection without a key: %d %s", resp.StatusCode, body)
	}

	out = mustHail(t, "collection", "set", "ingest", "--db", db, "--title", "Ingest (members)", "--public=false",
		"--alias", "members")
	if !strings.Contains(out, `alias "members", title "Ingest (members)", public false`) {
		t.Errorf("collection set said:\n%s", out)
	}
	// The server holds collections for cache.DefaultTTL.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, _ := get(t, url, "")
		if resp.StatusCode == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("private collection without a key: status %d, want 401", resp.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, body := get(t, base+"/taxii2/api/collections/members/", key)
	var c struct{ Title string }
	json.Unmarshal(body, &c)
	if resp.StatusCode != http.StatusOK || c.Title != "Ingest (members)" {
		t.Errorf("collection with a reader's key: %d %s, want the new title", resp.StatusCode, body)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"members"}, "nothing to change"},
		{[]string{"nosuch", "--title", "X"}, "not found"},
		{[]string{"members", "--title", ""}, "title cannot be empty"},
		{[]string{"members", "--alias", "default"}, "already taken"},
	} {
		args := append([]string{"collection", "set"}, tc.args[0], "--db", db)
		args = append(args, tc.args[1:]...)
		if out, err := runHail(t, args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("collection set %v: %v, want an error saying %q\n%s", tc.args, err, tc.want, out)
		}
	}
}

// TestCollectionRemovePrunes removes the collection holding the only
// indicators with IP addresses: the identity they named, which another
// collection still holds, leaves the ips filter collection too.
func TestCollectionRemovePrunes(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "hail.db")
	ips, domains := filepath.Join(dir, "ips.txt"), filepath.Join(dir, "domains.txt")
	os.WriteFile(ips, []byte("198.51.100.1\n198.51.100.2\n"), 0o600)
	os.WriteFile(domains, []byte("evil.example\n"), 0o600)
	mustHail(t, "collection", "add", "--db", db, "--alias", "b", "--title", "B")
	mustHail(t, "import", "--db", db, "--collection", "b", "--source", "ACME", ips)
	mustHail(t, "import", "--db", db, "--source", "ACME", domains)
	if out := mustHail(t, "collection", "list", "--db", db); !regexp.MustCompile(`ips\s.*\s3\s+3\s`).MatchString(out) {
		t.Fatalf("ips does not hold the two indicators and their creator:\n%s", out)
	}
	out := mustHail(t, "collection", "rm", "--db", db, "b")
	if !strings.Contains(out, "pruned 1 identities and marking definitions") {
		t.Errorf("collection rm said:\n%s\nwant one identity pruned", out)
	}
	out = mustHail(t, "collection", "list", "--db", db)
	if !regexp.MustCompile(`ips\s.*\s0\s+0\s`).MatchString(out) || !regexp.MustCompile(`domains\s.*\s2\s+2\s`).MatchString(out) {
		t.Errorf("after rm: ips should hold nothing, domains the indicator and its creator:\n%s", out)
	}
	// Nothing is left to prune, in one collection or in the root.
	for _, args := range [][]string{{"ips"}, nil} {
		if out := mustHail(t, append([]string{"collection", "prune", "--db", db}, args...)...); !strings.Contains(out, "pruned 0 ") {
			t.Errorf("collection prune %v said:\n%s", args, out)
		}
	}
	if _, err := runHail(t, "collection", "prune", "--db", db, "default"); err == nil || !strings.Contains(err.Error(), "not a filter collection") {
		t.Errorf("collection prune of an explicit collection: %v", err)
	}
}
