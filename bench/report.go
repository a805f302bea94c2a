package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"hail/internal/digits"
)

// Report is the result of one run. Its JSON form is what --json writes;
// rates are per second, sizes in bytes, latencies in milliseconds, MB are
// 10^6 bytes and MiB 2^20.
type Report struct {
	HailVersion string       `json:"hail_version"`
	Time        time.Time    `json:"time"`
	Machine     Machine      `json:"machine"`
	Store       string       `json:"store"` // "sqlite" or "postgresql"
	N           int          `json:"n"`
	Seed        int64        `json:"seed"`
	Dataset     DatasetStats `json:"dataset"`
	BulkImport  BulkImport   `json:"bulk_import"`
	// StartupSeconds is from exec of `hail serve` to its first successful
	// discovery response.
	StartupSeconds float64     `json:"startup_seconds"`
	FullPoll       FullPoll    `json:"full_poll"`
	RawHTTP        RawHTTP     `json:"raw_http"`
	SmallPolls     []SmallPoll `json:"small_polls"`
	IOCLookups     []IOCLookup `json:"ioc_lookups"`
	IOCExport      IOCExport   `json:"ioc_export"`
	Pull           Pull        `json:"pull"`
	Feed           *Feed       `json:"feed,omitempty"` // nil in reports from before it was measured
	Ingest         Ingest      `json:"ingest"`
	// PeakRSSBytes is the server process's VmHWM at the end of the run.
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
	// Checks compares the figures with the project's targets, which are set
	// for N = 1,000,000 on SQLite on a 2-core machine.
	Checks []Check `json:"checks"`
	// ImportOnly is set when the run stopped after the bulk import
	// (-import-only): nothing else was measured.
	ImportOnly bool `json:"import_only,omitempty"`
	// NotMeasured names what the issue asks for and this run could not
	// measure, and why.
	NotMeasured []string `json:"not_measured,omitempty"`
	// Problems lists what went wrong without stopping the run, such as a
	// full poll that did not return every object.
	Problems []string `json:"problems,omitempty"`
	Seconds  float64  `json:"seconds"` // the whole run
}

// Check is one figure against its target.
type Check struct {
	Measure string  `json:"measure"`
	Target  string  `json:"target"`
	Value   float64 `json:"value"`
	Met     bool    `json:"met"`
}

// check fills r.Checks from the figures.
func (r *Report) check() {
	r.Checks = nil
	add := func(measure, target string, value float64, met bool) {
		r.Checks = append(r.Checks, Check{measure, target, value, met})
	}
	add("bulk import objects/s", "≥ 50,000 objects/s", r.BulkImport.ObjectsPerSec, r.BulkImport.ObjectsPerSec >= 50000)
	if r.ImportOnly {
		return
	}
	add("start-up s", "< 1 s", r.StartupSeconds, r.StartupSeconds > 0 && r.StartupSeconds < 1)
	add("full poll % of raw HTTP", "≥ 50 %", r.FullPoll.PercentOfRaw, r.FullPoll.PercentOfRaw >= 50)
	for _, p := range r.SmallPolls {
		if p.Clients == 64 {
			add("small poll p99 ms at 64 clients", "p99 < 20 ms", p.P99, p.P99 < 20 && p.Requests > 0)
		}
	}
	add("pull objects/s", "≥ 20,000 objects/s", r.Pull.ObjectsPerSec, r.Pull.ObjectsPerSec >= 20000)
	add("POST ingest objects/s", "≥ 20,000 objects/s", r.Ingest.ObjectsPerSec, r.Ingest.ObjectsPerSec >= 20000)
	mib := float64(r.PeakRSSBytes) / (1 << 20)
	add("server peak RSS MiB", "< 200 MiB", mib, mib < 200 && r.PeakRSSBytes > 0)
	if f := r.Feed; f != nil {
		mib := float64(f.PeakRSSBytes) / (1 << 20)
		add("feed server peak RSS MiB", "< 200 MiB", mib, mib < 200 && f.PeakRSSBytes > 0)
	}
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report as a table for people.
func (r *Report) WriteTable(w io.Writer) error {
	d := r.Dataset
	fmt.Fprintf(w, "hail %s on %s: N = %s object versions (%s objects, %s with several versions, %s revoked; %.1f MB), seed %d\n",
		r.HailVersion, storeName(r.Store), grouped(r.N), grouped(d.Objects), grouped(d.MultiVersion), grouped(d.Revoked),
		float64(d.Bytes)/1e6, r.Seed)
	m := r.Machine
	fmt.Fprintf(w, "machine: %s, %d CPUs, %.1f GiB, %s, %s; load average %s before, %s after\n\n",
		orDash(m.CPU), m.CPUs, float64(m.MemoryBytes)/(1<<30), m.OS, m.Go, orDash(m.LoadBefore), orDash(m.LoadAfter))

	verdict := map[string]string{}
	for _, c := range r.Checks {
		v := "missed"
		if c.Met {
			v = "met"
		}
		verdict[c.Measure] = v + " (" + c.Target + ")"
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(measure, result, cpu, check string) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", measure, result, cpu, verdict[check])
	}
	fmt.Fprintln(tw, "MEASURE\tRESULT\tCPU**\tTARGET*")
	b := r.BulkImport
	row(fmt.Sprintf("bulk import (batches of %d)", b.Batch),
		fmt.Sprintf("%s objects/s (%.1f s; store %.1f MB)", grouped(int(b.ObjectsPerSec)), b.Seconds, float64(b.StoreBytes)/1e6),
		perUnit(b.CPUSeconds, b.Objects, "object"), "bulk import objects/s")
	if !r.ImportOnly {
		r.writeServed(row)
	}
	for _, s := range r.NotMeasured {
		what, why, _ := strings.Cut(s, ": ")
		row(what, "not measured: "+why, "", "")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n* targets are set for N = 1,000,000 on SQLite on a 2-core machine; run took %.0f s\n", r.Seconds)
	fmt.Fprintln(w, "** CPU time per unit, of the server process (of the harness process, where the store runs, for the bulk")
	fmt.Fprintln(w, "   import): steadier than the rates when other work shares the machine")
	for _, p := range r.Problems {
		fmt.Fprintf(w, "PROBLEM: %s\n", p)
	}
	return nil
}

// writeServed writes the rows of what was measured against the running
// server.
func (r *Report) writeServed(row func(measure, result, cpu, check string)) {
	row("start-up (exec to discovery response)", fmt.Sprintf("%.3f s", r.StartupSeconds), "", "start-up s")
	f := r.FullPoll
	row(fmt.Sprintf("full poll (limit %d)", f.Limit),
		fmt.Sprintf("%s objects/s, %.1f MB/s (%s, %d pages, page p50 %.1f ms)",
			grouped(int(f.ObjectsPerSec)), f.MBPerSec, plural(f.Rounds, "round"), f.Pages, f.Page.P50),
		perUnit(f.ServerCPUSeconds, f.Objects, "object"), "")
	row("raw HTTP (same pages, from memory)",
		fmt.Sprintf("%.1f MB/s (%d pages)", r.RawHTTP.MBPerSec, r.RawHTTP.Pages), "", "")
	row("full poll / raw HTTP", fmt.Sprintf("%.1f %%", f.PercentOfRaw), "", "full poll % of raw HTTP")
	for _, p := range r.SmallPolls {
		check := ""
		if p.Clients == 64 {
			check = "small poll p99 ms at 64 clients"
		}
		result := fmt.Sprintf("%s req/s; p50 %.2f, p90 %.2f, p99 %.2f ms", grouped(int(p.ReqPerSec)), p.P50, p.P90, p.P99)
		if p.Errors > 0 {
			result += fmt.Sprintf("; %d errors", p.Errors)
		}
		row(fmt.Sprintf("small poll, limit %d, %s", p.Limit, plural(p.Clients, "client")), result,
			perUnit(p.ServerCPUSeconds, p.Requests+p.Errors, "request"), check)
	}
	for _, l := range r.IOCLookups {
		result := fmt.Sprintf("%s req/s; p50 %.2f, p90 %.2f, p99 %.2f ms; %d%% hits",
			grouped(int(l.ReqPerSec)), l.P50, l.P90, l.P99, percent(l.Hits, l.Requests))
		if l.Errors > 0 {
			result += fmt.Sprintf("; %d errors", l.Errors)
		}
		row("IOC lookup, 1 value, "+plural(l.Clients, "client"), result,
			perUnit(l.ServerCPUSeconds, l.Requests+l.Errors, "request"), "")
	}
	if e := r.IOCExport; e.Rounds > 0 {
		row("IOC export (txt, every value)", fmt.Sprintf("%s values/s, %.1f MB/s (%s values, %s)",
			grouped(int(e.ValuesPerSec)), e.MBPerSec, grouped(e.Values/e.Rounds), plural(e.Rounds, "round")),
			perUnit(e.ServerCPUSeconds, e.Values, "value"), "")
	}
	if p := r.Pull; p.Objects > 0 {
		cpu := perUnit(p.CPUSeconds, p.Objects, "object")
		if s := perUnit(p.ServerCPUSeconds, p.Objects, "object"); s != "" {
			cpu += " (+ " + s + " server)"
		}
		row("hail pull into a new SQLite store", fmt.Sprintf("%s objects/s (%s objects, %.1f s)",
			grouped(int(p.ObjectsPerSec)), grouped(p.Objects), p.Seconds), cpu, "pull objects/s")
	}
	if f := r.Feed; f != nil && f.Objects > 0 {
		row("TAXII feed run by hail serve", fmt.Sprintf("%s objects/s (%s objects, %.1f s); its server's peak RSS %.1f MiB",
			grouped(int(f.ObjectsPerSec)), grouped(f.Objects), f.Seconds, float64(f.PeakRSSBytes)/(1<<20)),
			perUnit(f.CPUSeconds, f.Objects, "object"), "feed server peak RSS MiB")
	}
	in := r.Ingest
	result := fmt.Sprintf("%s objects/s; request p50 %.1f, p99 %.1f ms", grouped(int(in.ObjectsPerSec)), in.Latency.P50, in.Latency.P99)
	if in.Failures > 0 {
		result += fmt.Sprintf("; %d objects failed", in.Failures)
	}
	row(fmt.Sprintf("POST ingest, %d per envelope, %s", in.Envelope, plural(in.Clients, "client")), result,
		perUnit(in.ServerCPUSeconds, in.Objects+in.Failures, "object"), "POST ingest objects/s")
	row("server peak RSS (VmHWM)", fmt.Sprintf("%.1f MiB", float64(r.PeakRSSBytes)/(1<<20)), "", "server peak RSS MiB")
}

// perUnit formats seconds of CPU divided by n units, "" when either is 0.
func perUnit(seconds float64, n int, unit string) string {
	if seconds <= 0 || n <= 0 {
		return ""
	}
	d := time.Duration(seconds / float64(n) * float64(time.Second))
	if d >= time.Millisecond {
		return fmt.Sprintf("%.2f ms/%s", float64(d)/float64(time.Millisecond), unit)
	}
	return fmt.Sprintf("%.0f µs/%s", float64(d)/float64(time.Microsecond), unit)
}

func percent(part, whole int) int {
	if whole == 0 {
		return 0
	}
	return 100 * part / whole
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func storeName(s string) string {
	if s == "postgresql" {
		return "PostgreSQL"
	}
	return "SQLite"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// grouped formats n with commas between thousands.
func grouped(n int) string { return digits.Grouped(int64(n)) }
