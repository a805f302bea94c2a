package webhook_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"testing"
	"time"

	"hail/notify/pgnotify"
	"hail/store"
	"hail/store/postgres"
	"hail/store/postgres/pgtest"
)

// TestReplicasPostgres runs two workers, each with its own connection
// pool and LISTEN/NOTIFY notifier, as two replicas of one PostgreSQL
// database: the receiver never serves two requests at once, gets every
// object in date_added order, and when the replica delivering stops the
// other takes over from the saved cursor.
func TestReplicasPostgres(t *testing.T) {
	dsn := pgtest.Schema(t)
	ctx := context.Background()
	var b [6]byte
	rand.Read(b[:])
	channel := "hail_t_" + hex.EncodeToString(b[:])
	type replica struct {
		db   *postgres.DB
		n    *pgnotify.Notifier
		stop func()
	}
	rc, srv := newReceiver(t, "fail", "ok", "hang", "ok", "busy")
	var replicas []*replica
	for i, holder := range []string{"replica-a", "replica-b"} {
		db, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if i == 0 {
			if err := db.CreateAPIRoot(ctx, store.APIRoot{Name: "api", Title: "API"}); err != nil {
				t.Fatal(err)
			}
			if err := db.CreateCollection(ctx, store.Collection{ID: testColl, APIRoot: "api", Title: "C"}); err != nil {
				t.Fatal(err)
			}
			createHook(t, db, srv.URL, 2)
		}
		n, err := pgnotify.New(ctx, db.Pool(), pgnotify.Options{Channel: channel})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		cfg := fastConfig(n)
		cfg.Holder = holder
		// Wake-ups, not polling, should carry most objects.
		cfg.Poll = 100 * time.Millisecond
		r := &replica{db: db, n: n}
		r.stop = startWorker(t, db, cfg)
		replicas = append(replicas, r)
	}
	for i := 0; i < 12; i += 3 {
		r := replicas[i%2]
		addObjects(t, r.db, r.n, i, i+3)
	}
	waitFor(t, "12 objects", func() bool { return len(rc.accepted()) >= 12 })
	// The receiver has the objects before the deliverer has read its answer
	// and saved the cursor; see waitSaved.
	waitSaved(t, replicas[0].db)

	// The deliverer stops (its lease is released); the other carries on.
	h, err := replicas[0].db.Webhook(ctx, testHook)
	if err != nil {
		t.Fatal(err)
	}
	var rest *replica
	for i, holder := range []string{"replica-a", "replica-b"} {
		if holder == h.LeaseHolder {
			replicas[i].stop()
			rest = replicas[1-i]
		}
	}
	if rest == nil {
		t.Fatalf("lease held by %q, want one of the replicas", h.LeaseHolder)
	}
	addObjects(t, rest.db, rest.n, 12, 15)
	waitFor(t, "15 objects", func() bool { return len(rc.accepted()) >= 15 })

	if got, want := rc.accepted(), wantIDs(t, 0, 15); !slices.Equal(got, want) {
		t.Errorf("objects accepted:\n got %v\nwant %v", got, want)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.most != 1 {
		t.Errorf("the receiver served %d requests at once, want 1", rc.most)
	}
	if len(rc.bad) > 0 {
		t.Errorf("receiver problems: %v", rc.bad)
	}
}
