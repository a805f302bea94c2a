package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"hail/server"
	"hail/store"
)

func TestFeedsGet(t *testing.T) {
	e := newEnv(t, server.Config{}, false)
	ctx := context.Background()
	for _, f := range []store.Feed{
		{Name: "peer", Kind: store.FeedTAXII21, URL: "https://taxii.example/api/", CollectionID: collDrop,
			TAXIICollection: "remote", Token: "secret-token", Every: time.Hour},
		{Name: "list", Kind: store.FeedText, URL: "https://me:hunter2@lists.example/l.txt", CollectionID: collDrop,
			Every: 24 * time.Hour, List: store.FeedList{Source: "Lists", Snapshot: true}},
	} {
		if err := e.db.CreateFeed(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	run := store.FeedRun{Started: t0, Ended: t0.Add(2 * time.Second), Read: 6, Added: 4, Duplicates: 1, Rejected: 1,
		Rejections: []store.FeedRejection{{Where: "object 6", ID: "indicator--bad", Reason: "No pattern."}}}
	if err := e.db.FinishFeedRun(ctx, "peer", run, store.FeedMark{AddedAfter: t0.Add(-time.Minute)}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	r := e.rest(t, http.MethodGet, "/api/v1/feeds", "admin", nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var got struct{ Data []map[string]any }
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Data) != 2 {
		t.Fatalf("feeds %s, want 2", r.body)
	}
	list, peer := got.Data[0], got.Data[1]
	for k, want := range map[string]any{"name": "list", "kind": "txt", "url": "https://me:xxxxx@lists.example/l.txt",
		"auth": "none", "every": "24h0m0s", "snapshot": true, "source": "Lists", "next_run": nil, "last_run": nil} {
		if !reflect.DeepEqual(list[k], want) {
			t.Errorf("list feed %s = %v, want %v", k, list[k], want)
		}
	}
	wantRun := map[string]any{"started": "2025-06-01T12:00:00.000000Z", "ended": "2025-06-01T12:00:02.000000Z", "read": 6.0,
		"added": 4.0, "duplicates": 1.0, "rejected": 1.0, "revoked": 0.0, "not_modified": false, "error": "",
		"rejections": []any{map[string]any{"where": "object 6", "id": "indicator--bad", "reason": "No pattern."}}}
	for k, want := range map[string]any{"auth": "token", "every_seconds": 3600.0, "collection": collDrop,
		"taxii_collection": "remote", "next_run": "2025-06-01T13:00:00.000000Z",
		"mark": map[string]any{"added_after": "2025-06-01T11:59:00.000000Z"}, "last_run": wantRun} {
		if !reflect.DeepEqual(peer[k], want) {
			t.Errorf("peer feed %s = %#v, want %#v", k, peer[k], want)
		}
	}
	if body := string(r.body); strings.Contains(body, "secret-token") || strings.Contains(body, "hunter2") {
		t.Errorf("feeds listing shows a secret: %s", body)
	}

	// ?runs=N adds the latest runs, newest first.
	second := store.FeedRun{Started: t0.Add(time.Hour), Ended: t0.Add(time.Hour + time.Second), Error: "source down"}
	if err := e.db.FinishFeedRun(ctx, "peer", second, store.FeedMark{}, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	r = e.rest(t, http.MethodGet, "/api/v1/feeds?runs=5", "admin", nil)
	var withRuns struct {
		Data []struct {
			Name string
			Runs []struct {
				Started, Error string
				Rejections     []any
			}
		}
	}
	if err := json.Unmarshal(r.body, &withRuns); err != nil || len(withRuns.Data) != 2 {
		t.Fatalf("feeds with runs %s: %v", r.body, err)
	}
	if got := withRuns.Data[1].Runs; len(got) != 2 || got[0].Error != "source down" || got[1].Started != "2025-06-01T12:00:00.000000Z" ||
		got[0].Rejections == nil || len(got[0].Rejections) != 0 || len(got[1].Rejections) != 1 {
		t.Errorf("runs of peer %+v, want the failed run with an empty list of rejections, then the first with its one", got)
	}
	if got := withRuns.Data[0].Runs; len(got) != 0 {
		t.Errorf("runs of list %+v, want none", got)
	}
	if r := e.rest(t, http.MethodGet, "/api/v1/feeds?runs=1000", "admin", nil); r.status != http.StatusBadRequest {
		t.Errorf("runs=1000: status %d, want 400", r.status)
	}

	for key, want := range map[string]int{"": 401, "reader": 403} {
		if r := e.rest(t, http.MethodGet, "/api/v1/feeds/", key, nil); r.status != want {
			t.Errorf("GET /api/v1/feeds/ with key %q: %d, want %d", key, r.status, want)
		}
	}
}
