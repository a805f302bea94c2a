package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"hail"
	"hail/store"
)

// CreateWebhook stores a webhook with its initial state. Returns ENOTFOUND
// if its collection does not exist, ECONFLICT if the id is taken.
func (db *DB) CreateWebhook(ctx context.Context, w store.Webhook) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create webhook: %w", err)
	}
	defer tx.Rollback()
	var seq int64
	err = tx.QueryRowContext(ctx, `SELECT seq FROM collections WHERE id = ?`, w.CollectionID).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return collectionNotFound(w.CollectionID)
	}
	if err != nil {
		return fmt.Errorf("create webhook: %w", err)
	}
	s := w.State
	_, err = tx.ExecContext(ctx, `INSERT INTO webhooks (id, collection, url, secret, batch_size, max_wait, created,
		cursor, pending_last, failures, failing_since, next_attempt, last_error, paused, paused_reason,
		lease_holder, lease_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0)`,
		w.ID, seq, w.URL, w.Secret, w.BatchSize, int64(w.MaxWait), micros(db.nowOr(w.Created)),
		micros(s.Cursor), micros(s.PendingLast), s.Failures, micros(s.FailingSince), micros(s.NextAttempt),
		s.LastError, s.Paused, s.PausedReason)
	if isUnique(err) {
		return hail.Errorf(hail.ECONFLICT, "A webhook with id %q already exists.", w.ID)
	}
	if err != nil {
		return fmt.Errorf("create webhook: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create webhook: %w", err)
	}
	return nil
}

const webhookColumns = `w.id, c.id, w.url, w.secret, w.batch_size, w.max_wait, w.created, w.cursor, w.pending_last,
	w.failures, w.failing_since, w.next_attempt, w.last_error, w.paused, w.paused_reason, w.lease_holder, w.lease_until
	FROM webhooks w JOIN collections c ON c.seq = w.collection`

func scanWebhook(row interface{ Scan(...any) error }) (store.Webhook, error) {
	var w store.Webhook
	var maxWait, created, cursor, pending, failing, next, leaseUntil int64
	s := &w.State
	if err := row.Scan(&w.ID, &w.CollectionID, &w.URL, &w.Secret, &w.BatchSize, &maxWait, &created, &cursor,
		&pending, &s.Failures, &failing, &next, &s.LastError, &s.Paused, &s.PausedReason,
		&w.LeaseHolder, &leaseUntil); err != nil {
		return w, err
	}
	w.MaxWait, w.Created = time.Duration(maxWait), fromMicros(created)
	s.Cursor, s.PendingLast = fromMicros(cursor), fromMicros(pending)
	s.FailingSince, s.NextAttempt = fromMicros(failing), fromMicros(next)
	w.LeaseUntil = fromMicros(leaseUntil)
	return w, nil
}

// Webhook returns one webhook. Returns ENOTFOUND if it does not exist.
func (db *DB) Webhook(ctx context.Context, id string) (store.Webhook, error) {
	w, err := scanWebhook(db.read.QueryRowContext(ctx, `SELECT `+webhookColumns+` WHERE w.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return w, webhookNotFound(id)
	}
	if err != nil {
		return w, fmt.Errorf("webhook: %w", err)
	}
	return w, nil
}

// Webhooks returns every webhook, ordered by Created, then id.
func (db *DB) Webhooks(ctx context.Context) ([]store.Webhook, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+webhookColumns+` ORDER BY w.created, w.id`)
	if err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	defer rows.Close()
	var out []store.Webhook
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, fmt.Errorf("webhooks: %w", err)
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	return out, nil
}

// DeleteWebhook removes a webhook and its log. Returns ENOTFOUND if it does
// not exist.
func (db *DB) DeleteWebhook(ctx context.Context, id string) error {
	return db.updateWebhook(ctx, "delete webhook", id, `DELETE FROM webhooks WHERE id = ?`, id)
}

// AcquireWebhookLease takes or extends the lease of webhook id for holder.
// Returns ENOTFOUND if the webhook does not exist.
func (db *DB) AcquireWebhookLease(ctx context.Context, id, holder string, now time.Time, ttl time.Duration) (bool, error) {
	r, err := db.write.ExecContext(ctx, `UPDATE webhooks SET lease_holder = ?, lease_until = ?
		WHERE id = ? AND (lease_holder = ? OR lease_holder = '' OR lease_until <= ?)`,
		holder, now.Add(ttl).UnixMicro(), id, holder, now.UnixMicro())
	if err != nil {
		return false, fmt.Errorf("acquire webhook lease: %w", err)
	}
	if n, err := r.RowsAffected(); err != nil || n == 1 {
		return n == 1, err
	}
	if _, err := db.Webhook(ctx, id); err != nil {
		return false, err
	}
	return false, nil
}

// ReleaseWebhookLease frees the lease if holder holds it.
func (db *DB) ReleaseWebhookLease(ctx context.Context, id, holder string) error {
	_, err := db.write.ExecContext(ctx, `UPDATE webhooks SET lease_holder = '', lease_until = 0
		WHERE id = ? AND lease_holder = ?`, id, holder)
	if err != nil {
		return fmt.Errorf("release webhook lease: %w", err)
	}
	return nil
}

// RecordWebhookAttempt logs a and, when st is not nil, saves the state, in
// one transaction. Returns ECONFLICT if a state is given and holder does
// not hold the lease, ENOTFOUND if the webhook does not exist.
func (db *DB) RecordWebhookAttempt(ctx context.Context, id, holder string, a store.WebhookAttempt, st *store.WebhookState) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record webhook attempt: %w", err)
	}
	defer tx.Rollback()
	var lease string
	err = tx.QueryRowContext(ctx, `SELECT lease_holder FROM webhooks WHERE id = ?`, id).Scan(&lease)
	if errors.Is(err, sql.ErrNoRows) {
		return webhookNotFound(id)
	}
	if err != nil {
		return fmt.Errorf("record webhook attempt: %w", err)
	}
	if st != nil {
		if lease != holder || holder == "" {
			return errLeaseLost(id)
		}
		// max() keeps the cursor from moving back; paused is only ever set
		// here, so an operator's pause made during the attempt stays.
		_, err = tx.ExecContext(ctx, `UPDATE webhooks SET cursor = max(cursor, ?), pending_last = ?, failures = ?,
			failing_since = ?, next_attempt = ?, last_error = ?,
			paused_reason = CASE WHEN ? THEN ? ELSE paused_reason END, paused = paused OR ?
			WHERE id = ?`,
			micros(st.Cursor), micros(st.PendingLast), st.Failures, micros(st.FailingSince), micros(st.NextAttempt),
			st.LastError, st.Paused, st.PausedReason, st.Paused, id)
		if err != nil {
			return fmt.Errorf("record webhook attempt: %w", err)
		}
	}
	var seq int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) + 1 FROM webhook_attempts WHERE webhook = ?`,
		id).Scan(&seq); err != nil {
		return fmt.Errorf("record webhook attempt: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_attempts (webhook, seq, delivery, time, objects, status,
		latency, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		id, seq, a.Delivery, micros(db.nowOr(a.Time)), a.Objects, a.Status, int64(a.Latency), a.Error); err != nil {
		return fmt.Errorf("record webhook attempt: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_attempts WHERE webhook = ? AND seq <= ?`,
		id, seq-store.WebhookLogSize); err != nil {
		return fmt.Errorf("record webhook attempt: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record webhook attempt: %w", err)
	}
	return nil
}

// WebhookAttempts returns a webhook's newest attempts, newest first.
// Returns ENOTFOUND if the webhook does not exist.
func (db *DB) WebhookAttempts(ctx context.Context, id string, limit int) ([]store.WebhookAttempt, error) {
	if limit <= 0 {
		limit = store.WebhookLogSize
	}
	rows, err := db.read.QueryContext(ctx, `SELECT delivery, time, objects, status, latency, error
		FROM webhook_attempts WHERE webhook = ? ORDER BY seq DESC LIMIT ?`, id, limit)
	if err != nil {
		return nil, fmt.Errorf("webhook attempts: %w", err)
	}
	defer rows.Close()
	out := []store.WebhookAttempt{}
	for rows.Next() {
		var a store.WebhookAttempt
		var at, latency int64
		if err := rows.Scan(&a.Delivery, &at, &a.Objects, &a.Status, &latency, &a.Error); err != nil {
			return nil, fmt.Errorf("webhook attempts: %w", err)
		}
		a.Time, a.Latency = fromMicros(at), time.Duration(latency)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("webhook attempts: %w", err)
	}
	if len(out) == 0 {
		if _, err := db.Webhook(ctx, id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SetWebhookPaused pauses or resumes a webhook. Returns ENOTFOUND if it
// does not exist.
func (db *DB) SetWebhookPaused(ctx context.Context, id string, paused bool, reason string) error {
	if paused {
		return db.updateWebhook(ctx, "pause webhook", id,
			`UPDATE webhooks SET paused = 1, paused_reason = ? WHERE id = ?`, reason, id)
	}
	return db.updateWebhook(ctx, "resume webhook", id, `UPDATE webhooks SET paused = 0, paused_reason = '',
		failures = 0, failing_since = 0, next_attempt = 0 WHERE id = ?`, id)
}

// UpdateWebhook changes a webhook's URL, secret, batch size or wait.
// Returns ENOTFOUND if it does not exist.
func (db *DB) UpdateWebhook(ctx context.Context, id string, u store.WebhookUpdate) error {
	url, secret, batch, maxWait := u.Args()
	return db.updateWebhook(ctx, "update webhook", id, `UPDATE webhooks SET url = coalesce(?, url),
		secret = coalesce(?, secret), batch_size = coalesce(?, batch_size), max_wait = coalesce(?, max_wait)
		WHERE id = ?`, url, secret, batch, maxWait, id)
}

// updateWebhook runs a statement that changes one webhook row and returns
// ENOTFOUND if it changed none.
func (db *DB) updateWebhook(ctx context.Context, op, id, query string, args ...any) error {
	r, err := db.write.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if n == 0 {
		return webhookNotFound(id)
	}
	return nil
}

// webhookNotFound is the error for a missing webhook.
func webhookNotFound(id string) error {
	return hail.Errorf(hail.ENOTFOUND, "Webhook %q not found.", id)
}

// errLeaseLost is the error for a state saved by a process that does not
// hold the webhook's lease.
func errLeaseLost(id string) error {
	return hail.Errorf(hail.ECONFLICT, "Webhook %q is being delivered by another process.", id)
}
