package ingest

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"hail"
	"hail/stix"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC)

func at(t time.Time) func() time.Time { return func() time.Time { return t } }

// props decodes an object's properties for comparison.
func props(tb testing.TB, o stix.Object) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(o.Raw, &m); err != nil {
		tb.Fatalf("object does not decode: %v\n%s", err, o.Raw)
	}
	return m
}

func TestIndicatorBytes(t *testing.T) {
	ioc := IOC{Type: TypeURL, Value: "http://evil.com/a?b=1&c='x'\\y", Fields: map[string]string{"app": "Spy", "comment": "c2"}}
	opt := ListOptions{Source: "Example Feed", Confidence: 80, TLP: "amber+strict", Labels: []string{"phishing", "c2"},
		TTL: 30 * 24 * time.Hour, Now: at(t0)}
	got, err := Indicator(ioc, opt)
	if err != nil {
		t.Fatalf("Indicator: %v", err)
	}
	id := deriveID("indicator", "Example Feed", TypeURL, ioc.Value)
	want := `{"type":"indicator","spec_version":"2.1","id":"` + id + `",` +
		`"created_by_ref":"` + Identity("Example Feed").ID + `",` +
		`"created":"2024-05-01T12:00:00.123Z","modified":"2024-05-01T12:00:00.123Z",` +
		`"name":"http://evil.com/a?b=1&c='x'\\y","description":"app: Spy\ncomment: c2",` +
		`"indicator_types":["malicious-activity"],` +
		`"pattern":"[url:value = 'http://evil.com/a?b=1&c=\\'x\\'\\\\y']","pattern_type":"stix","pattern_version":"2.1",` +
		`"valid_from":"2024-05-01T12:00:00.123Z","valid_until":"2024-05-31T12:00:00.123Z",` +
		`"labels":["phishing","c2"],"confidence":80,` +
		`"object_marking_refs":["marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"]}`
	if string(got.Raw) != want {
		t.Errorf("Indicator bytes:\n got %s\nwant %s", got.Raw, want)
	}
	if got.ID != id || got.Type != "indicator" || got.Modified != "2024-05-01T12:00:00.123Z" {
		t.Errorf("Indicator header = %+v", got)
	}
	if err := stix.Validate(got); err != nil {
		t.Errorf("indicator does not validate: %v", err)
	}
	again, _ := Indicator(ioc, opt)
	if string(again.Raw) != string(got.Raw) {
		t.Errorf("Indicator is not deterministic:\n%s\n%s", got.Raw, again.Raw)
	}
	if _, err := uuidOf(id); err != nil || !strings.HasPrefix(id, "indicator--") || id[len("indicator--")+14] != '5' {
		t.Errorf("id %s is not a UUIDv5", id)
	}
}

// uuidOf checks the UUID part of a STIX id.
func uuidOf(id string) (string, error) {
	if err := stix.CheckID(id, ""); err != nil {
		return "", err
	}
	return id[strings.Index(id, "--")+2:], nil
}

func TestIndicatorPatterns(t *testing.T) {
	tests := []struct {
		ioc     IOC
		pattern string
	}{
		{IOC{Type: TypeIPv4, Value: "1.2.3.4"}, "[ipv4-addr:value = '1.2.3.4']"},
		{IOC{Type: TypeCIDR, Value: "10.0.0.0/8"}, "[ipv4-addr:value = '10.0.0.0/8']"},
		{IOC{Type: TypeCIDR, Value: "2001:db8::/32"}, "[ipv6-addr:value = '2001:db8::/32']"},
		{IOC{Type: TypeIPv6, Value: "2001:db8::1"}, "[ipv6-addr:value = '2001:db8::1']"},
		{IOC{Type: TypeIPv4, Value: "1.2.3.4", Port: 8080}, "[network-traffic:dst_ref.value = '1.2.3.4' AND network-traffic:dst_port = 8080]"},
		{IOC{Type: TypeIPv6, Value: "2001:db8::1", Port: 53}, "[network-traffic:dst_ref.value = '2001:db8::1' AND network-traffic:dst_port = 53]"},
		{IOC{Type: TypeDomain, Value: "evil.com", Port: 8443}, "[network-traffic:dst_ref.value = 'evil.com' AND network-traffic:dst_port = 8443]"},
		{IOC{Type: TypeDomain, Value: "evil.com"}, "[domain-name:value = 'evil.com']"},
		{IOC{Type: TypeEmail, Value: "o'brien@evil.com"}, `[email-addr:value = 'o\'brien@evil.com']`},
		{IOC{Type: TypeMD5, Value: "d41d8cd98f00b204e9800998ecf8427e"}, "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"},
		{IOC{Type: TypeSHA1, Value: "da39a3ee5e6b4b0d3255bfef95601890afd80709"}, "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']"},
		{IOC{Type: TypeSHA256, Value: "e3b0"}, "[file:hashes.'SHA-256' = 'e3b0']"},
		{IOC{Type: TypeSHA512, Value: "cf83"}, "[file:hashes.'SHA-512' = 'cf83']"},
	}
	for _, tt := range tests {
		o, err := Indicator(tt.ioc, ListOptions{Now: at(t0)})
		if err != nil {
			t.Errorf("Indicator(%+v): %v", tt.ioc, err)
			continue
		}
		m := props(t, o)
		if m["pattern"] != tt.pattern {
			t.Errorf("Indicator(%+v) pattern %v, want %s", tt.ioc, m["pattern"], tt.pattern)
		}
		if _, ok := m["created_by_ref"]; ok {
			t.Errorf("Indicator without a source has created_by_ref %v", m["created_by_ref"])
		}
	}
}

func TestIndicatorIDs(t *testing.T) {
	id := func(ioc IOC, source string) string {
		o, err := Indicator(ioc, ListOptions{Source: source, Now: at(t0)})
		if err != nil {
			t.Fatalf("Indicator: %v", err)
		}
		return o.ID
	}
	ip := IOC{Type: TypeIPv4, Value: "1.2.3.4"}
	base := id(ip, "A")
	later, _ := Indicator(ip, ListOptions{Source: "A", Now: at(t0.Add(48 * time.Hour)), Confidence: 5})
	if later.ID != base {
		t.Errorf("id changed with time and options: %s, then %s", base, later.ID)
	}
	for name, other := range map[string]string{
		"other source": id(ip, "B"),
		"with a port":  id(IOC{Type: TypeIPv4, Value: "1.2.3.4", Port: 80}, "A"),
		"no source":    id(ip, ""),
	} {
		if other == base {
			t.Errorf("%s: id %s is the same as the base indicator's", name, other)
		}
	}
}

func TestIndicatorOptions(t *testing.T) {
	ioc := IOC{Type: TypeDomain, Value: "evil.com"}
	tests := []struct {
		tlp, marking string
	}{
		{"clear", "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"},
		{"TLP:WHITE", "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"},
		{"green", "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"},
		{"amber", "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"},
		{"amber+strict", "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"},
		{"red", "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"},
	}
	for _, tt := range tests {
		o, err := Indicator(ioc, ListOptions{TLP: tt.tlp, IndicatorType: "anomalous-activity", Now: at(t0)})
		if err != nil {
			t.Errorf("TLP %q: %v", tt.tlp, err)
			continue
		}
		m := props(t, o)
		if got := m["object_marking_refs"]; !reflect.DeepEqual(got, []any{tt.marking}) {
			t.Errorf("TLP %q: object_marking_refs %v, want [%s]", tt.tlp, got, tt.marking)
		}
		if got := m["indicator_types"]; !reflect.DeepEqual(got, []any{"anomalous-activity"}) {
			t.Errorf("indicator_types %v, want [anomalous-activity]", got)
		}
		marking, err := TLPMarking(tt.tlp)
		if err != nil || marking.ID != tt.marking || marking.Type != "marking-definition" {
			t.Errorf("TLPMarking(%q) = %s, %v; want %s", tt.tlp, marking.ID, err, tt.marking)
		} else if err := stix.Validate(marking); err != nil {
			t.Errorf("TLPMarking(%q) does not validate: %v", tt.tlp, err)
		}
	}
	for _, opt := range []ListOptions{{TLP: "purple"}, {Confidence: 101}, {Confidence: -1}} {
		if _, err := Indicator(ioc, opt); hail.ErrorCode(err) != hail.EINVALID {
			t.Errorf("Indicator with %+v: error %v, want %s", opt, err, hail.EINVALID)
		}
	}
	for _, bad := range []IOC{{Type: "mutex", Value: "x"}, {Type: TypeDomain}, {Type: TypeDomain, Value: "a\x00b"}} {
		if _, err := Indicator(bad, ListOptions{}); hail.ErrorCode(err) != hail.EINVALID {
			t.Errorf("Indicator(%+v): error %v, want %s", bad, err, hail.EINVALID)
		}
	}
	if _, err := TLPMarking("purple"); hail.ErrorCode(err) != hail.EINVALID {
		t.Errorf("TLPMarking(purple): error %v, want %s", err, hail.EINVALID)
	}
}

func TestIndicatorCVE(t *testing.T) {
	o, err := Indicator(IOC{Type: TypeCVE, Value: "CVE-2024-3094"}, ListOptions{Source: "NVD", Now: at(t0)})
	if err != nil {
		t.Fatalf("Indicator: %v", err)
	}
	if o.Type != "vulnerability" {
		t.Errorf("type %q, want vulnerability", o.Type)
	}
	if err := stix.Validate(o); err != nil {
		t.Errorf("vulnerability does not validate: %v\n%s", err, o.Raw)
	}
	m := props(t, o)
	want := []any{map[string]any{"source_name": "cve", "external_id": "CVE-2024-3094", "url": "https://nvd.nist.gov/vuln/detail/CVE-2024-3094"}}
	if !reflect.DeepEqual(m["external_references"], want) || m["name"] != "CVE-2024-3094" {
		t.Errorf("vulnerability %s", o.Raw)
	}
	for _, p := range []string{"pattern", "valid_from", "indicator_types"} {
		if _, ok := m[p]; ok {
			t.Errorf("vulnerability has indicator property %q", p)
		}
	}
}

func TestIdentity(t *testing.T) {
	a, b := Identity("Example Feed"), Identity("Example Feed")
	if string(a.Raw) != string(b.Raw) || a.ID == "" {
		t.Errorf("Identity is not deterministic:\n%s\n%s", a.Raw, b.Raw)
	}
	want := `{"type":"identity","spec_version":"2.1","id":"` + a.ID + `","created":"` + identityCreated +
		`","modified":"` + identityCreated + `","name":"Example Feed"}`
	if string(a.Raw) != want {
		t.Errorf("Identity:\n got %s\nwant %s", a.Raw, want)
	}
	if err := stix.Validate(a); err != nil {
		t.Errorf("identity does not validate: %v", err)
	}
	if Identity("Other").ID == a.ID {
		t.Errorf("two sources share identity id %s", a.ID)
	}
	if o := Identity(""); o.ID != "" || o.Raw != nil {
		t.Errorf("Identity(\"\") = %+v, want the zero Object", o)
	}
}

func TestRevise(t *testing.T) {
	ioc := IOC{Type: TypeDomain, Value: "evil.com"}
	opt := ListOptions{Source: "A", TTL: 10 * 24 * time.Hour, Confidence: 50}
	version := func(now time.Time, change func(*ListOptions)) stix.Object {
		t.Helper()
		o := opt
		o.Now = at(now)
		if change != nil {
			change(&o)
		}
		obj, err := Indicator(ioc, o)
		if err != nil {
			t.Fatalf("Indicator: %v", err)
		}
		return obj
	}
	first := version(t0, nil)

	got, changed, err := Revise(stix.Object{}, first)
	if err != nil || !changed || string(got.Raw) != string(first.Raw) {
		t.Errorf("Revise with no previous version = %s, %v, %v; want the new object, changed", got.Raw, changed, err)
	}

	// Re-imported 4 days later: 6 of 10 days left, over half the TTL.
	got, changed, err = Revise(first, version(t0.Add(4*24*time.Hour), nil))
	if err != nil || changed || string(got.Raw) != string(first.Raw) {
		t.Errorf("Revise unchanged = %s, %v, %v; want the previous version, unchanged", got.Raw, changed, err)
	}

	// Re-imported 6 days later: 4 days left, the validity is extended.
	sixDays := t0.Add(6 * 24 * time.Hour)
	got, changed, err = Revise(first, version(sixDays, nil))
	if err != nil || !changed {
		t.Fatalf("Revise near expiry = %v, %v; want a new version", changed, err)
	}
	m := props(t, got)
	wantTimes := map[string]any{
		"created":     "2024-05-01T12:00:00.123Z",
		"valid_from":  "2024-05-01T12:00:00.123Z",
		"modified":    stix.FormatTimestamp(sixDays),
		"valid_until": stix.FormatTimestamp(sixDays.Add(10 * 24 * time.Hour)),
	}
	for k, v := range wantTimes {
		if m[k] != v {
			t.Errorf("extended version: %s = %v, want %v", k, m[k], v)
		}
	}
	if got.ID != first.ID || !got.Version.Equal(sixDays.Truncate(time.Millisecond)) {
		t.Errorf("extended version header %+v", got)
	}

	// A changed confidence one day later makes a new version, keeping the
	// unexpired validity.
	got, changed, err = Revise(first, version(t0.Add(24*time.Hour), func(o *ListOptions) { o.Confidence = 90 }))
	m = props(t, got)
	if err != nil || !changed || m["confidence"] != 90.0 || m["valid_until"] != "2024-05-11T12:00:00.123Z" || m["created"] != "2024-05-01T12:00:00.123Z" {
		t.Errorf("Revise with new confidence = %s, %v, %v", got.Raw, changed, err)
	}

	// A clock behind the stored version still moves modified forward.
	got, changed, err = Revise(first, version(t0.Add(-time.Hour), func(o *ListOptions) { o.Labels = []string{"x"} }))
	if err != nil || !changed || got.Modified != "2024-05-01T12:00:00.124Z" {
		t.Errorf("Revise with an earlier clock: modified %q, %v, %v; want 2024-05-01T12:00:00.124Z", got.Modified, changed, err)
	}

	// Dropping the TTL removes valid_until.
	got, changed, err = Revise(first, version(t0.Add(time.Hour), func(o *ListOptions) { o.TTL = 0 }))
	if _, ok := props(t, got)["valid_until"]; err != nil || !changed || ok {
		t.Errorf("Revise without TTL = %s, %v, %v; want a version without valid_until", got.Raw, changed, err)
	}
}

func TestReviseRevokedAndMismatched(t *testing.T) {
	a, _ := Indicator(IOC{Type: TypeDomain, Value: "a.com"}, ListOptions{Now: at(t0)})
	b, _ := Indicator(IOC{Type: TypeDomain, Value: "b.com"}, ListOptions{Now: at(t0)})
	if _, _, err := Revise(a, b); hail.ErrorCode(err) != hail.EINVALID {
		t.Errorf("Revise of different objects: %v, want %s", err, hail.EINVALID)
	}
	raw := strings.Replace(string(a.Raw), `"type":"indicator",`, `"type":"indicator","revoked":true,`, 1)
	revoked, err := stix.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	next, _ := Indicator(IOC{Type: TypeDomain, Value: "a.com"}, ListOptions{Now: at(t0.Add(time.Hour)), Confidence: 10})
	got, changed, err := Revise(revoked, next)
	if err != nil || changed || string(got.Raw) != raw {
		t.Errorf("Revise of a revoked object = %s, %v, %v; want it unchanged", got.Raw, changed, err)
	}
}

func BenchmarkIndicator(b *testing.B) {
	ioc := IOC{Type: TypeURL, Value: "http://evil.example.com/login.php?id=1"}
	opt := ListOptions{Source: "Example Feed", Confidence: 80, TLP: "green", TTL: time.Hour, Now: at(t0)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Indicator(ioc, opt); err != nil {
			b.Fatal(err)
		}
	}
}
