package store

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"hail"
	"hail/stix"
)

func TestParseCollectionFilter(t *testing.T) {
	fifty := 50
	tests := []struct {
		in   string
		want CollectionFilter
		json string // the canonical form
	}{
		{"", CollectionFilter{}, "{}"},
		{"  {} ", CollectionFilter{}, "{}"},
		{`{"observables":["ipv4","cidr"],"min_confidence":50}`,
			CollectionFilter{Observables: []string{"ipv4", "cidr"}, MinConfidence: &fifty},
			`{"observables":["ipv4","cidr"],"min_confidence":50}`},
		{"observables=ipv4,ipv6; min_confidence=50 max-tlp=AMBER+STRICT",
			CollectionFilter{Observables: []string{"ipv4", "ipv6"}, MinConfidence: &fifty, MaxTLP: "amber+strict"},
			`{"observables":["ipv4","ipv6"],"min_confidence":50,"max_tlp":"amber+strict"}`},
		{"types=vulnerability,indicator labels=c2 indicator_types=malicious-activity created_by=identity--7c3b6b5e-2f0b-4f7a-9d1e-0a8b2c4d6e8f max_age=30d",
			CollectionFilter{Types: []string{"vulnerability", "indicator"}, Labels: []string{"c2"},
				IndicatorTypes: []string{"malicious-activity"}, CreatedBy: []string{"identity--7c3b6b5e-2f0b-4f7a-9d1e-0a8b2c4d6e8f"},
				MaxAge: "30d", maxAge: 30 * 24 * time.Hour},
			`{"types":["vulnerability","indicator"],"labels":["c2"],"indicator_types":["malicious-activity"],` +
				`"created_by":["identity--7c3b6b5e-2f0b-4f7a-9d1e-0a8b2c4d6e8f"],"max_age":"30d"}`},
		{`{"max_age":"36h","max_tlp":"white"}`, CollectionFilter{MaxAge: "36h", maxAge: 36 * time.Hour, MaxTLP: "white"},
			`{"max_tlp":"white","max_age":"36h"}`},
		{"max_age=2w", CollectionFilter{MaxAge: "2w", maxAge: 14 * 24 * time.Hour}, `{"max_age":"2w"}`},
	}
	for _, tt := range tests {
		got, err := ParseCollectionFilter(tt.in)
		if err != nil {
			t.Errorf("ParseCollectionFilter(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseCollectionFilter(%q):\n got %+v\nwant %+v", tt.in, got, tt.want)
		}
		if s := got.String(); s != tt.json {
			t.Errorf("ParseCollectionFilter(%q).String() = %s, want %s", tt.in, s, tt.json)
		}
		if again, err := ParseCollectionFilter(got.String()); err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("ParseCollectionFilter(%s) = %+v, %v; want %+v (round trip)", got.String(), again, err, got)
		}
	}
}

func TestParseCollectionFilterErrors(t *testing.T) {
	for _, in := range []string{
		`{"observables":["ip"]}`,
		`{"nope":1}`,
		`{"types":["Indicator"]}`,
		`{"min_confidence":101}`,
		`{"min_confidence":-1}`,
		`{"max_tlp":"purple"}`,
		`{"max_age":"soon"}`,
		`{"max_age":"-3h"}`,
		`{"max_age":"0d"}`,
		`{"created_by":["indicator--7c3b6b5e-2f0b-4f7a-9d1e-0a8b2c4d6e8f"]}`,
		`{"types":"indicator"}`,
		`{} {}`,
		`{`,
		"observables",
		"colour=red",
		"min_confidence=high",
	} {
		_, err := ParseCollectionFilter(in)
		if hail.ErrorCode(err) != hail.EINVALID {
			t.Errorf("ParseCollectionFilter(%q) = %v, want EINVALID", in, err)
		}
	}
}

func mustParse(t *testing.T, raw string) stix.Object {
	t.Helper()
	o, err := stix.Parse([]byte(raw))
	if err != nil {
		t.Fatalf("parse %s: %v", raw, err)
	}
	return o
}

func TestCollectionFilterMatch(t *testing.T) {
	now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	ip := mustParse(t, `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",`+
		`"created":"2024-05-01T00:00:00.000Z","modified":"2024-05-20T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']",`+
		`"pattern_type":"stix","valid_from":"2024-05-01T00:00:00Z","confidence":70,"labels":["c2"],"indicator_types":["malicious-activity"],`+
		`"created_by_ref":"identity--7c3b6b5e-2f0b-4f7a-9d1e-0a8b2c4d6e8f","object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]}`)
	cve := mustParse(t, `{"type":"vulnerability","spec_version":"2.1","id":"vulnerability--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",`+
		`"created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","name":"CVE-2016-1234",`+
		`"external_references":[{"source_name":"cve","external_id":"CVE-2016-1234"}]}`)
	red := mustParse(t, `{"type":"malware","spec_version":"2.1","id":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b",`+
		`"created":"2024-05-01T00:00:00.000Z","modified":"2024-05-01T00:00:00.000Z","name":"x","is_family":false,`+
		`"object_marking_refs":["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]}`)
	sco := mustParse(t, `{"type":"ipv4-addr","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3"}`)
	objs := map[string]stix.Object{"ip": ip, "cve": cve, "red": red, "sco": sco}
	tests := []struct {
		filter string
		want   string // the objects matched, in the order ip cve red sco
	}{
		{"", "ip cve red sco"},
		{"types=indicator,ipv4-addr", "ip sco"},
		{"observables=ipv4", "ip"},
		{"observables=cve", "cve"},
		{"observables=ipv6,domain", ""},
		{"labels=c2,other", "ip"},
		{"indicator_types=malicious-activity", "ip"},
		{"indicator_types=benign", ""},
		{"min_confidence=70", "ip"},
		{"min_confidence=71", ""},
		{"min_confidence=0", "ip"},
		// Unmarked objects count as clear.
		{"max_tlp=clear", "cve sco"},
		{"max_tlp=white", "cve sco"},
		{"max_tlp=green", "ip cve sco"},
		{"max_tlp=amber+strict", "ip cve sco"},
		{"max_tlp=red", "ip cve red sco"},
		{"created_by=identity--7c3b6b5e-2f0b-4f7a-9d1e-0a8b2c4d6e8f", "ip"},
		// Unversioned objects have no age.
		{"max_age=31d", "ip red sco"},
		{"max_age=30d", "ip sco"},
		{"max_age=12d", "ip sco"},
		{"max_age=1d", "sco"},
		{"observables=ipv4 min_confidence=50 max_tlp=green labels=c2", "ip"},
		{"observables=ipv4 max_tlp=clear", ""},
	}
	for _, tt := range tests {
		f, err := ParseCollectionFilter(tt.filter)
		if err != nil {
			t.Fatalf("ParseCollectionFilter(%q): %v", tt.filter, err)
		}
		var got []string
		for _, name := range []string{"ip", "cve", "red", "sco"} {
			o := objs[name]
			if f.Match(o, Inspect(o), now) {
				got = append(got, name)
			}
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("filter %q matches %q, want %q", tt.filter, g, tt.want)
		}
	}
	// A filter built in code, not parsed, reads MaxAge too.
	if (CollectionFilter{MaxAge: "1d"}).Match(ip, Inspect(ip), now) {
		t.Errorf("unparsed MaxAge 1d matched an object 12 days old")
	}
}

func TestPrepareCollection(t *testing.T) {
	c, f, err := PrepareCollection(Collection{ID: "x", Filter: " "})
	if err != nil || f != nil || c.Kind != KindExplicit || c.Filter != "" {
		t.Errorf("explicit: %+v, %v, %v", c, f, err)
	}
	c, f, err = PrepareCollection(Collection{ID: "x", Kind: KindFilter, Filter: "observables=ipv4"})
	if err != nil || f == nil || c.Filter != `{"observables":["ipv4"]}` {
		t.Errorf("filter: %+v, %+v, %v", c, f, err)
	}
	if !(Collection{Kind: KindExplicit}).Writable() || !(Collection{}).Writable() || (Collection{Kind: KindFilter}).Writable() {
		t.Errorf("Writable: want explicit and unset writable, filter not")
	}
	for _, bad := range []Collection{{Kind: KindExplicit, Filter: "{}"}, {Kind: "view"}, {Kind: KindFilter, Filter: "{"}} {
		if _, _, err := PrepareCollection(bad); hail.ErrorCode(err) != hail.EINVALID {
			t.Errorf("PrepareCollection(%+v) = %v, want EINVALID", bad, err)
		}
	}
}

func FuzzParseCollectionFilter(f *testing.F) {
	for _, s := range []string{"", "{}", `{"observables":["ipv4"],"min_confidence":50}`, "max_age=30d labels=a,b",
		`{"max_tlp":"amber+strict","created_by":["identity--7c3b6b5e-2f0b-4f7a-9d1e-0a8b2c4d6e8f"]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseCollectionFilter(s)
		if err != nil {
			if hail.ErrorCode(err) != hail.EINVALID {
				t.Fatalf("ParseCollectionFilter(%q): error %v is not EINVALID", s, err)
			}
			return
		}
		// What parses round-trips through the stored form.
		again, err := ParseCollectionFilter(got.String())
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("ParseCollectionFilter(%q) = %+v; its form %s reads back as %+v, %v", s, got, got.String(), again, err)
		}
	})
}

func BenchmarkCollectionFilterMatch(b *testing.B) {
	o, err := stix.Parse([]byte(`{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",` +
		`"created":"2024-05-01T00:00:00.000Z","modified":"2024-05-20T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']",` +
		`"pattern_type":"stix","valid_from":"2024-05-01T00:00:00Z","confidence":70,"labels":["c2"]}`))
	if err != nil {
		b.Fatal(err)
	}
	info := Inspect(o)
	f, _ := ParseCollectionFilter("observables=ipv4,ipv6,cidr min_confidence=50 max_tlp=amber labels=c2")
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if !f.Match(o, info, now) {
			b.Fatal("no match")
		}
	}
}
