// Command hail-bench measures hail under load: it generates a deterministic
// STIX 2.1 data set, loads it into a fresh store, starts `hail serve` on it
// and drives it over loopback HTTP. It prints a table and writes the same
// figures as JSON. See BENCHMARKS.md for the commands and results.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"hail/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "hail-bench:", err)
		}
		os.Exit(1)
	}
}

// run parses the flags, runs the benchmark and writes its report.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hail-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg bench.Config
	fs.IntVar(&cfg.N, "n", 10000, "object versions to generate and load")
	fs.Int64Var(&cfg.Seed, "seed", 1, "seed of the synthetic data set")
	fs.StringVar(&cfg.Postgres, "postgres", "", "PostgreSQL URL: load and serve from a new schema there, dropped at the end (default: SQLite)")
	fs.StringVar(&cfg.Hail, "hail", "", "hail binary to run (default: build ./cmd/hail)")
	fs.StringVar(&cfg.Dir, "dir", "", "working directory for the SQLite file and the binary, kept afterwards (default: a temporary one, removed)")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the PostgreSQL schema after the run, for inspection (drop it by hand)")
	fs.IntVar(&cfg.Batch, "batch", 0, "objects per AddObjects call in the bulk import (default: hail import's)")
	fs.IntVar(&cfg.Limit, "limit", 1000, "page size of the full poll")
	fs.DurationVar(&cfg.PollRound, "full-poll-time", 0, "repeat the full poll until this much time has passed (default 2s)")
	clients := fs.String("clients", "1,8,64", "concurrency levels of the small polls")
	fs.DurationVar(&cfg.PollTime, "poll-time", 0, "duration of each small-poll level (default 5s)")
	fs.IntVar(&cfg.PullObjects, "pull", 0, "newest object versions that hail pull mirrors from the server (default min(N, 50,000))")
	fs.IntVar(&cfg.IngestObjects, "ingest", 0, "objects to POST (default N/10, within 1,000 to 50,000)")
	fs.IntVar(&cfg.Envelope, "envelope", 100, "objects per POSTed envelope")
	fs.IntVar(&cfg.IngestClients, "ingest-clients", 4, "concurrent POSTing clients")
	fs.BoolVar(&cfg.ImportOnly, "import-only", false, "stop after the bulk import")
	fs.BoolVar(&cfg.Indicators, "indicators", false, "make the data set N single-version indicators, one observable each, instead of the mix of types and versions")
	fs.StringVar(&cfg.ImportProfile, "import-profile", "", "write a CPU profile of the bulk import (in this process) to this file")
	jsonPath := fs.String("json", "hail-bench.json", `file for the JSON report ("" for none, "-" for stdout instead of the table)`)
	quiet := fs.Bool("q", false, "no progress lines on stderr")
	bundle := fs.String("bundle", "", "write the data set to this file as a STIX bundle, for hail import, and run nothing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	var err error
	if cfg.Clients, err = parseInts(*clients); err != nil {
		return fmt.Errorf("-clients: %v", err)
	}
	if !*quiet {
		cfg.Log = stderr
	}
	if *bundle != "" {
		return writeBundle(*bundle, cfg)
	}

	report, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if *jsonPath == "-" {
		return report.WriteJSON(stdout)
	}
	if err := report.WriteTable(stdout); err != nil {
		return err
	}
	if *jsonPath == "" {
		return nil
	}
	f, err := os.Create(*jsonPath)
	if err != nil {
		return err
	}
	if err := report.WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// parseInts reads a comma-separated list of positive integers.
func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// writeBundle writes the data set of cfg as a STIX bundle to path.
func writeBundle(path string, cfg bench.Config) error {
	n, seed := cfg.N, cfg.Seed
	if seed == 0 {
		seed = 1
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	g := bench.NewGenerator(seed, n)
	if cfg.Indicators {
		g = bench.NewIndicatorGenerator(seed, n)
	}
	if err := bench.WriteBundle(f, g); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
