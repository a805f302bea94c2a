package main

import "runtime/debug"

// Garbage collector settings for hail serve, unless GOGC or GOMEMLIMIT set
// them. A server's live heap is small (the stores' page caches are outside
// it), so at Go's default GOGC=100 it collects after every few megabytes
// allocated: 64 polling clients paid for that in latency. hail-bench at
// 20k objects, 64 clients, same binary: GOGC=100 146 µs of CPU per request,
// p99 27.5 ms; GOGC=400 120 µs, p99 20–21 ms, for 30 MiB more RSS. The
// memory limit keeps the larger heap from growing past what a small host
// expects: near it, the collector runs as often as it must.
const (
	serveGCPercent   = 400
	serveMemoryLimit = 96 << 20
)

// tuneGC applies the serve settings that the environment does not set.
func tuneGC(env *environ) {
	if env.getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	if env.getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(serveMemoryLimit)
	}
}
