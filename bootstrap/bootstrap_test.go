package bootstrap_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"hail/bootstrap"
	"hail/stix"
	"hail/store"
	"hail/store/sqlite"
)

func TestEnsure(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "hail.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	res, err := bootstrap.Ensure(ctx, db, now)
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	if !res.Created || res.AdminKey == "" {
		t.Errorf("first Ensure = %+v, want Created and an admin key", res)
	}
	cols, err := db.Collections(ctx, bootstrap.APIRootName)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ alias, title, kind string }{
		{"default", "Default collection", store.KindExplicit},
		{"all", "All intelligence", store.KindFilter},
		{"ips", "IP indicators", store.KindFilter},
		{"hashes", "File hash indicators", store.KindFilter},
		{"domains", "Domain indicators", store.KindFilter},
		{"urls", "URL indicators", store.KindFilter},
		{"cves", "Vulnerabilities", store.KindFilter},
	}
	if len(cols) != len(want) {
		t.Fatalf("%d collections, want %d: %+v", len(cols), len(want), cols)
	}
	for i, w := range want {
		c := cols[i]
		if c.Alias != w.alias || c.Title != w.title || c.Kind != w.kind || !stix.ValidUUIDv4(c.ID) {
			t.Errorf("collection %d = %+v, want alias %q, title %q, kind %q and a UUIDv4 id", i, c, w.alias, w.title, w.kind)
		}
	}
	again, err := bootstrap.Ensure(ctx, db, now)
	if err != nil || again.Created || again.AdminKey != "" {
		t.Errorf("second Ensure = %+v, %v; want nothing done", again, err)
	}
	if cols2, _ := db.Collections(ctx, bootstrap.APIRootName); len(cols2) != len(want) {
		t.Errorf("second Ensure: %d collections, want %d", len(cols2), len(want))
	}

	// What is added to default is sorted into the filter collections.
	var objs []stix.Object
	for _, raw := range []string{
		`{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`,
		`{"type":"indicator","spec_version":"2.1","id":"indicator--9e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[file:hashes.'SHA-256' = '` + "aa" + `']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`,
		`{"type":"indicator","spec_version":"2.1","id":"indicator--ae2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e'] OR [url:value = 'http://a.example/x'] OR [domain-name:value = 'a.example']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`,
		`{"type":"vulnerability","spec_version":"2.1","id":"vulnerability--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","name":"CVE-2016-1234","external_references":[{"source_name":"cve","external_id":"CVE-2016-1234"}]}`,
	} {
		o, err := stix.Parse([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
	if _, err := db.AddObjects(ctx, cols[0].ID, objs); err != nil {
		t.Fatalf("AddObjects: %v", err)
	}
	wantCounts := map[string]int64{"default": 4, "all": 4, "ips": 1, "hashes": 1, "domains": 1, "urls": 1, "cves": 1}
	for _, c := range cols {
		st, err := db.CollectionStats(ctx, c.ID)
		if err != nil || st.Objects != wantCounts[c.Alias] {
			t.Errorf("%s holds %d objects (%v), want %d", c.Alias, st.Objects, err, wantCounts[c.Alias])
		}
	}
}
