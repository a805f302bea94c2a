package main

import (
	"context"

	"hail/store"
	"hail/store/postgres"
)

// openPostgres opens a PostgreSQL store, applying its migrations.
func openPostgres(ctx context.Context, dsn string) (store.Store, error) {
	return postgres.Open(ctx, dsn)
}
