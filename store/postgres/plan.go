package postgres

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"hail"
	"hail/store"
)

// UpdateKey changes the named key in one statement; nil fields keep their
// column. Returns ENOTFOUND if there is no unrevoked key of that name.
func (db *DB) UpdateKey(ctx context.Context, name string, u store.KeyUpdate) error {
	var plan *string
	var ips []string
	setExpires, setIPs := u.Expires != nil, u.AllowIPs != nil
	var expires *time.Time
	if u.Plan != nil {
		plan = u.Plan
	}
	if setExpires {
		expires = timeOrNil(*u.Expires)
	}
	if setIPs {
		ips = nonNil(*u.AllowIPs)
	}
	tag, err := db.pool.Exec(ctx, `UPDATE keys SET plan = coalesce($2, plan),
			expires = CASE WHEN $3 THEN $4 ELSE expires END,
			allow_ips = CASE WHEN $5 THEN $6::text[] ELSE allow_ips END
		WHERE name = $1 AND revoked IS NULL`, name, plan, setExpires, expires, setIPs, ips)
	if err != nil {
		return dbError("update key", err)
	}
	if tag.RowsAffected() == 0 {
		return hail.Errorf(hail.ENOTFOUND, "Key %q not found.", name)
	}
	return nil
}

// CreatePlan stores a plan; a zero Created is the store's clock. Returns
// ECONFLICT if the name is taken.
func (db *DB) CreatePlan(ctx context.Context, p store.Plan) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO plans (name, rate, period, burst, apis, max_page, min_poll, created)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		p.Name, p.Rate, p.Period.Microseconds(), p.Burst, nonNil(p.APIs), p.MaxPage, p.MinPollInterval.Microseconds(),
		db.nowOr(p.Created))
	if err != nil && hail.ErrorCode(dbError("", err)) == hail.ECONFLICT {
		return hail.Errorf(hail.ECONFLICT, "A plan named %q already exists.", p.Name)
	}
	return dbError("create plan", err)
}

// UpdatePlan gives the plan named p.Name p's limits. Returns ENOTFOUND if
// there is none.
func (db *DB) UpdatePlan(ctx context.Context, p store.Plan) error {
	tag, err := db.pool.Exec(ctx, `UPDATE plans SET rate = $2, period = $3, burst = $4, apis = $5, max_page = $6, min_poll = $7
		WHERE name = $1`, p.Name, p.Rate, p.Period.Microseconds(), p.Burst, nonNil(p.APIs), p.MaxPage, p.MinPollInterval.Microseconds())
	if err != nil {
		return dbError("update plan", err)
	}
	if tag.RowsAffected() == 0 {
		return hail.Errorf(hail.ENOTFOUND, "No plan named %q.", p.Name)
	}
	return nil
}

const planColumns = `name, rate, period, burst, apis, max_page, min_poll, created`

func scanPlan(row pgx.Row) (store.Plan, error) {
	var p store.Plan
	var period, minPoll int64
	if err := row.Scan(&p.Name, &p.Rate, &period, &p.Burst, &p.APIs, &p.MaxPage, &minPoll, &p.Created); err != nil {
		return p, err
	}
	p.Period, p.MinPollInterval = time.Duration(period)*time.Microsecond, time.Duration(minPoll)*time.Microsecond
	p.Created = utc(p.Created)
	if len(p.APIs) == 0 {
		p.APIs = nil
	}
	return p, nil
}

// Plan returns the named plan. Returns ENOTFOUND if there is none.
func (db *DB) Plan(ctx context.Context, name string) (store.Plan, error) {
	p, err := scanPlan(db.pool.QueryRow(ctx, `SELECT `+planColumns+` FROM plans WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Plan{}, hail.Errorf(hail.ENOTFOUND, "No plan named %q.", name)
	}
	return p, dbError("plan", err)
}

// Plans returns every plan, ordered by name.
func (db *DB) Plans(ctx context.Context) ([]store.Plan, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+planColumns+` FROM plans ORDER BY name`)
	if err != nil {
		return nil, dbError("plans", err)
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Plan, error) { return scanPlan(r) })
	return ps, dbError("plans", err)
}

// DeletePlan removes the named plan. Returns ENOTFOUND if there is none and
// ECONFLICT if an unrevoked key is on it. The plan row is locked first, so
// that a key cannot be put on it meanwhile by a writer that checks it.
func (db *DB) DeletePlan(ctx context.Context, name string) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return dbError("delete plan", err)
	}
	defer tx.Rollback(ctx)
	var one int
	err = tx.QueryRow(ctx, `SELECT 1 FROM plans WHERE name = $1 FOR UPDATE`, name).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return hail.Errorf(hail.ENOTFOUND, "No plan named %q.", name)
	}
	if err != nil {
		return dbError("delete plan", err)
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM keys WHERE plan = $1 AND revoked IS NULL`, name).Scan(&n); err != nil {
		return dbError("delete plan", err)
	}
	if n > 0 {
		return hail.Errorf(hail.ECONFLICT, "Plan %q is the plan of %d key(s); move them to another plan first.", name, n)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM plans WHERE name = $1`, name); err != nil {
		return dbError("delete plan", err)
	}
	return dbError("delete plan", tx.Commit(ctx))
}

// TakeToken admits one request in a rate bucket; see store.Store. The
// upsert locks the bucket's row, so replicas admitting at once are
// serialised and the limit is exact across them.
func (db *DB) TakeToken(ctx context.Context, bucket string, now time.Time, interval time.Duration, burst int) (time.Duration, error) {
	t, iv := now.UnixMicro(), interval.Microseconds()
	tol := iv * int64(max(burst, 1))
	var tat int64
	err := db.pool.QueryRow(ctx, `INSERT INTO rate_buckets AS b (bucket, tat) VALUES ($1, $2::bigint + $3::bigint)
		ON CONFLICT (bucket) DO UPDATE SET tat = greatest(b.tat, $2) + $3
		WHERE greatest(b.tat, $2) + $3 - $2 <= $4::bigint
		RETURNING tat`, bucket, t, iv, tol).Scan(&tat)
	if err == nil {
		return 0, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, dbError("take token", err)
	}
	if err := db.pool.QueryRow(ctx, `SELECT tat FROM rate_buckets WHERE bucket = $1`, bucket).Scan(&tat); err != nil {
		return 0, dbError("take token", err)
	}
	return time.Duration(max(max(tat, t)+iv-tol-t, 1)) * time.Microsecond, nil
}

// RecordActivity adds activity deltas in one transaction; see store.Store.
// Rows are written in (key, collection) order, so that replicas flushing
// at once take row locks in the same order and cannot deadlock.
func (db *DB) RecordActivity(ctx context.Context, deltas []store.Activity) error {
	if len(deltas) == 0 {
		return nil
	}
	sorted := append([]store.Activity(nil), deltas...)
	sortActivity(sorted)
	b := &pgx.Batch{}
	var latest int64
	for _, a := range sorted {
		last := micros(a.Last)
		latest = max(latest, last)
		b.Queue(`INSERT INTO activity AS a (key, collection, first, last, requests, polls, last_poll,
				objects, bytes, last_added_after, last_date_added_last)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			ON CONFLICT (key, collection) DO UPDATE SET
				first = least(a.first, excluded.first), last = greatest(a.last, excluded.last),
				requests = a.requests + excluded.requests, polls = a.polls + excluded.polls,
				last_poll = greatest(a.last_poll, excluded.last_poll),
				objects = a.objects + excluded.objects, bytes = a.bytes + excluded.bytes,
				last_added_after = greatest(a.last_added_after, excluded.last_added_after),
				last_date_added_last = greatest(a.last_date_added_last, excluded.last_date_added_last)`,
			a.Key, a.Collection, micros(a.First), last, a.Requests, a.Polls, micros(a.LastPoll), a.Objects, a.Bytes,
			micros(a.LastAddedAfter), micros(a.LastDateAddedLast))
		b.Queue(`INSERT INTO activity_hours AS h (key, collection, hour, requests, polls, objects)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (key, collection, hour) DO UPDATE SET requests = h.requests + excluded.requests,
				polls = h.polls + excluded.polls, objects = h.objects + excluded.objects`,
			a.Key, a.Collection, micros(a.Last.Truncate(time.Hour)), a.Requests, a.Polls, a.Objects)
		for _, status := range sortedStatuses(a.Errors) {
			b.Queue(`INSERT INTO activity_errors AS e (key, collection, status, count) VALUES ($1, $2, $3, $4)
				ON CONFLICT (key, collection, status) DO UPDATE SET count = e.count + excluded.count`,
				a.Key, a.Collection, status, a.Errors[status])
		}
	}
	b.Queue(`DELETE FROM activity_hours WHERE hour < $1`, latest-store.ActivityRetention.Microseconds())
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return dbError("record activity", err)
	}
	defer tx.Rollback(ctx)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return dbError("record activity", err)
	}
	return dbError("record activity", tx.Commit(ctx))
}

// Activity returns the activity record of a key; see store.Store.
func (db *DB) Activity(ctx context.Context, key string, since time.Time) ([]store.Activity, error) {
	rows, err := db.pool.Query(ctx, `SELECT a.collection, a.first, a.last, a.requests, a.polls, a.last_poll, a.objects,
			a.bytes, a.last_added_after, a.last_date_added_last,
			coalesce(sum(h.requests), 0)::bigint, coalesce(sum(h.polls), 0)::bigint, coalesce(sum(h.objects), 0)::bigint
		FROM activity a LEFT JOIN activity_hours h ON h.key = a.key AND h.collection = a.collection AND h.hour > $2
		WHERE a.key = $1 GROUP BY a.key, a.collection ORDER BY a.collection`,
		key, since.Add(-time.Hour).UnixMicro())
	if err != nil {
		return nil, dbError("activity", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Activity, error) {
		a := store.Activity{Key: key}
		var first, last, lastPoll, addedAfter, dateAddedLast int64
		err := r.Scan(&a.Collection, &first, &last, &a.Requests, &a.Polls, &lastPoll, &a.Objects, &a.Bytes,
			&addedAfter, &dateAddedLast, &a.Recent.Requests, &a.Recent.Polls, &a.Recent.Objects)
		a.First, a.Last, a.LastPoll = fromMicros(first), fromMicros(last), fromMicros(lastPoll)
		a.LastAddedAfter, a.LastDateAddedLast = fromMicros(addedAfter), fromMicros(dateAddedLast)
		return a, err
	})
	if err != nil {
		return nil, dbError("activity", err)
	}
	erows, err := db.pool.Query(ctx, `SELECT collection, status, count FROM activity_errors WHERE key = $1`, key)
	if err != nil {
		return nil, dbError("activity", err)
	}
	defer erows.Close()
	for erows.Next() {
		var coll string
		var status int
		var n int64
		if err := erows.Scan(&coll, &status, &n); err != nil {
			return nil, dbError("activity", err)
		}
		for i := range out {
			if out[i].Collection == coll {
				if out[i].Errors == nil {
					out[i].Errors = map[int]int64{}
				}
				out[i].Errors[status] = n
			}
		}
	}
	return out, dbError("activity", erows.Err())
}

// sortActivity orders deltas by key, then collection.
func sortActivity(as []store.Activity) {
	slices.SortFunc(as, func(a, b store.Activity) int {
		return cmp.Or(cmp.Compare(a.Key, b.Key), cmp.Compare(a.Collection, b.Collection))
	})
}

// sortedStatuses returns the statuses of an error count in order.
func sortedStatuses(m map[int]int64) []int {
	out := make([]int, 0, len(m))
	for s := range m {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}
