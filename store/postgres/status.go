package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"hail"
	"hail/store"
)

// detail is the stored form of a store.StatusDetail, one element of a
// jsonb list.
type detail struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Message string `json:"message,omitempty"`
}

// details converts for storage; a nil list is stored as [].
func details(ds []store.StatusDetail) []detail {
	out := make([]detail, len(ds))
	for i, d := range ds {
		out[i] = detail(d)
	}
	return out
}

// statusDetails converts back; an empty list is nil.
func statusDetails(ds []detail) []store.StatusDetail {
	if len(ds) == 0 {
		return nil
	}
	out := make([]store.StatusDetail, len(ds))
	for i, d := range ds {
		out[i] = store.StatusDetail(d)
	}
	return out
}

// CreateStatus stores the status of an add request; a zero
// RequestTimestamp is the store's clock. Returns ECONFLICT if the id is
// taken.
func (db *DB) CreateStatus(ctx context.Context, s store.Status) error {
	return db.insertStatus(ctx, db.pool, s)
}

// execer is what runs a statement: the pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// insertStatus stores s through ex (see CreateStatus).
func (db *DB) insertStatus(ctx context.Context, ex execer, s store.Status) error {
	_, err := ex.Exec(ctx, `INSERT INTO statuses
		(id, api_root, collection, request_timestamp, status, total, successes, failures, pendings)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		s.ID, s.APIRoot, s.CollectionID, db.nowOr(s.RequestTimestamp), s.Status, s.Total,
		details(s.Successes), details(s.Failures), details(s.Pendings))
	return dbError("create status", err)
}

// Status returns the status with that id in that API root. Returns
// ENOTFOUND if there is none.
func (db *DB) Status(ctx context.Context, apiRoot, id string) (store.Status, error) {
	var r statusRow
	err := db.pool.QueryRow(ctx, `SELECT `+statusColumns+` FROM statuses WHERE id = $1 AND api_root = $2`, id, apiRoot).
		Scan(r.dest()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Status{}, hail.Errorf(hail.ENOTFOUND, "Status %q not found.", id)
	}
	if err != nil {
		return store.Status{}, dbError("status", err)
	}
	return r.status(), nil
}

// statusColumns are what a statusRow holds.
const statusColumns = `id, api_root, collection, request_timestamp, status, total, successes, failures, pendings`

// statusRow is a row of statusColumns as scanned.
type statusRow struct {
	s                store.Status
	succ, fail, pend []detail
}

// dest returns the scan destinations, in statusColumns' order.
func (r *statusRow) dest() []any {
	s := &r.s
	return []any{&s.ID, &s.APIRoot, &s.CollectionID, &s.RequestTimestamp, &s.Status, &s.Total, &r.succ, &r.fail, &r.pend}
}

// status returns the scanned status.
func (r *statusRow) status() store.Status {
	s := r.s
	s.RequestTimestamp = utc(s.RequestTimestamp)
	s.Successes, s.Failures, s.Pendings = statusDetails(r.succ), statusDetails(r.fail), statusDetails(r.pend)
	return s
}

// DeleteStatusesBefore removes statuses requested before t and returns how
// many it removed.
func (db *DB) DeleteStatusesBefore(ctx context.Context, t time.Time) (int, error) {
	// timestamptz holds microseconds and pgx truncates to them, so a t
	// between two microseconds is rounded up: a status stored at the lower
	// one is before t.
	if r := t.Truncate(time.Microsecond); !r.Equal(t) {
		t = r.Add(time.Microsecond)
	}
	tag, err := db.pool.Exec(ctx, `DELETE FROM statuses WHERE request_timestamp < $1`, t)
	if err != nil {
		return 0, dbError("delete statuses", err)
	}
	return int(tag.RowsAffected()), nil
}
