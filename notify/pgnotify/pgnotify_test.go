package pgnotify_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"hail/notify"
	"hail/notify/pgnotify"
	"hail/store/postgres/pgtest"
)

// channel returns a NOTIFY channel no other test uses.
func channel() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "hail_t_" + hex.EncodeToString(b)
}

// openPool opens a pool on the test server, closed at cleanup.
func openPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	pool, err := pgxpool.New(context.Background(), pgtest.DSN())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// newNotifier starts a notifier on its own pool, closed at cleanup.
func newNotifier(tb testing.TB, opt pgnotify.Options) *pgnotify.Notifier {
	tb.Helper()
	n, err := pgnotify.New(context.Background(), openPool(tb), opt)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { n.Close() })
	return n
}

// woken waits up to d for a wake-up on s.
func woken(s *notify.Subscription, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case _, ok := <-s.C():
		return ok
	case <-t.C:
		return false
	}
}

// TestAcrossProcesses: a commit published by one notifier wakes the
// subscribers of another that shares the database, and those of its own.
func TestAcrossProcesses(t *testing.T) {
	pgtest.Check(t)
	ch := channel()
	a := newNotifier(t, pgnotify.Options{Channel: ch})
	b := newNotifier(t, pgnotify.Options{Channel: ch})
	onA, onB, anyB, otherB := a.Subscribe("c1"), b.Subscribe("c1"), b.Subscribe(notify.AnyCollection), b.Subscribe("c2")
	if err := a.Publish(context.Background(), "c1"); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*notify.Subscription{"own process": onA, "other process": onB, "other process, any": anyB} {
		if !woken(s, 10*time.Second) {
			t.Errorf("%s: subscriber of c1 not woken within 10 s", name)
		}
	}
	select {
	case <-otherB.C():
		t.Errorf("subscriber of c2 woken by a commit to c1")
	default:
	}
}

// TestRelisten: when the listening connection dies, the notifier listens
// again, wakes every subscriber (notifications were lost meanwhile), and
// hears later notifications.
func TestRelisten(t *testing.T) {
	pgtest.Check(t)
	ch := channel()
	a := newNotifier(t, pgnotify.Options{Channel: ch})
	b := newNotifier(t, pgnotify.Options{Channel: ch, Check: time.Hour})
	sub := b.Subscribe("c1")

	admin := openPool(t)
	tag, err := admin.Exec(context.Background(),
		`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1`, `LISTEN `+pgx.Identifier{ch}.Sanitize())
	if err != nil {
		t.Fatal(err)
	}
	if tag.RowsAffected() != 2 {
		t.Fatalf("terminated %d listening backends, want 2", tag.RowsAffected())
	}
	if !woken(sub, 30*time.Second) {
		t.Fatalf("subscriber not woken after the listening connection was lost")
	}
	// The wake-up comes after LISTEN succeeded again, so this is heard.
	if err := a.Publish(context.Background(), "c1"); err != nil {
		t.Fatal(err)
	}
	if !woken(sub, 10*time.Second) {
		t.Errorf("subscriber not woken by a commit after the notifier listened again")
	}
}

// TestCloseEndsSubscriptions: Close closes the subscribers' channels and
// returns the listening connection's resources.
func TestCloseEndsSubscriptions(t *testing.T) {
	pgtest.Check(t)
	n := newNotifier(t, pgnotify.Options{Channel: channel()})
	s := n.Subscribe("c1")
	if err := n.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, ok := <-s.C(); ok {
		t.Errorf("subscription open after Close")
	}
	if err := n.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// BenchmarkPublish measures one commit's notification: pg_notify on one
// notifier until another's subscriber wakes.
func BenchmarkPublish(b *testing.B) {
	pgtest.Check(b)
	ch := channel()
	pub := newNotifier(b, pgnotify.Options{Channel: ch})
	sub := newNotifier(b, pgnotify.Options{Channel: ch}).Subscribe("c1")
	ctx := context.Background()
	for b.Loop() {
		if err := pub.Publish(ctx, "c1"); err != nil {
			b.Fatal(err)
		}
		if !woken(sub, 10*time.Second) {
			b.Fatal("not woken")
		}
	}
}
