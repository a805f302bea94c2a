package server_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"hail/auth"
	"hail/server"
	"hail/store"
	"hail/store/cache"
)

// newCachedEnv starts the fixture server as `hail serve` runs it, over a
// cache.Store, and returns the env with that store. The cache keeps
// entries for a day, so that a change the cache failed to take in would
// still show after the test's requests.
func newCachedEnv(t *testing.T, clock *fakeClock) (*env, *cache.Store) {
	t.Helper()
	e := newEnv(t, server.Config{Now: clock.Now}, false)
	e.srv.Close()
	st := cache.New(e.db, cache.Options{TTL: 24 * time.Hour, Now: clock.Now})
	e.srv = httptest.NewServer(server.New(server.Config{Now: clock.Now}, st, nil))
	t.Cleanup(e.srv.Close)
	return e, st
}

func TestCachedKeyRevokedAtOnce(t *testing.T) {
	e, st := newCachedEnv(t, newClock())
	wantStatus(t, "reader before revocation", e.get(t, intelObjects, "reader"), 200)
	if err := st.RevokeKey(context.Background(), "reader"); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "reader after revocation", e.get(t, intelObjects, "reader"), 401)
}

func TestCachedKeyUpdatedAtOnce(t *testing.T) {
	e, st := newCachedEnv(t, newClock())
	wantStatus(t, "reader from any address", e.get(t, intelObjects, "reader"), 200)
	setKey(t, st, "reader", store.KeyUpdate{AllowIPs: &[]string{"192.0.2.0/24"}})
	wantStatus(t, "reader outside its new ranges", e.get(t, intelObjects, "reader"), 403)
}

func TestCachedKeyExpires(t *testing.T) {
	clock := newClock()
	e, st := newCachedEnv(t, clock)
	expires := clock.Now().Add(time.Hour)
	setKey(t, st, "reader", store.KeyUpdate{Expires: &expires})
	wantStatus(t, "key before its expiry", e.get(t, intelObjects, "reader"), 200)
	clock.Advance(time.Hour)
	r := e.get(t, intelObjects, "reader")
	if r.status != 401 || !strings.Contains(string(r.body), "expired") {
		t.Errorf("expired key served from the cache: %d %s; want 401 saying it expired", r.status, r.body)
	}
}

func TestCachedKeyCreatedAfterRefusal(t *testing.T) {
	e, st := newCachedEnv(t, newClock())
	secret, hash := auth.NewKey()
	e.keys["late"] = secret
	wantStatus(t, "unknown key", e.get(t, intelObjects, "late"), 401)
	if err := st.CreateKey(context.Background(), store.Key{Name: "late", Hash: hash, Read: []string{collIntel}}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "key once created", e.get(t, intelObjects, "late"), 200)
}

func TestCachedCollectionDeletedAtOnce(t *testing.T) {
	e, st := newCachedEnv(t, newClock())
	byAlias := "/taxii2/api/collections/intel/objects/"
	wantStatus(t, "collection by id before delete", e.get(t, intelObjects, "admin"), 200)
	wantStatus(t, "collection by alias before delete", e.get(t, byAlias, "admin"), 200)
	if err := st.DeleteCollection(context.Background(), collIntel); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "collection by id after delete", e.get(t, intelObjects, "admin"), 404)
	wantStatus(t, "collection by alias after delete", e.get(t, byAlias, "admin"), 404)
	wantStatus(t, "collection resource after delete", e.get(t, "/taxii2/api/collections/"+collIntel+"/", "admin"), 404)

	// A new collection under the same alias is found by it at once.
	const next = "99999999-9999-4999-8999-999999999999"
	if err := st.CreateCollection(context.Background(), store.Collection{ID: next, APIRoot: "api", Alias: "intel"}); err != nil {
		t.Fatal(err)
	}
	r := e.get(t, "/taxii2/api/collections/intel/", "admin")
	if r.status != 200 || !strings.Contains(string(r.body), next) {
		t.Errorf("alias of a new collection: %d %s; want 200 naming %s", r.status, r.body, next)
	}
}
