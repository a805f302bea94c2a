package stix_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"hail"
	"hail/stix"
)

// FuzzValidate: Parse and Validate never panic, and reject with
// EUNPROCESSABLE only. Seeds are the base objects of every type and
// testdata/fuzz/FuzzValidate.
func FuzzValidate(f *testing.F) {
	for typ := range base {
		f.Add([]byte(base[typ]))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		o, err := stix.Parse(raw)
		if err == nil {
			err = stix.Validate(o)
		}
		if err != nil && hail.ErrorCode(err) != hail.EUNPROCESSABLE {
			t.Errorf("got code %q (%v), want %q", hail.ErrorCode(err), err, hail.EUNPROCESSABLE)
		}
		// Objects not made by Parse: any verdict, but no panic or hang.
		for _, typ := range []string{"indicator", "observed-data", "x-unknown"} {
			stix.Validate(stix.Object{Type: typ, Raw: raw})
		}
	})
}

// FuzzConvert20: Convert20 never panics, rejects with EUNPROCESSABLE only,
// and its output is a compact JSON object that starts with its type and
// spec_version 2.1 and that converts to itself.
func FuzzConvert20(f *testing.F) {
	for typ := range base {
		f.Add([]byte(base[typ]))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		out, err := stix.Convert20(raw)
		if err != nil {
			if hail.ErrorCode(err) != hail.EUNPROCESSABLE {
				t.Errorf("got code %q (%v), want %q", hail.ErrorCode(err), err, hail.EUNPROCESSABLE)
			}
			return
		}
		if !json.Valid(out) || !bytes.HasPrefix(out, []byte(`{"type":`)) {
			t.Fatalf("output is not a JSON object starting with its type: %s", out)
		}
		// A map, not a struct: struct fields would match "Spec_Version" too.
		var top map[string]json.RawMessage
		if err := json.Unmarshal(out, &top); err != nil || string(top["spec_version"]) != `"2.1"` {
			t.Errorf("spec_version: got %s (%v), want \"2.1\" in %s", top["spec_version"], err, out)
		}
		again, err := stix.Convert20(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Errorf("converting the output: got %s (%v), want %s", again, err, out)
		}
	})
}
