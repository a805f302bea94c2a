package storetest

import (
	"fmt"
	"sync"
	"testing"

	"hail/stix"
	"hail/store"
)

// testConcurrentWriters runs writers while a poller pages with AddedAfter =
// the last date_added it saw, as a TAXII client polls. A store that
// assigned date_added outside its write lock, or made a transaction visible
// after a later one, would make the poller skip an object.
func testConcurrentWriters(t *testing.T, s store.Store) {
	setup(t, s)
	const writers, batches, perBatch = 4, 15, 10
	var (
		mu    sync.Mutex
		acked = map[string]bool{}
		wg    sync.WaitGroup
		errs  = make(chan error, writers)
	)
	done := make(chan struct{})
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for b := 0; b < batches; b++ {
				objs := make([]stix.Object, perBatch)
				for i := range objs {
					n := (w*batches+b)*perBatch + i
					o, err := stix.Parse([]byte(fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,`+
						`"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']",`+
						`"pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`, id("indicator", n))))
					if err != nil {
						errs <- err
						return
					}
					objs[i] = o
				}
				res, err := s.AddObjects(ctx, coll1, objs)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for _, r := range res {
					acked[r.ID] = true
				}
				mu.Unlock()
			}
		}(w)
	}
	go func() { wg.Wait(); close(done) }()

	seen := map[string]int{}
	var f store.Filter
	f.Limit, f.Versions, f.HeadersOnly = 7, []string{"all"}, true
	poll := func() (caughtUp bool) {
		p, err := s.Objects(ctx, coll1, f)
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
	close(errs)
	for err := range errs {
		t.Errorf("writer: %v", err)
	}
	// Writers are done: drain what is left.
	for !poll() {
	}
	if len(acked) != writers*batches*perBatch {
		t.Errorf("%d objects acknowledged, want %d", len(acked), writers*batches*perBatch)
	}
	for id := range acked {
		if seen[id] != 1 {
			t.Errorf("poller saw acknowledged %s %d times, want once", id, seen[id])
		}
	}
	for id, n := range seen {
		if !acked[id] {
			t.Errorf("poller saw %s (%d times), which no writer acknowledged", id, n)
		}
	}
}
