package ingest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"hail"
)

// readAll reads every object of input with a Reader and returns them as
// strings, with the Source seen at the end.
func readAll(input string) ([]string, Source, error) {
	r := NewReader(strings.NewReader(input))
	var got []string
	for {
		raw, err := r.Next()
		if err == io.EOF {
			return got, r.Source(), nil
		}
		if err != nil {
			return got, r.Source(), err
		}
		got = append(got, string(raw))
	}
}

const (
	ind1 = `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}`
	ind2 = `{ "type": "indicator",
  "id": "indicator--a932fcc6-e032-476c-826f-cb970a5a1ade",
  "x_custom": {"nested": [1, 2, {"objects": []}]} }`
)

func TestReaderForms(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string
		src   Source
	}{
		{"bundle 2.1", `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[` + ind1 + `,` + ind2 + `]}`,
			[]string{ind1, ind2}, Source{Form: FormBundle, ID: "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"}},
		{"bundle 2.0", `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","spec_version":"2.0","objects":[` + ind2 + `]}`,
			[]string{ind2}, Source{Form: FormBundle, ID: "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", SpecVersion: "2.0"}},
		{"bundle 2.0, spec_version last", `{"id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[` + ind2 + `],"spec_version":"2.0","type":"bundle"}`,
			[]string{ind2}, Source{Form: FormBundle, ID: "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", SpecVersion: "2.0"}},
		{"envelope", `{"more":true,"next":"abc","objects":[` + ind1 + `]}`, []string{ind1}, Source{Form: FormEnvelope}},
		{"empty envelope", `{"more":false}`, nil, Source{Form: FormEnvelope}},
		{"empty object", `{}`, nil, Source{Form: FormEnvelope}},
		{"bundle without objects", `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"}`, nil,
			Source{Form: FormBundle, ID: "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"}},
		{"array", "[\n" + ind1 + ",\n" + ind2 + "\n]\n", []string{ind1, ind2}, Source{Form: FormArray}},
		{"single object", "  " + ind2 + "\n", []string{ind2}, Source{Form: FormObject}},
		{"object with an objects array", `{"type":"x-thing","id":"x-thing--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","objects":[1,[2]]}`,
			[]string{`{"type":"x-thing","id":"x-thing--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","objects":[1,[2]]}`}, Source{Form: FormObject}},
		{"STIX 2.0 observed-data", `{"type":"observed-data","objects":{"0":{"type":"file"}},"id":"observed-data--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}`,
			[]string{`{"type":"observed-data","objects":{"0":{"type":"file"}},"id":"observed-data--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}`}, Source{Form: FormObject}},
		{"newline-delimited", ind1 + "\n" + ind2 + "\n" + ind1, []string{ind1, ind2, ind1}, Source{Form: FormObject}},
		{"sequence of containers", `[` + ind1 + `] {"objects":[` + ind2 + `]} ` + ind1, []string{ind1, ind2, ind1}, Source{Form: FormObject}},
		{"byte order mark", "\ufeff[" + ind1 + "]", []string{ind1}, Source{Form: FormArray}},
		{"non-objects passed on", `{"objects":[1,"x",null,` + ind1 + `]}`, []string{"1", `"x"`, "null", ind1}, Source{Form: FormEnvelope}},
		{"huge container property skipped", `{"x_meta":{"a":[[[1]],{"b":2}]},"objects":[` + ind1 + `],"x_after":[{"c":3}]}`,
			[]string{ind1}, Source{Form: FormEnvelope}},
	}
	for _, tt := range tests {
		got, src, err := readAll(tt.input)
		if err != nil {
			t.Errorf("%s: error %v", tt.name, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got\n%q\nwant\n%q", tt.name, got, tt.want)
		}
		if src != tt.src {
			t.Errorf("%s: source %+v, want %+v", tt.name, src, tt.src)
		}
	}
}

// TestReaderSourceWhileReading checks that a caller converting STIX 2.0 knows
// the bundle's version before the first object when the bundle states it first.
func TestReaderSourceWhileReading(t *testing.T) {
	r := NewReader(strings.NewReader(`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","spec_version":"2.0","objects":[` + ind2 + `]}`))
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if got := r.Source().SpecVersion; got != "2.0" {
		t.Errorf("SpecVersion during the objects = %q, want 2.0", got)
	}
}

func TestReaderErrors(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		want   []string // objects passed before the error
		offset int64
	}{
		{"empty", "", nil, 0},
		{"blank", " \n\t", nil, 0},
		{"number", `42`, nil, 2}, // after the value
		{"string", `"bundle"`, nil, 8},
		{"bad element", `[{"a":1}, {"b":x}]`, []string{`{"a":1}`}, 15},
		{"not STIX", `[` + ind1 + `] {"response":[{"Event":{"Attribute":[]}}]}`, []string{ind1}, int64(len(ind1) + 3)},
		{"bad element after BOM", "\ufeff" + `[{"a":1}, {"b":x}]`, []string{`{"a":1}`}, 18},
		{"missing comma", `[{"a":1} {"b":2}]`, []string{`{"a":1}`}, 9},
		{"truncated bundle", `{"type":"bundle","objects":[` + ind1 + `,{"type":"ind`, []string{ind1}, int64(len(`{"type":"bundle","objects":[` + ind1 + `,{"type":"ind`))},
		{"truncated object", `{"type":"indicator","id":`, nil, int64(len(`{"type":"indicator","id":`))},
		{"bad key", `{"type":"bundle",42:1}`, nil, 17},
		{"garbage after", ind1 + ` }`, []string{ind1}, int64(len(ind1) + 1)},
		{"bad value in head", `{"type":"bundle","x":[1,}`, nil, 24},
		{"bad literal in head", `{"type":"bundle","x": tru,"objects":[]}`, nil, 25},
		{"bad string in head", `{"type":"bund` + "\x01" + `le"}`, nil, 13},
		{"bad literal in object", `{"type":"x-a","id":"x-a--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","b":[nul]}`, nil, 71},
		{"bad key string", `{"ty` + "\n" + `pe":1}`, nil, 4},
	}
	for _, tt := range tests {
		got, _, err := readAll(tt.input)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: objects before the error %q, want %q", tt.name, got, tt.want)
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%s: error %v, want a *SyntaxError", tt.name, err)
			continue
		}
		if se.Offset != tt.offset {
			t.Errorf("%s: offset %d (%v), want %d", tt.name, se.Offset, err, tt.offset)
		}
		if code := hail.ErrorCode(err); code != hail.EINVALID {
			t.Errorf("%s: code %q, want %q", tt.name, code, hail.EINVALID)
		}
	}
}

func TestReaderErrorIsSticky(t *testing.T) {
	r := NewReader(strings.NewReader(`[1, x]`))
	r.Next()
	_, err1 := r.Next()
	_, err2 := r.Next()
	if err1 == nil || err1 != err2 {
		t.Errorf("errors %v then %v, want the same error twice", err1, err2)
	}
}

func TestReadObjectsStopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := ReadObjects(strings.NewReader(`[`+ind1+`,`+ind1+`,`+ind1+`]`), func(json.RawMessage) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Errorf("ReadObjects = %v after %d objects, want the callback's error after 2", err, n)
	}
}

// writeBundle writes a STIX 2.1 bundle of n indicators to w.
func writeBundle(w io.Writer, n int) error {
	bw := bufio.NewWriter(w)
	fmt.Fprint(bw, `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			bw.WriteByte(',')
		}
		fmt.Fprintf(bw, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-17d4-4cbf-938f-98ee46b3cd3f",`+
			`"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"n%d",`+
			`"pattern":"[ipv4-addr:value = '10.%d.%d.%d']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z",`+
			`"description":"%s"}`, i, i, i>>16&255, i>>8&255, i&255, strings.Repeat("x", i%200))
	}
	fmt.Fprint(bw, `]}`)
	return bw.Flush()
}

// countingWriter counts the bytes its writer has taken.
type countingWriter struct {
	w io.Writer
	n atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// TestReadObjectsStreams feeds a large bundle (about 60 MB) through a pipe,
// whose writes return only once read, and checks that the first object
// reaches the callback while most of the bundle is still unwritten, and that
// every object arrives.
func TestReadObjectsStreams(t *testing.T) {
	n := 200000
	if testing.Short() {
		n = 20000
	}
	pr, pw := io.Pipe()
	cw := &countingWriter{w: pw}
	go func() { pw.CloseWithError(writeBundle(cw, n)) }()
	count, last := 0, ""
	var writtenAtFirst int64
	err := ReadObjects(pr, func(raw json.RawMessage) error {
		count++
		if count == 1 {
			writtenAtFirst = cw.n.Load()
		}
		if count == n {
			last = string(raw)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("ReadObjects: %v", err)
	}
	if count != n {
		t.Errorf("read %d objects, want %d", count, n)
	}
	if total := cw.n.Load(); writtenAtFirst > total/10 {
		t.Errorf("the first object arrived after %d of %d bytes were written; want it before a tenth", writtenAtFirst, total)
	}
	if want := fmt.Sprintf(`"id":"indicator--%08x-`, n-1); !strings.Contains(last, want) {
		t.Errorf("last object %.120s…, want it to contain %s", last, want)
	}
}

func BenchmarkReadObjects(b *testing.B) {
	var sb strings.Builder
	const n = 10000
	if err := writeBundle(&sb, n); err != nil {
		b.Fatal(err)
	}
	input := sb.String()
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	for b.Loop() {
		count := 0
		if err := ReadObjects(strings.NewReader(input), func(json.RawMessage) error { count++; return nil }); err != nil || count != n {
			b.Fatalf("ReadObjects = %v, %d objects", err, count)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "objects/s")
}

func TestReaderRefusesOtherJSON(t *testing.T) {
	// A JSON document that is no STIX must not import as nothing: it is
	// refused, saying what it lacks, and a MISP event export is named.
	for input, want := range map[string]string{
		`{"response":[{"Event":{"info":"x","Attribute":[{"type":"ip-dst","value":"203.0.113.9"}]}}]}`: "looks like a MISP event",
		`{"Event":{"Attribute":[]}}`:            "looks like a MISP event",
		`{"name":"list","values":["evil.com"]}`: `its keys include ["name" "values"]`,
		`{"more":false,"vendor":1}`:             `its keys include ["vendor"]`,
	} {
		_, _, err := readAll(input)
		if err == nil || !strings.Contains(err.Error(), want) || hail.ErrorCode(err) != hail.EINVALID {
			t.Errorf("%s: error %v; want EINVALID saying %q", input, err, want)
		}
	}
	for _, input := range []string{`{}`, `{"more":false}`, `{"more":false,"next":"x"}`, `{"objects":5,"x":1}`, `{"more":false,"x_vendor":{"a":1}}`} {
		if _, _, err := readAll(input); err != nil {
			t.Errorf("%s: %v; want an empty envelope", input, err)
		}
	}
}
