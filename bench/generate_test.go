package bench

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"hail/stix"
	"hail/stix/pattern"
)

// generateAll drains g in batches of size.
func generateAll(tb testing.TB, g *Generator, size int) []stix.Object {
	tb.Helper()
	var all []stix.Object
	for {
		objs, err := g.Next(size)
		if err != nil {
			tb.Fatal(err)
		}
		if objs == nil {
			return all
		}
		all = append(all, objs...)
	}
}

func TestGeneratorDeterministic(t *testing.T) {
	a := generateAll(t, NewGenerator(7, 3000), 1000)
	b := generateAll(t, NewGenerator(7, 3000), 7) // batch size must not matter
	c := generateAll(t, NewGenerator(8, 3000), 1000)
	if len(a) != 3000 || len(b) != 3000 {
		t.Fatalf("got %d and %d objects, want 3000", len(a), len(b))
	}
	for i := range a {
		if !bytes.Equal(a[i].Raw, b[i].Raw) {
			t.Errorf("object %d differs between two runs with seed 7:\n%s\n%s", i, a[i].Raw, b[i].Raw)
			break
		}
	}
	same := 0
	for i := range a {
		if a[i].ID == c[i].ID {
			same++
		}
	}
	if same != 0 {
		t.Errorf("seeds 7 and 8 share %d ids at the same positions, want 0", same)
	}
}

func TestGeneratorStatsIndependentOfBatching(t *testing.T) {
	s1 := NewGenerator(1, 5000)
	generateAll(t, s1, 5000)
	s2 := NewGenerator(1, 5000)
	generateAll(t, s2, 333)
	a, b := s1.Stats(), s2.Stats()
	if a.Bytes != b.Bytes || a.Objects != b.Objects || a.Revoked != b.Revoked {
		t.Errorf("stats differ between batchings: %+v vs %+v", a, b)
	}
}

func TestGeneratorValid(t *testing.T) {
	objs := generateAll(t, NewGenerator(42, 5000), 1000)
	for _, o := range objs {
		if err := stix.Validate(o); err != nil {
			t.Errorf("%s fails validation: %v\n%s", o.ID, err, o.Raw)
		}
		if !json.Valid(o.Raw) {
			t.Errorf("%s is not valid JSON: %s", o.ID, o.Raw)
		}
	}
}

func TestGeneratorVersions(t *testing.T) {
	const n = 40000
	g := NewGenerator(3, n)
	objs := generateAll(t, g, 5000)
	type seen struct {
		versions int
		last     stix.Object
		revoked  bool
	}
	byID := map[string]*seen{}
	var order []string
	for i, o := range objs {
		s := byID[o.ID]
		if s == nil {
			s = &seen{}
			byID[o.ID] = s
			order = append(order, o.ID)
		} else {
			if !o.Version.After(s.last.Version) {
				t.Errorf("object %d: %s version %s is not after the previous one %s", i, o.ID, o.Modified, s.last.Modified)
			}
			if o.Type != s.last.Type {
				t.Errorf("object %d: %s changes type", i, o.ID)
			}
			if s.revoked {
				t.Errorf("object %d: %s has a version after its revocation", i, o.ID)
			}
		}
		s.versions++
		s.last = o
		s.revoked = o.Revoked
	}
	multi, revoked := 0, 0
	for _, id := range order {
		if byID[id].versions > 1 {
			multi++
		}
		if byID[id].revoked {
			revoked++
		}
	}
	st := g.Stats()
	if st.Versions != n || st.Objects != len(byID) || st.MultiVersion != multi || st.Revoked != revoked {
		t.Errorf("stats = %+v, want versions %d, objects %d, multi-version %d, revoked %d", st, n, len(byID), multi, revoked)
	}
	if share := float64(multi) / float64(len(byID)); share < 0.12 || share > 0.17 {
		t.Errorf("share of objects with several versions = %.3f, want about 0.15", share)
	}
	if share := float64(revoked) / float64(len(byID)); share < 0.01 || share > 0.04 {
		t.Errorf("share of revoked objects = %.3f, want about 0.02", share)
	}
}

func TestGeneratorShapes(t *testing.T) {
	const n = 20000
	g := NewGenerator(11, n)
	objs := generateAll(t, g, 5000)
	st := g.Stats()
	for _, ty := range types {
		got := float64(st.ByType[ty.name]) / n * 100
		if got < float64(ty.percent)*0.8 || got > float64(ty.percent)*1.25 {
			t.Errorf("%s: %.1f%% of versions, want about %d%%", ty.name, got, ty.percent)
		}
	}
	for _, k := range indicatorKinds {
		if st.Indicators[k.name] == 0 {
			t.Errorf("no indicator of kind %s", k.name)
		}
	}
	kinds := map[string]int{}
	for _, o := range objs {
		var p struct {
			Pattern      string   `json:"pattern"`
			ValidFrom    string   `json:"valid_from"`
			ValidUntil   string   `json:"valid_until"`
			Confidence   *int     `json:"confidence"`
			Markings     []string `json:"object_marking_refs"`
			CreatedByRef string   `json:"created_by_ref"`
		}
		if err := json.Unmarshal(o.Raw, &p); err != nil {
			t.Fatal(err)
		}
		if len(p.Markings) != 1 || !strings.HasPrefix(p.Markings[0], "marking-definition--") {
			t.Errorf("%s: object_marking_refs = %v, want one TLP marking", o.ID, p.Markings)
		}
		if o.Type != "indicator" {
			continue
		}
		if p.Confidence == nil || p.ValidUntil == "" || p.CreatedByRef == "" {
			t.Errorf("%s: confidence %v, valid_until %q, created_by_ref %q: want all set", o.ID, p.Confidence, p.ValidUntil, p.CreatedByRef)
		}
		pat, err := pattern.Parse(p.Pattern)
		if err != nil {
			t.Errorf("%s: pattern %q: %v", o.ID, p.Pattern, err)
			continue
		}
		for _, ob := range pat.Observables() {
			kinds[ob.Type]++
		}
	}
	for _, want := range []string{pattern.TypeIPv4, pattern.TypeCIDR, pattern.TypeIPv6, pattern.TypeDomain, pattern.TypeURL,
		pattern.TypeEmail, pattern.TypeMD5, pattern.TypeSHA1, pattern.TypeSHA256} {
		if kinds[want] == 0 {
			t.Errorf("no indicator pattern names a %s; observable types seen: %v", want, kinds)
		}
	}
}

func TestGeneratorBasesDisjoint(t *testing.T) {
	a := generateAll(t, newGenerator(5, 0, 2000), 500)
	b := generateAll(t, newGenerator(5, ingestBase, 2000), 500)
	ids := map[string]bool{}
	for _, o := range a {
		ids[o.ID] = true
	}
	for _, o := range b {
		if ids[o.ID] {
			t.Errorf("%s is in both the loaded set and the ingest set", o.ID)
		}
	}
}

func TestGeneratorSizes(t *testing.T) {
	g := NewGenerator(9, 10000)
	generateAll(t, g, 5000)
	avg := g.Stats().Bytes / 10000
	// Real indicator feeds average several hundred bytes per object.
	if avg < 400 || avg > 1500 {
		t.Errorf("average object size = %d bytes, want 400 to 1500", avg)
	}
}

func TestIndicatorGenerator(t *testing.T) {
	// Issue 6's data set: every object a valid indicator with one version,
	// its pattern one observable, spread over the kinds of the mix.
	g := NewIndicatorGenerator(5, 3000)
	ids := map[string]bool{}
	for {
		objs, err := g.Next(700)
		if err != nil {
			t.Fatal(err)
		}
		if objs == nil {
			break
		}
		for _, o := range objs {
			if err := stix.Validate(o); err != nil || o.Type != "indicator" {
				t.Fatalf("%s %s: %v; want a valid indicator", o.Type, o.ID, err)
			}
			if ids[o.ID] {
				t.Fatalf("%s generated twice", o.ID)
			}
			ids[o.ID] = true
		}
	}
	s := g.Stats()
	if s.Versions != 3000 || s.Objects != 3000 || s.MultiVersion != 0 || s.ByType["indicator"] != 3000 {
		t.Errorf("stats %+v; want 3,000 single-version indicators", s)
	}
	if len(s.Indicators) < 4 {
		t.Errorf("observable kinds %v; want the mix's", s.Indicators)
	}
}
