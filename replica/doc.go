// Package replica holds hail's end-to-end tests of PostgreSQL deployments:
// several `hail serve` processes on one database, and a server whose
// database connection is cut and restored. The tests build the hail binary
// and run it as an operator would; they are skipped under -short and when
// no PostgreSQL server is reachable (see store/postgres/pgtest).
package replica
