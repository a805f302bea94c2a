package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"hail"
	"hail/stix"
)

const mispEvent1 = `{"info":"Op A","uuid":"5d9b516c-e5f0-4e7c-a958-5d8c0a019371","Orgc":{"name":"ESET"},
	"Tag":[{"name":"tlp:green"},{"name":"misp-galaxy:threat-actor=\"APT 29\""}],
	"Attribute":[{"type":"ip-dst","category":"Network activity","value":"203.0.113.9","to_ids":true,"comment":"C2"},
		{"type":"text","value":"some words","to_ids":false}],
	"Object":[{"name":"file","Attribute":[{"type":"sha1","value":"DA39A3EE5E6B4B0D3255BFEF95601890AFD80709","to_ids":"1"}]}]}`

func readEvents(t *testing.T, input string) ([]string, error) {
	t.Helper()
	var infos []string
	err := ReadMISP(strings.NewReader(input), func(ev *MISPEvent) error {
		infos = append(infos, ev.Info)
		return nil
	})
	return infos, err
}

func TestReadMISPForms(t *testing.T) {
	ev2 := `{"info":"Op B","Attribute":[]}`
	for name, tt := range map[string]struct {
		input string
		want  []string
	}{
		"one event":           {`{"Event":` + mispEvent1 + `}`, []string{"Op A"}},
		"a search response":   {`{"response":[{"Event":` + mispEvent1 + `},{"Event":` + ev2 + `}]}`, []string{"Op A", "Op B"}},
		"an array of wrapped": {`[{"Event":` + mispEvent1 + `},{"Event":` + ev2 + `}]`, []string{"Op A", "Op B"}},
		"an array of events":  {`[` + ev2 + `]`, []string{"Op B"}},
		"one per line":        {"\ufeff" + `{"Event":` + ev2 + "}\n" + `{"Event":` + mispEvent1 + "}\n", []string{"Op B", "Op A"}},
		"other keys skipped":  {`{"version":"2.4","Event":` + ev2 + `,"extra":[1,{"a":2}]}`, []string{"Op B"}},
		"an attribute search": {`{"response":{"Attribute":[{"type":"ip-dst","value":"203.0.113.9","Event":{"info":"Op C","uuid":"x"}},` +
			`{"type":"port","value":443,"Event":{"info":"Op D"}}]}}`, []string{"Op C", "Op D"}},
	} {
		got, err := readEvents(t, tt.input)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: events %q (%v), want %q", name, got, err, tt.want)
		}
	}
	for name, input := range map[string]string{
		"empty":            ``,
		"no event":         `{"name":"x"}`,
		"response no list": `{"response":{"Event":{}}}`,
		"malformed":        `{"Event":{"info":}`,
		"cut short":        `{"response":[{"Event":` + mispEvent1,
		"a string":         `"x"`,
		"bad flag":         `{"Event":{"Attribute":[{"type":"ip-dst","value":"1.2.3.4","to_ids":"maybe"}]}}`,
	} {
		if _, err := readEvents(t, input); hail.ErrorCode(err) != hail.EINVALID {
			t.Errorf("%s: error %v, want EINVALID", name, err)
		}
	}
	// fn's error comes back unchanged.
	stop := errors.New("stop")
	if err := ReadMISP(strings.NewReader(`[`+mispEvent1+`,`+ev2+`]`), func(*MISPEvent) error { return stop }); err != stop {
		t.Errorf("fn's error: got %v", err)
	}
}

func TestMISPAttributeIOCs(t *testing.T) {
	for _, tt := range []struct {
		typ, value string
		want       []string // type:value[:port]
		reason     string   // in the reason, when want is nil
	}{
		{"ip-dst", "203.0.113.9", []string{"ipv4:203.0.113.9"}, ""},
		{"ip-src", "198.51.100.0/24", []string{"cidr:198.51.100.0/24"}, ""},
		{"ip-dst|port", "203.0.113.9|8443", []string{"ipv4:203.0.113.9:8443"}, ""},
		{"ip-dst|port", "2001:db8::1|53", []string{"ipv6:2001:db8::1:53"}, ""},
		{"hostname|port", "c2.example|443", []string{"domain:c2.example:443"}, ""},
		{"domain|ip", "c2.example|203.0.113.9", []string{"domain:c2.example", "ipv4:203.0.113.9"}, ""},
		{"domain", "Evil[.]Example", []string{"domain:evil.example"}, ""},
		{"url", "hxxp://evil.example/a.exe", []string{"url:http://evil.example/a.exe"}, ""},
		{"url", "evil.example/path", []string{"url:http://evil.example/path"}, ""},
		{"filename|sha256", "a|b.exe|" + strings.Repeat("ab", 32), []string{"sha256:" + strings.Repeat("ab", 32)}, ""},
		{"md5", strings.Repeat("A", 32), []string{"md5:" + strings.Repeat("a", 32)}, ""},
		{"email-src", "boss@evil.example", []string{"email:boss@evil.example"}, ""},
		{"vulnerability", "cve-2023-5631", []string{"cve:CVE-2023-5631"}, ""},
		{"sha1", strings.Repeat("a", 32), nil, "reads as md5, not sha1"},
		{"domain", "203.0.113.9", nil, "reads as ipv4, not domain"},
		{"text", "anything", nil, "MISP type text is not an indicator type"},
		{"link", "https://blog.example/report", nil, "MISP type link"},
		{"filename|md5", "no-pipe", nil, "needs a value such as a|b"},
		{"ip-dst", "not an ip!", nil, "ip-dst"},
	} {
		iocs, reason := MISPAttribute{Type: tt.typ, Value: mispText(tt.value)}.iocs()
		var got []string
		for _, i := range iocs {
			s := i.Type + ":" + i.Value
			if i.Port != 0 {
				s += ":" + strconv.Itoa(i.Port)
			}
			got = append(got, s)
		}
		if !reflect.DeepEqual(got, tt.want) || (tt.want == nil && !strings.Contains(reason, tt.reason)) {
			t.Errorf("%s %q: %q, reason %q; want %q, reason with %q", tt.typ, tt.value, got, reason, tt.want, tt.reason)
		}
	}
}

func TestMISPOptions(t *testing.T) {
	ev := &MISPEvent{Orgc: mispOrg{Name: "ESET"}, Org: mispOrg{Name: "Copy holder"},
		Tags: []mispTag{{"tlp:green"}, {"APT"}, {"TLP:AMBER"}, {"tlp:white"}}}
	strict := MISPOptions{}.eventOptions(&MISPEvent{Tags: []mispTag{{"tlp:amber+strict"}, {"tlp:amber"}}}, MISPAttribute{})
	if strict.TLP != "tlp:amber+strict" {
		t.Errorf("TLP of amber+strict and amber tags: %q, want the stricter", strict.TLP)
	}
	a := MISPAttribute{Tags: []mispTag{{"c2"}}}
	got := MISPOptions{}.eventOptions(ev, a)
	if got.Source != "ESET" || got.TLP != "TLP:AMBER" || !reflect.DeepEqual(got.Labels, []string{"APT", "c2"}) {
		t.Errorf("event options %+v; want source ESET, the most restrictive TLP, the other tags as labels", got)
	}
	a.Tags = append(a.Tags, mispTag{"tlp:red"})
	over := MISPOptions{ListOptions: ListOptions{Source: "Our CERT", Labels: []string{"ours"}}}.eventOptions(ev, a)
	if over.Source != "Our CERT" || over.TLP != "tlp:red" || !reflect.DeepEqual(over.Labels, []string{"ours", "APT", "c2"}) {
		t.Errorf("options with overrides %+v", over)
	}
	if got := (MISPOptions{}).eventOptions(&MISPEvent{Org: mispOrg{Name: "Holder"}}, MISPAttribute{}); got.Source != "Holder" {
		t.Errorf("source without Orgc %q, want the Org", got.Source)
	}
}

func TestSniffMISP(t *testing.T) {
	for input, want := range map[string]bool{
		`{"Event": {"info": "x"}}`:       true,
		"\ufeff \n{ \"response\": [":     true,
		`{"type":"bundle","objects":[]}`: false,
		`[{"Event":{}}]`:                 false, // read as STIX unless --format misp
		`{"Events": 1}`:                  false,
		``:                               false,
	} {
		if got := SniffMISP([]byte(input)); got != want {
			t.Errorf("SniffMISP(%q) = %v, want %v", input, got, want)
		}
	}
}

// FuzzReadMISP checks that any input is read or refused with EINVALID, and
// that no attribute panics when made into indicators.
func FuzzReadMISP(f *testing.F) {
	f.Add([]byte(`{"Event":` + mispEvent1 + `}`))
	f.Add([]byte(`{"response":[{"Event":{"Attribute":[{"type":"domain|ip","value":"a.example|1.2.3.4","to_ids":1}]}}]}`))
	f.Add([]byte(`[{"info":"x","Attribute":[{"type":"ip-dst|port","value":"::1|99999"}]}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		err := ReadMISP(bytes.NewReader(data), func(ev *MISPEvent) error {
			for _, a := range ev.attributes() {
				iocs, reason := a.iocs()
				if iocs == nil && reason == "" {
					t.Errorf("attribute %+v: no indicator and no reason", a)
				}
				for _, ioc := range iocs {
					if _, err := Indicator(ioc, MISPOptions{}.eventOptions(ev, a)); err != nil && hail.ErrorCode(err) != hail.EINVALID {
						t.Errorf("Indicator(%+v): %v", ioc, err)
					}
				}
			}
			return nil
		})
		if err != nil && hail.ErrorCode(err) != hail.EINVALID {
			t.Errorf("error %v is not EINVALID", err)
		}
	})
}

func TestMISPIndicatorIDs(t *testing.T) {
	// The indicator of an attribute has the attribute's uuid, as MISP's
	// STIX export names it; the second value of a domain|ip one derived
	// from it; an attribute without a uuid, the list's (source, value) id.
	opt := ListOptions{Source: "ESET", Now: at(t0)}
	a := MISPAttribute{Type: "domain|ip", Value: "c2.example|203.0.113.9", UUID: "5CFD5572-2869-44D6-8814-9886C00BAABD"}
	iocs, reason := a.iocs()
	if reason != "" || len(iocs) != 2 {
		t.Fatalf("iocs: %+v %q", iocs, reason)
	}
	first, _ := Indicator(iocs[0], opt)
	second, _ := Indicator(iocs[1], opt)
	if first.ID != "indicator--5cfd5572-2869-44d6-8814-9886c00baabd" {
		t.Errorf("first indicator id %s, want the attribute's uuid", first.ID)
	}
	again, _ := MISPAttribute{Type: "domain|ip", Value: "c2.example|203.0.113.9", UUID: a.UUID}.iocs()
	if again[1].UUID != iocs[1].UUID || second.ID == first.ID || !strings.HasPrefix(second.ID, "indicator--") {
		t.Errorf("second indicator id %s (again %s), want one derived from the attribute, stable", second.ID, again[1].UUID)
	}
	cve, _ := MISPAttribute{Type: "vulnerability", Value: "CVE-2023-5631", UUID: a.UUID}.iocs()
	if o, _ := Indicator(cve[0], opt); o.ID != "vulnerability--5cfd5572-2869-44d6-8814-9886c00baabd" {
		t.Errorf("vulnerability id %s", o.ID)
	}
	plain, _ := MISPAttribute{Type: "ip-dst", Value: "203.0.113.9", UUID: "not-a-uuid"}.iocs()
	listed, _ := Indicator(IOC{Type: TypeIPv4, Value: "203.0.113.9"}, opt)
	if o, _ := Indicator(plain[0], opt); o.ID != listed.ID {
		t.Errorf("attribute without a uuid: id %s, want the list's %s", o.ID, listed.ID)
	}
	num := `{"Event":{"Attribute":[{"type":"port","value":443},{"type":"ip-dst","value":"1.2.3.4","to_ids":1}]}}`
	if got, err := readEvents(t, num); err != nil || len(got) != 1 {
		t.Errorf("an event with a numeric value: %v", err)
	}
}

func TestMISPValidFrom(t *testing.T) {
	// An indicator is valid from when MISP says its value was first seen,
	// else from the attribute's timestamp, not from the import: a report
	// of 2023 does not read as fresh intel in 2025.
	opt := ListOptions{Source: "ESET", TTL: 30 * 24 * time.Hour, Now: at(t0)}
	for _, tt := range []struct {
		a          MISPAttribute
		from, till string
	}{
		{MISPAttribute{Type: "ip-dst", Value: "203.0.113.9", Timestamp: "1697748985"}, "2023-10-19T20:56:25.000Z", "2023-11-18T20:56:25.000Z"},
		{MISPAttribute{Type: "ip-dst", Value: "203.0.113.9", Timestamp: "1697748985", FirstSeen: "2023-10-01T00:00:00.000000+00:00"},
			"2023-10-01T00:00:00.000Z", "2023-10-31T00:00:00.000Z"},
		{MISPAttribute{Type: "ip-dst", Value: "203.0.113.9"}, stix.FormatTimestamp(t0), stix.FormatTimestamp(t0.Add(30 * 24 * time.Hour))},
	} {
		iocs, _ := tt.a.iocs()
		o, err := Indicator(iocs[0], opt)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			ValidFrom  string `json:"valid_from"`
			ValidUntil string `json:"valid_until"`
		}
		json.Unmarshal(o.Raw, &got)
		if got.ValidFrom != tt.from || got.ValidUntil != tt.till {
			t.Errorf("%+v: valid %s to %s, want %s to %s", tt.a, got.ValidFrom, got.ValidUntil, tt.from, tt.till)
		}
		if err := stix.Validate(o); err != nil {
			t.Errorf("%+v: %v", tt.a, err)
		}
	}
}

// mispExport is a search answer of events events of 100 attributes each,
// of the common indicator types.
func mispExport(events int) string {
	var b strings.Builder
	b.WriteString(`{"response":[`)
	for e := range events {
		if e > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"Event":{"info":"Event %d","uuid":"%08x-0000-4000-8000-000000000000","Orgc":{"name":"Bench"},`+
			`"Tag":[{"name":"tlp:green"},{"name":"misp-galaxy:threat-actor=\"X\""}],"Attribute":[`, e, e)
		for a := range 100 {
			if a > 0 {
				b.WriteString(",")
			}
			n := e*100 + a
			var typ, value string
			switch a % 5 {
			case 0:
				typ, value = "ip-dst", fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255)
			case 1:
				typ, value = "domain", fmt.Sprintf("host%d.example.com", n)
			case 2:
				typ, value = "url", fmt.Sprintf("http://evil%d.example/a.php", n)
			case 3:
				typ, value = "sha256", fmt.Sprintf("%064x", n)
			case 4:
				typ, value = "filename|md5", fmt.Sprintf("f%d.exe|%032x", n, n)
			}
			fmt.Fprintf(&b, `{"type":%q,"category":"Network activity","value":%q,"to_ids":true,"uuid":"%08x-1111-4000-8000-%012x","timestamp":"1697748985"}`,
				typ, value, n, n)
		}
		b.WriteString("]}}")
	}
	b.WriteString("]}")
	return b.String()
}

// BenchmarkReadMISP reads a MISP export and makes the indicator of every
// attribute, the work of an import besides storing.
func BenchmarkReadMISP(b *testing.B) {
	input := mispExport(100)
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	opt := MISPOptions{ListOptions: ListOptions{Now: at(t0)}}
	for b.Loop() {
		n := 0
		err := ReadMISP(strings.NewReader(input), func(ev *MISPEvent) error {
			for _, a := range ev.attributes() {
				iocs, reason := a.iocs()
				if reason != "" {
					return fmt.Errorf("%s", reason)
				}
				for _, ioc := range iocs {
					if _, err := Indicator(ioc, opt.eventOptions(ev, a)); err != nil {
						return err
					}
					n++
				}
			}
			return nil
		})
		if err != nil || n != 10000 {
			b.Fatalf("ReadMISP: %v, %d indicators", err, n)
		}
	}
	b.ReportMetric(float64(b.N*10000)/b.Elapsed().Seconds(), "attributes/s")
}
