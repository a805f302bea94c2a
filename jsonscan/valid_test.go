package jsonscan

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var validCases = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e+10`, `-12.0E-3`, `true`, `false`, `null`,
	` {"a" : [1, 2, {"b": null}], "c": "\u00e9\n\"\\\/"} `,
	"\t[\r\n]\n",
	`{"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","labels":["a","b"],"confidence":85}`,
	"\"caf\xc3\xa9\"", "\"\xff\"", // invalid UTF-8 passes, as in encoding/json
}

var invalidCases = []string{
	``, ` `, `{`, `}`, `[`, `]`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{1:2}`, `{"a":1 "b":2}`,
	`01`, `-`, `1.`, `.5`, `1e`, `1e+`, `+1`, `0x10`, `NaN`, `tru`, `nul`, `True`,
	`"abc`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"a\tb\"", "\"\x00\"", `"\`,
	`{} {}`, `[] x`, `{"a":[}`, `{"a":{]}`, `[{"a":1]}`,
}

func TestValidAgreesWithEncodingJSON(t *testing.T) {
	for _, c := range append(append([]string{}, validCases...), invalidCases...) {
		if got, want := Valid([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("Valid(%q) = %v, encoding/json says %v", c, got, want)
		}
	}
	for _, c := range validCases {
		if !Valid([]byte(c)) {
			t.Errorf("Valid(%q) = false, want true", c)
		}
	}
	for _, c := range invalidCases {
		if Valid([]byte(c)) {
			t.Errorf("Valid(%q) = true, want false", c)
		}
	}
}

// TestValidDepth checks encoding/json's nesting limit: 10,000 levels are
// valid, 10,001 are not, for arrays and objects, empty or not.
func TestValidDepth(t *testing.T) {
	for _, c := range []struct {
		open, close, inner string
	}{{"[", "]", ""}, {"[", "]", "1"}, {`{"a":`, "}", "1"}} {
		for _, n := range []int{maxDepth - 1, maxDepth, maxDepth + 1} {
			b := []byte(strings.Repeat(c.open, n) + c.inner + strings.Repeat(c.close, n))
			if got, want := Valid(b), json.Valid(b); got != want {
				t.Errorf("%d levels of %s: Valid = %v, encoding/json says %v", n, c.open, got, want)
			}
		}
	}
	if !Valid([]byte(strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth))) {
		t.Errorf("%d levels: Valid = false, want true", maxDepth)
	}
	if Valid([]byte(strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1))) {
		t.Errorf("%d levels: Valid = true, want false", maxDepth+1)
	}
}

// TestValidRealObjects runs the validator over the public bundles in
// shared/data and gives encoding/json's verdict on each, whole and cut
// short.
func TestValidRealObjects(t *testing.T) {
	files, _ := filepath.Glob("../../shared/data/*.json")
	real, _ := filepath.Glob("../../shared/data/real/stix/*/*.json")
	files = append(files, real...)
	if len(files) == 0 {
		t.Skip("../../shared/data holds no .json files (the shared folder is absent)")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Errorf("%s: Valid = %v, encoding/json says %v", f, got, want)
		}
		b = bytes.TrimSpace(b)
		for _, n := range []int{len(b) / 3, len(b) / 2, len(b) - 1} {
			if Valid(b[:n]) {
				t.Errorf("%s cut to %d bytes: Valid = true", f, n)
			}
		}
	}
}

func FuzzValid(f *testing.F) {
	for _, c := range append(append([]string{}, validCases...), invalidCases...) {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Errorf("Valid(%q) = %v, encoding/json says %v", b, got, want)
		}
	})
}

func BenchmarkValid(b *testing.B) {
	obj := []byte(`{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",` +
		`"created":"2024-03-01T10:00:00.000Z","modified":"2024-03-01T10:00:00.000Z","name":"Malicious site hosting downloader",` +
		`"description":"This domain hosts a downloader seen in a phishing campaign against the energy sector, June 2024.",` +
		`"indicator_types":["malicious-activity"],"pattern":"[domain-name:value = 'evil.example.com']","pattern_type":"stix",` +
		`"valid_from":"2024-03-01T10:00:00Z","valid_until":"2025-03-01T10:00:00Z","confidence":85,"labels":["phishing","energy"],` +
		`"created_by_ref":"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",` +
		`"object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"],` +
		`"external_references":[{"source_name":"cert","url":"https://cert.example/advisories/2024-17","external_id":"ADV-2024-17"}]}`)
	b.Run("jsonscan", func(b *testing.B) {
		b.SetBytes(int64(len(obj)))
		for b.Loop() {
			if !Valid(obj) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(obj)))
		for b.Loop() {
			if !json.Valid(obj) {
				b.Fatal("invalid")
			}
		}
	})
}
