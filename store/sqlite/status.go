package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"hail"
	"hail/store"
)

// detail is the stored form of a store.StatusDetail.
type detail struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Message string `json:"message,omitempty"`
}

func encodeDetails(ds []store.StatusDetail) (string, error) {
	out := make([]detail, len(ds))
	for i, d := range ds {
		out[i] = detail(d)
	}
	b, err := json.Marshal(out)
	return string(b), err
}

func decodeDetails(s string) ([]store.StatusDetail, error) {
	var in []detail
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, err
	}
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]store.StatusDetail, len(in))
	for i, d := range in {
		out[i] = store.StatusDetail(d)
	}
	return out, nil
}

// CreateStatus stores the status of an add request. Returns ECONFLICT if the
// id is taken. RequestTimestamp is kept to the microsecond.
func (db *DB) CreateStatus(ctx context.Context, s store.Status) error {
	return db.insertStatus(ctx, db.write, s)
}

// execer is what runs a statement: the write pool or a transaction of it.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// insertStatus stores s through ex (see CreateStatus).
func (db *DB) insertStatus(ctx context.Context, ex execer, s store.Status) error {
	var lists [3]string
	for i, ds := range [][]store.StatusDetail{s.Successes, s.Failures, s.Pendings} {
		var err error
		if lists[i], err = encodeDetails(ds); err != nil {
			return fmt.Errorf("create status: %w", err)
		}
	}
	_, err := ex.ExecContext(ctx, `INSERT INTO statuses (id, api_root, collection, request_timestamp, status, total,
		successes, failures, pendings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.APIRoot, s.CollectionID, micros(db.nowOr(s.RequestTimestamp)), s.Status, s.Total, lists[0], lists[1], lists[2])
	if isUnique(err) {
		return hail.Errorf(hail.ECONFLICT, "Status %q already exists.", s.ID)
	}
	if err != nil {
		return fmt.Errorf("create status: %w", err)
	}
	return nil
}

// Status returns the status with that id in that API root. Returns
// ENOTFOUND if there is none.
func (db *DB) Status(ctx context.Context, apiRoot, id string) (store.Status, error) {
	s, err := scanStatus(db.read.QueryRowContext(ctx, `SELECT `+statusColumns+` FROM statuses WHERE id = ? AND api_root = ?`,
		id, apiRoot))
	if err == sql.ErrNoRows {
		return store.Status{}, hail.Errorf(hail.ENOTFOUND, "Status %q not found.", id)
	}
	if err != nil {
		return store.Status{}, fmt.Errorf("status: %w", err)
	}
	return s, nil
}

// statusColumns are what scanStatus reads.
const statusColumns = `id, api_root, collection, request_timestamp, status, total, successes, failures, pendings`

// scanStatus reads a row of statusColumns.
func scanStatus(row interface{ Scan(...any) error }) (store.Status, error) {
	var s store.Status
	var ts int64
	var lists [3]string
	if err := row.Scan(&s.ID, &s.APIRoot, &s.CollectionID, &ts, &s.Status, &s.Total, &lists[0], &lists[1], &lists[2]); err != nil {
		return s, err
	}
	s.RequestTimestamp = fromMicros(ts)
	for i, dst := range []*[]store.StatusDetail{&s.Successes, &s.Failures, &s.Pendings} {
		var err error
		if *dst, err = decodeDetails(lists[i]); err != nil {
			return s, fmt.Errorf("status %s: %w", s.ID, err)
		}
	}
	return s, nil
}

// DeleteStatusesBefore removes statuses requested before t and returns how
// many it removed.
func (db *DB) DeleteStatusesBefore(ctx context.Context, t time.Time) (int, error) {
	// Stored timestamps are whole microseconds: < t is < t rounded up.
	cut := t.UnixMicro()
	if t.Nanosecond()%1000 != 0 {
		cut++
	}
	r, err := db.write.ExecContext(ctx, `DELETE FROM statuses WHERE request_timestamp < ?`, cut)
	if err != nil {
		return 0, fmt.Errorf("delete statuses: %w", err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete statuses: %w", err)
	}
	return int(n), nil
}
