package sqlite

import (
	"context"
	"database/sql"
)

// queryRow runs a query that returns at most one row on the read pool,
// through the statement cache (see stmtCache): the store's fixed lookups
// run on every request, and preparing them again each time cost more than
// running them.
func (db *DB) queryRow(ctx context.Context, text string, args ...any) *sql.Row {
	c := &db.reads
	c.mu.Lock()
	st := c.stmts[text]
	if st == nil && len(c.stmts) < maxCachedStmts {
		var err error
		if st, err = db.read.PrepareContext(ctx, text); err != nil {
			c.mu.Unlock()
			// Unprepared, the query reports the same error through its row.
			return db.read.QueryRowContext(ctx, text, args...)
		}
		if c.stmts == nil {
			c.stmts = make(map[string]*sql.Stmt)
		}
		c.stmts[text] = st
	}
	c.mu.Unlock()
	if st == nil {
		return db.read.QueryRowContext(ctx, text, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// readSeq is collectionSeq on the read pool, with its statement cached.
func (db *DB) readSeq(ctx context.Context, id string) (int64, error) {
	return collectionSeq(ctx, queryRower(db.queryRow), id)
}

// queryRower adapts a function to collectionSeq's parameter.
type queryRower func(context.Context, string, ...any) *sql.Row

// QueryRowContext calls f.
func (f queryRower) QueryRowContext(ctx context.Context, text string, args ...any) *sql.Row {
	return f(ctx, text, args...)
}
