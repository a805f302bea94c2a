package cache_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"hail"
	"hail/store"
	"hail/store/cache"
	"hail/store/sqlite"
	"hail/store/storetest"
)

// TestConformance runs the store contract through the cache: every write
// the suite makes is followed by reads that must see it.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return cache.New(openSQLite(t, filepath.Join(t.TempDir(), "hail.db")), cache.Options{TTL: time.Hour})
	}, storetest.Options{Concurrent: true})
}

func openSQLite(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// replicas returns two caches over one database, as two processes sharing
// it have, both on clk.
func replicas(t *testing.T, clk *clock) (a, b *cache.Store) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hail.db")
	opt := cache.Options{TTL: time.Second, Now: clk.Now}
	a = cache.New(openSQLite(t, path), opt)
	b = cache.New(openSQLite(t, path), opt)
	ctx := context.Background()
	if err := a.CreateAPIRoot(ctx, store.APIRoot{Name: "api"}); err != nil {
		t.Fatal(err)
	}
	return a, b
}

var hash = []byte("0123456789abcdef0123456789abcdef")

func TestOtherReplicaRevocation(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)}
	a, b := replicas(t, clk)
	if err := b.CreateKey(ctx, store.Key{Name: "k", Hash: hash}); err != nil {
		t.Fatal(err)
	}
	// Unknown hashes are not cached: a key created elsewhere works at once.
	if _, err := a.KeyByHash(ctx, hash); err != nil {
		t.Fatalf("key created by the other replica: %v", err)
	}
	if err := b.RevokeKey(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.KeyByHash(ctx, hash); hail.ErrorCode(err) != hail.ENOTFOUND {
		t.Errorf("revoking replica: KeyByHash gave %v, want ENOTFOUND at once", err)
	}
	// The other replica serves its copy until the TTL ends, no longer.
	clk.Advance(time.Second - time.Nanosecond)
	if _, err := a.KeyByHash(ctx, hash); err != nil {
		t.Errorf("other replica within the TTL: %v, want the cached key", err)
	}
	clk.Advance(time.Nanosecond)
	if _, err := a.KeyByHash(ctx, hash); hail.ErrorCode(err) != hail.ENOTFOUND {
		t.Errorf("other replica after the TTL: KeyByHash gave %v, want ENOTFOUND", err)
	}
}

func TestOtherReplicaCollectionDelete(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)}
	a, b := replicas(t, clk)
	const id = "11111111-1111-4111-8111-111111111111"
	if err := b.CreateCollection(ctx, store.Collection{ID: id, APIRoot: "api", Alias: "intel"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{id, "intel"} {
		if _, err := a.Collection(ctx, "api", name); err != nil {
			t.Fatalf("collection %s created by the other replica: %v", name, err)
		}
	}
	if err := b.DeleteCollection(ctx, id); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	for _, name := range []string{id, "intel"} {
		if _, err := a.Collection(ctx, "api", name); hail.ErrorCode(err) != hail.ENOTFOUND {
			t.Errorf("collection %s deleted by the other replica, after the TTL: %v, want ENOTFOUND", name, err)
		}
	}
}

func TestAPIRootsCopied(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)}
	a, b := replicas(t, clk)
	if err := a.CreateAPIRoot(ctx, store.APIRoot{Name: "second"}); err != nil {
		t.Fatal(err)
	}
	rs, err := a.APIRoots(ctx)
	if err != nil || len(rs) != 2 {
		t.Fatalf("API roots after a create through the cache: %v, %v; want 2", rs, err)
	}
	rs[0].Name = "changed by the caller"
	if again, _ := a.APIRoots(ctx); again[0].Name != "api" {
		t.Errorf("API roots after the caller changed its copy: %v", again)
	}
	// Another replica's new root is listed once the TTL has passed.
	if err := b.CreateAPIRoot(ctx, store.APIRoot{Name: "third"}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	if rs, _ := a.APIRoots(ctx); len(rs) != 3 {
		t.Errorf("API roots after the TTL: %v, want 3", rs)
	}
}

// pausing holds its first KeyByHash after reading the store, until
// released, so that a test can revoke the key in between.
type pausing struct {
	store.Store
	once             sync.Once
	entered, release chan struct{}
}

func (p *pausing) KeyByHash(ctx context.Context, h []byte) (store.Key, error) {
	k, err := p.Store.KeyByHash(ctx, h)
	p.once.Do(func() {
		close(p.entered)
		<-p.release
	})
	return k, err
}

// TestRevokeDuringLookup checks that a lookup that read the key before a
// revocation, and returns after it, does not leave the key cached.
func TestRevokeDuringLookup(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t, filepath.Join(t.TempDir(), "hail.db"))
	if err := db.CreateKey(ctx, store.Key{Name: "k", Hash: hash}); err != nil {
		t.Fatal(err)
	}
	p := &pausing{Store: db, entered: make(chan struct{}), release: make(chan struct{})}
	st := cache.New(p, cache.Options{TTL: time.Hour})
	done := make(chan error)
	go func() {
		_, err := st.KeyByHash(ctx, hash)
		done <- err
	}()
	<-p.entered
	if err := st.RevokeKey(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	close(p.release)
	if err := <-done; err != nil {
		t.Fatalf("lookup that began before the revocation: %v", err)
	}
	if _, err := st.KeyByHash(ctx, hash); hail.ErrorCode(err) != hail.ENOTFOUND {
		t.Errorf("KeyByHash after the revocation: %v, want ENOTFOUND", err)
	}
}
