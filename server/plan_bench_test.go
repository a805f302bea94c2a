package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"hail/auth"
	"hail/server"
	"hail/stix"
	"hail/store"
	"hail/store/cache"
	"hail/store/postgres"
	"hail/store/postgres/pgtest"
	"hail/store/storetest"
	"hail/taxii"
)

// BenchmarkSmallPoll measures what plans and activity add to a small poll
// (a page of 10 objects, served in process, no network): a public
// collection read without a key (no key lookup, no accounting), with an
// unrestricted key (key lookup and activity accounting), and with a key
// on a plan with a rate limit (plus one rate bucket update per request).
// The plan's rate is high enough never to refuse.
//
// The -cached variants serve through a cache.Store, as hail serve does.
func BenchmarkSmallPoll(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		e := newEnv(b, server.Config{}, true)
		benchSmallPoll(b, e.db, e.srv.Config.Handler, collOpen)
	})
	b.Run("sqlite-cached", func(b *testing.B) {
		e := newEnv(b, server.Config{}, true)
		st := cache.New(e.db, cache.Options{})
		benchSmallPoll(b, st, server.New(server.Config{}, st, nil), collOpen)
	})
	for _, cached := range []bool{false, true} {
		name := "postgres"
		if cached {
			name += "-cached"
		}
		b.Run(name, func(b *testing.B) { benchSmallPollPostgres(b, cached) })
	}
}

func benchSmallPollPostgres(b *testing.B, cached bool) {
	dsn := pgtest.Schema(b)
	ctx := context.Background()
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.CreateAPIRoot(ctx, store.APIRoot{Name: "api", Default: true}); err != nil {
		b.Fatal(err)
	}
	if err := db.CreateCollection(ctx, store.Collection{ID: collOpen, APIRoot: "api", Alias: "open", Public: true}); err != nil {
		b.Fatal(err)
	}
	var st store.Store = db
	if cached {
		st = cache.New(db, cache.Options{})
	}
	benchSmallPoll(b, st, server.New(server.Config{}, st, nil), collOpen)
}

func benchSmallPoll(b *testing.B, st store.Store, h http.Handler, coll string) {
	ctx := context.Background()
	objs := make([]string, 10)
	for i := range objs {
		objs[i] = indicator(i+1, "2024-01-01T00:00:00.000Z")
	}
	seedStore(b, st, coll, objs...)
	if err := st.CreatePlan(ctx, store.Plan{Name: "bench", Rate: 1 << 30, Period: time.Second}); err != nil {
		b.Fatal(err)
	}
	keys := map[string]string{}
	for _, k := range []store.Key{
		{Name: "bench-unrestricted", Read: []string{coll}},
		{Name: "bench-plan", Read: []string{coll}, Plan: "bench"},
	} {
		secret, hash := auth.NewKey()
		k.Hash = hash
		if err := st.CreateKey(ctx, k); err != nil {
			b.Fatal(err)
		}
		keys[k.Name] = secret
	}
	for _, tc := range []struct{ name, key string }{
		{"anonymous", ""},
		{"unrestricted", keys["bench-unrestricted"]},
		{"plan", keys["bench-plan"]},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cpu := storetest.CPUTime()
			for b.Loop() {
				req := httptest.NewRequest("GET", "/taxii2/api/collections/"+coll+"/objects/?limit=10", nil)
				req.Header.Set("Accept", taxii.MediaType)
				if tc.key != "" {
					req.SetBasicAuth("apikey", tc.key)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
			b.ReportMetric(float64(storetest.CPUTime()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
	if s, ok := h.(*server.Server); ok {
		if err := s.FlushActivity(ctx); err != nil {
			b.Fatal(fmt.Errorf("flush: %w", err))
		}
	}
}

// seedStore adds objects to a collection of any store.
func seedStore(tb testing.TB, st store.Store, coll string, objs ...string) {
	tb.Helper()
	parsed := make([]stix.Object, len(objs))
	for i, o := range objs {
		parsed[i] = storetest.MustObject(tb, o)
	}
	if _, err := st.AddObjects(context.Background(), coll, parsed); err != nil {
		tb.Fatal(err)
	}
}
