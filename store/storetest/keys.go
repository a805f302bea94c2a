package storetest

import (
	"bytes"
	"crypto/sha256"
	"reflect"
	"testing"
	"time"

	"hail"
	"hail/store"
)

// hash is a key hash for tests.
func hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// equalKey compares keys, times as instants.
func equalKey(got, want store.Key) bool {
	if !got.Created.Equal(want.Created) || !got.Revoked.Equal(want.Revoked) {
		return false
	}
	got.Created, want.Created, got.Revoked, want.Revoked = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	// An empty list may come back nil or empty.
	for _, k := range []*store.Key{&got, &want} {
		if len(k.Read) == 0 {
			k.Read = nil
		}
		if len(k.Write) == 0 {
			k.Write = nil
		}
	}
	return reflect.DeepEqual(got, want)
}

func testKeyCreateAndFind(t *testing.T, s store.Store) {
	keys := []store.Key{
		{ID: "k2", Name: "sentinel", Hash: hash("b"), Read: []string{coll1, coll2}, Write: []string{coll1}, Created: created},
		{ID: "k1", Name: "admin", Hash: hash("a"), Admin: true, Created: created},
		{ID: "k3", Name: "reader", Hash: hash("c"), Read: []string{store.AllCollections}, Created: created},
	}
	for _, k := range keys {
		if err := s.CreateKey(ctx, k); err != nil {
			t.Fatalf("CreateKey(%s): %v", k.Name, err)
		}
	}
	for _, k := range keys {
		got, err := s.KeyByHash(ctx, k.Hash)
		if err != nil || !equalKey(got, k) {
			t.Errorf("KeyByHash(%s) = %+v, %v; want %+v", k.Name, got, err, k)
		}
	}
	_, err := s.KeyByHash(ctx, hash("unknown"))
	wantCode(t, "KeyByHash of an unknown key", err, hail.ENOTFOUND)
	got, err := s.Keys(ctx)
	if err != nil {
		t.Fatalf("Keys: %v", err)
	}
	want := []store.Key{keys[1], keys[2], keys[0]} // by name
	if len(got) != len(want) {
		t.Fatalf("Keys: %d keys, want %d", len(got), len(want))
	}
	for i := range got {
		if !equalKey(got[i], want[i]) {
			t.Errorf("Keys[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func testKeyConflicts(t *testing.T, s store.Store) {
	if err := s.CreateKey(ctx, store.Key{ID: "k1", Name: "one", Hash: hash("a"), Created: created}); err != nil {
		t.Fatal(err)
	}
	err := s.CreateKey(ctx, store.Key{ID: "k2", Name: "one", Hash: hash("b"), Created: created})
	wantCode(t, "CreateKey with a taken name", err, hail.ECONFLICT)
	err = s.CreateKey(ctx, store.Key{ID: "k3", Name: "two", Hash: hash("a"), Created: created})
	wantCode(t, "CreateKey with a taken hash", err, hail.ECONFLICT)
	if ks, err := s.Keys(ctx); err != nil || len(ks) != 1 {
		t.Errorf("Keys after refused creates = %d keys, %v; want 1", len(ks), err)
	}
	// A revoked key still holds its name.
	if err := s.RevokeKey(ctx, "one"); err != nil {
		t.Fatal(err)
	}
	err = s.CreateKey(ctx, store.Key{ID: "k4", Name: "one", Hash: hash("d"), Created: created})
	wantCode(t, "CreateKey with the name of a revoked key", err, hail.ECONFLICT)
}

func testKeyRevoke(t *testing.T, s store.Store) {
	for _, k := range []store.Key{
		{ID: "k1", Name: "one", Hash: hash("a"), Created: created},
		{ID: "k2", Name: "two", Hash: hash("b"), Created: created},
	} {
		if err := s.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeKey(ctx, "one"); err != nil {
		t.Fatalf("RevokeKey: %v", err)
	}
	_, err := s.KeyByHash(ctx, hash("a"))
	wantCode(t, "KeyByHash of a revoked key", err, hail.ENOTFOUND)
	if k, err := s.KeyByHash(ctx, hash("b")); err != nil || k.Name != "two" {
		t.Errorf("KeyByHash(two) after revoking one = %+v, %v", k, err)
	}
	err = s.RevokeKey(ctx, "one")
	wantCode(t, "RevokeKey twice", err, hail.ENOTFOUND)
	err = s.RevokeKey(ctx, "nobody")
	wantCode(t, "RevokeKey of an unknown name", err, hail.ENOTFOUND)
	ks, err := s.Keys(ctx)
	if err != nil || len(ks) != 2 {
		t.Fatalf("Keys = %+v, %v; want both keys", ks, err)
	}
	if ks[0].Name != "one" || ks[0].Revoked.IsZero() || !bytes.Equal(ks[0].Hash, hash("a")) {
		t.Errorf("revoked key listed as %+v, want name one, a Revoked time, its hash", ks[0])
	}
	if !ks[1].Revoked.IsZero() {
		t.Errorf("unrevoked key listed with Revoked %v", ks[1].Revoked)
	}
}
