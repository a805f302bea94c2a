// Package pgnotify carries commit wake-ups between hail processes (replicas)
// that share a PostgreSQL database, with LISTEN/NOTIFY.
//
// Publish wakes this process's subscribers at once and sends a NOTIFY that
// every other process hears on a connection it keeps for LISTEN. PostgreSQL
// does not queue notifications for a listener that is disconnected, so after
// the listening connection is lost and made again, every subscriber is woken
// to read the store: the store, not the notification, is the source of truth.
package pgnotify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"hail/notify"
)

// DefaultChannel is the NOTIFY channel when Options.Channel is empty.
const DefaultChannel = "hail"

// Defaults of Options.
const (
	DefaultCheck    = 30 * time.Second
	DefaultRetryMax = 30 * time.Second
)

// Options tune a Notifier. The zero value is usable.
type Options struct {
	// Channel is the NOTIFY channel (DefaultChannel when empty). Channels
	// are shared by the whole database, whatever the schema, so processes
	// serving different hail schemas of one database should use different
	// channels; sharing one only costs them extra reads.
	Channel string
	// Check is how long the listener waits for a notification before it
	// pings the server, so that a connection that died silently (a restart
	// behind a proxy) is noticed (DefaultCheck when 0).
	Check time.Duration
	// RetryMax is the longest wait between attempts to listen again after
	// the connection is lost (DefaultRetryMax when 0).
	RetryMax time.Duration
	// Logger receives connection losses (discarded when nil).
	Logger *slog.Logger
}

// Notifier is a notify.Notifier for the processes of one database.
type Notifier struct {
	hub      *notify.Hub
	pool     *pgxpool.Pool
	opt      Options
	instance string // tells this process's own notifications apart
	cancel   context.CancelFunc
	done     chan struct{}
	once     sync.Once
}

var _ notify.Notifier = (*Notifier)(nil)

// New starts listening on pool's database and returns the notifier. It takes
// one connection out of the pool for as long as the notifier lives (the pool
// opens another in its place when it needs one). Close the notifier before
// the pool.
func New(ctx context.Context, pool *pgxpool.Pool, opt Options) (*Notifier, error) {
	if opt.Channel == "" {
		opt.Channel = DefaultChannel
	}
	if opt.Check <= 0 {
		opt.Check = DefaultCheck
	}
	if opt.RetryMax <= 0 {
		opt.RetryMax = DefaultRetryMax
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	n := &Notifier{hub: notify.NewHub(), pool: pool, opt: opt, instance: newInstance(), done: make(chan struct{})}
	conn, err := n.listen(ctx)
	if err != nil {
		return nil, fmt.Errorf("pgnotify: listen: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go n.run(runCtx, conn)
	return n, nil
}

// Publish wakes this process's subscribers of collectionID, then notifies
// the other processes. Call it after the commit: a notification sent
// outside a transaction is delivered at once.
func (n *Notifier) Publish(ctx context.Context, collectionID string) error {
	n.hub.Publish(ctx, collectionID)
	if _, err := n.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, n.opt.Channel, formatPayload(n.instance, collectionID)); err != nil {
		return fmt.Errorf("pgnotify: notify: %w", err)
	}
	return nil
}

// Subscribe returns a subscription to commits to collectionID (or
// notify.AnyCollection) made by any process.
func (n *Notifier) Subscribe(collectionID string) *notify.Subscription {
	return n.hub.Subscribe(collectionID)
}

// Close stops listening, closes the listening connection and ends every
// subscription. It returns nil.
func (n *Notifier) Close() error {
	n.once.Do(func() {
		n.cancel()
		<-n.done
		n.hub.Close()
	})
	return nil
}

// listen takes a connection out of the pool for good (a connection in
// LISTEN state must not serve other queries) and listens on it.
func (n *Notifier) listen(ctx context.Context) (*pgx.Conn, error) {
	c, err := n.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	conn := c.Hijack()
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{n.opt.Channel}.Sanitize()); err != nil {
		closeConn(conn)
		return nil, err
	}
	return conn, nil
}

// run receives notifications until ctx ends, listening again whenever the
// connection fails.
func (n *Notifier) run(ctx context.Context, conn *pgx.Conn) {
	defer close(n.done)
	for {
		err := n.receive(ctx, conn)
		closeConn(conn)
		if ctx.Err() != nil {
			return
		}
		n.opt.Logger.Warn("pgnotify: listening connection lost; listening again", "err", err)
		if conn = n.relisten(ctx); conn == nil {
			return
		}
		// Notifications sent while nobody listened are lost.
		n.hub.WakeAll()
	}
}

// receive delivers notifications from conn until it fails or ctx ends.
func (n *Notifier) receive(ctx context.Context, conn *pgx.Conn) error {
	for {
		waitCtx, cancel := context.WithTimeout(ctx, n.opt.Check)
		note, err := conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case err == nil:
			n.deliver(note.Payload)
		case ctx.Err() != nil:
			return ctx.Err()
		case pgconn.Timeout(err):
			// A timed-out wait leaves the connection usable; make sure the
			// server is still at the other end.
			pingCtx, cancel := context.WithTimeout(ctx, n.opt.Check)
			err = conn.Ping(pingCtx)
			cancel()
			if err != nil {
				return err
			}
		default:
			return err
		}
	}
}

// relisten tries to listen again, waiting longer after each failure, until
// it succeeds (the connection) or ctx ends (nil).
func (n *Notifier) relisten(ctx context.Context) *pgx.Conn {
	wait := 100 * time.Millisecond
	for {
		conn, err := n.listen(ctx)
		if err == nil {
			return conn
		}
		n.opt.Logger.Warn("pgnotify: cannot listen; retrying", "err", err, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		wait = min(2*wait, n.opt.RetryMax)
	}
}

// deliver wakes the subscribers a notification concerns. Notifications of
// this process were delivered by Publish already.
func (n *Notifier) deliver(payload string) {
	instance, collectionID := parsePayload(payload)
	if instance == n.instance {
		return
	}
	n.hub.Publish(context.Background(), collectionID)
}

// A payload is the sending process's instance id, a space and the collection
// id. A payload without a space (sent by hand with NOTIFY hail, 'id') is a
// collection id from an unknown sender.

// formatPayload returns the payload of a notification.
func formatPayload(instance, collectionID string) string { return instance + " " + collectionID }

// parsePayload splits a payload.
func parsePayload(p string) (instance, collectionID string) {
	instance, collectionID, ok := strings.Cut(p, " ")
	if !ok {
		return "", p
	}
	return instance, collectionID
}

// newInstance returns a random id for this process's notifications.
func newInstance() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// closeConn closes a listening connection, waiting a bounded time.
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn.Close(ctx)
}
