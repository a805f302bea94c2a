package ingest

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hail"
	"hail/stix"
)

// sharedData is the real data set beside the repository (see the project's
// test data notes); tests skip when it is absent.
const sharedData = "../../shared/data"

func requireData(tb testing.TB, path string) string {
	tb.Helper()
	p := filepath.Join(sharedData, path)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("real data %s not available (%v); it lives in ../shared/data beside the repository", p, err)
	}
	return p
}

// TestRealSTIX reads every real STIX file and checks the streamed objects
// against a whole-file decode.
func TestRealSTIX(t *testing.T) {
	root := requireData(t, "real/stix")
	files := []string{requireData(t, "mobile-attack-17.1.json")}
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	})
	total := 0
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var whole struct {
			Type        string            `json:"type"`
			SpecVersion string            `json:"spec_version"`
			Objects     []json.RawMessage `json:"objects"`
		}
		if err := json.Unmarshal(data, &whole); err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		want := len(whole.Objects)
		if whole.Type != "bundle" {
			want = 1
		}
		r := NewReader(strings.NewReader(string(data)))
		n := 0
		for {
			raw, err := r.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					t.Errorf("%s: object %d: %v", path, n, err)
				}
				break
			}
			if _, err := stix.Parse(raw); err != nil {
				t.Errorf("%s: object %d does not parse: %v", path, n, err)
			}
			if whole.Type == "bundle" && n < want && string(raw) != string(whole.Objects[n]) {
				t.Errorf("%s: object %d differs from the whole-file decode", path, n)
			}
			n++
		}
		if n != want {
			t.Errorf("%s: %d objects, want %d", path, n, want)
		}
		if whole.Type == "bundle" && r.Source().SpecVersion != whole.SpecVersion {
			t.Errorf("%s: spec_version %q, want %q", path, r.Source().SpecVersion, whole.SpecVersion)
		}
		total += n
	}
	t.Logf("%d files, %d objects", len(files), total)
	if len(files) < 80 || total < 10000 {
		t.Errorf("%d files and %d objects, want the whole data set (80+ files, 10,000+ objects)", len(files), total)
	}
}

// TestRealLists reads every published text and CSV list, and builds and
// parses an indicator from every value.
func TestRealLists(t *testing.T) {
	var files []string
	for _, dir := range []string{"real/lists/amnesty-investigations", "real/lists/stalkerware-indicators"} {
		matches, _ := filepath.Glob(filepath.Join(requireData(t, dir), "*"))
		for _, m := range matches {
			if strings.HasSuffix(m, ".txt") || strings.HasSuffix(m, ".csv") {
				files = append(files, m)
			}
		}
	}
	// Minimum counts for some files, below what they hold today.
	minimum := map[string]int{
		"2018-08-01_nso__indicators.csv":           1200,
		"2021-07-18_nso__domains.txt":              1400,
		"2023-03-29_android_campaign__domains.txt": 2000,
		"generated__network.csv":                   1000,
		"generated__quad9_blocklist.txt":           900,
		"samples.csv":                              3000,
		"2020-09-25_finfisher__sha256.csv":         10,
		"2019-08-16_evolving_phishing__emails.txt": 15,
	}
	opt := ListOptions{Source: "real data", TLP: "clear", Confidence: 70, TTL: 90 * 24 * time.Hour,
		Now: at(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))}
	totalIOCs, totalBad := 0, 0
	for _, path := range files {
		name := filepath.Base(path)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		iocs, types := 0, map[string]int{}
		var bad []badLine
		err = ReadList(f, opt, func(ioc IOC) error {
			iocs++
			types[ioc.Type]++
			o, err := Indicator(ioc, opt)
			if err == nil {
				err = stix.Validate(o)
			}
			if err != nil {
				t.Errorf("%s line %d: Indicator(%+v): %v", name, ioc.Line, ioc, err)
			}
			return nil
		}, func(line int, text, reason string) {
			bad = append(bad, badLine{line, text, reason})
		})
		f.Close()
		t.Logf("%-50s %5d IOCs %v, %d bad", name, iocs, types, len(bad))
		totalIOCs += iocs
		totalBad += len(bad)
		if name == "2020-09-25_finfisher__android_tlv_list.csv" {
			// A table of protocol values, with no indicator in it.
			if hail.ErrorCode(err) != hail.EINVALID {
				t.Errorf("%s: error %v, want %s (no indicator column)", name, err, hail.EINVALID)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if iocs == 0 || iocs < minimum[name] {
			t.Errorf("%s: %d IOCs, want at least %d", name, iocs, max(1, minimum[name]))
		}
		if len(bad) > 0 {
			t.Errorf("%s: %d bad lines, first %+v", name, len(bad), bad[0])
		}
	}
	t.Logf("%d files, %d IOCs, %d bad lines", len(files), totalIOCs, totalBad)
}

// TestRealMISP reads the published MISP event exports and makes an
// indicator of every attribute that carries one, as --all-attributes
// does; a JSON file that is no MISP export is refused.
func TestRealMISP(t *testing.T) {
	dir := requireData(t, "real/lists/eset-malware-ioc/misp-json")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	total := map[string]int{}
	for _, path := range files {
		name := filepath.Base(path)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if name == "dnsbirthday__rqz-dnsduvel_blocklist.json" {
			// A DNS resolver's block list in a JSON of its own.
			if SniffMISP(data) || hail.ErrorCode(ReadMISP(strings.NewReader(string(data)), func(*MISPEvent) error { return nil })) != hail.EINVALID {
				t.Errorf("%s: taken for a MISP export", name)
			}
			continue
		}
		if !SniffMISP(data) {
			t.Errorf("%s: not recognised as a MISP export", name)
		}
		attrs, iocs, skipped := 0, 0, map[string]int{}
		err = ReadMISP(strings.NewReader(string(data)), func(ev *MISPEvent) error {
			opt := MISPOptions{ListOptions: ListOptions{Now: at(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))}, AllAttributes: true}
			for _, a := range ev.attributes() {
				attrs++
				got, reason := a.iocs()
				if reason != "" {
					skipped[a.Type]++
					continue
				}
				for _, ioc := range got {
					o, err := Indicator(ioc, opt.eventOptions(ev, a))
					if err == nil {
						err = stix.Validate(o)
					}
					if err != nil {
						t.Errorf("%s: %s %q: %v", name, a.Type, a.Value, err)
					}
					iocs++
					total[ioc.Type]++
				}
			}
			return nil
		})
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		t.Logf("%-50s %4d attributes, %4d indicators, passed over %v", name, attrs, iocs, skipped)
		if iocs == 0 {
			t.Errorf("%s: no indicator", name)
		}
	}
	t.Logf("indicators by type: %v", total)
}
