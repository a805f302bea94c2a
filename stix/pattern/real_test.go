package pattern

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// realData is the shared corpus of published STIX bundles, beside the
// repository (see the project README).
const realData = "../../../shared/data/real/stix"

// indicatorPatterns returns every STIX-typed indicator pattern in the real
// bundles, keyed by file.
func indicatorPatterns(tb testing.TB) map[string][]string {
	tb.Helper()
	if _, err := os.Stat(realData); err != nil {
		tb.Skipf("real STIX data not found at %s (it lives beside the repository): %v", realData, err)
	}
	files, err := filepath.Glob(filepath.Join(realData, "*", "*"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no files under %s: %v", realData, err)
	}
	out := map[string][]string{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(raw, &doc); err != nil {
			continue // not every file is a bundle
		}
		var walk func(v any)
		walk = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				pat, ok := v["pattern"].(string)
				typ, _ := v["pattern_type"].(string)
				if v["type"] == "indicator" && ok && (typ == "" || typ == "stix") {
					out[f] = append(out[f], pat)
				}
				for _, x := range v {
					walk(x)
				}
			case []any:
				for _, x := range v {
					walk(x)
				}
			}
		}
		walk(doc)
	}
	return out
}

// TestRealPatterns parses every STIX indicator pattern in the published
// bundles: all must parse (none in the corpus breaks the grammar), and each
// canonical text must parse back to the same tree.
func TestRealPatterns(t *testing.T) {
	total, parsed, observables := 0, 0, 0
	for file, patterns := range indicatorPatterns(t) {
		for _, s := range patterns {
			total++
			p, err := Parse(s)
			if err != nil {
				t.Errorf("%s: Parse(%q): %v", filepath.Base(file), s, err)
				continue
			}
			parsed++
			q, err := Parse(p.String())
			if err != nil || !reflect.DeepEqual(p, q) {
				t.Errorf("%s: canonical text %q of %q does not parse back to the same tree (err %v)", filepath.Base(file), p, s, err)
			}
			observables += len(p.Observables())
		}
	}
	if total == 0 {
		t.Fatal("no indicator patterns found in the real data")
	}
	t.Logf("%d of %d real indicator patterns parse; %d observables extracted", parsed, total, observables)
}
