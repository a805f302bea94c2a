package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"hail/server"
	"hail/store"
)

// TestDeletePrunesFilterCollections deletes the only indicator that names
// an identity: the filter collection that held both loses the identity at
// the next PruneDue, which hail serve calls every server.PruneInterval,
// of this server or of another on the same store.
func TestDeletePrunesFilterCollections(t *testing.T) {
	e := newEnv(t, server.Config{}, false)
	ctx := context.Background()
	const ips = "5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f"
	if err := e.db.CreateCollection(ctx, store.Collection{ID: ips, APIRoot: "api", Alias: "ips", Title: "IPs",
		Kind: store.KindFilter, Filter: "observables=ipv4"}); err != nil {
		t.Fatal(err)
	}
	org := "identity--" + uuidN(1)
	ind := "indicator--" + uuidN(2)
	e.seed(t, collRW,
		`{"type":"identity","spec_version":"2.1","id":"`+org+`","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"ACME"}`,
		`{"type":"indicator","spec_version":"2.1","id":"`+ind+`","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",`+
			`"pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","created_by_ref":"`+org+`"}`)
	held := func() []string {
		t.Helper()
		r := e.get(t, "/taxii2/api/collections/ips/objects/", "admin")
		if r.status != http.StatusOK {
			t.Fatalf("GET ips: %d %s", r.status, r.body)
		}
		var env struct{ Objects []struct{ ID string } }
		if err := json.Unmarshal(r.body, &env); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, o := range env.Objects {
			ids = append(ids, o.ID)
		}
		slices.Sort(ids)
		return ids
	}
	if got := held(); !slices.Equal(got, []string{org, ind}) {
		t.Fatalf("ips holds %v, want the indicator and its creator", got)
	}
	if n, err := e.h.PruneDue(ctx); err != nil || n != 0 {
		t.Errorf("PruneDue before any deletion = %d, %v; want 0", n, err)
	}

	if r := e.do(t, http.MethodDelete, "/taxii2/api/collections/rw/objects/"+ind+"/", e.auth("admin"), nil); r.status != http.StatusOK {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	if got := held(); !slices.Equal(got, []string{org}) {
		t.Fatalf("after the deletion ips holds %v, want the creator left behind", got)
	}
	// The store keeps the due prune: a server started afresh on it, as
	// after a restart or on another replica, does it.
	restarted := server.New(server.Config{}, e.db, nil)
	if n, err := restarted.PruneDue(ctx); err != nil || n != 1 {
		t.Errorf("PruneDue of a new server on the store = %d, %v; want 1", n, err)
	}
	if got := held(); len(got) != 0 {
		t.Errorf("after PruneDue ips holds %v, want nothing", got)
	}
	if n, err := e.h.PruneDue(ctx); err != nil || n != 0 {
		t.Errorf("PruneDue again = %d, %v; want 0: nothing was deleted since", n, err)
	}
}

// TestPruneReplicasTakeTurns runs two servers on one store, as replicas:
// when a root is due, the first to call PruneDue prunes, and the other,
// calling at the same moment, leaves the root due rather than prune it
// again; half a PruneInterval later it may prune.
func TestPruneReplicasTakeTurns(t *testing.T) {
	e := newEnv(t, server.Config{}, true)
	ctx := context.Background()
	const ips = "5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f"
	if err := e.db.CreateCollection(ctx, store.Collection{ID: ips, APIRoot: "api", Alias: "ips", Title: "IPs",
		Kind: store.KindFilter, Filter: "observables=ipv4"}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	a := server.New(server.Config{Now: clock}, e.db, nil)
	b := server.New(server.Config{Now: clock}, e.db, nil)
	org := func(n int) string { return "identity--" + uuidN(n) }
	deleteIndicator := func(n int) {
		t.Helper()
		ind := "indicator--" + uuidN(n)
		e.seed(t, collRW,
			`{"type":"identity","spec_version":"2.1","id":"`+org(n)+`","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"Org"}`,
			`{"type":"indicator","spec_version":"2.1","id":"`+ind+`","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",`+
				`"pattern":"[ipv4-addr:value = '198.51.100.`+strconv.Itoa(n)+`']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","created_by_ref":"`+org(n)+`"}`)
		if r := e.do(t, http.MethodDelete, "/taxii2/api/collections/rw/objects/"+ind+"/", e.auth("admin"), nil); r.status != http.StatusOK {
			t.Fatalf("DELETE: %d %s", r.status, r.body)
		}
	}
	deleteIndicator(1)
	if n, err := a.PruneDue(ctx); err != nil || n != 1 {
		t.Fatalf("first replica's PruneDue = %d, %v; want 1", n, err)
	}
	deleteIndicator(2)
	if n, err := b.PruneDue(ctx); err != nil || n != 0 {
		t.Errorf("second replica at the same moment = %d, %v; want 0, the prune left to a later call", n, err)
	}
	if due, err := e.db.PrunesDue(ctx); err != nil || due["api"] == 0 {
		t.Errorf("after the refused call the root is not due: %v, %v", due, err)
	}
	advance(server.PruneInterval / 2)
	if n, err := b.PruneDue(ctx); err != nil || n != 1 {
		t.Errorf("second replica half an interval later = %d, %v; want 1", n, err)
	}
}
