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

// CreateAPIRoot creates an API root. Returns ECONFLICT if the name is taken.
func (db *DB) CreateAPIRoot(ctx context.Context, r store.APIRoot) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO api_roots (name, title, description, max_content_length, is_default, created)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		r.Name, r.Title, r.Description, r.MaxContentLength, r.Default, db.nowOr(r.Created))
	return dbError("create API root", err)
}

const apiRootColumns = `name, title, description, max_content_length, is_default, created`

func scanAPIRoot(row pgx.Row) (store.APIRoot, error) {
	var r store.APIRoot
	err := row.Scan(&r.Name, &r.Title, &r.Description, &r.MaxContentLength, &r.Default, &r.Created)
	r.Created = utc(r.Created)
	return r, err
}

// APIRoots returns every API root, ordered by name.
func (db *DB) APIRoots(ctx context.Context) ([]store.APIRoot, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+apiRootColumns+` FROM api_roots ORDER BY name`)
	if err != nil {
		return nil, dbError("API roots", err)
	}
	roots, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.APIRoot, error) { return scanAPIRoot(r) })
	return roots, dbError("API roots", err)
}

// APIRoot returns one API root. Returns ENOTFOUND if it does not exist.
func (db *DB) APIRoot(ctx context.Context, name string) (store.APIRoot, error) {
	r, err := scanAPIRoot(db.pool.QueryRow(ctx, `SELECT `+apiRootColumns+` FROM api_roots WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.APIRoot{}, hail.Errorf(hail.ENOTFOUND, "API root %q not found.", name)
	}
	if err != nil {
		return store.APIRoot{}, dbError("API root", err)
	}
	return r, nil
}

// CreateCollection creates a collection; an empty Kind is stored as
// store.KindExplicit. Returns ENOTFOUND if the API root does not exist,
// ECONFLICT if the id or the alias in that API root is taken, EINVALID for
// a bad kind or filter. A filter collection is then filled from the API
// root's other collections, in batches (see backfill).
func (db *DB) CreateCollection(ctx context.Context, c store.Collection) error {
	c, filter, err := store.PrepareCollection(c)
	if err != nil {
		return err
	}
	var alias *string
	if c.Alias != "" {
		alias = &c.Alias
	}
	// The INSERT … SELECT inserts nothing when the API root is missing,
	// and its foreign key keeps a concurrent delete of the root out.
	var seq int64
	err = db.pool.QueryRow(ctx, `INSERT INTO collections
		(id, api_root, alias, title, description, public, kind, filter, created)
		SELECT $1, name, $3, $4, $5, $6, $7, $8, $9 FROM api_roots WHERE name = $2
		RETURNING seq`,
		c.ID, c.APIRoot, alias, c.Title, c.Description, c.Public, c.Kind, c.Filter, db.nowOr(c.Created)).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return hail.Errorf(hail.ENOTFOUND, "API root %q not found.", c.APIRoot)
	}
	if err != nil {
		return dbError("create collection", err)
	}
	if filter == nil {
		return nil
	}
	return db.backfill(ctx, filterColl{seq: seq, filter: *filter})
}

const collectionColumns = `id, api_root, coalesce(alias, ''), title, description, public, kind, filter, created`

func scanCollection(row pgx.Row) (store.Collection, error) {
	var c store.Collection
	err := row.Scan(&c.ID, &c.APIRoot, &c.Alias, &c.Title, &c.Description, &c.Public, &c.Kind, &c.Filter, &c.Created)
	c.Created = utc(c.Created)
	return c, err
}

// Collections returns the collections of an API root in creation order.
func (db *DB) Collections(ctx context.Context, apiRoot string) ([]store.Collection, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+collectionColumns+` FROM collections
		WHERE api_root = $1 ORDER BY seq`, apiRoot)
	if err != nil {
		return nil, dbError("collections", err)
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Collection, error) { return scanCollection(r) })
	return cs, dbError("collections", err)
}

// Collection returns the collection of apiRoot whose id or alias is
// idOrAlias, preferring the id. Returns ENOTFOUND if there is none.
func (db *DB) Collection(ctx context.Context, apiRoot, idOrAlias string) (store.Collection, error) {
	c, err := scanCollection(db.pool.QueryRow(ctx, `SELECT `+collectionColumns+` FROM collections
		WHERE api_root = $1 AND (id = $2 OR alias = $2)
		ORDER BY id = $2 DESC LIMIT 1`, apiRoot, idOrAlias))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Collection{}, collectionNotFound(idOrAlias)
	}
	if err != nil {
		return store.Collection{}, dbError("collection", err)
	}
	return c, nil
}

// DeleteCollection removes a collection, its entries, and the object
// versions no other collection holds, in one transaction. Returns ENOTFOUND
// if it does not exist.
func (db *DB) DeleteCollection(ctx context.Context, id string) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return dbError("delete collection", err)
	}
	defer tx.Rollback(context.Background())
	// FOR UPDATE waits for adders, which hold KEY SHARE, and keeps new ones
	// out until the commit.
	var seq int64
	err = tx.QueryRow(ctx, `SELECT seq FROM collections WHERE id = $1 FOR UPDATE`, id).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return collectionNotFound(id)
	}
	if err != nil {
		return dbError("delete collection", err)
	}
	// The versions of an explicit collection leave its root's filter
	// collections too (see withdrawFromFilters), in line with adders to
	// other collections, which hold the clock lock.
	root, err := explicitRoot(ctx, tx, seq)
	if err != nil {
		return dbError("delete collection", err)
	}
	if root != "" {
		if _, err := tx.Exec(ctx, `SELECT FROM clock WHERE id = 1 FOR UPDATE`); err != nil {
			return dbError("delete collection", err)
		}
		// The filter collections may be left holding context only the
		// collection's versions named.
		if _, err := tx.Exec(ctx, markPruneSQL, seq); err != nil {
			return dbError("delete collection", err)
		}
	}
	// Entries go in slices, each followed by its orphans, so that memory
	// does not grow with the collection.
	for {
		rows, err := tx.Query(ctx, `DELETE FROM entries WHERE collection = $1 AND date_added IN (
			SELECT date_added FROM entries WHERE collection = $1 ORDER BY date_added LIMIT $2)
			RETURNING object, stix_id, version`, seq, orphanBatch)
		if err != nil {
			return dbError("delete collection", err)
		}
		var rids []int64
		var ids, versions []string
		for rows.Next() {
			var rid int64
			var id, version string
			if err := rows.Scan(&rid, &id, &version); err != nil {
				rows.Close()
				return dbError("delete collection", err)
			}
			rids, ids, versions = append(rids, rid), append(ids, id), append(versions, version)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return dbError("delete collection", err)
		}
		if len(rids) == 0 {
			break
		}
		withdrawn, err := withdrawFromFilters(ctx, tx, seq, root, ids, versions)
		if err != nil {
			return dbError("delete collection", err)
		}
		if err := deleteOrphans(ctx, tx, append(rids, withdrawn...)); err != nil {
			return dbError("delete collection", err)
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM collections WHERE seq = $1`, seq); err != nil {
		return dbError("delete collection", err)
	}
	return dbError("delete collection", tx.Commit(ctx))
}

// orphanBatch bounds the entries DeleteCollection deletes per statement and
// the array deleteOrphans sends per statement. Tests lower it.
var orphanBatch = 10000

// deleteOrphans deletes the objects rows among rids that no entry refers
// to any more, and their IOC rows (ioc_meta rows go by their foreign key).
// A row another transaction is about to refer to (it holds a KEY SHARE
// lock, see insertObjects) is skipped rather than waited for. The rows are
// locked first and checked in a later statement, whose snapshot includes
// every entry committed before the lock was granted; checking and deleting
// in one statement could miss an entry committed in between.
func deleteOrphans(ctx context.Context, tx pgx.Tx, rids []int64) error {
	for len(rids) > 0 {
		n := min(len(rids), orphanBatch)
		rows, err := tx.Query(ctx, `SELECT rid FROM objects WHERE rid = ANY($1) FOR UPDATE SKIP LOCKED`, rids[:n])
		if err != nil {
			return err
		}
		locked, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		if len(locked) > 0 {
			if _, err := tx.Exec(ctx, `WITH d AS (DELETE FROM objects AS o WHERE o.rid = ANY($1)
					AND NOT EXISTS (SELECT 1 FROM entries AS e WHERE e.object = o.rid)
					RETURNING rid)
				DELETE FROM iocs WHERE object IN (SELECT rid FROM d)`, locked); err != nil {
				return err
			}
		}
		rids = rids[n:]
	}
	return nil
}

// CollectionStats counts a collection's distinct objects and versions.
// Returns ENOTFOUND if the collection does not exist.
func (db *DB) CollectionStats(ctx context.Context, id string) (store.CollectionStats, error) {
	seq, err := collectionSeq(ctx, db.pool, id, false)
	if err != nil {
		return store.CollectionStats{}, err
	}
	// Each object has exactly one entry that is the last version of its
	// newest spec_version, so counting those counts distinct objects.
	var s store.CollectionStats
	var first, last int64
	err = db.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE is_last AND latest_spec), count(*),
		coalesce(min(date_added), 0), coalesce(max(date_added), 0)
		FROM entries WHERE collection = $1`, seq).Scan(&s.Objects, &s.Versions, &first, &last)
	if err != nil {
		return store.CollectionStats{}, dbError("collection stats", err)
	}
	s.FirstDateAdded, s.LastDateAdded = fromMicros(first), fromMicros(last)
	return s, nil
}

// LastDateAdded reads the newest date_added from the end of the
// collection's index (entries_collection).
func (db *DB) LastDateAdded(ctx context.Context, id string) (time.Time, error) {
	seq, err := collectionSeq(ctx, db.pool, id, false)
	if err != nil {
		return time.Time{}, err
	}
	var last int64
	if err := db.pool.QueryRow(ctx, `SELECT coalesce(max(date_added), 0) FROM entries WHERE collection = $1`, seq).
		Scan(&last); err != nil {
		return time.Time{}, dbError("last date added", err)
	}
	return fromMicros(last), nil
}

// timeOrNil is the stored form of an optional time: NULL for the zero time.
func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// UpdateCollection changes a collection's title, description, alias or
// public flag in one statement.
func (db *DB) UpdateCollection(ctx context.Context, id string, u store.CollectionUpdate) (store.Collection, error) {
	if err := u.Check(); err != nil {
		return store.Collection{}, err
	}
	var alias *string // NULL for no alias, so that UNIQUE ignores it
	if u.Alias != nil && *u.Alias != "" {
		alias = u.Alias
	}
	c, err := scanCollection(db.pool.QueryRow(ctx, `UPDATE collections SET
		title = coalesce($2, title), description = coalesce($3, description),
		alias = CASE WHEN $4 THEN $5 ELSE alias END, public = coalesce($6, public)
		WHERE id = $1 RETURNING `+collectionColumns,
		id, u.Title, u.Description, u.Alias != nil, alias, u.Public))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Collection{}, collectionNotFound(id)
	}
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == uniqueViolation {
			return store.Collection{}, hail.Errorf(hail.ECONFLICT, "Alias %q is already taken in the collection's API root.", *u.Alias)
		}
		return store.Collection{}, dbError("update collection", err)
	}
	return c, nil
}
