package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"hail"
	"hail/store"
)

// nonNil makes a nil list an empty one: the columns are NOT NULL arrays.
func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

// CreateKey stores an API key; a zero Created is the store's clock.
// Returns ECONFLICT if the name, id or hash is taken.
func (db *DB) CreateKey(ctx context.Context, k store.Key) error {
	var id *string
	if k.ID != "" {
		id = &k.ID
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO keys (name, id, hash, admin, read_ids, write_ids, created, revoked, plan, expires, allow_ips)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		k.Name, id, k.Hash, k.Admin, nonNil(k.Read), nonNil(k.Write), db.nowOr(k.Created), timeOrNil(k.Revoked),
		k.Plan, timeOrNil(k.Expires), nonNil(k.AllowIPs))
	return dbError("create key", err)
}

const keyColumns = `coalesce(id, ''), name, hash, admin, read_ids, write_ids, created, revoked, plan, expires, allow_ips`

func scanKey(row pgx.Row) (store.Key, error) {
	var k store.Key
	var revoked, expires *time.Time
	if err := row.Scan(&k.ID, &k.Name, &k.Hash, &k.Admin, &k.Read, &k.Write, &k.Created, &revoked, &k.Plan, &expires, &k.AllowIPs); err != nil {
		return store.Key{}, err
	}
	if expires != nil {
		k.Expires = utc(*expires)
	}
	if len(k.AllowIPs) == 0 {
		k.AllowIPs = nil
	}
	if len(k.Read) == 0 {
		k.Read = nil
	}
	if len(k.Write) == 0 {
		k.Write = nil
	}
	k.Created = utc(k.Created)
	if revoked != nil {
		k.Revoked = utc(*revoked)
	}
	return k, nil
}

// KeyByHash returns the unrevoked key whose SHA-256 hash is hash. Returns
// ENOTFOUND if there is none.
func (db *DB) KeyByHash(ctx context.Context, hash []byte) (store.Key, error) {
	k, err := scanKey(db.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM keys
		WHERE hash = $1 AND revoked IS NULL`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Key{}, hail.Errorf(hail.ENOTFOUND, "Key not found.")
	}
	if err != nil {
		return store.Key{}, dbError("key", err)
	}
	return k, nil
}

// Keys returns every key, revoked ones included, ordered by name.
func (db *DB) Keys(ctx context.Context) ([]store.Key, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+keyColumns+` FROM keys ORDER BY name`)
	if err != nil {
		return nil, dbError("keys", err)
	}
	ks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Key, error) { return scanKey(r) })
	return ks, dbError("keys", err)
}

// RevokeKey marks the named key revoked at the store's clock. Returns
// ENOTFOUND if there is no unrevoked key of that name.
func (db *DB) RevokeKey(ctx context.Context, name string) error {
	tag, err := db.pool.Exec(ctx, `UPDATE keys SET revoked = $2 WHERE name = $1 AND revoked IS NULL`, name, db.Now())
	if err != nil {
		return dbError("revoke key", err)
	}
	if tag.RowsAffected() == 0 {
		return hail.Errorf(hail.ENOTFOUND, "Key %q not found.", name)
	}
	return nil
}
