package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hail/store/postgres/pgtest"
)

// logWriter sends the harness's progress lines to the test log.
type logWriter struct{ tb testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// smokeConfig is a run small enough for the test suite.
func smokeConfig(t *testing.T) Config {
	return Config{
		N: 300, Dir: t.TempDir(), Batch: 100,
		PollRound: time.Millisecond, PollTime: 200 * time.Millisecond,
		IngestObjects: 300, IngestClients: 2,
		Log: logWriter{t},
	}
}

// runSmoke runs the harness against a real hail serve process and checks
// what a user of the report would read.
func runSmoke(t *testing.T, cfg Config) *Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	r, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(r.Problems) > 0 {
		t.Errorf("problems: %q", r.Problems)
	}
	if r.N != 300 || r.Dataset.Versions != 300 || r.BulkImport.Objects != 300 {
		t.Errorf("N %d, generated %d, loaded %d; want 300 each", r.N, r.Dataset.Versions, r.BulkImport.Objects)
	}
	if r.BulkImport.ObjectsPerSec <= 0 || r.BulkImport.StoreBytes <= 0 || r.BulkImport.CPUSeconds <= 0 {
		t.Errorf("bulk import = %+v, want a rate, a store size and CPU time", r.BulkImport)
	}
	if r.StartupSeconds <= 0 {
		t.Errorf("start-up = %v s, want > 0", r.StartupSeconds)
	}
	f := r.FullPoll
	if f.Rounds < 1 || f.Objects != f.Rounds*r.Dataset.Objects || f.Bytes <= 0 {
		t.Errorf("full poll = %+v, want %d objects per round", f, r.Dataset.Objects)
	}
	if r.RawHTTP.Pages != f.Pages || r.RawHTTP.MBPerSec <= 0 || f.PercentOfRaw <= 0 {
		t.Errorf("raw HTTP = %+v, full poll %d pages, %.1f%% of raw; want the same page count and rates", r.RawHTTP, f.Pages, f.PercentOfRaw)
	}
	if len(r.SmallPolls) != 3 {
		t.Fatalf("small polls = %+v, want 3 levels", r.SmallPolls)
	}
	for i, want := range []int{1, 8, 64} {
		p := r.SmallPolls[i]
		if p.Clients != want || p.Requests == 0 || p.Errors != 0 || p.P50 > p.P99 || p.P99 > p.Max {
			t.Errorf("small polls at %d clients = %+v", want, p)
		}
	}
	if in := r.Ingest; in.Objects != 300 || in.Failures != 0 || in.Requests != 3 || in.ObjectsPerSec <= 0 {
		t.Errorf("ingest = %+v, want 300 objects in 3 requests, no failures", in)
	}
	// The window covers the whole set: the pull mirrors the default view,
	// the latest version of each object.
	if p := r.Pull; p.Objects != r.Dataset.Objects || p.Added != p.Objects || p.ObjectsPerSec <= 0 || p.CPUSeconds <= 0 {
		t.Errorf("pull = %+v, want the %d objects fetched and added, a rate and CPU time", p, r.Dataset.Objects)
	}
	// The feed reads the whole collection's default view, as the pull does.
	if fd := r.Feed; fd == nil || fd.Objects != r.Dataset.Objects || fd.Added != fd.Objects || fd.PeakRSSBytes <= 0 ||
		fd.Seconds <= 0 {
		t.Errorf("feed = %+v, want the %d objects read and added, a duration and the server's peak RSS", fd, r.Dataset.Objects)
	}
	// The server's CPU time is read in 10 ms ticks: short phases may read 0,
	// but the small polls together take more than a tick.
	var cpu float64
	for _, p := range r.SmallPolls {
		cpu += p.ServerCPUSeconds
	}
	if cpu <= 0 {
		t.Errorf("small polls used %v s of server CPU, want > 0", cpu)
	}
	if r.PeakRSSBytes <= 0 {
		t.Errorf("peak RSS = %d, want > 0", r.PeakRSSBytes)
	}
	if len(r.Checks) != 8 || len(r.NotMeasured) != 0 {
		t.Errorf("checks %+v, not measured %q: want 8 checks, everything measured", r.Checks, r.NotMeasured)
	}
	if len(r.IOCLookups) != 3 {
		t.Fatalf("IOC lookups = %+v, want 3 levels", r.IOCLookups)
	}
	for _, l := range r.IOCLookups {
		// One request in ten asks for an absent value; a few sampled values
		// belong to revoked indicators.
		if l.Requests == 0 || l.Errors != 0 || l.Hits == 0 || l.Hits >= l.Requests || l.P50 > l.P99 {
			t.Errorf("IOC lookups at %d clients = %+v", l.Clients, l)
		}
	}
	if e := r.IOCExport; e.Rounds < 1 || e.Values < e.Rounds*r.Dataset.Indicators["ipv4-addr"] || e.Bytes <= 0 {
		t.Errorf("IOC export = %+v, want at least the %d IPv4 indicators' values per round", e, r.Dataset.Indicators["ipv4-addr"])
	}

	var table bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"N = 300 object versions", "bulk import", "start-up", "full poll / raw HTTP",
		"small poll, limit 10, 64 clients", "IOC lookup, 1 value, 8 clients", "IOC export (txt", "hail pull into a new SQLite store", "TAXII feed run by hail serve", "POST ingest, 100 per envelope, 2 clients",
		"server peak RSS"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.N != 300 || back.Ingest.Objects != 300 {
		t.Errorf("JSON report reads back as N %d, ingest %d (%v); want 300, 300", back.N, back.Ingest.Objects, err)
	}
	return r
}

func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds hail and runs hail serve; skipped with -short")
	}
	r := runSmoke(t, smokeConfig(t))
	if r.Store != "sqlite" {
		t.Errorf("store = %q, want sqlite", r.Store)
	}
}

func TestSmokePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds hail and runs hail serve; skipped with -short")
	}
	pgtest.Check(t)
	before := benchSchemas(t)
	cfg := smokeConfig(t)
	cfg.Postgres = pgtest.DSN()
	r := runSmoke(t, cfg)
	if r.Store != "postgresql" {
		t.Errorf("store = %q, want postgresql", r.Store)
	}
	if after := benchSchemas(t); after > before {
		t.Errorf("%d hail_bench_ schemas after the run, %d before: the run left its schema behind", after, before)
	}
}

// benchSchemas counts the schemas runs create on the test server.
func benchSchemas(t *testing.T) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'hail\_bench\_%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
