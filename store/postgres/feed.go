package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"hail"
	"hail/store"
)

// CreateFeed stores a feed. Returns EINVALID if it does not validate,
// ENOTFOUND if its collection does not exist, ECONFLICT if the name is taken.
func (db *DB) CreateFeed(ctx context.Context, f store.Feed) error {
	if err := f.Validate(); err != nil {
		return err
	}
	tag, err := db.pool.Exec(ctx, `INSERT INTO feeds (name, kind, url, collection, taxii_collection,
			username, password, token, every, list, insecure, ca, created, next_run, added_after, etag, last_modified,
			all_versions, client_cert, client_key, mark_resets, mark_state)
		SELECT $1, $2, $3, seq, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $18, $19, $20, $21, $22
		FROM collections WHERE id = $17`,
		f.Name, f.Kind, f.URL, f.TAXIICollection, f.User, f.Password, f.Token, int64(f.Every), f.List, f.Insecure, f.CA,
		db.nowOr(f.Created), timeOrNil(f.NextRun), timeOrNil(f.Mark.AddedAfter), f.Mark.ETag, f.Mark.LastModified,
		f.CollectionID, f.AllVersions, f.ClientCert, f.ClientKey, f.Mark.Resets, f.Mark.State)
	if err != nil {
		if hail.ErrorCode(dbError("", err)) == hail.ECONFLICT {
			return hail.Errorf(hail.ECONFLICT, "A feed named %q already exists.", f.Name)
		}
		return dbError("create feed", err)
	}
	if tag.RowsAffected() == 0 {
		return collectionNotFound(f.CollectionID)
	}
	return nil
}

// feedSelect reads a feed with its latest run, if any.
const feedSelect = `SELECT f.name, f.kind, f.url, c.id, f.taxii_collection, f.username, f.password, f.token,
		f.every, f.list, f.all_versions, f.insecure, f.ca, f.client_cert, f.client_key, f.created, f.next_run, f.added_after, f.etag, f.last_modified, f.mark_resets, f.mark_state,
		r.started, r.ended, coalesce(r.read, 0), coalesce(r.added, 0), coalesce(r.new_versions, 0), coalesce(r.duplicates, 0),
		coalesce(r.rejected, 0), coalesce(r.revoked, 0), coalesce(r.not_changed, false), coalesce(r.error, ''),
		coalesce(r.rejections, '[]')
	FROM feeds f JOIN collections c ON c.seq = f.collection
	LEFT JOIN LATERAL (SELECT * FROM feed_runs WHERE feed = f.name ORDER BY seq DESC LIMIT 1) r ON true`

func scanFeed(row pgx.Row) (store.Feed, error) {
	var f store.Feed
	var every int64
	var next, after, started, ended *time.Time
	var rejections string
	r := &f.LastRun
	err := row.Scan(&f.Name, &f.Kind, &f.URL, &f.CollectionID, &f.TAXIICollection, &f.User, &f.Password, &f.Token,
		&every, &f.List, &f.AllVersions, &f.Insecure, &f.CA, &f.ClientCert, &f.ClientKey, &f.Created, &next, &after, &f.Mark.ETag, &f.Mark.LastModified, &f.Mark.Resets, &f.Mark.State,
		&started, &ended, &r.Read, &r.Added, &r.NewVersions, &r.Duplicates, &r.Rejected, &r.Revoked, &r.NotChanged, &r.Error, &rejections)
	if err != nil {
		return f, err
	}
	if r.Rejections, err = store.ParseRejections(rejections); err != nil {
		return f, err
	}
	f.Every = time.Duration(every)
	f.Created = utc(f.Created)
	f.NextRun, f.Mark.AddedAfter = orZero(next), orZero(after)
	r.Started, r.Ended = orZero(started), orZero(ended)
	return f, nil
}

// orZero reads a nullable timestamptz: NULL is the zero time.
func orZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return utc(*t)
}

// Feeds returns every feed with its latest run, ordered by name.
func (db *DB) Feeds(ctx context.Context) ([]store.Feed, error) {
	rows, err := db.pool.Query(ctx, feedSelect+` ORDER BY f.name`)
	if err != nil {
		return nil, dbError("feeds", err)
	}
	defer rows.Close()
	var out []store.Feed
	for rows.Next() {
		f, err := scanFeed(rows)
		if err != nil {
			return nil, dbError("feeds", err)
		}
		out = append(out, f)
	}
	return out, dbError("feeds", rows.Err())
}

// Feed returns one feed. Returns ENOTFOUND if it does not exist.
func (db *DB) Feed(ctx context.Context, name string) (store.Feed, error) {
	return feedIn(ctx, db.pool, name)
}

// rowQueryer is what feedIn needs of a pool or transaction.
type rowQueryer interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func feedIn(ctx context.Context, q rowQueryer, name string) (store.Feed, error) {
	f, err := scanFeed(q.QueryRow(ctx, feedSelect+` WHERE f.name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return f, feedNotFound(name)
	}
	return f, dbError("feed", err)
}

// claimConflict says why a claim failed.
func claimConflict(f store.Feed, now time.Time) error {
	if f.NextRun.After(now) {
		return hail.Errorf(hail.ECONFLICT, "Feed %q is not due before %s.", f.Name, f.NextRun.Format(time.RFC3339))
	}
	return hail.Errorf(hail.ECONFLICT, "Feed %q is being run elsewhere.", f.Name)
}

// feedRunning refuses to make a feed due while a run holds it: the run's
// end sets the next run, which would undo the request unseen.
func feedRunning(name string) error {
	return hail.Errorf(hail.ECONFLICT, "Feed %q is being run now; ask again when the run has ended.", name)
}

func feedNotFound(name string) error {
	return hail.Errorf(hail.ENOTFOUND, "Feed %q not found.", name)
}

// DeleteFeed removes a feed and its runs. Returns ENOTFOUND if it does not
// exist.
func (db *DB) DeleteFeed(ctx context.Context, name string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM feeds WHERE name = $1`, name)
	if err != nil {
		return dbError("delete feed", err)
	}
	if tag.RowsAffected() == 0 {
		return feedNotFound(name)
	}
	return nil
}

// ClaimFeed takes a feed's lease until until if it is free at now and, with
// due, the feed is due. The conditional UPDATE locks the row and re-reads
// it once the lock is free, so of replicas claiming at once exactly one
// sees it free. Returns ECONFLICT if it is held or not due, ENOTFOUND if
// the feed does not exist.
func (db *DB) ClaimFeed(ctx context.Context, name string, now, until time.Time, due bool) (store.Feed, error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return store.Feed{}, dbError("claim feed", err)
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, `UPDATE feeds SET lease_until = $1 WHERE name = $2
		AND (lease_until IS NULL OR lease_until <= $3)
		AND (NOT $4 OR next_run IS NULL OR next_run <= $3)`, until, name, now, due)
	if err != nil {
		return store.Feed{}, dbError("claim feed", err)
	}
	f, err := feedIn(ctx, tx, name)
	if err != nil {
		return f, err
	}
	if tag.RowsAffected() == 0 {
		return f, claimConflict(f, now)
	}
	return f, dbError("claim feed", tx.Commit(ctx))
}

// FinishFeedRun records a run, sets the mark and next run and releases the
// lease. Returns ENOTFOUND if the feed does not exist.
func (db *DB) FinishFeedRun(ctx context.Context, name string, run store.FeedRun, mark store.FeedMark, next time.Time) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return dbError("finish feed run", err)
	}
	defer tx.Rollback(ctx)
	// A mark reset since the run started (mark.Resets is the count it
	// started from) stays reset.
	tag, err := tx.Exec(ctx, `UPDATE feeds SET next_run = $1,
		added_after = CASE WHEN mark_resets = $6 THEN $2 ELSE added_after END,
		etag = CASE WHEN mark_resets = $6 THEN $3 ELSE etag END,
		last_modified = CASE WHEN mark_resets = $6 THEN $4 ELSE last_modified END,
		mark_state = CASE WHEN mark_resets = $6 THEN $7 ELSE mark_state END,
		lease_until = NULL WHERE name = $5`,
		timeOrNil(next), timeOrNil(mark.AddedAfter), mark.ETag, mark.LastModified, name, mark.Resets, mark.State)
	if err != nil {
		return dbError("finish feed run", err)
	}
	if tag.RowsAffected() == 0 {
		return feedNotFound(name)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO feed_runs (feed, started, ended, read, added, new_versions, duplicates,
			rejected, revoked, not_changed, error, rejections) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		name, run.Started, run.Ended, run.Read, run.Added, run.NewVersions, run.Duplicates, run.Rejected,
		run.Revoked, run.NotChanged, run.Error, run.RejectionsJSON()); err != nil {
		return dbError("finish feed run", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM feed_runs WHERE feed = $1 AND seq <= (SELECT seq FROM feed_runs
		WHERE feed = $1 ORDER BY seq DESC LIMIT 1 OFFSET $2)`, name, store.MaxFeedRuns); err != nil {
		return dbError("finish feed run", err)
	}
	return dbError("finish feed run", tx.Commit(ctx))
}

// FeedRuns returns a feed's latest runs, newest first. Returns ENOTFOUND if
// the feed does not exist.
func (db *DB) FeedRuns(ctx context.Context, name string, limit int) ([]store.FeedRun, error) {
	if _, err := db.Feed(ctx, name); err != nil {
		return nil, err
	}
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	rows, err := db.pool.Query(ctx, `SELECT started, ended, read, added, new_versions, duplicates, rejected, revoked,
		not_changed, error, rejections FROM feed_runs WHERE feed = $1 ORDER BY seq DESC LIMIT $2`, name, lim)
	if err != nil {
		return nil, dbError("feed runs", err)
	}
	defer rows.Close()
	var out []store.FeedRun
	for rows.Next() {
		var r store.FeedRun
		var rejections string
		if err := rows.Scan(&r.Started, &r.Ended, &r.Read, &r.Added, &r.NewVersions, &r.Duplicates, &r.Rejected, &r.Revoked,
			&r.NotChanged, &r.Error, &rejections); err != nil {
			return nil, dbError("feed runs", err)
		}
		r.Started, r.Ended = utc(r.Started), utc(r.Ended)
		if r.Rejections, err = store.ParseRejections(rejections); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, dbError("feed runs", rows.Err())
}

// UpdateFeed changes some of a feed's settings (see store.FeedUpdate).
// Returns ENOTFOUND if it does not exist, EINVALID if the result does not
// validate.
func (db *DB) UpdateFeed(ctx context.Context, name string, u store.FeedUpdate) (store.Feed, error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return store.Feed{}, dbError("update feed", err)
	}
	defer tx.Rollback(ctx)
	// Two updates at once apply one after the other, each to what the
	// other left.
	if _, err := tx.Exec(ctx, `SELECT 1 FROM feeds WHERE name = $1 FOR UPDATE`, name); err != nil {
		return store.Feed{}, dbError("update feed", err)
	}
	f, err := feedIn(ctx, tx, name)
	if err != nil {
		return f, err
	}
	now := db.Now()
	if u.RunNow {
		var lease *time.Time
		if err := tx.QueryRow(ctx, `SELECT lease_until FROM feeds WHERE name = $1`, name).Scan(&lease); err != nil {
			return store.Feed{}, dbError("update feed", err)
		}
		if lease != nil && lease.After(now) {
			return store.Feed{}, feedRunning(name)
		}
	}
	f = u.Apply(f, now)
	if err := f.Validate(); err != nil {
		return store.Feed{}, err
	}
	if _, err := tx.Exec(ctx, `UPDATE feeds SET url = $1, taxii_collection = $2, username = $3, password = $4, token = $5,
			every = $6, all_versions = $7, insecure = $8, ca = $9, client_cert = $10, client_key = $11, added_after = $12,
			etag = $13, last_modified = $14, mark_resets = $16, next_run = $17, mark_state = $18 WHERE name = $15`,
		f.URL, f.TAXIICollection, f.User, f.Password, f.Token, int64(f.Every), f.AllVersions, f.Insecure, f.CA,
		f.ClientCert, f.ClientKey, timeOrNil(f.Mark.AddedAfter), f.Mark.ETag, f.Mark.LastModified, name,
		f.Mark.Resets, timeOrNil(f.NextRun), f.Mark.State); err != nil {
		return store.Feed{}, dbError("update feed", err)
	}
	return f, dbError("update feed", tx.Commit(ctx))
}
