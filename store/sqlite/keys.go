package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"hail"
	"hail/store"
)

// CreateKey stores an API key. Returns ECONFLICT if the name, the hash or a
// non-empty id is taken, revoked keys included.
func (db *DB) CreateKey(ctx context.Context, k store.Key) error {
	read, err := json.Marshal(nonNil(k.Read))
	if err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	write, err := json.Marshal(nonNil(k.Write))
	if err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	ips, err := json.Marshal(nonNil(k.AllowIPs))
	if err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	var id any
	if k.ID != "" {
		id = k.ID
	}
	_, err = db.write.ExecContext(ctx, `INSERT INTO keys (name, id, hash, admin, read_ids, write_ids, created, revoked, plan, expires, allow_ips)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.Name, id, k.Hash, k.Admin, string(read), string(write), micros(db.nowOr(k.Created)), micros(k.Revoked),
		k.Plan, micros(k.Expires), string(ips))
	if isUnique(err) {
		return hail.Errorf(hail.ECONFLICT, "A key named %q, or with the same id or secret, already exists.", k.Name)
	}
	if err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	return nil
}

func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

const keyColumns = `name, coalesce(id, ''), hash, admin, read_ids, write_ids, created, revoked, plan, expires, allow_ips`

func scanKey(row interface{ Scan(...any) error }) (store.Key, error) {
	var k store.Key
	var read, write, ips string
	var created, revoked, expires int64
	if err := row.Scan(&k.Name, &k.ID, &k.Hash, &k.Admin, &read, &write, &created, &revoked, &k.Plan, &expires, &ips); err != nil {
		return k, err
	}
	k.Created, k.Revoked, k.Expires = fromMicros(created), fromMicros(revoked), fromMicros(expires)
	if err := json.Unmarshal([]byte(ips), &k.AllowIPs); err != nil {
		return k, err
	}
	if len(k.AllowIPs) == 0 {
		k.AllowIPs = nil
	}
	if err := json.Unmarshal([]byte(read), &k.Read); err != nil {
		return k, err
	}
	if err := json.Unmarshal([]byte(write), &k.Write); err != nil {
		return k, err
	}
	if len(k.Read) == 0 {
		k.Read = nil
	}
	if len(k.Write) == 0 {
		k.Write = nil
	}
	return k, nil
}

// KeyByHash returns the unrevoked key whose hash is hash. Returns ENOTFOUND
// if there is none.
func (db *DB) KeyByHash(ctx context.Context, hash []byte) (store.Key, error) {
	k, err := scanKey(db.queryRow(ctx, `SELECT `+keyColumns+` FROM keys WHERE hash = ? AND revoked = 0`, hash))
	if err == sql.ErrNoRows {
		return store.Key{}, hail.Errorf(hail.ENOTFOUND, "API key not found.")
	}
	if err != nil {
		return store.Key{}, fmt.Errorf("key by hash: %w", err)
	}
	return k, nil
}

// Keys returns every key, revoked ones included, ordered by name.
func (db *DB) Keys(ctx context.Context) ([]store.Key, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+keyColumns+` FROM keys ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	defer rows.Close()
	var out []store.Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return out, nil
}

// RevokeKey marks the named key revoked at the store's clock. Returns
// ENOTFOUND if there is no unrevoked key of that name.
func (db *DB) RevokeKey(ctx context.Context, name string) error {
	r, err := db.write.ExecContext(ctx, `UPDATE keys SET revoked = ? WHERE name = ? AND revoked = 0`, db.Now().UnixMicro(), name)
	if err != nil {
		return fmt.Errorf("revoke key: %w", err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return fmt.Errorf("revoke key: %w", err)
	}
	if n == 0 {
		return hail.Errorf(hail.ENOTFOUND, "No valid API key named %q.", name)
	}
	return nil
}
