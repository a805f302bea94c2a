package pattern

import (
	"reflect"
	"testing"
)

// FuzzParse checks that Parse never panics and that the canonical text of
// whatever parses is itself canonical: it parses to the same tree and
// prints the same. Observables must come out in normal form.
func FuzzParse(f *testing.F) {
	f.Add("[ipv4-addr:value = '198.51.100.1']")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("Parse(%q) error %T, want *SyntaxError", s, err)
			}
			return
		}
		text := p.String()
		q, err := Parse(text)
		if err != nil {
			t.Fatalf("Parse(%q) = %q, which does not parse: %v", s, text, err)
		}
		if again := q.String(); again != text {
			t.Fatalf("canonical text not stable:\n first %q\nsecond %q", text, again)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("canonical text %q parses to a different tree", text)
		}
		for _, o := range p.Observables() {
			if n, ok := Normalize(o.Type, o.Value); !ok || n != o.Value {
				t.Fatalf("observable %v is not in normal form: Normalize gives %q, %v", o, n, ok)
			}
		}
	})
}

// FuzzDetect checks that Detect never panics and that its output is a fixed
// point: normalising or detecting it again changes nothing.
func FuzzDetect(f *testing.F) {
	f.Add("hxxps://Evil[.]Example/Login")
	f.Fuzz(func(t *testing.T, s string) {
		typ, n, ok := Detect(s)
		if !ok {
			if typ != "" || n != "" {
				t.Fatalf("Detect(%q) = %q, %q, false; want empty strings", s, typ, n)
			}
			return
		}
		if again, ok := Normalize(typ, n); !ok || again != n {
			t.Fatalf("Detect(%q) = %s %q, but Normalize of that gives %q, %v", s, typ, n, again, ok)
		}
		if typ2, n2, ok := Detect(n); !ok || typ2 != typ || n2 != n {
			t.Fatalf("Detect(%q) = %s %q, but Detect of that gives %s %q, %v", s, typ, n, typ2, n2, ok)
		}
	})
}
