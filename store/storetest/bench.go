package storetest

import (
	"context"
	"syscall"
	"testing"
	"time"

	"hail/stix"
	"hail/store"
)

// CPUTime returns the CPU time the process has used, user and system. On a
// shared machine wall time is noisy; CPU per operation is what the stores'
// benchmarks compare. A database server's own CPU is not counted.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// FillBenchIndicators adds BenchIndicator from to to-1 to collection coll,
// batch per AddObjects call.
func FillBenchIndicators(tb testing.TB, s store.Store, coll string, from, to, batch int) {
	tb.Helper()
	for lo := from; lo < to; lo += batch {
		objs := make([]stix.Object, 0, batch)
		for n := lo; n < min(lo+batch, to); n++ {
			objs = append(objs, BenchIndicator(tb, n))
		}
		if _, err := s.AddObjects(context.Background(), coll, objs); err != nil {
			tb.Fatal(err)
		}
	}
}
