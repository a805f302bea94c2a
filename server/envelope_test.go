package server

import (
	"encoding/json"
	"testing"

	"hail"
)

func TestDecodeEnvelope(t *testing.T) {
	tests := []struct {
		body string
		n    int
		code string
	}{
		{`{"objects":[{"type":"x"},{}]}`, 2, ""},
		{` {"more":false,"objects":[]} `, 0, ""},
		{`{"type":"bundle","id":"bundle--1","objects":[{}]}`, 1, ""},
		{``, 0, hail.EINVALID},
		{`{"objects":[`, 0, hail.EINVALID},
		{`{"objects":[]}x`, 0, hail.EINVALID},
		{`[]`, 0, hail.EUNPROCESSABLE},
		{`{}`, 0, hail.EUNPROCESSABLE},
		{`{"objects":null}`, 0, hail.EUNPROCESSABLE},
		{`{"objects":"[]"}`, 0, hail.EUNPROCESSABLE},
		{`{"objects":{}}`, 0, hail.EUNPROCESSABLE},
		{`null`, 0, hail.EUNPROCESSABLE},
		{`{"objects":[{}],"objects":[{},{}]}`, 2, ""}, // the last wins, as in encoding/json
		{`{"\u006fbjects":[{}]}`, 1, ""},
	}
	for _, tt := range tests {
		objs, err := decodeEnvelope([]byte(tt.body))
		if hail.ErrorCode(err) != tt.code || len(objs) != tt.n {
			t.Errorf("decodeEnvelope(%s) = %d objects, %v; want %d, code %q", tt.body, len(objs), err, tt.n, tt.code)
		}
	}
}

func FuzzDecodeEnvelope(f *testing.F) {
	for _, s := range []string{`{"objects":[{"type":"indicator"}]}`, `{"objects":[]}`, `[]`, `{"objects":`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		objs, err := decodeEnvelope(body)
		switch hail.ErrorCode(err) {
		case "":
			for _, o := range objs {
				if !json.Valid(o) {
					t.Errorf("object %q is not JSON", o)
				}
			}
		case hail.EINVALID:
			if json.Valid(body) {
				t.Errorf("valid JSON %q called malformed", body)
			}
		case hail.EUNPROCESSABLE:
		default:
			t.Errorf("decodeEnvelope(%q): unexpected error %v", body, err)
		}
	})
}
