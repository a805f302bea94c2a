package postgres

import (
	"context"
	"sync"
	"testing"
	"time"

	"hail/stix"
	"hail/store"
	"hail/store/postgres/pgtest"
)

// TestReplicasPollerSeesEachObjectOnce runs writers on several separate
// pools, as several hail replicas sharing one database would, while a
// poller on yet another pool pages with AddedAfter = the last date_added it
// saw. Every acknowledged object must be seen exactly once, and date_added
// must be unique across replicas.
func TestReplicasPollerSeesEachObjectOnce(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Schema(t)
	poller := openDSN(t, dsn)
	setupColls(t, poller)
	const replicas, writersPer, batches, perBatch = 3, 2, 8, 12
	dbs := make([]*DB, replicas)
	for i := range dbs {
		dbs[i] = openDSN(t, dsn)
	}

	var (
		mu    sync.Mutex
		acked = map[string]time.Time{}
		wg    sync.WaitGroup
	)
	for r := 0; r < replicas; r++ {
		for w := 0; w < writersPer; w++ {
			wg.Add(1)
			go func(db *DB, writer int) {
				defer wg.Done()
				for b := 0; b < batches; b++ {
					objs := make([]stix.Object, perBatch)
					for i := range objs {
						objs[i] = testIndicator(t, (writer*batches+b)*perBatch+i, "2024-01-01T00:00:00.000Z")
					}
					res, err := db.AddObjects(ctx, testColl, objs)
					if err != nil {
						t.Errorf("writer %d: %v", writer, err)
						return
					}
					mu.Lock()
					for _, r := range res {
						acked[r.ID] = r.DateAdded
					}
					mu.Unlock()
				}
			}(dbs[r], r*writersPer+w)
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	seen := map[string]int{}
	f := store.Filter{Limit: 5, HeadersOnly: true}
	poll := func() (caughtUp bool) {
		p, err := poller.Objects(ctx, testColl, f)
		if err != nil {
			t.Errorf("poll: %v", err)
			return true
		}
		for _, e := range p.Entries {
			if !e.DateAdded.After(f.AddedAfter) {
				t.Errorf("poll after %v returned %s added at %v", f.AddedAfter, e.Object.ID, e.DateAdded)
			}
			seen[e.Object.ID]++
			f.AddedAfter = e.DateAdded
		}
		return !p.More
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			poll()
		}
	}
	for !poll() {
	}

	const total = replicas * writersPer * batches * perBatch
	if len(acked) != total {
		t.Errorf("%d objects acknowledged, want %d", len(acked), total)
	}
	dates := map[time.Time]string{}
	for id, da := range acked {
		if seen[id] != 1 {
			t.Errorf("poller saw acknowledged %s %d times, want once", id, seen[id])
		}
		if other, ok := dates[da]; ok {
			t.Errorf("%s and %s share date_added %v", id, other, da)
		}
		dates[da] = id
	}
	for id, n := range seen {
		if _, ok := acked[id]; !ok {
			t.Errorf("poller saw %s (%d times), which no writer acknowledged", id, n)
		}
	}
}
