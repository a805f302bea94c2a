package bench

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"hail/auth"
	"hail/bootstrap"
	"hail/store"
	"hail/store/postgres"
	"hail/store/sqlite"
)

// BulkImport is the loading of the data set straight into the store with
// AddObjects, in batches, before the server starts: the path of `hail
// import` and of a fresh install's first feed.
type BulkImport struct {
	Objects       int     `json:"objects"` // object versions stored
	Duplicates    int     `json:"duplicates"`
	Batch         int     `json:"batch"`
	Seconds       float64 `json:"seconds"` // time spent in AddObjects only
	ObjectsPerSec float64 `json:"objects_per_sec"`
	// CPUSeconds is the CPU time the harness process (where the store
	// runs) used during AddObjects calls.
	CPUSeconds float64 `json:"cpu_seconds"`
	// GenerateSeconds is the time spent generating and parsing the
	// objects, which Seconds leaves out.
	GenerateSeconds float64 `json:"generate_seconds"`
	// StoreBytes is the size of the store after the load: the SQLite file
	// and its WAL, or the PostgreSQL schema's tables with their indexes.
	StoreBytes int64 `json:"store_bytes"`
}

// backend is the store a run loads and then serves.
type backend struct {
	name      string // "sqlite" or "postgresql"
	schema    string // the PostgreSQL schema; "" for SQLite
	serveArgs []string
	open      func(ctx context.Context) (store.Store, error)
	size      func(ctx context.Context) (int64, error)
	// settle runs after the load, before the server starts; nil for none.
	settle  func(ctx context.Context) error
	cleanup func() error
}

// checkpointSQLite copies the WAL of the SQLite store at path into its
// file and truncates it, as the store's own checkpoints do once writes
// pause.
func checkpointSQLite(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

// newBackend prepares an empty store: a file in dir, or a new schema on
// the PostgreSQL server at pgDSN.
func newBackend(ctx context.Context, dir, pgDSN string) (*backend, error) {
	if pgDSN == "" {
		path := filepath.Join(dir, "hail.db")
		// A store left by an earlier run (or a real one) is never reused
		// or removed: the run needs an empty one.
		if _, err := os.Stat(path); err == nil {
			return nil, fmt.Errorf("%s exists: choose an empty directory", path)
		}
		return &backend{
			name:      "sqlite",
			serveArgs: []string{"--db", path},
			// The bulk import is `hail import`'s, which opens the store
			// with a bulk writer's cache.
			open: func(context.Context) (store.Store, error) {
				return sqlite.OpenWith(path, sqlite.ImportOptions)
			},
			size: func(ctx context.Context) (int64, error) {
				// What the import left in the WAL is copied into the
				// file first, so that the size is the store's, not
				// that of frames a checkpoint has yet to reclaim.
				if err := checkpointSQLite(ctx, path); err != nil {
					return 0, err
				}
				var total int64
				for _, p := range []string{path, path + "-wal"} {
					if fi, err := os.Stat(p); err == nil {
						total += fi.Size()
					}
				}
				return total, nil
			},
			cleanup: func() error { return nil }, // dir is removed by Run
		}, nil
	}
	schema, dsn, err := createSchema(ctx, pgDSN)
	if err != nil {
		return nil, err
	}
	return &backend{
		name:      "postgresql",
		schema:    schema,
		serveArgs: []string{"--postgres", dsn},
		open:      func(ctx context.Context) (store.Store, error) { return postgres.Open(ctx, dsn) },
		size:      func(ctx context.Context) (int64, error) { return schemaSize(ctx, pgDSN, schema) },
		settle:    func(ctx context.Context) error { return analyzeSchema(ctx, pgDSN, schema) },
		cleanup:   func() error { return dropSchema(pgDSN, schema) },
	}, nil
}

// prepare creates the default API root and collection, as a first `hail
// serve` would, and an admin key of the harness's own, so that nothing
// depends on reading the key the server prints on its first start.
func prepare(ctx context.Context, st store.Store) (collectionID, key string, err error) {
	now := time.Now()
	if _, err := bootstrap.Ensure(ctx, st, now); err != nil {
		return "", "", err
	}
	c, err := st.Collection(ctx, bootstrap.APIRootName, bootstrap.DefaultAlias)
	if err != nil {
		return "", "", err
	}
	key, hash := auth.NewKey()
	k := store.Key{ID: uuid.NewString(), Name: "hail-bench", Hash: hash, Admin: true, Created: now}
	if err := st.CreateKey(ctx, k); err != nil {
		return "", "", fmt.Errorf("create key: %w", err)
	}
	return c.ID, key, nil
}

// headBack is how many versions before the last one the small polls start
// from: enough for a full page of 10 after it.
const headBack = 50

// marks are positions in the loaded collection that later phases start
// from.
type marks struct {
	// head is the date_added headBack versions before the end, where the
	// small polls start.
	head time.Time
	// pullFrom is the date_added of the version stored before the last
	// pullWindow ones, where the pull starts; zero when the pull takes
	// everything.
	pullFrom time.Time
}

// load adds everything g generates to the collection in batches of batch,
// and returns the figures and the marks, pullWindow versions before the end
// for the pull. Every object is shown to sample, and progress is called
// after each batch, when they are not nil.
func load(ctx context.Context, st store.Store, collectionID string, g *Generator, batch, pullWindow int, sample *sampler, progress func(done int)) (BulkImport, marks, error) {
	res := BulkImport{Batch: batch}
	var mk marks
	pullAfter := g.limit - pullWindow // versions stored before the pull's window
	var inStore, generating time.Duration
	var cpu float64
	var recent [headBack + 1]time.Time // a ring of the last date_added values
	for ctx.Err() == nil {
		t0 := time.Now()
		objs, err := g.Next(batch)
		generating += time.Since(t0)
		if err != nil {
			return res, mk, err
		}
		if objs == nil {
			break
		}
		t1, stopCPU := time.Now(), startCPU(selfCPU)
		results, err := st.AddObjects(ctx, collectionID, objs)
		inStore += time.Since(t1)
		cpu += stopCPU()
		if err != nil {
			return res, mk, fmt.Errorf("bulk import: %w", err)
		}
		for _, r := range results {
			if r.Duplicate {
				res.Duplicates++
				continue
			}
			recent[res.Objects%len(recent)] = r.DateAdded
			res.Objects++
			if res.Objects == pullAfter {
				mk.pullFrom = r.DateAdded
			}
		}
		if sample != nil {
			for _, o := range objs {
				sample.add(o)
			}
		}
		if progress != nil {
			progress(res.Objects + res.Duplicates)
		}
	}
	if err := ctx.Err(); err != nil {
		return res, mk, err
	}
	res.Seconds = inStore.Seconds()
	res.CPUSeconds = cpu
	res.ObjectsPerSec = float64(res.Objects) / res.Seconds
	res.GenerateSeconds = generating.Seconds()
	mk.head = recent[0] // fewer versions than the ring holds: the first one
	if res.Objects > len(recent) {
		mk.head = recent[res.Objects%len(recent)] // the oldest in the ring
	}
	return res, mk, nil
}
