// Package cache keeps in memory, for a short time, the lookups a server
// makes on every request: the API key by its hash, the collection by API
// root and id or alias, and the list of API roots (which the IOC API
// searches). Without it a small poll makes two store queries, key and
// collection, besides reading its page.
//
// A Store wraps another store.Store; every method it does not override
// passes through. Writes made through it (CreateKey, RevokeKey, UpdateKey,
// CreateCollection, DeleteCollection, CreateAPIRoot) empty the matching
// cache before they return, so they take effect at once in this process.
// Writes made by another process (another replica on the same PostgreSQL
// database, or a `hail key revoke` next to a running `hail serve`) take
// effect when the entries expire, TTL after they were read.
//
// Only hits are kept: an unknown hash or collection is asked of the store
// every time, so that a key or collection created elsewhere is accepted as
// soon as it exists, and so that requests with random keys cannot grow the
// cache. The cache of each kind is bounded by MaxEntries all the same.
package cache

import (
	"context"
	"slices"
	"sync"
	"time"

	"hail/store"
)

// DefaultTTL is how long an entry is served when Options.TTL is zero: the
// longest a change made by another process goes unseen.
const DefaultTTL = time.Second

// MaxEntries bounds each cache. Only keys and collections that exist are
// kept, so it is reached only by stores holding more; the cache is then
// emptied and refilled by the requests that follow.
const MaxEntries = 10000

// Options tunes a Store. The zero value is usable.
type Options struct {
	// TTL is how long a lookup is served from memory (DefaultTTL when 0).
	TTL time.Duration
	// Now is the clock entries expire by (time.Now when nil).
	Now func() time.Time
}

// Store is a store.Store that serves KeyByHash, Collection and APIRoots
// from memory for up to TTL. It is safe for concurrent use.
type Store struct {
	store.Store
	ttl time.Duration
	now func() time.Time

	keys  entries[string, store.Key] // by string(hash)
	cols  entries[collName, store.Collection]
	roots entries[struct{}, []store.APIRoot] // the one list APIRoots returns
}

// collName is how a request names a collection.
type collName struct{ apiRoot, idOrAlias string }

var _ store.Store = (*Store)(nil)

// New returns a Store that caches st's lookups.
func New(st store.Store, opt Options) *Store {
	if opt.TTL <= 0 {
		opt.TTL = DefaultTTL
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Store{Store: st, ttl: opt.TTL, now: opt.Now}
}

// KeyByHash returns the unrevoked key whose hash is hash, from memory when
// it was read less than TTL ago. Returns ENOTFOUND if there is none. The
// key's slices are shared between callers, which must not modify them.
func (s *Store) KeyByHash(ctx context.Context, hash []byte) (store.Key, error) {
	now := s.now()
	if k, ok := s.keys.get(string(hash), now); ok {
		return k, nil
	}
	gen := s.keys.generation()
	k, err := s.Store.KeyByHash(ctx, hash)
	if err == nil {
		s.keys.put(string(hash), k, now.Add(s.ttl), gen)
	}
	return k, err
}

// Collection returns the collection of apiRoot whose id or alias is
// idOrAlias, from memory when it was read less than TTL ago. Returns
// ENOTFOUND if there is none.
func (s *Store) Collection(ctx context.Context, apiRoot, idOrAlias string) (store.Collection, error) {
	name := collName{apiRoot, idOrAlias}
	now := s.now()
	if c, ok := s.cols.get(name, now); ok {
		return c, nil
	}
	gen := s.cols.generation()
	c, err := s.Store.Collection(ctx, apiRoot, idOrAlias)
	if err == nil {
		s.cols.put(name, c, now.Add(s.ttl), gen)
	}
	return c, err
}

// APIRoots returns every API root, ordered by name, from memory when the
// list was read less than TTL ago. The IOC API looks a collection up in
// each API root in turn, so it reads the list on every request.
func (s *Store) APIRoots(ctx context.Context) ([]store.APIRoot, error) {
	now := s.now()
	if rs, ok := s.roots.get(struct{}{}, now); ok {
		return slices.Clone(rs), nil // callers may sort or append
	}
	gen := s.roots.generation()
	rs, err := s.Store.APIRoots(ctx)
	if err == nil {
		s.roots.put(struct{}{}, slices.Clone(rs), now.Add(s.ttl), gen)
	}
	return rs, err
}

// CreateAPIRoot creates an API root; this process lists it from the moment
// CreateAPIRoot returns.
func (s *Store) CreateAPIRoot(ctx context.Context, r store.APIRoot) error {
	defer s.roots.invalidate()
	return s.Store.CreateAPIRoot(ctx, r)
}

// CreateKey stores an API key. Nothing is cached for a hash that is not
// found, so there is nothing to forget; the cache is emptied all the same,
// as for every key write, so that no order of events can leave it stale.
func (s *Store) CreateKey(ctx context.Context, k store.Key) error {
	defer s.keys.invalidate()
	return s.Store.CreateKey(ctx, k)
}

// RevokeKey marks the named key revoked; this process refuses it from the
// moment RevokeKey returns.
func (s *Store) RevokeKey(ctx context.Context, name string) error {
	defer s.keys.invalidate()
	return s.Store.RevokeKey(ctx, name)
}

// UpdateKey changes the named key; this process uses the new rights from
// the moment UpdateKey returns.
func (s *Store) UpdateKey(ctx context.Context, name string, u store.KeyUpdate) error {
	defer s.keys.invalidate()
	return s.Store.UpdateKey(ctx, name, u)
}

// CreateCollection creates a collection. An alias or id lookup cached
// before it could now resolve differently (an id match wins over an alias
// match), so the collection cache is emptied.
func (s *Store) CreateCollection(ctx context.Context, c store.Collection) error {
	defer s.cols.invalidate()
	return s.Store.CreateCollection(ctx, c)
}

// UpdateCollection changes a collection; this process serves the change
// from the moment UpdateCollection returns (other replicas within TTL).
func (s *Store) UpdateCollection(ctx context.Context, id string, u store.CollectionUpdate) (store.Collection, error) {
	defer s.cols.invalidate()
	return s.Store.UpdateCollection(ctx, id, u)
}

// RefilterCollection gives a filter collection a new filter; this process
// shows it from the moment RefilterCollection returns.
func (s *Store) RefilterCollection(ctx context.Context, id, filter string) error {
	defer s.cols.invalidate()
	return s.Store.RefilterCollection(ctx, id, filter)
}

// DeleteCollection removes a collection; this process answers that it does
// not exist from the moment DeleteCollection returns.
func (s *Store) DeleteCollection(ctx context.Context, id string) error {
	defer s.cols.invalidate()
	return s.Store.DeleteCollection(ctx, id)
}

// entries is one cache: values by name, each with its expiry.
//
// A lookup that misses reads the store without the lock held, and a write
// may commit and invalidate meanwhile; the value read may then be the old
// one. put therefore takes the generation read before the store was, and
// drops the value if an invalidation has happened since.
type entries[K comparable, V any] struct {
	mu  sync.RWMutex
	m   map[K]entry[V]
	gen uint64 // incremented by every invalidate
}

type entry[V any] struct {
	v       V
	expires time.Time
}

func (e *entries[K, V]) get(k K, now time.Time) (V, bool) {
	e.mu.RLock()
	x, ok := e.m[k]
	e.mu.RUnlock()
	if !ok || !now.Before(x.expires) {
		var zero V
		return zero, false
	}
	return x.v, true
}

func (e *entries[K, V]) generation() uint64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.gen
}

func (e *entries[K, V]) put(k K, v V, expires time.Time, gen uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if gen != e.gen {
		return
	}
	if e.m == nil || len(e.m) >= MaxEntries {
		e.m = make(map[K]entry[V])
	}
	e.m[k] = entry[V]{v, expires}
}

// invalidate forgets every entry and every lookup under way.
func (e *entries[K, V]) invalidate() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.gen++
	e.m = nil
}
