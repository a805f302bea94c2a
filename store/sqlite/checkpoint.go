package sqlite

import (
	"context"
	"database/sql"
	"os"
	"sync"
	"time"
)

// checkpointEvery is how often the checkpointer copies committed WAL
// frames into the database file.
const checkpointEvery = 500 * time.Millisecond

// checkpointer runs WAL checkpoints in the background. SQLite's automatic
// checkpoint runs inside whichever commit pushes the WAL past 1,000 pages,
// so one writer in a thousand paid for a checkpoint on its request; the
// writer connection has wal_autocheckpoint off and this goroutine does the
// work instead, on its own connection.
//
// PASSIVE checkpoints never wait for readers or the writer, so they do not
// block either; frames a reader still needs are left for a later round.
// The WAL restarts from its start once a checkpoint has caught up, and the
// writer's journal_size_limit truncates the file then. A writer that is
// never idle (a bulk import, transactions back to back) leaves no moment in
// which a checkpoint has caught up, so the WAL would grow with every
// commit: 13 GB of WAL for a 2.7 GB store after 1M objects. boundWAL stops
// that from the writer's side.
type checkpointer struct {
	conn *sql.DB
	stop chan struct{}
	done sync.WaitGroup
}

// startCheckpointer opens a connection to path and starts checkpointing.
func startCheckpointer(path string) (*checkpointer, error) {
	conn, err := sql.Open("sqlite", dsn(path, false, Options{}))
	if err != nil {
		return nil, err
	}
	conn.SetMaxOpenConns(1)
	conn.SetMaxIdleConns(1)
	conn.SetConnMaxLifetime(0)
	conn.SetConnMaxIdleTime(0)
	c := &checkpointer{conn: conn, stop: make(chan struct{})}
	c.done.Add(1)
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	defer c.done.Done()
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			// An error (SQLITE_BUSY while another process checkpoints,
			// say) only means this round copied less; the next retries.
			c.conn.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}

// close stops the goroutine and closes its connection.
func (c *checkpointer) close() error {
	if c == nil {
		return nil
	}
	close(c.stop)
	c.done.Wait()
	return c.conn.Close()
}

// walLimit is the WAL size past which the writer checkpoints it itself.
// A commit of a large import rewrites most pages of the random-order
// indexes (objects by STIX id, IOCs by value), over 100 MB of WAL at 1M
// objects: at 64 MiB every commit was followed by a checkpoint that
// copied each of those pages to the database again, where at 512 MiB one
// checkpoint copies a page once for the several commits that rewrote it.
// A bulk import of 1,000,000 versions ran 5–7% faster; the WAL may take
// that much more disk while a writer is never idle.
var walLimit int64 = 512 << 20 // a variable for tests

// boundWAL checkpoints and truncates the WAL on the write connection when
// it has outgrown walLimit; the bulk writers call it after they commit.
// Between transactions the write connection holds no lock, so the
// checkpoint needs only wait for readers of frames it would overwrite
// (busy_timeout), and the background checkpointer has usually copied most
// frames already. A failure (another process writing, a reader holding on
// for longer than the timeout) is left for the next call.
func (db *DB) boundWAL(ctx context.Context) {
	if fi, err := os.Stat(db.walPath); err != nil || fi.Size() <= walLimit {
		return
	}
	db.write.ExecContext(context.WithoutCancel(ctx), `PRAGMA wal_checkpoint(TRUNCATE)`)
}
