package bench

import (
	"bytes"
	"strings"
	"testing"
)

func TestReportChecks(t *testing.T) {
	r := &Report{
		BulkImport:     BulkImport{ObjectsPerSec: 50000},
		StartupSeconds: 1,
		FullPoll:       FullPoll{PercentOfRaw: 49.9},
		SmallPolls:     []SmallPoll{{Clients: 1, Requests: 10, Latency: Latency{P99: 50}}, {Clients: 64, Requests: 10, Latency: Latency{P99: 19.9}}},
		Pull:           Pull{Objects: 10, ObjectsPerSec: 19999},
		Ingest:         Ingest{ObjectsPerSec: 20000},
		PeakRSSBytes:   200 << 20,
	}
	r.check()
	want := map[string]bool{
		"bulk import objects/s":           true,  // ≥ 50,000
		"start-up s":                      false, // < 1 s
		"full poll % of raw HTTP":         false, // ≥ 50
		"small poll p99 ms at 64 clients": true,  // only the 64-client level counts
		"pull objects/s":                  false, // ≥ 20,000
		"POST ingest objects/s":           true,
		"server peak RSS MiB":             false, // < 200 MiB
	}
	if len(r.Checks) != len(want) {
		t.Fatalf("checks = %+v, want %d", r.Checks, len(want))
	}
	for _, c := range r.Checks {
		if met, ok := want[c.Measure]; !ok || met != c.Met {
			t.Errorf("check %q (value %v) met = %v, want %v", c.Measure, c.Value, c.Met, met)
		}
	}

	var b bytes.Buffer
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(b.String(), "\n") {
		switch {
		case strings.HasPrefix(line, "start-up"):
			if !strings.Contains(line, "missed (< 1 s)") {
				t.Errorf("start-up row = %q, want it marked missed (< 1 s)", line)
			}
		case strings.HasPrefix(line, "small poll, limit 0, 64 clients"):
			if !strings.Contains(line, "met (p99 < 20 ms)") {
				t.Errorf("64-client row = %q, want it marked met", line)
			}
		case strings.HasPrefix(line, "small poll, limit 0, 1 client"):
			if strings.Contains(line, "met") {
				t.Errorf("1-client row = %q, want no verdict", line)
			}
		}
	}
}

func TestReportNoServerFigures(t *testing.T) {
	// A run that measured nothing must not claim the RSS or latency targets.
	r := &Report{SmallPolls: []SmallPoll{{Clients: 64}}}
	r.check()
	for _, c := range r.Checks {
		if c.Met {
			t.Errorf("check %q met with no figures", c.Measure)
		}
	}
}

// TestReportImportOnly checks that a run stopped after the bulk import
// judges and shows the import alone, not zero figures for the rest.
func TestReportImportOnly(t *testing.T) {
	r := &Report{ImportOnly: true, BulkImport: BulkImport{Objects: 1000, ObjectsPerSec: 12000, Batch: 500},
		NotMeasured: []string{"everything after the bulk import: -import-only"}}
	r.check()
	if len(r.Checks) != 1 || r.Checks[0].Measure != "bulk import objects/s" {
		t.Errorf("checks %+v, want the bulk import's alone", r.Checks)
	}
	var out strings.Builder
	if err := r.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	table := out.String()
	for _, absent := range []string{"start-up", "full poll", "POST ingest", "peak RSS"} {
		if strings.Contains(table, absent) {
			t.Errorf("the table shows %q for a run that did not measure it:\n%s", absent, table)
		}
	}
	if !strings.Contains(table, "12,000 objects/s") || !strings.Contains(table, "not measured: -import-only") {
		t.Errorf("the table lacks the import or what was not measured:\n%s", table)
	}
}
