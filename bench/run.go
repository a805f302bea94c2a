package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/pprof"
	"time"

	"hail"
	"hail/bootstrap"
	hailingest "hail/ingest"
	"hail/taxii"
)

// Config is what one run does. The zero value of a field means its default.
type Config struct {
	N    int   // object versions to generate and load (10,000)
	Seed int64 // seed of the data set (1)
	// Postgres, when set, is the URL of a PostgreSQL server: the run creates
	// a schema of its own there and drops it at the end. Otherwise the store
	// is a SQLite file in Dir.
	Postgres string
	Hail     string // the hail binary; built from the module when empty
	// Dir holds the SQLite file and the built binary. When empty a
	// temporary directory is made and removed at the end.
	Dir string
	// Keep leaves the PostgreSQL schema in place after the run, for
	// inspection (EXPLAIN); its name is logged. Drop it by hand afterwards.
	Keep bool

	Batch     int           // objects per AddObjects call of the bulk import (hail import's, ingest.DefaultBatch)
	Limit     int           // page size of the full poll (1,000)
	PollRound time.Duration // the full poll is repeated until this much time has passed (2 s)
	// Capture bounds the bytes of the full poll's first pages that the raw
	// HTTP reference serves again (64 MiB).
	Capture int64

	Clients    []int         // small-poll concurrency levels (1, 8, 64)
	SmallLimit int           // page size of the small polls (10)
	PollTime   time.Duration // time per small-poll level (5 s)

	// PullObjects is the window of the newest versions `hail pull` mirrors
	// (min(N, 50,000)).
	PullObjects int

	IngestObjects int // objects POSTed (N/10, at least 1,000, at most 50,000)
	Envelope      int // objects per POSTed envelope (100)
	IngestClients int // concurrent producers (4)

	// ImportProfile, when set, is a file for a CPU profile of the bulk
	// import, which runs in the harness's own process. (The HTTP phases run
	// in the server process: profile those on the server.)
	ImportProfile string

	// ImportOnly stops the run after the bulk import, for measuring the
	// write path at sizes where the HTTP phases would take long.
	ImportOnly bool
	// Indicators makes the data set N single-version indicators
	// (NewIndicatorGenerator) instead of the mix of types and versions.
	Indicators bool

	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// generator returns the generator of c's data set.
func (c Config) generator() *Generator {
	if c.Indicators {
		return NewIndicatorGenerator(c.Seed, c.N)
	}
	return NewGenerator(c.Seed, c.N)
}

// withDefaults returns c with its zero fields set.
func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.N, 10000)
	def(&c.Batch, hailingest.DefaultBatch)
	def(&c.Limit, 1000)
	def(&c.SmallLimit, 10)
	def(&c.PullObjects, min(c.N, 50000))
	def(&c.IngestObjects, min(max(c.N/10, 1000), 50000))
	def(&c.Envelope, 100)
	def(&c.IngestClients, 4)
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.PollRound <= 0 {
		c.PollRound = 2 * time.Second
	}
	if c.Capture <= 0 {
		c.Capture = 64 << 20
	}
	if len(c.Clients) == 0 {
		c.Clients = []int{1, 8, 64}
	}
	if c.PollTime <= 0 {
		c.PollTime = 5 * time.Second
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return c
}

// Run generates the data set, loads it into a fresh store, starts a `hail
// serve` process on it and measures it over loopback HTTP. Figures that a
// phase could not produce are left zero and the reason is added to
// Report.Problems; the error is for failures that stop the run.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg = cfg.withDefaults()
	r := &Report{
		HailVersion: hail.Version, Time: time.Now().UTC(), Machine: describeMachine(),
		N: cfg.N, Seed: cfg.Seed,
	}
	began := time.Now()
	logf := func(format string, args ...any) { fmt.Fprintf(cfg.Log, "hail-bench: "+format+"\n", args...) }

	dir := cfg.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "hail-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	binary := cfg.Hail
	if binary == "" && !cfg.ImportOnly {
		logf("building hail")
		var err error
		if binary, err = buildHail(ctx, dir); err != nil {
			return nil, err
		}
	}

	be, err := newBackend(ctx, dir, cfg.Postgres)
	if err != nil {
		return nil, err
	}
	r.Store = be.name
	defer func() {
		if cfg.Keep && be.schema != "" {
			logf("kept PostgreSQL schema %s", be.schema)
			return
		}
		if err := be.cleanup(); err != nil {
			logf("cleanup: %v", err)
		}
	}()

	sample := newSampler(cfg.N, iocSamples)
	coll, key, mk, err := loadStore(ctx, cfg, be, r, sample, logf)
	if err != nil {
		return nil, err
	}
	if cfg.ImportOnly {
		r.ImportOnly = true
		r.NotMeasured = append(r.NotMeasured, "everything after the bulk import: -import-only")
		r.Machine.LoadAfter = loadAverage()
		r.Seconds = time.Since(began).Seconds()
		r.check()
		return r, nil
	}

	logf("starting hail serve")
	srv, err := startServer(ctx, binary, be.serveArgs)
	if err != nil {
		return nil, err
	}
	err = measure(ctx, cfg, binary, dir, srv, coll, key, mk, sample.values, r, logf)
	if rss, e := srv.peakRSS(); e == nil {
		r.PeakRSSBytes = rss
	} else {
		r.Problems = append(r.Problems, "peak RSS: "+e.Error())
	}
	if e := srv.stop(); e != nil && err == nil {
		r.Problems = append(r.Problems, fmt.Sprintf("hail serve: %v\n%s", e, srv.tail))
	}
	if err != nil {
		return nil, fmt.Errorf("%w\nlast lines of the server's log:\n%s", err, srv.tail)
	}
	r.Machine.LoadAfter = loadAverage()
	r.Seconds = time.Since(began).Seconds()
	r.check()
	return r, nil
}

// loadStore generates the data set into a fresh store and closes it, and
// returns the collection, the API key and the later phases' starting points.
func loadStore(ctx context.Context, cfg Config, be *backend, r *Report, sample *sampler, logf func(string, ...any)) (coll, key string, mk marks, err error) {
	st, err := be.open(ctx)
	if err != nil {
		return "", "", mk, fmt.Errorf("open store: %w", err)
	}
	defer func() {
		if e := st.Close(); e != nil && err == nil {
			err = e
		}
	}()
	if coll, key, err = prepare(ctx, st); err != nil {
		return "", "", mk, err
	}
	logf("generating and loading %s object versions into %s", grouped(cfg.N), storeName(be.name))
	g := cfg.generator()
	if cfg.ImportProfile != "" {
		stop, err := startProfile(cfg.ImportProfile)
		if err != nil {
			return "", "", mk, err
		}
		defer stop()
	}
	step := max(cfg.N/10, 1)
	nextReport := step
	r.BulkImport, mk, err = load(ctx, st, coll, g, cfg.Batch, cfg.PullObjects, sample, func(done int) {
		if done >= nextReport && done < cfg.N {
			logf("  %s loaded", grouped(done))
			nextReport += step
		}
	})
	if err != nil {
		return "", "", mk, err
	}
	r.Dataset = g.Stats()
	if be.settle != nil {
		logf("updating planner statistics (ANALYZE)")
		if err := be.settle(ctx); err != nil {
			return "", "", mk, err
		}
	}
	if size, e := be.size(ctx); e == nil {
		r.BulkImport.StoreBytes = size
	}
	if r.BulkImport.Objects != cfg.N {
		r.Problems = append(r.Problems, fmt.Sprintf("bulk import stored %d of %d versions (%d duplicates)",
			r.BulkImport.Objects, cfg.N, r.BulkImport.Duplicates))
	}
	logf("bulk import: %s objects/s", grouped(int(r.BulkImport.ObjectsPerSec)))
	return coll, key, mk, nil
}

// measure runs the HTTP phases against the server.
func measure(ctx context.Context, cfg Config, binary, dir string, srv *server, coll, key string, mk marks, iocValues []string, r *Report, logf func(string, ...any)) error {
	base := "http://" + srv.addr
	objectsURL := base + "/taxii2/" + bootstrap.APIRootName + "/collections/" + coll + "/objects/"
	c := newClient(max(64, maxOf(cfg.Clients), cfg.IngestClients)+4, key)
	defer c.close()

	up, err := firstDiscovery(ctx, c, base+"/taxii2/", srv)
	if err != nil {
		return err
	}
	r.StartupSeconds = up.Seconds()
	logf("start-up: %.3f s", r.StartupSeconds)

	logf("full poll, limit %d", cfg.Limit)
	maxPages := r.Dataset.Objects/max(1, min(cfg.Limit, 10000)) + 100
	var pages [][]byte
	r.FullPoll, pages, err = fullPoll(ctx, c, objectsURL, cfg.Limit, maxPages, cfg.PollRound, cfg.Capture, srv.cpu)
	if err != nil {
		return err
	}
	if err := srv.alive(); err != nil {
		return err
	}
	if got, want := r.FullPoll.Objects, r.FullPoll.Rounds*r.Dataset.Objects; got != want {
		r.Problems = append(r.Problems, fmt.Sprintf("full poll returned %d objects in %d rounds, want %d (the latest version of each of %d objects)",
			got, r.FullPoll.Rounds, want, r.Dataset.Objects))
	}
	logf("raw HTTP reference")
	r.RawHTTP, err = rawReference(ctx, pages, r.FullPoll.Pages)
	pages = nil
	if err != nil {
		return err
	}
	if r.RawHTTP.MBPerSec > 0 {
		r.FullPoll.PercentOfRaw = 100 * r.FullPoll.MBPerSec / r.RawHTTP.MBPerSec
	}

	small := objectsURL + "?added_after=" + taxii.FormatTimestamp(mk.head) + "&limit=" + fmt.Sprint(cfg.SmallLimit)
	for _, n := range cfg.Clients {
		logf("small polls, %d clients", n)
		p, err := smallPolls(ctx, c, small, n, cfg.SmallLimit, cfg.PollTime, srv.cpu)
		if err != nil {
			r.Problems = append(r.Problems, fmt.Sprintf("small polls at %d clients: %d errors, the first: %v", n, p.Errors, err))
		}
		r.SmallPolls = append(r.SmallPolls, p)
		if err := srv.alive(); err != nil {
			return err
		}
	}

	if err := measureIOCs(ctx, cfg, c, srv, iocValues, r, logf); err != nil {
		return err
	}

	// Before the ingest, whose objects would join the window.
	logf("hail pull of the newest %s versions into a new SQLite store", grouped(min(cfg.PullObjects, cfg.N)))
	if r.Pull, err = pull(ctx, binary, dir, base, coll, key, mk.pullFrom, srv.cpu); err != nil {
		r.Problems = append(r.Problems, err.Error())
	}
	if err := srv.alive(); err != nil {
		return err
	}

	logf("a TAXII feed of the whole collection, run by a second hail serve on a new SQLite store")
	feed, err := runFeed(ctx, binary, dir, base, coll, key)
	if err != nil {
		r.Problems = append(r.Problems, err.Error())
	}
	r.Feed = &feed
	if err := srv.alive(); err != nil {
		return err
	}

	logf("POST ingest of %s objects", grouped(cfg.IngestObjects))
	bodies, err := envelopes(newGenerator(uint64(cfg.Seed), ingestBase, cfg.IngestObjects), cfg.Envelope)
	if err != nil {
		return err
	}
	r.Ingest, err = ingest(ctx, c, objectsURL, bodies, cfg.Envelope, cfg.IngestClients, srv.cpu)
	if err != nil {
		r.Problems = append(r.Problems, err.Error())
	}
	if err := srv.alive(); err != nil {
		return err
	}
	return ctx.Err()
}

// iocSamples is how many indicator values the IOC lookups cycle through.
const iocSamples = 1000

// measureIOCs runs the IOC API phases. A server without the API, or a
// failing one, leaves a note rather than stopping the run; a server that
// has exited stops it.
func measureIOCs(ctx context.Context, cfg Config, c *client, srv *server, values []string, r *Report, logf func(string, ...any)) error {
	base := "http://" + srv.addr
	for _, n := range cfg.Clients {
		logf("IOC lookups, %d clients", n)
		l, err := iocLookups(ctx, c, base, values, n, cfg.PollTime, srv.cpu)
		if errors.Is(err, errNoIOCAPI) {
			r.NotMeasured = append(r.NotMeasured, "IOC lookup and export: "+err.Error())
			return nil
		}
		if err != nil {
			r.Problems = append(r.Problems, fmt.Sprintf("IOC lookups at %d clients: %d errors, the first: %v", n, l.Errors, err))
		}
		r.IOCLookups = append(r.IOCLookups, l)
		if err := srv.alive(); err != nil {
			return err
		}
	}
	logf("IOC export")
	var err error
	if r.IOCExport, err = iocExport(ctx, c, base, cfg.PollRound, srv.cpu); err != nil {
		r.Problems = append(r.Problems, err.Error())
	}
	return srv.alive()
}

// firstDiscovery returns the time from the server's exec to its first
// successful discovery response. The server logs "serving" once it
// listens, so the first request normally succeeds; a few retries cover a
// listener that is not yet accepting.
func firstDiscovery(ctx context.Context, c *client, u string, srv *server) (time.Duration, error) {
	var buf bytes.Buffer
	var err error
	for range 50 {
		var resp response
		resp, err = c.do(ctx, http.MethodGet, u, nil, &buf)
		if err == nil && resp.status == http.StatusOK {
			return time.Since(srv.started), nil
		}
		if err == nil {
			return 0, statusError(http.MethodGet, u, resp.status, buf.Bytes())
		}
		if errors.Is(err, context.Canceled) {
			return 0, err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0, fmt.Errorf("discovery: %w", err)
}

// startProfile starts a CPU profile into path and returns what stops it.
func startProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func maxOf(ns []int) int {
	m := 0
	for _, n := range ns {
		m = max(m, n)
	}
	return m
}
