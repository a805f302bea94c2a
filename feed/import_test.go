package feed_test

import (
	"testing"

	"hail/feed"
	"hail/ingest"
)

func TestDetectFormat(t *testing.T) {
	for _, tc := range []struct{ name, head, want string }{
		{"bundle.json", `{"type":"bundle"`, feed.FormatSTIX},
		{"feed.bundle", "\ufeff\n  {\n  \"type\": \"bundle\"", feed.FormatSTIX},
		{"", `[{"type":"indicator"`, feed.FormatSTIX},
		{"", "[ ]", feed.FormatSTIX},
		{"", "{", feed.FormatSTIX}, // all the head holds
		{"broken.json", "not json at all", feed.FormatSTIX},
		{"objects.stix2", "", feed.FormatSTIX},
		{"event.json", `{"Event":{"info":"x"`, ingest.FormatMISP},
		{"", `{ "response": [`, ingest.FormatMISP},
		{"export.txt", `{"Event":{`, ingest.FormatMISP},
		{"urls.csv", "id,url\n", ingest.FormatCSV},
		{`C:\feeds\URLS.CSV`, "id,url\n", ingest.FormatCSV},
		{"urls.csv", `{"type":"bundle"`, ingest.FormatCSV}, // the name wins for CSV
		{"", "203.0.113.1\n", ingest.FormatText},
		{"ips.txt", "# comment\n203.0.113.1\n", ingest.FormatText},
		{"", "[2001:db8::1]:443\n", ingest.FormatText},
		{"", "[.]evil.example\n", ingest.FormatText},
		{"", "{not json", ingest.FormatText},
		{"csv.txt", "################\n# abuse.ch URLhaus\n# id,dateadded,url,url_status\n\"1\",\"2024-01-01\",\"http://evil.example/a\",\"online\"\n", ingest.FormatCSV},
		{"", "\"203.0.113.1\",\"2024-01-01\"\n", ingest.FormatCSV},
		{"", "ip,port\n203.0.113.1,443\n", ingest.FormatCSV},
		{"", "203.0.113.1,443,c2\n203.0.113.2,80,c2\n203.0.113.3,8080,c2\n", ingest.FormatCSV},
		{"", "203.0.113.1\t# seen 3 times\n203.0.113.2\t# seen once\n", ingest.FormatText},
		{"", "http://evil.example/a,b\nhttp://evil.example/c\nhttp://evil.example/d\n", ingest.FormatText},
		{"", "203.0.113.1,443\n", ingest.FormatText}, // one row: too little to tell
		// ";" and tabs carry a plain list's comments: read as CSV, the
		// comment would become another column and each indicator's
		// description would change.
		{"list.txt", "evil.example;malware\nbad.example;phishing\n", ingest.FormatText},
		{"", "", ingest.FormatText},
	} {
		if got := feed.DetectFormat(tc.name, []byte(tc.head)); got != tc.want {
			t.Errorf("DetectFormat(%q, %q) = %q, want %q", tc.name, tc.head, got, tc.want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]string{"": "", "STIX": feed.FormatSTIX, "bundle": feed.FormatSTIX, "json": feed.FormatSTIX,
		"misp": ingest.FormatMISP, "Text": ingest.FormatText, "txt": ingest.FormatText, "csv": ingest.FormatCSV,
		"json-list": ingest.FormatJSON} {
		if got, ok := feed.ParseFormat(in); !ok || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if got, ok := feed.ParseFormat("xml"); ok {
		t.Errorf("ParseFormat(xml) = %q, true; want false", got)
	}
}

func TestDetectFormatJSONLists(t *testing.T) {
	// IOC lists in JSON as abuse.ch, Spamhaus and others publish them are
	// told from STIX by their first object's keys.
	for _, tc := range []struct{ what, head, want string }{
		{"ThreatFox export", `{"1234": [{"ioc_value": "evil.example", "ioc_type": "domain"}]}`, ingest.FormatJSON},
		{"Feodo list", `[{"ip_address":"203.0.113.5","port":443,"status":"online"}]`, ingest.FormatJSON},
		{"URLhaus answer", `{"query_status":"ok","urls":[{"id":"1","url":"http://evil.example/x"}]}`, ingest.FormatJSON},
		{"Spamhaus DROP lines", "{\"cidr\":\"1.10.16.0/20\",\"sblid\":\"SBL256894\"}\n{\"cidr\":\"1.19.0.0/16\"}\n", ingest.FormatJSON},
		{"bundle", `{"type":"bundle","id":"bundle--1","objects":[{"type":"ipv4-addr","value":"1.2.3.4"}]}`, feed.FormatSTIX},
		{"envelope", `{"more":false,"objects":[{"type":"indicator","id":"indicator--1"}]}`, feed.FormatSTIX},
		{"array of objects", `[{"type":"url","value":"http://evil.example/"}]`, feed.FormatSTIX},
		{"object, type later", `{"external_references":[{"url":"https://ref.example/"}],"type":"indicator"}`, feed.FormatSTIX},
		{"no indicator key", `{"status":"ok","count":3}`, feed.FormatSTIX},
		{"cut before any key", `{"`, feed.FormatSTIX},
	} {
		if got := feed.DetectFormat("", []byte(tc.head)); got != tc.want {
			t.Errorf("%s: DetectFormat = %q, want %q", tc.what, got, tc.want)
		}
	}
}

// FuzzDetectFormat checks that any name and head give one of the formats,
// without a panic, as they do when a body without a format reaches the
// import API.
func FuzzDetectFormat(f *testing.F) {
	f.Add("", []byte(`{"1234": [{"ioc_value": "evil.example"}]}`))
	f.Add("x.json", []byte(`[{"type":"indicator"`))
	f.Add("list.csv", []byte("ip\n1.2.3.4\n"))
	f.Add("", []byte("[[[[{\"url\":1}]]]]"))
	f.Add("", []byte(`{"Event":{`))
	f.Fuzz(func(t *testing.T, name string, head []byte) {
		switch got := feed.DetectFormat(name, head); got {
		case feed.FormatSTIX, ingest.FormatMISP, ingest.FormatJSON, ingest.FormatCSV, ingest.FormatText:
		default:
			t.Errorf("DetectFormat(%q, %q) = %q", name, head, got)
		}
	})
}
