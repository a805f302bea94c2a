package sqlite

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestBackgroundCheckpoint checks that committed writes reach the database
// file while the store stays open: the writer does not checkpoint, so only
// the background checkpointer can copy them there.
func TestBackgroundCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hail.db")
	db := newBenchDB(t, path)
	closed := false
	defer func() {
		if !closed {
			db.Close()
		}
	}()
	var busy, frames, done int
	ckErr := db.ckpt.conn.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &done)
	if ckErr != nil {
		t.Fatalf("checkpoint on the checkpointer's connection: %v", ckErr)
	}
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	fillBench(t, db, 0, 2000)
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > before.Size()+1<<20 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("database file %d bytes 20 s after 2,000 objects were committed, %d before: not checkpointed", st.Size(), before.Size())
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	wal, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if wal.Size() > 64<<20 {
		t.Errorf("WAL of %d bytes, want at most journal_size_limit (64 MiB)", wal.Size())
	}
	closed = true
	if err := db.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	// The last connection to close checkpoints the rest and removes the
	// WAL, so a closed store is one file.
	if _, err := os.Stat(path + "-wal"); !os.IsNotExist(err) {
		t.Errorf("after Close, stat of the WAL: %v; want it removed", err)
	}
}

// TestWALBounded adds batches back to back, as a bulk import does, with a
// small WAL limit: the WAL file never grows far past it, though the writer
// is never idle long enough for the background checkpointer to restart it.
func TestWALBounded(t *testing.T) {
	defer func(l int64) { walLimit = l }(walLimit)
	walLimit = 1 << 20
	path := filepath.Join(t.TempDir(), "hail.db")
	db := newBenchDB(t, path)
	defer db.Close()
	var largest int64
	for i := range 40 {
		fillBench(t, db, i*250, (i+1)*250)
		if fi, err := os.Stat(path + "-wal"); err == nil {
			largest = max(largest, fi.Size())
		}
	}
	// One batch of 250 objects writes well under 4 MiB of frames.
	if largest > walLimit+4<<20 {
		t.Errorf("WAL reached %d bytes with a limit of %d", largest, walLimit)
	}
}
