package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hail"
	"hail/ingest"
	"hail/store"
	"hail/store/sqlite"
	"hail/taxii"
)

const pullCollection = "5a0c1f6e-3b1d-4c2a-9e7f-0d8b6a4c2e10"

func pullStore(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "hail.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if err := db.CreateAPIRoot(ctx, store.APIRoot{Name: "api"}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateCollection(ctx, store.Collection{ID: pullCollection, APIRoot: "api", Title: "Local"}); err != nil {
		t.Fatal(err)
	}
	return db
}

func pulled(n int) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-0000-4000-8000-000000000000",`+
		`"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '10.0.0.%d']",`+
		`"pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`, n, n%256))
}

// TestPuller feeds a Puller pages with good objects, a bad one, a STIX 2.0
// one and a repeat, in transactions that span pages, and checks its
// counts, what the collection holds and the mark it reports as stored.
func TestPuller(t *testing.T) {
	db := pullStore(t)
	ctx := context.Background()
	var rejected []string
	p := &ingest.Puller{Store: db, CollectionID: pullCollection, BatchSize: 3,
		Reject: func(id, reason string) { rejected = append(rejected, id+": "+reason) }}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	p.Resume(start)
	v20 := json.RawMessage(`{"type":"indicator","id":"indicator--00000063-0000-4000-8000-000000000000","created":"2017-01-01T00:00:00.000Z",` +
		`"modified":"2017-01-01T00:00:00.000Z","labels":["malicious-activity"],"pattern":"[domain-name:value = 'a.example']","valid_from":"2017-01-01T00:00:00Z"}`)
	pages := [][]json.RawMessage{
		{pulled(1), pulled(2)},
		{json.RawMessage(`{"type":"indicator","id":"indicator--bad"}`), pulled(3), pulled(3)},
		{v20, pulled(4)},
	}
	for i, page := range pages {
		if err := p.Add(ctx, page, start.Add(time.Duration(i+1)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	s := p.Summary()
	if s.Read != 7 || s.Added != 5 || s.Duplicates != 1 || s.Rejected != 1 || s.Converted != 1 || len(s.Rejections) != 1 {
		t.Errorf("summary %+v, want 7 read, 5 added, 1 duplicate, 1 rejected, 1 converted", s)
	}
	if len(rejected) != 1 || rejected[0][:len("indicator--bad: ")] != "indicator--bad: " {
		t.Errorf("rejections reported: %q", rejected)
	}
	// Just before the last page's mark: the remote may hold more objects
	// added at that instant than the page did.
	if got, want := p.Stored(), taxii.JustBefore(start.Add(3*time.Hour)); !got.Equal(want) || p.Failed() != nil {
		t.Errorf("stored mark %v (%v), want %v", got, p.Failed(), want)
	}
	page, err := db.Objects(ctx, pullCollection, store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 5 || page.Entries[4].Object.ID != "indicator--00000004-0000-4000-8000-000000000000" ||
		page.Entries[3].Object.SpecVersion != "2.1" {
		t.Errorf("the collection holds %d objects, in the wrong order or unconverted", len(page.Entries))
	}
}

// TestPullerStoreFailure checks that when a batch cannot be stored the
// Puller keeps the failure and reports as stored the mark it resumed from.
func TestPullerStoreFailure(t *testing.T) {
	db := pullStore(t)
	ctx := context.Background()
	p := &ingest.Puller{Store: db, CollectionID: "5a0c1f6e-3b1d-4c2a-9e7f-0d8b6a4c2eff", BatchSize: 2}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	p.Resume(start)
	err := p.Add(ctx, []json.RawMessage{pulled(1)}, start.Add(time.Hour))
	for i := 2; err == nil && i < 10; i++ {
		err = p.Add(ctx, []json.RawMessage{pulled(i)}, start.Add(time.Duration(i)*time.Hour))
	}
	if err == nil {
		err = p.Finish(ctx)
	}
	if hail.ErrorCode(err) != hail.ENOTFOUND || hail.ErrorCode(p.Failed()) != hail.ENOTFOUND {
		t.Errorf("error %v, failed %v; want %s for the missing collection", err, p.Failed(), hail.ENOTFOUND)
	}
	if !p.Stored().Equal(start) || p.Summary().Added != 0 {
		t.Errorf("stored mark %v, added %d; want %v and none", p.Stored(), p.Summary().Added, start)
	}
	if err := p.Finish(ctx); hail.ErrorCode(err) != hail.ENOTFOUND {
		t.Errorf("Finish after the failure: %v, want the failure again", err)
	}
}

// TestRejectionsBounded checks that the Importer and the Puller count every
// rejection but keep only the first MaxRejections.
func TestRejectionsBounded(t *testing.T) {
	ctx := context.Background()
	list := "not an ioc 1\nnot an ioc 2\n10.0.0.1\nnot an ioc 3\nnot an ioc 4\n"
	im := &ingest.Importer{Store: pullStore(t), CollectionID: pullCollection, MaxRejections: 2}
	s, err := im.ImportList(ctx, strings.NewReader(list), ingest.ListOptions{Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Rejected != 4 || len(s.Rejections) != 2 || s.Rejections[1].Where != "line 2" || s.Added != 1 {
		t.Errorf("list import: added %d, rejected %d, kept %+v; want 1 added, 4 rejected, lines 1 and 2 kept", s.Added, s.Rejected, s.Rejections)
	}

	p := &ingest.Puller{Store: pullStore(t), CollectionID: pullCollection, MaxRejections: 1}
	bad := json.RawMessage(`{"type":"indicator","id":"indicator--bad"}`)
	if err := p.Add(ctx, []json.RawMessage{bad, pulled(1), bad, bad}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := p.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	if s := p.Summary(); s.Rejected != 3 || len(s.Rejections) != 1 || s.Added != 1 {
		t.Errorf("pull: added %d, rejected %d, kept %d; want 1, 3 and 1", s.Added, s.Rejected, len(s.Rejections))
	}
}
