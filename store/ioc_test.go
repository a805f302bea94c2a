package store

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"hail/stix"
	"hail/stix/pattern"
)

func TestInspect(t *testing.T) {
	seventy := 70
	tests := []struct {
		name string
		raw  string
		want ObjectInfo
	}{
		{"indicator", `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",` +
			`"created":"2024-05-01T00:00:00.000Z","modified":"2024-05-20T00:00:00.000Z","name":"n","description":"d",` +
			`"pattern":"[ipv4-addr:value = '198.51.100.1'] OR [url:value = 'hxxp://evil[.]example'] OR [file:hashes.MD5 = '` +
			`D41D8CD98F00B204E9800998ECF8427E' AND file:hashes.'SHA-256' != 'x'] OR [network-traffic:dst_ref.value = '10.0.0.0/8']",` +
			`"pattern_type":"stix","valid_from":"2024-05-01T00:00:00Z","valid_until":"2025-05-01T00:00:00.5Z","confidence":70,` +
			`"labels":["c2","x"],"indicator_types":["malicious-activity","attribution"],"x_custom":{"a":[1]},` +
			`"created_by_ref":"identity--7c3b6b5e-2f0b-4f7a-9d1e-0a8b2c4d6e8f","object_marking_refs":[` +
			`"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da","marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",` +
			`"marking-definition--00000000-0000-4000-8000-000000000000"]}`,
			ObjectInfo{Name: "n", Description: "d", Labels: []string{"c2", "x"}, Confidence: &seventy,
				CreatedBy: "identity--7c3b6b5e-2f0b-4f7a-9d1e-0a8b2c4d6e8f",
				MarkingRefs: []string{"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
					"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "marking-definition--00000000-0000-4000-8000-000000000000"},
				TLP: "amber", IndicatorTypes: []string{"malicious-activity", "attribution"},
				ValidFrom: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), ValidUntil: time.Date(2025, 5, 1, 0, 0, 0, 5e8, time.UTC),
				Observables: []IOCValue{{"ipv4", "198.51.100.1"}, {"url", "http://evil.example/"},
					{"md5", "d41d8cd98f00b204e9800998ecf8427e"}, {"cidr", "10.0.0.0/8"}}}},
		{"STIX 2.0 indicator, no pattern_type", `{"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",` +
			`"spec_version":"2.0","created":"2017-01-01T00:00:00.000Z","modified":"2017-01-01T00:00:00.000Z",` +
			`"pattern":"[domain-name:value = 'a.example']","valid_from":"2017-01-01T00:00:00Z","labels":["malicious-activity"]}`,
			ObjectInfo{Labels: []string{"malicious-activity"}, ValidFrom: time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC),
				Observables: []IOCValue{{"domain", "a.example"}}}},
		{"another pattern language", `{"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",` +
			`"created":"2017-01-01T00:00:00.000Z","modified":"2017-01-01T00:00:00.000Z","pattern":"[domain-name:value = 'a.example']",` +
			`"pattern_type":"sigma","valid_from":"2017-01-01T00:00:00Z"}`,
			ObjectInfo{ValidFrom: time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"unparseable pattern and wrongly typed properties", `{"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",` +
			`"created":"2017-01-01T00:00:00.000Z","modified":"2017-01-01T00:00:00.000Z","pattern":"[domain-name:value = ",` +
			`"pattern_type":"stix","valid_from":7,"confidence":"high","labels":"c2","description":"kept"}`,
			ObjectInfo{Description: "kept"}},
		{"vulnerability", `{"type":"vulnerability","spec_version":"2.1","id":"vulnerability--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",` +
			`"created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","name":"CVE-2016-1234",` +
			`"external_references":[{"source_name":"capec","external_id":"CAPEC-1"},{"source_name":"cve","external_id":"cve-2016-1234"},` +
			`{"source_name":"cve","external_id":"CVE-2016-1234"},{"source_name":"cve","external_id":"nope"},` +
			`{"source_name":"cve","external_id":"CVE-2021-44228"}],"object_marking_refs":["marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"]}`,
			ObjectInfo{Name: "CVE-2016-1234", TLP: "amber+strict",
				MarkingRefs: []string{"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"},
				Observables: []IOCValue{{"cve", "CVE-2016-1234"}, {"cve", "CVE-2021-44228"}}}},
		{"lists with a wrong element, escapes", `{"type":"vulnerability","spec_version":"2.1","id":"vulnerability--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",` +
			`"created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","name":"Log\u0034Shell \"2\"",` +
			`"labels":["a",5],"object_marking_refs":null,"external_references":["cve",{"source_name":"cve","external_id":7},` +
			`{"source_name":"c\u0076e","external_id":"CVE-2021-44228"}]}`,
			ObjectInfo{Name: `Log4Shell "2"`, Observables: []IOCValue{{"cve", "CVE-2021-44228"}}}},
		{"identity", `{"type":"identity","spec_version":"2.1","id":"identity--7c3b6b5e-2f0b-4f7a-9d1e-0a8b2c4d6e8f",` +
			`"created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","name":"ACME",` +
			`"pattern":"[ipv4-addr:value = '198.51.100.1']"}`,
			ObjectInfo{Name: "ACME"}},
	}
	for _, tt := range tests {
		o, err := stix.Parse([]byte(tt.raw))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := Inspect(o); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
}

func TestTLP(t *testing.T) {
	tests := []struct {
		refs []string
		want string
	}{
		{nil, ""},
		{[]string{"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"}, "clear"},
		{[]string{"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"}, "clear"},
		{[]string{"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"}, "red"},
		{[]string{"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"}, "red"},
		{[]string{"marking-definition--00000000-0000-4000-8000-000000000000"}, ""},
	}
	for _, tt := range tests {
		if got := TLP(tt.refs); got != tt.want {
			t.Errorf("TLP(%v) = %q, want %q", tt.refs, got, tt.want)
		}
	}
}

func TestBlockKeys(t *testing.T) {
	mapped := func(a, b, c, d byte) []byte { return []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d} }
	tests := []struct {
		block    string
		plen     int
		network  []byte
		inside   []string
		outside  []string
		notBlock bool
	}{
		{block: "10.0.0.0/8", plen: 104, network: mapped(10, 0, 0, 0),
			inside: []string{"10.0.0.0", "10.255.255.255", "10.1.2.3"}, outside: []string{"11.0.0.0", "9.255.255.255", "::a00:1"}},
		{block: "198.51.100.0/23", plen: 119, network: mapped(198, 51, 100, 0),
			inside: []string{"198.51.101.7"}, outside: []string{"198.51.102.0"}},
		{block: "0.0.0.0/0", plen: 96, network: mapped(0, 0, 0, 0), inside: []string{"255.255.255.255", "1.2.3.4"}},
		{block: "2001:db8::/33", plen: 33, network: []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
			inside: []string{"2001:db8:7fff::1"}, outside: []string{"2001:db8:8000::", "10.0.0.1"}},
		{block: "10.1.2.3", notBlock: true},
		{block: "example.com/8", notBlock: true},
	}
	for _, tt := range tests {
		plen, network, ok := BlockKey(tt.block)
		if ok == tt.notBlock {
			t.Errorf("BlockKey(%q): ok %v", tt.block, ok)
			continue
		}
		if tt.notBlock {
			continue
		}
		if plen != tt.plen || !bytes.Equal(network, tt.network) {
			t.Errorf("BlockKey(%q) = %d, %x; want %d, %x", tt.block, plen, network, tt.plen, tt.network)
		}
		for _, a := range append(tt.inside, tt.outside...) {
			k, ok := AddressKey(a)
			if !ok {
				t.Fatalf("AddressKey(%q) not ok", a)
			}
			in := bytes.Equal(MaskKey(k, plen), network)
			if want := contains(tt.inside, a); in != want {
				t.Errorf("%s in %s: %v, want %v", a, tt.block, in, want)
			}
		}
	}
	if _, ok := AddressKey("fe80::1%eth0"); ok {
		t.Errorf("AddressKey accepted an address with a zone")
	}
}

func TestIOCLookup(t *testing.T) {
	l := NewIOCLookup([]IOCValue{{"ipv4", "10.1.2.3"}, {"domain", "a.example"}, {"ipv4", "10.1.2.3"}, {"ipv4", "10.9.9.9"}, {"ipv6", "2001:db8::1"}})
	if got, want := l.ByType(), map[string][]string{"ipv4": {"10.1.2.3", "10.9.9.9"}, "domain": {"a.example"}, "ipv6": {"2001:db8::1"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("ByType = %v, want %v", got, want)
	}
	if !l.HasAddresses() {
		t.Errorf("HasAddresses false")
	}
	if got := l.Networks(104); len(got) != 2 {
		t.Errorf("Networks(104) = %x, want the /8 both IPv4 addresses share and the IPv6 address's", got)
	}
	at := func(us int64) time.Time { return time.UnixMicro(us).UTC() }
	l.AddBlock(IOC{Type: "cidr", Value: "10.0.0.0/8", DateAdded: at(5)})
	l.AddExact(IOC{Type: "ipv4", Value: "10.1.2.3", DateAdded: at(3), Ordinal: 1})
	l.AddExact(IOC{Type: "ipv4", Value: "10.1.2.3", DateAdded: at(3), Ordinal: 1}) // found twice, answered once
	l.AddExact(IOC{Type: "domain", Value: "a.example", DateAdded: at(9)})
	l.AddBlock(IOC{Type: "cidr", Value: "2001:db8::/32", DateAdded: at(1)}) // Networks(32) not asked: ignored
	var got []string
	for _, m := range l.Matches() {
		got = append(got, m.Query.Value+">"+m.IOC.Value)
	}
	want := []string{"10.1.2.3>10.1.2.3", "10.1.2.3>10.0.0.0/8", "a.example>a.example", "10.9.9.9>10.0.0.0/8"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Matches = %v, want %v", got, want)
	}
}

func TestIOCID(t *testing.T) {
	a := IOCID("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "ipv4", "10.0.0.1")
	if len(a) != 32 || a != IOCID("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "ipv4", "10.0.0.1") {
		t.Errorf("IOCID = %q, want 32 stable hex digits", a)
	}
	if IOCID("a", "b", "c") == IOCID("a", "bc", "") {
		t.Errorf("IOCID does not separate its parts")
	}
}

func FuzzInspect(f *testing.F) {
	for _, s := range []string{
		`{"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2017-01-01T00:00:00.000Z","modified":"2017-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '10.0.0.0/8' OR url:value = 'hxxp://a[.]example']","pattern_type":"stix","valid_from":"2017-01-01T00:00:00Z","confidence":5}`,
		`{"type":"vulnerability","id":"vulnerability--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061","created":"2020-01-01T00:00:00.000Z","name":"x","external_references":[{"source_name":"cve","external_id":"cve-2020-0001"}]}`,
		`{"type":"identity","id":"identity--7c3b6b5e-2f0b-4f7a-9d1e-0a8b2c4d6e8f","name":7,"labels":[1]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		o, err := stix.Parse(raw)
		if err != nil {
			return
		}
		info := Inspect(o)
		seen := make(map[IOCValue]bool)
		for _, v := range info.Observables {
			if n, ok := pattern.Normalize(v.Type, v.Value); !ok || n != v.Value {
				t.Errorf("observable %+v is not in normal form (%q, %v)", v, n, ok)
			}
			if seen[v] {
				t.Errorf("observable %+v twice", v)
			}
			seen[v] = true
			if v.Type == pattern.TypeCIDR {
				if _, _, ok := BlockKey(v.Value); !ok {
					t.Errorf("cidr observable %q has no block key", v.Value)
				}
			}
		}
		if _, ok := tlpLevels[info.TLP]; info.TLP != "" && !ok {
			t.Errorf("TLP %q", info.TLP)
		}
	})
}

func BenchmarkInspect(b *testing.B) {
	o, err := stix.Parse([]byte(`{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",` +
		`"created":"2024-05-01T00:00:00.000Z","modified":"2024-05-20T00:00:00.000Z","name":"Malicious IP 198.51.100.1",` +
		`"description":"C2 for XYZ","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '198.51.100.1']",` +
		`"pattern_type":"stix","pattern_version":"2.1","valid_from":"2024-05-01T00:00:00Z","valid_until":"2024-06-01T00:00:00Z",` +
		`"confidence":80,"labels":["c2","botnet"],"created_by_ref":"identity--7c3b6b5e-2f0b-4f7a-9d1e-0a8b2c4d6e8f",` +
		`"object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]}`))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if len(Inspect(o).Observables) != 1 {
			b.Fatal("no observable")
		}
	}
}
