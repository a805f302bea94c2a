package server

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"hail/stix"
	"hail/store"
)

func TestAppendEvent(t *testing.T) {
	at := time.Date(2025, 5, 1, 10, 0, 0, 123000, time.UTC)
	tests := []struct{ raw, want string }{
		{`{"type":"x"}`, "id: 2025-05-01T10:00:00.000123Z\nevent: object\ndata: {\"type\":\"x\"}\n\n"},
		{"{\r\n \"type\": \"x\"\n}", "id: 2025-05-01T10:00:00.000123Z\nevent: object\ndata: {   \"type\": \"x\" }\n\n"},
	}
	for _, tt := range tests {
		got := appendEvent([]byte("before\n"), store.Entry{Object: stix.Object{Raw: []byte(tt.raw)}, DateAdded: at})
		if string(got) != "before\n"+tt.want {
			t.Errorf("appendEvent(%q) = %q, want %q", tt.raw, got, "before\n"+tt.want)
		}
	}
	if got, want := string(appendPosition(nil, at)), "id: 2025-05-01T10:00:00.000123Z\n\n"; got != want {
		t.Errorf("appendPosition = %q, want %q", got, want)
	}
}

// FuzzAppendEvent: whatever JSON an object holds, its event is one data
// line carrying the same JSON value.
func FuzzAppendEvent(f *testing.F) {
	f.Add([]byte(`{"type":"indicator","name":"a\nb"}`))
	f.Add([]byte("{\n\t\"type\" :\r\"x\"\r\n}"))
	f.Add([]byte(`"\u2028"`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			return
		}
		ev := appendEvent(nil, store.Entry{Object: stix.Object{Raw: raw}, DateAdded: time.Unix(1, 0)})
		lines := strings.Split(strings.TrimSuffix(string(ev), "\n\n"), "\n")
		if len(lines) != 3 || !strings.HasPrefix(lines[2], "data: ") || strings.Contains(lines[2], "\r") {
			t.Fatalf("event %q is not id, event and one data line", ev)
		}
		data := []byte(strings.TrimPrefix(lines[2], "data: "))
		var a, b bytes.Buffer
		if json.Compact(&a, raw) != nil || json.Compact(&b, data) != nil || !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("data %q is not the JSON of %q", data, raw)
		}
	})
}

func TestAcceptsEventStream(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"", true},
		{"text/event-stream", true},
		{"Text/Event-Stream; charset=utf-8", true},
		{"*/*", true},
		{"text/*;q=0.1", true},
		{"application/taxii+json;version=2.1, text/event-stream", true},
		{"application/taxii+json;version=2.1", false},
		{"application/json", false},
		{"text/event-stream;q=0", false},
		{"text/event-stream;q=0, */*;q=0.5", true},
		{",,", false},
	}
	for _, tt := range tests {
		if got := acceptsEventStream(tt.header); got != tt.want {
			t.Errorf("acceptsEventStream(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

// FuzzStreamAccept: any header may be parsed, and adding text/event-stream
// to a list always admits the stream.
func FuzzStreamAccept(f *testing.F) {
	f.Add("text/event-stream;q=0.5")
	f.Add("application/taxii+json;version=2.1, */*;q=0")
	f.Add(";;=,q=")
	f.Fuzz(func(t *testing.T, h string) {
		acceptsEventStream(h)
		if !acceptsEventStream(h + ",text/event-stream") {
			t.Errorf("acceptsEventStream(%q + \",text/event-stream\") = false", h)
		}
	})
}

func TestIsStream(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"/taxii2/api/collections/intel/stream/", true},
		{"/taxii2/api/collections/intel/stream", true},
		{"/taxii2/api//collections/intel/./stream/", true},
		{"/taxii2/api/collections/intel/objects/", false},
		{"/taxii2/api/collections/intel/objects/stream/", false},
		{"/taxii2/api/collections/stream/", false},
		{"/api/v1/stream/", false},
	}
	for _, tt := range tests {
		if got := isStream(httptest.NewRequest("GET", tt.path, nil)); got != tt.want {
			t.Errorf("isStream(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

// BenchmarkEncodePage encodes a full stream batch of 500 indicators, the
// work a shared read does once for every stream it serves.
func BenchmarkEncodePage(b *testing.B) {
	raw := []byte(`{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",` +
		`"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"IOC",` +
		`"pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`)
	page := store.Page{Entries: make([]store.Entry, 500)}
	at := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := range page.Entries {
		page.Entries[i] = store.Entry{Object: stix.Object{Raw: raw}, DateAdded: at.Add(time.Duration(i) * time.Microsecond)}
	}
	b.SetBytes(int64(500 * len(raw)))
	for b.Loop() {
		encodePage(page)
	}
}
