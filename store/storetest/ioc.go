package storetest

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"hail"
	"hail/stix"
	"hail/store"
)

// Markings and an identity the IOC and filter collection fixtures refer to.
const (
	tlpGreen  = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da" // TLP 1.0
	tlpAmber2 = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421" // TLP 2.0
	acmeID    = "identity--7c3b6b5e-2f0b-4f7a-9d1e-0a8b2c4d6e8f"
)

// acme returns a version of the identity acmeID named name.
func acme(tb testing.TB, modified, name string) stix.Object {
	tb.Helper()
	return MustObject(tb, fmt.Sprintf(`{"type":"identity","spec_version":"2.1","id":%q,"created":"2020-01-01T00:00:00.000Z",`+
		`"modified":%q,"name":%q,"identity_class":"organization"}`, acmeID, modified, name))
}

// amberMarking is the TLP 2.0 AMBER marking definition, as a producer
// would send it.
func amberMarking(tb testing.TB) stix.Object {
	tb.Helper()
	return MustObject(tb, `{"type":"marking-definition","spec_version":"2.1","id":"`+tlpAmber2+`",`+
		`"created":"2022-10-01T00:00:00.000Z","name":"TLP:AMBER","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":`+
		`{"extension_type":"property-extension","tlp_2_0":"amber"}}}`)
}

// ind returns an indicator version with pattern p and extra properties
// (a JSON fragment starting with a comma, or "").
func ind(tb testing.TB, n int, modified, p, extra string) stix.Object {
	tb.Helper()
	return MustObject(tb, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":"2024-01-01T00:00:00.000Z",`+
		`"modified":%q,"pattern":%q,"pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"%s}`,
		id("indicator", n), modified, p, extra))
}

// vuln returns a vulnerability naming the CVE ids.
func vuln(tb testing.TB, n int, cves ...string) stix.Object {
	tb.Helper()
	var refs []string
	for _, c := range cves {
		refs = append(refs, fmt.Sprintf(`{"source_name":"cve","external_id":%q}`, c))
	}
	return MustObject(tb, fmt.Sprintf(`{"type":"vulnerability","spec_version":"2.1","id":%q,"created":"2024-01-01T00:00:00.000Z",`+
		`"modified":"2024-01-01T00:00:00.000Z","name":%q,"created_by_ref":%q,`+
		`"external_references":[{"source_name":"capec","external_id":"CAPEC-1"},%s]}`,
		id("vulnerability", n), cves[0], acmeID, strings.Join(refs, ",")))
}

// iocKeys names rows for comparisons: "type:value@indicator-number".
func iocKeys(cs []store.IOC) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.Type+":"+c.Value+"@"+c.IndicatorID[strings.Index(c.IndicatorID, "--")+2:][:8])
	}
	return out
}

// key is iocKeys' form for an expectation.
func key(typ, value string, n int) string { return fmt.Sprintf("%s:%s@%08x", typ, value, n) }

// listIOCs lists one page and reports errors.
func listIOCs(t *testing.T, s store.Store, coll string, f store.IOCFilter) store.IOCPage {
	t.Helper()
	p, err := s.IOCs(ctx, coll, f)
	if err != nil {
		t.Errorf("IOCs(%s, %+v): %v", coll, f, err)
	}
	return p
}

// checkIOCs lists one page and compares its keys with want.
func checkIOCs(t *testing.T, s store.Store, coll string, f store.IOCFilter, want ...string) store.IOCPage {
	t.Helper()
	p := listIOCs(t, s, coll, f)
	if want == nil {
		want = []string{}
	}
	if got := iocKeys(p.IOCs); !reflect.DeepEqual(got, want) {
		t.Errorf("IOCs(%+v):\n got %v\nwant %v", f, got, want)
	}
	return p
}

// later is an instant after every fixture's valid_until, and early one
// before them.
var (
	early = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	later = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
)

func testIOCExtract(t *testing.T, s store.Store) {
	setup(t, s)
	i1 := ind(t, 1, "2024-02-01T00:00:00.000Z",
		"[ipv4-addr:value = '198.51.100.7' OR domain-name:value = 'Evil.Example.'] AND [file:hashes.'SHA-256' = '"+
			strings.Repeat("AB", 32)+"' AND file:name = 'x.exe'] OR [url:value IN ('http://evil.example', 'hxxp://bad[.]example/a')]",
		`,"name":"Bad things","description":"C2 and payload","confidence":80,"indicator_types":["malicious-activity","attribution"],`+
			`"labels":["c2","botnet"],"valid_until":"2025-01-01T00:00:00Z","created_by_ref":"`+acmeID+`",`+
			`"object_marking_refs":["`+tlpGreen+`","`+tlpAmber2+`"]`)
	// Not indexed: another pattern language, a pattern with no observable
	// the index knows, an SDO without observables.
	other := ind(t, 2, "2024-02-01T00:00:00.000Z", "alert tcp any any -> any any (msg:\"x\";)", "")
	other = MustObject(t, strings.Replace(string(other.Raw), `"pattern_type":"stix"`, `"pattern_type":"snort"`, 1))
	mustAdd(t, s, coll1, i1, other, ind(t, 3, "2024-02-01T00:00:00.000Z", "[file:size > 10]", ""), sdo(t, "malware", 4, "2.1", "2024-01-01T00:00:00.000Z"))
	p := checkIOCs(t, s, coll1, store.IOCFilter{Now: early},
		key("ipv4", "198.51.100.7", 1), key("domain", "evil.example", 1), key("sha256", strings.Repeat("ab", 32), 1),
		key("url", "http://evil.example/", 1), key("url", "http://bad.example/a", 1))
	if p.More {
		t.Errorf("More = true on the only page")
	}
	if len(p.IOCs) == 0 {
		return
	}
	got := p.IOCs[0]
	conf := 80
	want := store.IOC{
		ID: store.IOCID(i1.ID, "ipv4", "198.51.100.7"), Type: "ipv4", Value: "198.51.100.7",
		IndicatorID: i1.ID, Version: i1.Version, DateAdded: got.DateAdded, Ordinal: 0,
		Name: "Bad things", Description: "C2 and payload", Confidence: &conf, ThreatType: "malicious-activity",
		Labels: []string{"c2", "botnet"}, TLP: "amber",
		ValidFrom: ts(t, "2024-01-01T00:00:00Z"), ValidUntil: ts(t, "2025-01-01T00:00:00Z"),
		CreatedBy: acmeID, Source: "", Created: "2024-01-01T00:00:00.000Z", Modified: "2024-02-01T00:00:00.000Z",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("first row:\n got %+v\nwant %+v", got, want)
	}
	for i, c := range p.IOCs {
		if c.Ordinal != i || !c.DateAdded.Equal(got.DateAdded) {
			t.Errorf("row %d: Ordinal %d, DateAdded %v; want %d, %v (one entry)", i, c.Ordinal, c.DateAdded, i, got.DateAdded)
		}
	}
	// The creator's name is resolved when its identity arrives, in any
	// collection of the store, and follows its latest version.
	mustAdd(t, s, coll2, acme(t, "2020-01-01T00:00:00.000Z", "ACME"))
	mustAdd(t, s, coll2, acme(t, "2021-01-01T00:00:00.000Z", "ACME Corp"), acme(t, "2020-06-01T00:00:00.000Z", "ACME old"))
	p = listIOCs(t, s, coll1, store.IOCFilter{Now: early, Limit: 1})
	if len(p.IOCs) != 1 || p.IOCs[0].Source != "ACME Corp" || !p.More {
		t.Errorf("after the identity arrived: %+v, want one row with Source %q and More", p, "ACME Corp")
	}
}

func testIOCVulnerability(t *testing.T, s store.Store) {
	setup(t, s)
	mustAdd(t, s, coll1, vuln(t, 1, "cve-2024-3094", "CVE-2021-44228", "CVE-2024-3094"), vuln(t, 2, "not-a-cve"))
	checkIOCs(t, s, coll1, store.IOCFilter{}, key("cve", "CVE-2024-3094", 1), key("cve", "CVE-2021-44228", 1))
	checkIOCs(t, s, coll1, store.IOCFilter{Types: []string{"cve"}, Limit: 1}, key("cve", "CVE-2024-3094", 1))
}

func testIOCSupersede(t *testing.T, s store.Store) {
	setup(t, s)
	v1 := ind(t, 1, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.1']", "")
	v2 := ind(t, 1, "2024-03-01T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.2' OR ipv4-addr:value = '198.51.100.1']", "")
	v0 := ind(t, 1, "2024-01-15T00:00:00.000Z", "[ipv4-addr:value = '198.51.100.9']", "")
	other := ind(t, 2, "2024-02-01T00:00:00.000Z", "[domain-name:value = 'a.example']", "")
	mustAdd(t, s, coll1, v1, other)
	res := mustAdd(t, s, coll1, v2)
	p := checkIOCs(t, s, coll1, store.IOCFilter{}, key("domain", "a.example", 2), key("ipv4", "198.51.100.2", 1), key("ipv4", "198.51.100.1", 1))
	if len(p.IOCs) == 3 {
		if c := p.IOCs[2]; !c.DateAdded.Equal(res[0].DateAdded) || !c.Version.Equal(v2.Version) || c.ID != store.IOCID(v1.ID, "ipv4", "198.51.100.1") {
			t.Errorf("superseding row: %+v, want DateAdded %v, Version %v and the same ID as before", c, res[0].DateAdded, v2.Version)
		}
	}
	// An older version arriving late, and a duplicate, change nothing.
	mustAdd(t, s, coll1, v0, v2)
	checkIOCs(t, s, coll1, store.IOCFilter{}, key("domain", "a.example", 2), key("ipv4", "198.51.100.2", 1), key("ipv4", "198.51.100.1", 1))
	// Since is exclusive on date_added: rows of the newer version only.
	checkIOCs(t, s, coll1, store.IOCFilter{Since: res[0].DateAdded.Add(-time.Microsecond)}, key("ipv4", "198.51.100.2", 1), key("ipv4", "198.51.100.1", 1))
	checkIOCs(t, s, coll1, store.IOCFilter{Since: res[0].DateAdded})
	// Versions of one object in two collections are indexed apart.
	mustAdd(t, s, coll2, v0)
	checkIOCs(t, s, coll2, store.IOCFilter{}, key("ipv4", "198.51.100.9", 1))
	// Deleting the current version brings back the one before.
	if err := s.DeleteObject(ctx, coll1, v1.ID, store.Filter{Versions: []string{"2024-03-01T00:00:00.000Z"}}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	// Its rows come back with its entry's date_added.
	checkIOCs(t, s, coll1, store.IOCFilter{}, key("ipv4", "198.51.100.1", 1), key("domain", "a.example", 2))
	if err := s.DeleteObject(ctx, coll1, v1.ID, store.Filter{}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	checkIOCs(t, s, coll1, store.IOCFilter{}, key("domain", "a.example", 2))
	checkIOCs(t, s, coll2, store.IOCFilter{}, key("ipv4", "198.51.100.9", 1))
	if err := s.DeleteCollection(ctx, coll2); err != nil {
		t.Fatalf("DeleteCollection: %v", err)
	}
	_, err := s.IOCs(ctx, coll2, store.IOCFilter{})
	wantCode(t, "IOCs of a deleted collection", err, hail.ENOTFOUND)
	checkIOCs(t, s, coll1, store.IOCFilter{}, key("domain", "a.example", 2))
}

func testIOCRevokedExpired(t *testing.T, s store.Store) {
	setup(t, s)
	ip := "[ipv4-addr:value = '198.51.100.1']"
	mustAdd(t, s, coll1,
		ind(t, 1, "2024-02-01T00:00:00.000Z", ip, `,"valid_until":"2025-01-01T00:00:00Z","confidence":90`),
		ind(t, 2, "2024-02-01T00:00:00.000Z", ip, `,"confidence":40`),
		ind(t, 3, "2024-02-01T00:00:00.000Z", ip, ""),
		ind(t, 4, "2024-02-01T00:00:00.000Z", ip, `,"valid_until":"2024-03-01T00:00:00Z","confidence":100`),
	)
	mustAdd(t, s, coll1, ind(t, 3, "2024-04-01T00:00:00.000Z", ip, `,"revoked":true`))
	all := []string{key("ipv4", "198.51.100.1", 1), key("ipv4", "198.51.100.1", 2), key("ipv4", "198.51.100.1", 4), key("ipv4", "198.51.100.1", 3)}
	checkIOCs(t, s, coll1, store.IOCFilter{Now: early}, all[0], all[1])
	checkIOCs(t, s, coll1, store.IOCFilter{Now: later}, all[1])
	checkIOCs(t, s, coll1, store.IOCFilter{Now: later, IncludeExpired: true}, all[:3]...)
	p := checkIOCs(t, s, coll1, store.IOCFilter{Now: later, IncludeExpired: true, IncludeRevoked: true}, all...)
	if len(p.IOCs) == 4 && (!p.IOCs[3].Revoked || p.IOCs[0].Revoked) {
		t.Errorf("Revoked flags: %v, %v; want false, true", p.IOCs[0].Revoked, p.IOCs[3].Revoked)
	}
	// valid_until is exclusive: at that instant the indicator has expired.
	checkIOCs(t, s, coll1, store.IOCFilter{Now: ts(t, "2025-01-01T00:00:00Z")}, all[1])
	checkIOCs(t, s, coll1, store.IOCFilter{Now: early, MinConfidence: ptr(40), IncludeExpired: true}, all[:3]...)
	checkIOCs(t, s, coll1, store.IOCFilter{Now: early, MinConfidence: ptr(41), IncludeExpired: true}, all[0], all[2])
	checkIOCs(t, s, coll1, store.IOCFilter{Now: early, MinConfidence: ptr(0), IncludeExpired: true, IncludeRevoked: true}, all[:3]...)
}

func ptr(n int) *int { return &n }

// iv is an IOCValue.
func iv(typ, value string) store.IOCValue { return store.IOCValue{Type: typ, Value: value} }

func testIOCPaging(t *testing.T, s store.Store) {
	setup(t, s)
	// 30 indicators, each an address and a domain, some a hash too.
	var objs []stix.Object
	var want, wantTyped []string
	for n := 1; n <= 30; n++ {
		addr, domain, hash := fmt.Sprintf("10.0.0.%d", n), fmt.Sprintf("d%d.example", n), fmt.Sprintf("%032x", n)
		p := fmt.Sprintf("[ipv4-addr:value = '%s'] AND [domain-name:value = '%s']", addr, domain)
		want = append(want, key("ipv4", addr, n), key("domain", domain, n))
		wantTyped = append(wantTyped, key("ipv4", addr, n))
		if n%3 == 0 {
			p += " AND [file:hashes.MD5 = '" + hash + "']"
			want = append(want, key("md5", hash, n))
			wantTyped = append(wantTyped, key("md5", hash, n))
		}
		objs = append(objs, ind(t, n, "2024-02-01T00:00:00.000Z", p, ""))
	}
	mustAdd(t, s, coll1, objs[:10]...)
	mustAdd(t, s, coll1, objs[10:]...)
	for _, limit := range []int{1, 4, 7, 100} {
		if got := walkIOCs(t, s, coll1, store.IOCFilter{Limit: limit}); !reflect.DeepEqual(got, want) {
			t.Errorf("walk with limit %d:\n got %v\nwant %v", limit, got, want)
		}
		f := store.IOCFilter{Limit: limit, Types: []string{"md5", "ipv4", "md5"}}
		if got := walkIOCs(t, s, coll1, f); !reflect.DeepEqual(got, wantTyped) {
			t.Errorf("walk with limit %d, types md5 and ipv4:\n got %v\nwant %v", limit, got, wantTyped)
		}
	}
	// Since and After combine: the later position wins.
	first := listIOCs(t, s, coll1, store.IOCFilter{Limit: 3})
	if len(first.IOCs) != 3 || !first.More {
		t.Fatalf("first page: %d rows, More %v", len(first.IOCs), first.More)
	}
	checkIOCs(t, s, coll1, store.IOCFilter{Limit: 2, After: first.IOCs[0].Cursor(), Since: time.Unix(1, 0)}, want[1:3]...)
	checkIOCs(t, s, coll1, store.IOCFilter{Limit: 2, After: first.IOCs[0].Cursor(), Since: first.IOCs[0].DateAdded}, want[2:4]...)
	checkIOCs(t, s, coll1, store.IOCFilter{Types: []string{"sha1"}})
	_, err := s.IOCs(ctx, "6ba7b810-9dad-41d1-80b4-00c04fd430c8", store.IOCFilter{})
	wantCode(t, "IOCs of a missing collection", err, hail.ENOTFOUND)
}

// walkIOCs pages through a listing with cursors and returns every key.
func walkIOCs(t *testing.T, s store.Store, coll string, f store.IOCFilter) []string {
	t.Helper()
	out := []string{}
	for pages := 0; pages < 1000; pages++ {
		p, err := s.IOCs(ctx, coll, f)
		if err != nil {
			t.Errorf("IOCs(%+v): %v", f, err)
			return out
		}
		if len(p.IOCs) > f.PageSize() {
			t.Errorf("IOCs(%+v): %d rows, more than the limit", f, len(p.IOCs))
		}
		out = append(out, iocKeys(p.IOCs)...)
		if !p.More {
			return out
		}
		if len(p.IOCs) == 0 {
			t.Errorf("IOCs(%+v): More with no rows", f)
			return out
		}
		f.After = p.IOCs[len(p.IOCs)-1].Cursor()
	}
	t.Errorf("IOCs: paging did not end")
	return out
}

// matchKeys names lookup answers: "query => type:value@n".
func matchKeys(ms []store.IOCMatch) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.Query.Value+" => "+iocKeys([]store.IOC{m.IOC})[0])
	}
	return out
}

func testIOCLookup(t *testing.T, s store.Store) {
	setup(t, s)
	mustAdd(t, s, coll1,
		ind(t, 1, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '10.0.0.0/8']", ""),
		ind(t, 2, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '10.1.0.0/16' OR ipv4-addr:value = '10.1.2.3']", ""),
		ind(t, 3, "2024-02-01T00:00:00.000Z", "[ipv6-addr:value = '2001:db8::/32' OR ipv6-addr:value = '2001:db8:1::/48']", ""),
		ind(t, 4, "2024-02-01T00:00:00.000Z", "[domain-name:value = 'evil.example' OR ipv4-addr:value = '192.0.2.1/32']", ""),
		ind(t, 5, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '0.0.0.0/0']", `,"revoked":true`),
		ind(t, 6, "2024-02-01T00:00:00.000Z", "[ipv4-addr:value = '172.16.0.0/12']", `,"valid_until":"2024-03-01T00:00:00Z"`),
	)
	q := []store.IOCValue{
		iv("ipv4", "10.1.2.3"), iv("domain", "evil.example"), iv("ipv6", "2001:db8:1::5"), iv("ipv4", "192.0.2.1"),
		iv("ipv4", "10.200.0.1"), iv("domain", "good.example"), iv("ipv6", "2001:db9::1"), iv("cidr", "10.1.0.0/16"),
		iv("ipv4", "172.16.5.5"), iv("ipv4", "10.1.2.3"),
	}
	got, err := s.LookupIOCs(ctx, coll1, q, store.IOCFilter{Now: later})
	if err != nil {
		t.Fatalf("LookupIOCs: %v", err)
	}
	want := []string{
		"10.1.2.3 => " + key("cidr", "10.0.0.0/8", 1), "10.1.2.3 => " + key("cidr", "10.1.0.0/16", 2),
		"10.1.2.3 => " + key("ipv4", "10.1.2.3", 2),
		"evil.example => " + key("domain", "evil.example", 4),
		"2001:db8:1::5 => " + key("cidr", "2001:db8::/32", 3), "2001:db8:1::5 => " + key("cidr", "2001:db8:1::/48", 3),
		"192.0.2.1 => " + key("ipv4", "192.0.2.1", 4),
		"10.200.0.1 => " + key("cidr", "10.0.0.0/8", 1),
		"10.1.0.0/16 => " + key("cidr", "10.1.0.0/16", 2),
	}
	if g := matchKeys(got); !reflect.DeepEqual(g, want) {
		t.Errorf("LookupIOCs:\n got %s\nwant %s", strings.Join(g, "\n     "), strings.Join(want, "\n     "))
	}
	got, err = s.LookupIOCs(ctx, coll1, []store.IOCValue{iv("ipv4", "172.16.5.5"), iv("ipv4", "8.8.8.8")},
		store.IOCFilter{Now: ts(t, "2024-02-15T00:00:00Z"), IncludeRevoked: true})
	want = []string{"172.16.5.5 => " + key("cidr", "0.0.0.0/0", 5), "172.16.5.5 => " + key("cidr", "172.16.0.0/12", 6),
		"8.8.8.8 => " + key("cidr", "0.0.0.0/0", 5)}
	if g := matchKeys(got); err != nil || !reflect.DeepEqual(g, want) {
		t.Errorf("LookupIOCs with revoked, before expiry: %v\n got %s\nwant %s", err, strings.Join(g, "\n     "), strings.Join(want, "\n     "))
	}
	if got, err := s.LookupIOCs(ctx, coll2, q, store.IOCFilter{}); err != nil || len(got) != 0 {
		t.Errorf("LookupIOCs in an empty collection = %v, %v; want nothing", got, err)
	}
	many := make([]store.IOCValue, store.MaxLookup+1)
	for i := range many {
		many[i] = iv("ipv4", fmt.Sprintf("10.%d.%d.1", i/256, i%256))
	}
	_, err = s.LookupIOCs(ctx, coll1, many, store.IOCFilter{})
	wantCode(t, "LookupIOCs of too many values", err, hail.EINVALID)
	got, err = s.LookupIOCs(ctx, coll1, many[:store.MaxLookup], store.IOCFilter{})
	// Every value is in 10/8, and the 256 values 10.1.*.1 also in 10.1/16.
	if err != nil || len(got) != store.MaxLookup+256 {
		t.Errorf("LookupIOCs of %d values: %d answers, %v; want %d", store.MaxLookup, len(got), err, store.MaxLookup+256)
	}
	_, err = s.LookupIOCs(ctx, "6ba7b810-9dad-41d1-80b4-00c04fd430c8", q, store.IOCFilter{})
	wantCode(t, "LookupIOCs in a missing collection", err, hail.ENOTFOUND)
}
