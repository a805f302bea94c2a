package bench

import (
	"encoding/json"
	"testing"
)

func TestScanEnvelope(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want envelope
	}{
		{"hail page", `{"more":true,"next":"abc_-","objects":[{"type":"x","a":[1,{"b":"]}"}]},{"type":"y"}]}`,
			envelope{More: true, Next: "abc_-", Objects: 2}},
		{"last page", `{"more":false,"objects":[{}]}`, envelope{Objects: 1}},
		{"empty", `{"more":false}`, envelope{}},
		{"empty list", ` { "more" : false , "objects" : [ ] } `, envelope{}},
		{"objects first", `{"objects":[{"s":"\"}"},{"t":"\\"}],"next":"n","more":true}`, envelope{More: true, Next: "n", Objects: 2}},
		{"escaped next", `{"more":true,"next":"a\u002fb\"c"}`, envelope{More: true, Next: `a/b"c`}},
		{"other keys", `{"x":{"objects":[1,2,3]},"y":[{"more":true}],"more":false,"objects":[[],{}]}`, envelope{Objects: 2}},
		{"last key wins", `{"more":true,"more":false,"objects":[1],"objects":[1,2]}`, envelope{Objects: 2}},
		{"wrong types skipped", `{"more":1,"next":2,"objects":{"a":[]}}`, envelope{}},
		{"empty object", `{}`, envelope{}},
	}
	for _, tt := range tests {
		got, err := scanEnvelope([]byte(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("%s: scanEnvelope(%s) = %+v, %v; want %+v, nil", tt.name, tt.in, got, err, tt.want)
		}
	}
}

func TestScanEnvelopeErrors(t *testing.T) {
	for _, in := range []string{``, `[]`, `"x"`, `{"more"}`, `{"more":true`, `{"objects":[{}`,
		`{"objects":[{},]}`, `{"next":"abc`, `{"more":true "next":"a"}`, `{1:2}`, `{"next":"\x"}`} {
		if got, err := scanEnvelope([]byte(in)); err == nil {
			t.Errorf("scanEnvelope(%q) = %+v, nil; want an error", in, got)
		}
	}
}

// FuzzScanEnvelope checks scanEnvelope against encoding/json: whenever the
// input is a JSON object whose last "more", "next" and "objects" (if any)
// have the right types, both must read the same envelope. On any other
// input scanEnvelope must only not panic.
func FuzzScanEnvelope(f *testing.F) {
	for _, s := range []string{
		`{"more":true,"next":"abc","objects":[{"type":"indicator"},{"a":"}"}]}`,
		`{"more":false}`,
		`{"objects":[],"more":false}`,
		`{"next":"\u0041\\","objects":[[1,2],{"x":[{}]}],"more":true}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := scanEnvelope(in)
		var m map[string]json.RawMessage
		if json.Unmarshal(in, &m) != nil {
			return
		}
		var want envelope
		for _, k := range []string{"more", "next", "objects"} {
			if string(m[k]) == "null" {
				return // null keeps an earlier duplicate's value in a struct, not in a map
			}
		}
		if raw, ok := m["more"]; ok && json.Unmarshal(raw, &want.More) != nil {
			return
		}
		if raw, ok := m["next"]; ok && json.Unmarshal(raw, &want.Next) != nil {
			return
		}
		if raw, ok := m["objects"]; ok {
			var list []json.RawMessage
			if json.Unmarshal(raw, &list) != nil {
				return
			}
			want.Objects = len(list)
		}
		if err != nil || got != want {
			t.Errorf("scanEnvelope(%s) = %+v, %v; encoding/json reads %+v", in, got, err, want)
		}
	})
}
