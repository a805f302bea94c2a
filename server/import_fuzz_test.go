package server

import (
	"testing"

	"hail"
	"hail/ingest"
)

// FuzzParseImportQuery checks that any query string either parses into a
// usable import or is refused with EINVALID, never anything else.
func FuzzParseImportQuery(f *testing.F) {
	for _, s := range []string{
		"collection=drop&format=txt&source=Acme&tlp=amber&confidence=80&ttl=720h",
		"collection=api/drop&format=stix",
		"collection=x&format=csv&columns=ip,2&labels=a,,b&snapshot=true&source=s",
		"collection=x&format=txt&confidence=-1",
		"collection=%zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := parseImportQuery(raw)
		if err != nil {
			if hail.ErrorCode(err) != hail.EINVALID {
				t.Errorf("parseImportQuery(%q): %v, want EINVALID", raw, err)
			}
			return
		}
		if q.Collection == "" || (q.Format != "stix" && q.Format != ingest.FormatText && q.Format != ingest.FormatCSV) {
			t.Errorf("parseImportQuery(%q) = %+v: no collection or an unknown format", raw, q)
		}
		if q.List.Confidence < 0 || q.List.Confidence > 100 || q.List.TTL < 0 {
			t.Errorf("parseImportQuery(%q) = %+v: confidence or ttl out of range", raw, q)
		}
		if q.Snapshot && q.List.Source == "" {
			t.Errorf("parseImportQuery(%q): a snapshot without a source", raw)
		}
	})
}
