// Package bench is hail's load benchmark harness, run by cmd/hail-bench and
// described in BENCHMARKS.md. Run generates a deterministic synthetic STIX
// 2.1 data set (Generator), loads it into a fresh store with AddObjects,
// starts a real `hail serve` child process on that store and drives it over
// loopback HTTP: start-up, a full poll beside a raw net/http reference
// serving the same bytes, small polls at several concurrency levels, IOC
// lookups and export, and POST ingest. It reports the figures, and the
// server's peak RSS, as a Report (a table and JSON).
//
// Unlike the server's packages, bench imports both store backends: it is a
// program in library form, like cmd/hail, so that its end-to-end test can run
// it in-process.
//
// Every loop is bounded in count and time, and only loopback addresses are
// used. The harness never fails on a missed target; it reports it.
package bench
