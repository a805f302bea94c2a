package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"hail/store/postgres/pgtest"
)

// writeBundle writes a bundle of n indicators and returns its path.
func writeBundle(t *testing.T, n int) string {
	t.Helper()
	var objs []string
	for i := 0; i < n; i++ {
		objs = append(objs, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-1111-4222-8333-444455556666",`+
			`"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.%d']",`+
			`"pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`, i, i%256))
	}
	p := filepath.Join(t.TempDir(), "bundle.json")
	body := `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[` + strings.Join(objs, ",") + `]}`
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCopyToPostgres(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hail.db")
	mustHail(t, "import", "--db", db, writeBundle(t, 30))
	dsn := pgtest.Schema(t)
	out := mustHail(t, "copy", "--from", db, "--to", dsn, "--batch", "7")
	for _, want := range []string{
		"created 1 API roots, 7 collections, 1 keys, 0 statuses, 0 plans, 0 feeds, 0 webhooks; wrote 90 object versions",
		"verified: every collection holds the same objects and versions in both stores",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("copy output lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`default\s+30 objects\s+30 versions`).MatchString(out) {
		t.Errorf("copy output lacks the default collection's counts:\n%s", out)
	}
	from := mustHail(t, "collection", "list", "--db", db)
	to := mustHail(t, "collection", "list", "--postgres", dsn)
	if from != to {
		t.Errorf("collection list after the copy:\n%s\nwant, as the source lists:\n%s", to, from)
	}
	keys := mustHail(t, "key", "list", "--postgres", dsn)
	if want := mustHail(t, "key", "list", "--db", db); keys != want {
		t.Errorf("key list after the copy:\n%s\nwant, as the source lists:\n%s", keys, want)
	}
	// A second run finds everything there.
	out = mustHail(t, "copy", "--from", db, "--to", dsn)
	if !strings.Contains(out, "created 0 API roots, 0 collections, 0 keys, 0 statuses, 0 plans, 0 feeds, 0 webhooks; wrote 0 object versions") {
		t.Errorf("second copy:\n%s", out)
	}
}

func TestCopyArguments(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.db")
	for _, args := range [][]string{
		{"copy", "--from", missing, "--to", filepath.Join(t.TempDir(), "to.db")},
		{"copy", "--from", missing},
		{"copy", "--to", missing},
	} {
		if out, err := runHail(t, args...); err == nil {
			t.Errorf("hail %s succeeded:\n%s", strings.Join(args, " "), out)
		}
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("a copy from a missing file created it: %v", err)
	}
}
