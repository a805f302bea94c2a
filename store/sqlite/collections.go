package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"

	"hail"
	"hail/store"
)

// CreateAPIRoot creates an API root. Returns ECONFLICT if the name is taken.
func (db *DB) CreateAPIRoot(ctx context.Context, r store.APIRoot) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO api_roots (name, title, description, max_content_length, is_default, created)
		VALUES (?, ?, ?, ?, ?, ?)`, r.Name, r.Title, r.Description, r.MaxContentLength, r.Default, micros(db.nowOr(r.Created)))
	if isUnique(err) {
		return hail.Errorf(hail.ECONFLICT, "API root %q already exists.", r.Name)
	}
	if err != nil {
		return fmt.Errorf("create API root: %w", err)
	}
	return nil
}

const apiRootColumns = `name, title, description, max_content_length, is_default, created`

func scanAPIRoot(row interface{ Scan(...any) error }) (store.APIRoot, error) {
	var r store.APIRoot
	var created int64
	err := row.Scan(&r.Name, &r.Title, &r.Description, &r.MaxContentLength, &r.Default, &created)
	r.Created = fromMicros(created)
	return r, err
}

// APIRoots returns every API root, ordered by name.
func (db *DB) APIRoots(ctx context.Context) ([]store.APIRoot, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+apiRootColumns+` FROM api_roots ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("API roots: %w", err)
	}
	defer rows.Close()
	var out []store.APIRoot
	for rows.Next() {
		r, err := scanAPIRoot(rows)
		if err != nil {
			return nil, fmt.Errorf("API roots: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("API roots: %w", err)
	}
	return out, nil
}

// APIRoot returns one API root. Returns ENOTFOUND if it does not exist.
func (db *DB) APIRoot(ctx context.Context, name string) (store.APIRoot, error) {
	r, err := scanAPIRoot(db.read.QueryRowContext(ctx, `SELECT `+apiRootColumns+` FROM api_roots WHERE name = ?`, name))
	if err == sql.ErrNoRows {
		return store.APIRoot{}, hail.Errorf(hail.ENOTFOUND, "API root %q not found.", name)
	}
	if err != nil {
		return store.APIRoot{}, fmt.Errorf("API root: %w", err)
	}
	return r, nil
}

// CreateCollection creates a collection. Returns ENOTFOUND if the API root
// does not exist, ECONFLICT if the id is taken anywhere or the alias is taken
// in that API root, EINVALID for a bad kind or filter. An empty Kind is
// stored as store.KindExplicit. A filter collection is then filled from the
// API root's other collections, in batches (see backfill).
func (db *DB) CreateCollection(ctx context.Context, c store.Collection) error {
	c, filter, err := store.PrepareCollection(c)
	if err != nil {
		return err
	}
	seq, err := db.insertCollection(ctx, c)
	if err != nil || filter == nil {
		return err
	}
	return db.backfill(ctx, c.APIRoot, filterColl{seq: seq, filter: *filter})
}

// insertCollection inserts the collection row and returns its seq.
func (db *DB) insertCollection(ctx context.Context, c store.Collection) (int64, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("create collection: %w", err)
	}
	defer tx.Rollback()
	var rootExists bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM api_roots WHERE name = ?)`, c.APIRoot).Scan(&rootExists); err != nil {
		return 0, fmt.Errorf("create collection: %w", err)
	}
	if !rootExists {
		return 0, hail.Errorf(hail.ENOTFOUND, "API root %q not found.", c.APIRoot)
	}
	var alias any
	if c.Alias != "" {
		alias = c.Alias
	}
	r, err := tx.ExecContext(ctx, `INSERT INTO collections (id, api_root, alias, title, description, public, kind, filter, created)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.APIRoot, alias, c.Title, c.Description, c.Public, c.Kind, c.Filter, micros(db.nowOr(c.Created)))
	if isUnique(err) {
		if c.Alias != "" {
			return 0, hail.Errorf(hail.ECONFLICT, "Collection id %q or alias %q is already taken.", c.ID, c.Alias)
		}
		return 0, hail.Errorf(hail.ECONFLICT, "Collection id %q is already taken.", c.ID)
	}
	if err != nil {
		return 0, fmt.Errorf("create collection: %w", err)
	}
	seq, err := r.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("create collection: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("create collection: %w", err)
	}
	return seq, nil
}

const collectionColumns = `id, api_root, coalesce(alias, ''), title, description, public, kind, filter, created`

func scanCollection(row interface{ Scan(...any) error }) (store.Collection, error) {
	var c store.Collection
	var created int64
	err := row.Scan(&c.ID, &c.APIRoot, &c.Alias, &c.Title, &c.Description, &c.Public, &c.Kind, &c.Filter, &created)
	c.Created = fromMicros(created)
	return c, err
}

// Collections returns the collections of an API root in creation order.
func (db *DB) Collections(ctx context.Context, apiRoot string) ([]store.Collection, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+collectionColumns+` FROM collections WHERE api_root = ? ORDER BY seq`, apiRoot)
	if err != nil {
		return nil, fmt.Errorf("collections: %w", err)
	}
	defer rows.Close()
	var out []store.Collection
	for rows.Next() {
		c, err := scanCollection(rows)
		if err != nil {
			return nil, fmt.Errorf("collections: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("collections: %w", err)
	}
	return out, nil
}

// Collection returns the collection of apiRoot whose id or alias is
// idOrAlias; an id match wins over an alias match. Returns ENOTFOUND if
// there is none.
func (db *DB) Collection(ctx context.Context, apiRoot, idOrAlias string) (store.Collection, error) {
	c, err := scanCollection(db.queryRow(ctx, `SELECT `+collectionColumns+` FROM collections
		WHERE api_root = ?1 AND (id = ?2 OR alias = ?2) ORDER BY id = ?2 DESC LIMIT 1`, apiRoot, idOrAlias))
	if err == sql.ErrNoRows {
		return store.Collection{}, collectionNotFound(idOrAlias)
	}
	if err != nil {
		return store.Collection{}, fmt.Errorf("collection: %w", err)
	}
	return c, nil
}

// DeleteCollection removes a collection, its entries, and the object rows no
// other collection refers to.
func (db *DB) DeleteCollection(ctx context.Context, id string) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete collection: %w", err)
	}
	defer tx.Rollback()
	seq, err := collectionSeq(ctx, tx, id)
	if err != nil {
		return err
	}
	if err := withdrawCollection(ctx, tx, seq); err != nil {
		return fmt.Errorf("delete collection: %w", err)
	}
	// Deleting an objects row cascades to its entries, so the objects
	// only this collection holds go first, then the remaining entries.
	if _, err := tx.ExecContext(ctx, `DELETE FROM objects WHERE rid IN (SELECT object FROM entries WHERE collection = ?1)
		AND NOT EXISTS (SELECT 1 FROM entries AS x WHERE x.object = objects.rid AND x.collection <> ?1)`, seq); err != nil {
		return fmt.Errorf("delete collection: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM collections WHERE seq = ?`, seq); err != nil {
		return fmt.Errorf("delete collection: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete collection: %w", err)
	}
	return nil
}

// withdrawBatch is how many entries of a deleted collection
// withdrawCollection reads at a time.
const withdrawBatch = 1000

// withdrawCollection withdraws the versions explicit collection seq holds
// from its API root's filter collections, as DeleteObject does for one
// object, reading the collection's entries a batch at a time so that
// memory does not grow with it. Nothing is done for a filter collection.
func withdrawCollection(ctx context.Context, tx *sql.Tx, seq int64) error {
	root, err := explicitRoot(ctx, tx, seq)
	if err != nil || root == "" {
		return err
	}
	// The filter collections may be left holding context only the
	// collection's versions named.
	if _, err := tx.ExecContext(ctx, markPruneQuery, seq); err != nil {
		return err
	}
	after := int64(math.MinInt64)
	for {
		rows, err := tx.QueryContext(ctx, `SELECT date_added, stix_id, version FROM entries
			WHERE collection = ? AND date_added > ? ORDER BY date_added LIMIT ?`, seq, after, withdrawBatch)
		if err != nil {
			return err
		}
		var ids []string
		var versions []int64
		for rows.Next() {
			var id string
			var version int64
			if err := rows.Scan(&after, &id, &version); err != nil {
				rows.Close()
				return err
			}
			ids, versions = append(ids, id), append(versions, version)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rids, err := withdrawFromFilters(ctx, tx, seq, root, ids, versions)
		if err != nil {
			return err
		}
		if err := deleteOrphans(ctx, tx, rids); err != nil {
			return err
		}
		if len(ids) < withdrawBatch {
			return nil
		}
	}
}

// CollectionStats counts a collection's distinct objects and versions.
func (db *DB) CollectionStats(ctx context.Context, id string) (store.CollectionStats, error) {
	seq, err := collectionSeq(ctx, db.read, id)
	if err != nil {
		return store.CollectionStats{}, err
	}
	var s store.CollectionStats
	var first, last int64
	// Each object has exactly one entry that is the last version of its
	// newest spec_version, so counting those (in the partial index
	// entries_current) counts distinct objects without the temporary
	// B-tree that count(DISTINCT stix_id) sorts into.
	if err := db.read.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM entries WHERE collection = ?1 AND is_last = 1 AND latest_spec = 1), count(*),
		coalesce(min(date_added), 0), coalesce(max(date_added), 0) FROM entries WHERE collection = ?1`, seq).
		Scan(&s.Objects, &s.Versions, &first, &last); err != nil {
		return store.CollectionStats{}, fmt.Errorf("collection stats: %w", err)
	}
	s.FirstDateAdded, s.LastDateAdded = fromMicros(first), fromMicros(last)
	return s, nil
}

// LastDateAdded reads the newest date_added from the end of the
// collection's index (entries_collection).
func (db *DB) LastDateAdded(ctx context.Context, id string) (time.Time, error) {
	seq, err := collectionSeq(ctx, db.read, id)
	if err != nil {
		return time.Time{}, err
	}
	var last int64
	if err := db.read.QueryRowContext(ctx, `SELECT coalesce(max(date_added), 0) FROM entries WHERE collection = ?`, seq).
		Scan(&last); err != nil {
		return time.Time{}, fmt.Errorf("last date added: %w", err)
	}
	return fromMicros(last), nil
}

// UpdateCollection changes a collection's title, description, alias or
// public flag in one statement.
func (db *DB) UpdateCollection(ctx context.Context, id string, u store.CollectionUpdate) (store.Collection, error) {
	if err := u.Check(); err != nil {
		return store.Collection{}, err
	}
	var alias any // NULL for no alias, so that UNIQUE ignores it
	if u.Alias != nil && *u.Alias != "" {
		alias = *u.Alias
	}
	c, err := scanCollection(db.write.QueryRowContext(ctx, `UPDATE collections SET
		title = coalesce(?2, title), description = coalesce(?3, description),
		alias = CASE WHEN ?4 THEN ?5 ELSE alias END, public = coalesce(?6, public)
		WHERE id = ?1 RETURNING `+collectionColumns,
		id, u.Title, u.Description, u.Alias != nil, alias, u.Public))
	if isUnique(err) {
		return store.Collection{}, hail.Errorf(hail.ECONFLICT, "Alias %q is already taken in the collection's API root.", *u.Alias)
	}
	if err == sql.ErrNoRows {
		return store.Collection{}, collectionNotFound(id)
	}
	if err != nil {
		return store.Collection{}, fmt.Errorf("update collection: %w", err)
	}
	return c, nil
}
