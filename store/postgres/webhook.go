package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"hail"
	"hail/store"
)

// CreateWebhook stores a webhook with its initial state. Returns ENOTFOUND
// if its collection does not exist, ECONFLICT if the id is taken.
func (db *DB) CreateWebhook(ctx context.Context, w store.Webhook) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return dbError("create webhook", err)
	}
	defer tx.Rollback(context.Background())
	seq, err := collectionSeq(ctx, tx, w.CollectionID, true)
	if err != nil {
		return err
	}
	s := w.State
	_, err = tx.Exec(ctx, `INSERT INTO webhooks (id, collection, url, secret, batch_size, max_wait, created,
		cursor, pending_last, failures, failing_since, next_attempt, last_error, paused, paused_reason,
		lease_holder, lease_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, '', NULL)`,
		w.ID, seq, w.URL, w.Secret, w.BatchSize, int64(w.MaxWait), db.nowOr(w.Created),
		micros(s.Cursor), micros(s.PendingLast), s.Failures, timeOrNil(s.FailingSince), timeOrNil(s.NextAttempt),
		s.LastError, s.Paused, s.PausedReason)
	if hail.ErrorCode(dbError("", err)) == hail.ECONFLICT {
		return hail.Errorf(hail.ECONFLICT, "A webhook with id %q already exists.", w.ID)
	}
	if err != nil {
		return dbError("create webhook", err)
	}
	return dbError("create webhook", tx.Commit(ctx))
}

// timeOfNull converts a nullable timestamptz back; NULL is the zero time.
func timeOfNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return utc(*t)
}

const webhookColumns = `w.id, c.id, w.url, w.secret, w.batch_size, w.max_wait, w.created, w.cursor, w.pending_last,
	w.failures, w.failing_since, w.next_attempt, w.last_error, w.paused, w.paused_reason, w.lease_holder, w.lease_until
	FROM webhooks w JOIN collections c ON c.seq = w.collection`

func scanWebhook(row pgx.Row) (store.Webhook, error) {
	var w store.Webhook
	var maxWait, cursor, pending int64
	var failing, next, leaseUntil *time.Time
	s := &w.State
	if err := row.Scan(&w.ID, &w.CollectionID, &w.URL, &w.Secret, &w.BatchSize, &maxWait, &w.Created, &cursor,
		&pending, &s.Failures, &failing, &next, &s.LastError, &s.Paused, &s.PausedReason,
		&w.LeaseHolder, &leaseUntil); err != nil {
		return store.Webhook{}, err
	}
	w.MaxWait, w.Created = time.Duration(maxWait), utc(w.Created)
	s.Cursor, s.PendingLast = fromMicros(cursor), fromMicros(pending)
	s.FailingSince, s.NextAttempt = timeOfNull(failing), timeOfNull(next)
	w.LeaseUntil = timeOfNull(leaseUntil)
	return w, nil
}

// Webhook returns one webhook. Returns ENOTFOUND if it does not exist.
func (db *DB) Webhook(ctx context.Context, id string) (store.Webhook, error) {
	w, err := scanWebhook(db.pool.QueryRow(ctx, `SELECT `+webhookColumns+` WHERE w.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return w, webhookNotFound(id)
	}
	return w, dbError("webhook", err)
}

// Webhooks returns every webhook, ordered by Created, then id.
func (db *DB) Webhooks(ctx context.Context) ([]store.Webhook, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+webhookColumns+` ORDER BY w.created, w.id`)
	if err != nil {
		return nil, dbError("webhooks", err)
	}
	ws, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Webhook, error) { return scanWebhook(r) })
	return ws, dbError("webhooks", err)
}

// DeleteWebhook removes a webhook and its log. Returns ENOTFOUND if it does
// not exist.
func (db *DB) DeleteWebhook(ctx context.Context, id string) error {
	return db.updateWebhook(ctx, "delete webhook", id, `DELETE FROM webhooks WHERE id = $1`, id)
}

// AcquireWebhookLease takes or extends the lease of webhook id for holder.
// The UPDATE's row lock orders processes racing for a free lease: the
// second re-checks the condition against the first's lease and skips.
// Returns ENOTFOUND if the webhook does not exist.
func (db *DB) AcquireWebhookLease(ctx context.Context, id, holder string, now time.Time, ttl time.Duration) (bool, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE webhooks SET lease_holder = $2, lease_until = $3
		WHERE id = $1 AND (lease_holder = $2 OR lease_holder = '' OR lease_until <= $4)`,
		id, holder, now.Add(ttl), now)
	if err != nil {
		return false, dbError("acquire webhook lease", err)
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}
	if _, err := db.Webhook(ctx, id); err != nil {
		return false, err
	}
	return false, nil
}

// ReleaseWebhookLease frees the lease if holder holds it.
func (db *DB) ReleaseWebhookLease(ctx context.Context, id, holder string) error {
	_, err := db.pool.Exec(ctx, `UPDATE webhooks SET lease_holder = '', lease_until = NULL
		WHERE id = $1 AND lease_holder = $2`, id, holder)
	return dbError("release webhook lease", err)
}

// RecordWebhookAttempt logs a and, when st is not nil, saves the state, in
// one transaction. The webhook row is locked first, which serialises the
// log's sequence numbers and the lease check with lease changes. Returns
// ECONFLICT if a state is given and holder does not hold the lease,
// ENOTFOUND if the webhook does not exist.
func (db *DB) RecordWebhookAttempt(ctx context.Context, id, holder string, a store.WebhookAttempt, st *store.WebhookState) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return dbError("record webhook attempt", err)
	}
	defer tx.Rollback(context.Background())
	var lease string
	err = tx.QueryRow(ctx, `SELECT lease_holder FROM webhooks WHERE id = $1 FOR UPDATE`, id).Scan(&lease)
	if errors.Is(err, pgx.ErrNoRows) {
		return webhookNotFound(id)
	}
	if err != nil {
		return dbError("record webhook attempt", err)
	}
	if st != nil {
		if lease != holder || holder == "" {
			return hail.Errorf(hail.ECONFLICT, "Webhook %q is being delivered by another process.", id)
		}
		// greatest() keeps the cursor from moving back; paused is only ever
		// set here, so an operator's pause made during the attempt stays.
		_, err = tx.Exec(ctx, `UPDATE webhooks SET cursor = greatest(cursor, $2), pending_last = $3, failures = $4,
			failing_since = $5, next_attempt = $6, last_error = $7,
			paused_reason = CASE WHEN $8 THEN $9 ELSE paused_reason END, paused = paused OR $8
			WHERE id = $1`,
			id, micros(st.Cursor), micros(st.PendingLast), st.Failures, timeOrNil(st.FailingSince),
			timeOrNil(st.NextAttempt), st.LastError, st.Paused, st.PausedReason)
		if err != nil {
			return dbError("record webhook attempt", err)
		}
	}
	_, err = tx.Exec(ctx, `WITH n AS (SELECT coalesce(max(seq), 0) + 1 AS seq FROM webhook_attempts WHERE webhook = $1),
		ins AS (INSERT INTO webhook_attempts (webhook, seq, delivery, time, objects, status, latency, error)
			SELECT $1, n.seq, $2, $3, $4, $5, $6, $7 FROM n)
		DELETE FROM webhook_attempts WHERE webhook = $1 AND seq <= (SELECT seq FROM n) - $8`,
		id, a.Delivery, db.nowOr(a.Time), a.Objects, a.Status, int64(a.Latency), a.Error, store.WebhookLogSize)
	if err != nil {
		return dbError("record webhook attempt", err)
	}
	return dbError("record webhook attempt", tx.Commit(ctx))
}

// WebhookAttempts returns a webhook's newest attempts, newest first.
// Returns ENOTFOUND if the webhook does not exist.
func (db *DB) WebhookAttempts(ctx context.Context, id string, limit int) ([]store.WebhookAttempt, error) {
	if limit <= 0 {
		limit = store.WebhookLogSize
	}
	rows, err := db.pool.Query(ctx, `SELECT delivery, time, objects, status, latency, error
		FROM webhook_attempts WHERE webhook = $1 ORDER BY seq DESC LIMIT $2`, id, limit)
	if err != nil {
		return nil, dbError("webhook attempts", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.WebhookAttempt, error) {
		var a store.WebhookAttempt
		var latency int64
		err := r.Scan(&a.Delivery, &a.Time, &a.Objects, &a.Status, &latency, &a.Error)
		a.Time, a.Latency = utc(a.Time), time.Duration(latency)
		return a, err
	})
	if err != nil {
		return nil, dbError("webhook attempts", err)
	}
	if len(out) == 0 {
		if _, err := db.Webhook(ctx, id); err != nil {
			return nil, err
		}
		return []store.WebhookAttempt{}, nil
	}
	return out, nil
}

// SetWebhookPaused pauses or resumes a webhook. Returns ENOTFOUND if it
// does not exist.
func (db *DB) SetWebhookPaused(ctx context.Context, id string, paused bool, reason string) error {
	if paused {
		return db.updateWebhook(ctx, "pause webhook", id,
			`UPDATE webhooks SET paused = true, paused_reason = $2 WHERE id = $1`, id, reason)
	}
	return db.updateWebhook(ctx, "resume webhook", id, `UPDATE webhooks SET paused = false, paused_reason = '',
		failures = 0, failing_since = NULL, next_attempt = NULL WHERE id = $1`, id)
}

// UpdateWebhook changes a webhook's URL, secret, batch size or wait.
// Returns ENOTFOUND if it does not exist.
func (db *DB) UpdateWebhook(ctx context.Context, id string, u store.WebhookUpdate) error {
	url, secret, batch, maxWait := u.Args()
	return db.updateWebhook(ctx, "update webhook", id, `UPDATE webhooks SET url = coalesce($2::text, url),
		secret = coalesce($3::text, secret), batch_size = coalesce($4::integer, batch_size),
		max_wait = coalesce($5::bigint, max_wait) WHERE id = $1`, id, url, secret, batch, maxWait)
}

// updateWebhook runs a statement that changes one webhook row and returns
// ENOTFOUND if it changed none.
func (db *DB) updateWebhook(ctx context.Context, op, id, query string, args ...any) error {
	tag, err := db.pool.Exec(ctx, query, args...)
	if err != nil {
		return dbError(op, err)
	}
	if tag.RowsAffected() == 0 {
		return webhookNotFound(id)
	}
	return nil
}

// webhookNotFound is the error for a missing webhook.
func webhookNotFound(id string) error {
	return hail.Errorf(hail.ENOTFOUND, "Webhook %q not found.", id)
}
