package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
}
