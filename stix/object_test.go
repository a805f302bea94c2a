package stix_test

import (
	"strings"
	"testing"

	"hail"
	"hail/stix"
)

func TestParse(t *testing.T) {
	const id = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
	o, err := stix.Parse([]byte(` {"type":"indicator","spec_version":"2.1","id":"` + id + `","x_type":"not this",` +
		`"created":"2024-05-01T00:00:00.000Z","modified":"2024-05-20T00:00:00.123456Z","revoked":true,"name":"n"}` + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if o.ID != id || o.Type != "indicator" || o.SpecVersion != "2.1" || o.Created != "2024-05-01T00:00:00.000Z" ||
		o.Modified != "2024-05-20T00:00:00.123456Z" || !o.Revoked || o.Version.Nanosecond() != 123456000 {
		t.Errorf("Parse = %+v", o)
	}
	if string(o.Raw[0]) != "{" || o.Raw[len(o.Raw)-1] != '}' {
		t.Errorf("Raw keeps the blanks around the object: %q", o.Raw)
	}

	// Escaped names are the names they spell; null leaves a property
	// absent; the last of repeated names wins, as in encoding/json.
	o, err = stix.Parse([]byte(`{"\u0074ype":"identity","id":"identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",` +
		`"spec_version":null,"created":"2024-05-01T00:00:00Z","modified":null,"revoked":null,"name":"a","created":"2024-06-01T00:00:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	if o.Type != "identity" || o.SpecVersion != "2.1" || o.Modified != "" || o.Created != "2024-06-01T00:00:00Z" || o.Revoked ||
		o.VersionString() != "2024-06-01T00:00:00Z" {
		t.Errorf("Parse = %+v", o)
	}

	for _, c := range []struct{ raw, msg string }{
		{`[]`, "must be a JSON object"},
		{`{"type":"indicator",}`, "malformed JSON at offset 21"},
		{`{"type":"indicator"`, "malformed JSON"},
		{`{"type":5,"id":"x"}`, `property "type" has the wrong JSON type`},
		{`{"type":"indicator","id":"` + id + `","created":1}`, `property "created" has the wrong JSON type`},
		{`{"id":"` + id + `"}`, `"type" is required`},
		{`{"type":"indicator"}`, `"id" is required`},
		{`{"type":"indicator","id":"` + id + `","spec_version":""}`, `"spec_version" must not be empty`},
		{`{"type":"indicator","id":"` + id + `","created":"yesterday"}`, `"created" is not a STIX timestamp`},
		{`{"type":"indicator","id":"` + id + `","created":"2024-05-02T00:00:00Z","modified":"2024-05-01T00:00:00Z"}`, `"modified" (2024-05-01T00:00:00Z) is before "created"`},
		{`{"type":"indicator","id":"` + id + `","revoked":"yes"}`, `"revoked" must be a boolean`},
		{`{"type":"Indicator","id":"` + id + `"}`, "not a valid STIX type name"},
	} {
		_, err := stix.Parse([]byte(c.raw))
		if hail.ErrorCode(err) != hail.EUNPROCESSABLE || !strings.Contains(hail.ErrorMessage(err), c.msg) {
			t.Errorf("Parse(%s) = %v, want %s containing %q", c.raw, err, hail.EUNPROCESSABLE, c.msg)
		}
	}
}
