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

// CreateFeed stores a feed. Returns EINVALID if it does not validate,
// ENOTFOUND if its collection does not exist, ECONFLICT if the name is taken.
func (db *DB) CreateFeed(ctx context.Context, f store.Feed) error {
	if err := f.Validate(); err != nil {
		return err
	}
	list, err := json.Marshal(f.List)
	if err != nil {
		return fmt.Errorf("create feed: %w", err)
	}
	res, err := db.write.ExecContext(ctx, `INSERT INTO feeds (name, kind, url, collection, taxii_collection,
			username, password, token, every, list, all_versions, insecure, ca, client_cert, client_key, created, next_run,
			added_after, etag, last_modified, mark_resets, mark_state, lease_until)
		SELECT ?, ?, ?, seq, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0 FROM collections WHERE id = ?`,
		f.Name, f.Kind, f.URL, f.TAXIICollection, f.User, f.Password, f.Token, int64(f.Every), string(list), f.AllVersions,
		f.Insecure, f.CA, f.ClientCert, f.ClientKey,
		micros(db.nowOr(f.Created)), micros(f.NextRun), micros(f.Mark.AddedAfter), f.Mark.ETag, f.Mark.LastModified,
		f.Mark.Resets, f.Mark.State, f.CollectionID)
	if isUnique(err) {
		return hail.Errorf(hail.ECONFLICT, "A feed named %q already exists.", f.Name)
	}
	if err != nil {
		return fmt.Errorf("create feed: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("create feed: %w", err)
	} else if n == 0 {
		return collectionNotFound(f.CollectionID)
	}
	return nil
}

// feedSelect reads a feed with its latest run, if any.
const feedSelect = `SELECT f.name, f.kind, f.url, c.id, f.taxii_collection, f.username, f.password, f.token,
		f.every, f.list, f.all_versions, f.insecure, f.ca, f.client_cert, f.client_key, f.created, f.next_run, f.added_after, f.etag, f.last_modified, f.mark_resets, f.mark_state,
		coalesce(r.started, 0), coalesce(r.ended, 0), coalesce(r.read, 0), coalesce(r.added, 0),
		coalesce(r.new_versions, 0), coalesce(r.duplicates, 0), coalesce(r.rejected, 0), coalesce(r.revoked, 0),
		coalesce(r.not_changed, 0), coalesce(r.error, ''), coalesce(r.rejections, '[]')
	FROM feeds f JOIN collections c ON c.seq = f.collection
	LEFT JOIN feed_runs r ON r.seq = (SELECT max(seq) FROM feed_runs WHERE feed = f.name)`

func scanFeed(row interface{ Scan(...any) error }) (store.Feed, error) {
	var f store.Feed
	var every, created, next, after, started, ended int64
	var list, rejections string
	r := &f.LastRun
	err := row.Scan(&f.Name, &f.Kind, &f.URL, &f.CollectionID, &f.TAXIICollection, &f.User, &f.Password, &f.Token,
		&every, &list, &f.AllVersions, &f.Insecure, &f.CA, &f.ClientCert, &f.ClientKey, &created, &next, &after, &f.Mark.ETag, &f.Mark.LastModified, &f.Mark.Resets, &f.Mark.State,
		&started, &ended, &r.Read, &r.Added, &r.NewVersions, &r.Duplicates, &r.Rejected, &r.Revoked, &r.NotChanged, &r.Error, &rejections)
	if err != nil {
		return f, err
	}
	if r.Rejections, err = store.ParseRejections(rejections); err != nil {
		return f, err
	}
	f.Every = time.Duration(every)
	f.Created, f.NextRun, f.Mark.AddedAfter = fromMicros(created), fromMicros(next), fromMicros(after)
	r.Started, r.Ended = fromMicros(started), fromMicros(ended)
	if err := json.Unmarshal([]byte(list), &f.List); err != nil {
		return f, fmt.Errorf("feed %q list options: %w", f.Name, err)
	}
	return f, nil
}

// Feeds returns every feed with its latest run, ordered by name.
func (db *DB) Feeds(ctx context.Context) ([]store.Feed, error) {
	rows, err := db.read.QueryContext(ctx, feedSelect+` ORDER BY f.name`)
	if err != nil {
		return nil, fmt.Errorf("feeds: %w", err)
	}
	defer rows.Close()
	var out []store.Feed
	for rows.Next() {
		f, err := scanFeed(rows)
		if err != nil {
			return nil, fmt.Errorf("feeds: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("feeds: %w", err)
	}
	return out, nil
}

// Feed returns one feed. Returns ENOTFOUND if it does not exist.
func (db *DB) Feed(ctx context.Context, name string) (store.Feed, error) {
	return feedIn(ctx, db.read, name)
}

// queryer is what a *sql.DB (the read pool) and a *sql.Tx share, for reads
// that run on either.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func feedIn(ctx context.Context, q queryer, name string) (store.Feed, error) {
	f, err := scanFeed(q.QueryRowContext(ctx, feedSelect+` WHERE f.name = ?`, name))
	if err == sql.ErrNoRows {
		return f, feedNotFound(name)
	}
	if err != nil {
		return f, fmt.Errorf("feed: %w", err)
	}
	return f, nil
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
	res, err := db.write.ExecContext(ctx, `DELETE FROM feeds WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("delete feed: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete feed: %w", err)
	} else if n == 0 {
		return feedNotFound(name)
	}
	return nil
}

// ClaimFeed takes a feed's lease until until if it is free at now and, with
// due, the feed is due. Returns ECONFLICT if it is held or not due,
// ENOTFOUND if the feed does not exist.
func (db *DB) ClaimFeed(ctx context.Context, name string, now, until time.Time, due bool) (store.Feed, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return store.Feed{}, fmt.Errorf("claim feed: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE feeds SET lease_until = ? WHERE name = ? AND lease_until <= ?
		AND (NOT ? OR next_run <= ?)`, micros(until), name, micros(now), due, micros(now))
	if err != nil {
		return store.Feed{}, fmt.Errorf("claim feed: %w", err)
	}
	f, err := feedIn(ctx, tx, name)
	if err != nil {
		return f, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return f, fmt.Errorf("claim feed: %w", err)
	} else if n == 0 {
		return f, claimConflict(f, now)
	}
	if err := tx.Commit(); err != nil {
		return f, fmt.Errorf("claim feed: %w", err)
	}
	return f, nil
}

// FinishFeedRun records a run, sets the mark and next run and releases the
// lease. Returns ENOTFOUND if the feed does not exist.
func (db *DB) FinishFeedRun(ctx context.Context, name string, run store.FeedRun, mark store.FeedMark, next time.Time) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("finish feed run: %w", err)
	}
	defer tx.Rollback()
	// A mark reset since the run started (mark.Resets is the count it
	// started from) stays reset.
	res, err := tx.ExecContext(ctx, `UPDATE feeds SET next_run = ?,
		added_after = CASE WHEN mark_resets = ? THEN ? ELSE added_after END,
		etag = CASE WHEN mark_resets = ? THEN ? ELSE etag END,
		last_modified = CASE WHEN mark_resets = ? THEN ? ELSE last_modified END,
		mark_state = CASE WHEN mark_resets = ? THEN ? ELSE mark_state END,
		lease_until = 0 WHERE name = ?`,
		micros(next), mark.Resets, micros(mark.AddedAfter), mark.Resets, mark.ETag, mark.Resets, mark.LastModified,
		mark.Resets, mark.State, name)
	if err != nil {
		return fmt.Errorf("finish feed run: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("finish feed run: %w", err)
	} else if n == 0 {
		return feedNotFound(name)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO feed_runs (feed, started, ended, read, added, new_versions, duplicates,
			rejected, revoked, not_changed, error, rejections) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		name, micros(run.Started), micros(run.Ended), run.Read, run.Added, run.NewVersions, run.Duplicates, run.Rejected,
		run.Revoked, run.NotChanged, run.Error, run.RejectionsJSON()); err != nil {
		return fmt.Errorf("finish feed run: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM feed_runs WHERE feed = ? AND seq <= (SELECT seq FROM feed_runs
		WHERE feed = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)`, name, name, store.MaxFeedRuns); err != nil {
		return fmt.Errorf("finish feed run: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("finish feed run: %w", err)
	}
	return nil
}

// FeedRuns returns a feed's latest runs, newest first. Returns ENOTFOUND if
// the feed does not exist.
func (db *DB) FeedRuns(ctx context.Context, name string, limit int) ([]store.FeedRun, error) {
	if _, err := db.Feed(ctx, name); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := db.read.QueryContext(ctx, `SELECT started, ended, read, added, new_versions, duplicates, rejected, revoked,
		not_changed, error, rejections FROM feed_runs WHERE feed = ? ORDER BY seq DESC LIMIT ?`, name, limit)
	if err != nil {
		return nil, fmt.Errorf("feed runs: %w", err)
	}
	defer rows.Close()
	var out []store.FeedRun
	for rows.Next() {
		var r store.FeedRun
		var started, ended int64
		var rejections string
		if err := rows.Scan(&started, &ended, &r.Read, &r.Added, &r.NewVersions, &r.Duplicates, &r.Rejected, &r.Revoked,
			&r.NotChanged, &r.Error, &rejections); err != nil {
			return nil, fmt.Errorf("feed runs: %w", err)
		}
		r.Started, r.Ended = fromMicros(started), fromMicros(ended)
		if r.Rejections, err = store.ParseRejections(rejections); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("feed runs: %w", err)
	}
	return out, nil
}

// UpdateFeed changes some of a feed's settings (see store.FeedUpdate).
// Returns ENOTFOUND if it does not exist, EINVALID if the result does not
// validate.
func (db *DB) UpdateFeed(ctx context.Context, name string, u store.FeedUpdate) (store.Feed, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return store.Feed{}, fmt.Errorf("update feed: %w", err)
	}
	defer tx.Rollback()
	f, err := feedIn(ctx, tx, name)
	if err != nil {
		return f, err
	}
	now := db.Now()
	if u.RunNow {
		var lease int64
		if err := tx.QueryRowContext(ctx, `SELECT lease_until FROM feeds WHERE name = ?`, name).Scan(&lease); err != nil {
			return store.Feed{}, fmt.Errorf("update feed: %w", err)
		}
		if lease > micros(now) {
			return store.Feed{}, feedRunning(name)
		}
	}
	f = u.Apply(f, now)
	if err := f.Validate(); err != nil {
		return store.Feed{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE feeds SET url = ?, taxii_collection = ?, username = ?, password = ?, token = ?,
			every = ?, all_versions = ?, insecure = ?, ca = ?, client_cert = ?, client_key = ?, added_after = ?, etag = ?,
			last_modified = ?, mark_resets = ?, mark_state = ?, next_run = ? WHERE name = ?`,
		f.URL, f.TAXIICollection, f.User, f.Password, f.Token, int64(f.Every), f.AllVersions, f.Insecure, f.CA,
		f.ClientCert, f.ClientKey, micros(f.Mark.AddedAfter), f.Mark.ETag, f.Mark.LastModified, f.Mark.Resets,
		f.Mark.State, micros(f.NextRun), name); err != nil {
		return store.Feed{}, fmt.Errorf("update feed: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return store.Feed{}, fmt.Errorf("update feed: %w", err)
	}
	return f, nil
}
