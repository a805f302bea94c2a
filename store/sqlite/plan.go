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

// UpdateKey changes the named key. Returns ENOTFOUND if there is no
// unrevoked key of that name.
func (db *DB) UpdateKey(ctx context.Context, name string, u store.KeyUpdate) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("update key: %w", err)
	}
	defer tx.Rollback()
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM keys WHERE name = ? AND revoked = 0`, name).Scan(&one)
	if err == sql.ErrNoRows {
		return hail.Errorf(hail.ENOTFOUND, "No valid API key named %q.", name)
	}
	if err != nil {
		return fmt.Errorf("update key: %w", err)
	}
	if u.Plan != nil {
		if _, err := tx.ExecContext(ctx, `UPDATE keys SET plan = ? WHERE name = ?`, *u.Plan, name); err != nil {
			return fmt.Errorf("update key: %w", err)
		}
	}
	if u.Expires != nil {
		if _, err := tx.ExecContext(ctx, `UPDATE keys SET expires = ? WHERE name = ?`, micros(*u.Expires), name); err != nil {
			return fmt.Errorf("update key: %w", err)
		}
	}
	if u.AllowIPs != nil {
		ips, err := json.Marshal(nonNil(*u.AllowIPs))
		if err != nil {
			return fmt.Errorf("update key: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE keys SET allow_ips = ? WHERE name = ?`, string(ips), name); err != nil {
			return fmt.Errorf("update key: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("update key: %w", err)
	}
	return nil
}

// CreatePlan stores a plan; a zero Created is the store's clock. Returns
// ECONFLICT if the name is taken.
func (db *DB) CreatePlan(ctx context.Context, p store.Plan) error {
	apis, err := json.Marshal(nonNil(p.APIs))
	if err != nil {
		return fmt.Errorf("create plan: %w", err)
	}
	_, err = db.write.ExecContext(ctx, `INSERT INTO plans (name, rate, period, burst, apis, max_page, min_poll, created)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		p.Name, p.Rate, p.Period.Microseconds(), p.Burst, string(apis), p.MaxPage, p.MinPollInterval.Microseconds(),
		micros(db.nowOr(p.Created)))
	if isUnique(err) {
		return hail.Errorf(hail.ECONFLICT, "A plan named %q already exists.", p.Name)
	}
	if err != nil {
		return fmt.Errorf("create plan: %w", err)
	}
	return nil
}

// UpdatePlan gives the plan named p.Name p's limits. Returns ENOTFOUND if
// there is none.
func (db *DB) UpdatePlan(ctx context.Context, p store.Plan) error {
	apis, err := json.Marshal(nonNil(p.APIs))
	if err != nil {
		return fmt.Errorf("update plan: %w", err)
	}
	r, err := db.write.ExecContext(ctx, `UPDATE plans SET rate = ?, period = ?, burst = ?, apis = ?, max_page = ?, min_poll = ?
		WHERE name = ?`, p.Rate, p.Period.Microseconds(), p.Burst, string(apis), p.MaxPage, p.MinPollInterval.Microseconds(), p.Name)
	if err != nil {
		return fmt.Errorf("update plan: %w", err)
	}
	if n, err := r.RowsAffected(); err != nil {
		return fmt.Errorf("update plan: %w", err)
	} else if n == 0 {
		return hail.Errorf(hail.ENOTFOUND, "No plan named %q.", p.Name)
	}
	return nil
}

const planColumns = `name, rate, period, burst, apis, max_page, min_poll, created`

func scanPlan(row interface{ Scan(...any) error }) (store.Plan, error) {
	var p store.Plan
	var period, minPoll, created int64
	var apis string
	if err := row.Scan(&p.Name, &p.Rate, &period, &p.Burst, &apis, &p.MaxPage, &minPoll, &created); err != nil {
		return p, err
	}
	p.Period, p.MinPollInterval = time.Duration(period)*time.Microsecond, time.Duration(minPoll)*time.Microsecond
	p.Created = fromMicros(created)
	if err := json.Unmarshal([]byte(apis), &p.APIs); err != nil {
		return p, err
	}
	if len(p.APIs) == 0 {
		p.APIs = nil
	}
	return p, nil
}

// Plan returns the named plan. Returns ENOTFOUND if there is none.
func (db *DB) Plan(ctx context.Context, name string) (store.Plan, error) {
	p, err := scanPlan(db.read.QueryRowContext(ctx, `SELECT `+planColumns+` FROM plans WHERE name = ?`, name))
	if err == sql.ErrNoRows {
		return store.Plan{}, hail.Errorf(hail.ENOTFOUND, "No plan named %q.", name)
	}
	if err != nil {
		return store.Plan{}, fmt.Errorf("plan: %w", err)
	}
	return p, nil
}

// Plans returns every plan, ordered by name.
func (db *DB) Plans(ctx context.Context) ([]store.Plan, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+planColumns+` FROM plans ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("plans: %w", err)
	}
	defer rows.Close()
	var out []store.Plan
	for rows.Next() {
		p, err := scanPlan(rows)
		if err != nil {
			return nil, fmt.Errorf("plans: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("plans: %w", err)
	}
	return out, nil
}

// DeletePlan removes the named plan. Returns ENOTFOUND if there is none and
// ECONFLICT if an unrevoked key is on it.
func (db *DB) DeletePlan(ctx context.Context, name string) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete plan: %w", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM keys WHERE plan = ? AND revoked = 0`, name).Scan(&n); err != nil {
		return fmt.Errorf("delete plan: %w", err)
	}
	if n > 0 {
		return hail.Errorf(hail.ECONFLICT, "Plan %q is the plan of %d key(s); move them to another plan first.", name, n)
	}
	r, err := tx.ExecContext(ctx, `DELETE FROM plans WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("delete plan: %w", err)
	}
	if n, err := r.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return fmt.Errorf("delete plan: %w", err)
		}
		return hail.Errorf(hail.ENOTFOUND, "No plan named %q.", name)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete plan: %w", err)
	}
	return nil
}

// TakeToken admits one request in a rate bucket; see store.Store. The
// admission is one statement on the single write connection, so it is
// atomic.
func (db *DB) TakeToken(ctx context.Context, bucket string, now time.Time, interval time.Duration, burst int) (time.Duration, error) {
	t, iv := now.UnixMicro(), interval.Microseconds()
	tol := iv * int64(max(burst, 1))
	var tat int64
	err := db.write.QueryRowContext(ctx, `INSERT INTO rate_buckets (bucket, tat) VALUES (?1, ?2 + ?3)
		ON CONFLICT (bucket) DO UPDATE SET tat = max(tat, ?2) + ?3 WHERE max(tat, ?2) + ?3 - ?2 <= ?4
		RETURNING tat`, bucket, t, iv, tol).Scan(&tat)
	if err == nil {
		return 0, nil
	}
	if err != sql.ErrNoRows {
		return 0, fmt.Errorf("take token: %w", err)
	}
	if err := db.write.QueryRowContext(ctx, `SELECT tat FROM rate_buckets WHERE bucket = ?`, bucket).Scan(&tat); err != nil {
		return 0, fmt.Errorf("take token: %w", err)
	}
	return time.Duration(max(tat, t)+iv-tol-t) * time.Microsecond, nil
}

// RecordActivity adds activity deltas in one transaction; see store.Store.
func (db *DB) RecordActivity(ctx context.Context, deltas []store.Activity) error {
	if len(deltas) == 0 {
		return nil
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record activity: %w", err)
	}
	defer tx.Rollback()
	var latest int64
	for _, a := range deltas {
		last := micros(a.Last)
		latest = max(latest, last)
		_, err := tx.ExecContext(ctx, `INSERT INTO activity (key, collection, first, last, requests, polls, last_poll,
				objects, bytes, last_added_after, last_date_added_last)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (key, collection) DO UPDATE SET
				first = min(activity.first, excluded.first), last = max(activity.last, excluded.last),
				requests = activity.requests + excluded.requests, polls = activity.polls + excluded.polls,
				last_poll = max(activity.last_poll, excluded.last_poll),
				objects = activity.objects + excluded.objects, bytes = activity.bytes + excluded.bytes,
				last_added_after = max(activity.last_added_after, excluded.last_added_after),
				last_date_added_last = max(activity.last_date_added_last, excluded.last_date_added_last)`,
			a.Key, a.Collection, micros(a.First), last, a.Requests, a.Polls, micros(a.LastPoll), a.Objects, a.Bytes,
			micros(a.LastAddedAfter), micros(a.LastDateAddedLast))
		if err != nil {
			return fmt.Errorf("record activity: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO activity_hours (key, collection, hour, requests, polls, objects)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (key, collection, hour) DO UPDATE SET requests = activity_hours.requests + excluded.requests,
				polls = activity_hours.polls + excluded.polls, objects = activity_hours.objects + excluded.objects`,
			a.Key, a.Collection, micros(a.Last.Truncate(time.Hour)), a.Requests, a.Polls, a.Objects)
		if err != nil {
			return fmt.Errorf("record activity: %w", err)
		}
		for status, n := range a.Errors {
			_, err := tx.ExecContext(ctx, `INSERT INTO activity_errors (key, collection, status, count) VALUES (?, ?, ?, ?)
				ON CONFLICT (key, collection, status) DO UPDATE SET count = activity_errors.count + excluded.count`,
				a.Key, a.Collection, status, n)
			if err != nil {
				return fmt.Errorf("record activity: %w", err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM activity_hours WHERE hour < ?`,
		latest-store.ActivityRetention.Microseconds()); err != nil {
		return fmt.Errorf("record activity: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record activity: %w", err)
	}
	return nil
}

// Activity returns the activity record of a key; see store.Store.
func (db *DB) Activity(ctx context.Context, key string, since time.Time) ([]store.Activity, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT a.collection, a.first, a.last, a.requests, a.polls, a.last_poll, a.objects,
			a.bytes, a.last_added_after, a.last_date_added_last,
			coalesce(sum(h.requests), 0), coalesce(sum(h.polls), 0), coalesce(sum(h.objects), 0)
		FROM activity a LEFT JOIN activity_hours h ON h.key = a.key AND h.collection = a.collection AND h.hour > ?
		WHERE a.key = ? GROUP BY a.collection ORDER BY a.collection`,
		since.Add(-time.Hour).UnixMicro(), key)
	if err != nil {
		return nil, fmt.Errorf("activity: %w", err)
	}
	defer rows.Close()
	var out []store.Activity
	for rows.Next() {
		a := store.Activity{Key: key}
		var first, last, lastPoll, addedAfter, dateAddedLast int64
		if err := rows.Scan(&a.Collection, &first, &last, &a.Requests, &a.Polls, &lastPoll, &a.Objects, &a.Bytes,
			&addedAfter, &dateAddedLast, &a.Recent.Requests, &a.Recent.Polls, &a.Recent.Objects); err != nil {
			return nil, fmt.Errorf("activity: %w", err)
		}
		a.First, a.Last, a.LastPoll = fromMicros(first), fromMicros(last), fromMicros(lastPoll)
		a.LastAddedAfter, a.LastDateAddedLast = fromMicros(addedAfter), fromMicros(dateAddedLast)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("activity: %w", err)
	}
	rows.Close()
	if err := db.activityErrors(ctx, key, out); err != nil {
		return nil, err
	}
	return out, nil
}

// activityErrors fills the Errors of a key's activity rows.
func (db *DB) activityErrors(ctx context.Context, key string, acts []store.Activity) error {
	rows, err := db.read.QueryContext(ctx, `SELECT collection, status, count FROM activity_errors WHERE key = ?`, key)
	if err != nil {
		return fmt.Errorf("activity: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var coll string
		var status int
		var n int64
		if err := rows.Scan(&coll, &status, &n); err != nil {
			return fmt.Errorf("activity: %w", err)
		}
		for i := range acts {
			if acts[i].Collection == coll {
				if acts[i].Errors == nil {
					acts[i].Errors = map[int]int64{}
				}
				acts[i].Errors[status] = n
			}
		}
	}
	return rows.Err()
}
