package sqlite

import (
	"runtime"
	"sync"
	"sync/atomic"

	"hail/store"
)

// inspectChunk is how many arrivals the inspector decodes before it hands
// them to the writer.
const inspectChunk = 64

// inspectAhead decodes the properties of the arrivals that need them
// (store.Inspect) on other goroutines while the writer stores the ones
// before: SQLite has one writer, so the decoding, about a fifth of an
// import's CPU, would otherwise run on the writer's core. all asks for
// every arrival (the fan-out to filter collections reads them all);
// otherwise only the types whose rows use them. The returned function
// stops the work still queued and returns once no worker reads the
// arrivals, whose objects belong to the caller again then; an arrival
// whose chunk was not decoded is decoded by its first inspect call.
func inspectAhead(arrivals []*arrival, all bool) (stop func()) {
	var chunks []*inspectJob
	for lo := 0; lo < len(arrivals); lo += inspectChunk {
		job := &inspectJob{arrivals: arrivals[lo:min(lo+inspectChunk, len(arrivals))], done: make(chan struct{})}
		need := false
		for _, v := range job.arrivals {
			if all || needsInspect(v.obj.Type) {
				v.ready = job
				need = true
			}
		}
		if need {
			chunks = append(chunks, job)
		}
	}
	if len(chunks) == 0 {
		return func() {}
	}
	var next atomic.Int64 // the next chunk to claim
	var stopped atomic.Bool
	var workers sync.WaitGroup
	work := func() {
		defer workers.Done()
		for !stopped.Load() {
			i := int(next.Add(1)) - 1
			if i >= len(chunks) {
				return
			}
			chunks[i].run()
		}
	}
	// Leave one core to the writer; with one core, still one worker, so
	// that the writer never waits for a chunk nobody decodes.
	for range max(1, min(runtime.GOMAXPROCS(0)-1, len(chunks))) {
		workers.Add(1)
		go work()
	}
	return func() {
		stopped.Store(true)
		workers.Wait()
	}
}

// needsInspect reports whether objects of type typ have rows that read
// their properties whatever the collection: IOC index rows, identity names.
func needsInspect(typ string) bool { return store.Indexed(typ) || typ == "identity" }

// inspectJob is one chunk of arrivals decoded together.
type inspectJob struct {
	arrivals []*arrival
	claimed  atomic.Bool
	done     chan struct{}
}

// run decodes the chunk unless another goroutine has claimed it, and
// reports it done.
func (j *inspectJob) run() {
	if !j.claimed.CompareAndSwap(false, true) {
		return
	}
	for _, v := range j.arrivals {
		if v.ready == j {
			info := store.Inspect(v.obj)
			v.decoded = &info
		}
	}
	close(j.done)
}

// wait returns once the chunk is decoded, decoding it itself when no
// worker has claimed it yet (the workers were stopped, or are behind).
func (j *inspectJob) wait() {
	j.run()
	<-j.done
}
