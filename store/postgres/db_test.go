package postgres

import (
	"context"
	"testing"

	"hail/store"
	"hail/store/postgres/pgtest"
	"hail/store/storetest"
)

// openTest opens a new store in a schema of its own, closed at cleanup
// before the schema is dropped.
func openTest(tb testing.TB) *DB {
	tb.Helper()
	db, err := Open(context.Background(), pgtest.Schema(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t) }, storetest.Options{Concurrent: true})
}
