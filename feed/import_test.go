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
