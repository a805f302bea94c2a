package server

import (
	"encoding/json"
	"net/url"
	"reflect"
	"testing"
	"time"

	"hail"
	"hail/stix/pattern"
	"hail/store"
)

func TestIOCCursorRoundTrip(t *testing.T) {
	s := testServer()
	q, err := s.parseIOCQuery("type=ip,md5&collection=api/all&since=2025-01-01&min_confidence=50&include_expired&limit=5", true)
	if err != nil {
		t.Fatal(err)
	}
	pos := store.IOCCursor{DateAdded: time.Date(2025, 5, 1, 0, 0, 0, 17000, time.UTC), Ordinal: 3}
	q2, err := s.parseIOCQuery("cursor="+formatIOCCursor(pos, q.Carry), true)
	if err != nil {
		t.Fatal(err)
	}
	q.After = pos
	if !reflect.DeepEqual(q.IOCFilter, q2.IOCFilter) || q2.Collection != "api/all" {
		t.Errorf("cursor gives %+v in %q, want %+v in api/all", q2.IOCFilter, q2.Collection, q.IOCFilter)
	}
	if q2.Limit != 5 || !q2.IncludeExpired || q2.IncludeRevoked || *q2.MinConfidence != 50 ||
		!reflect.DeepEqual(q2.Types, []string{"ipv4", "ipv6", "cidr", "md5"}) {
		t.Errorf("cursor filter %+v", q2.IOCFilter)
	}
}

func FuzzIOCQuery(f *testing.F) {
	for _, s := range []string{
		"", "type=ipv4&limit=100", "type=ip,hash&type=cve&min_confidence=50", "since=2025-05-01T00:00:00Z&include_expired=true",
		"collection=api/all&include_revoked", "cursor=" + formatIOCCursor(store.IOCCursor{DateAdded: time.Unix(1, 0), Ordinal: 2}, url.Values{"type": {"ipv4"}}),
	} {
		f.Add(s)
	}
	s := testServer()
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := s.parseIOCQuery(raw, true)
		if err != nil {
			if hail.ErrorCode(err) != hail.EINVALID {
				t.Fatalf("parseIOCQuery(%q) error code %s, want %s", raw, hail.ErrorCode(err), hail.EINVALID)
			}
			return
		}
		if q.Limit <= 0 || q.Limit > store.MaxLimit || q.Collection == "" {
			t.Fatalf("parseIOCQuery(%q) gives limit %d, collection %q", raw, q.Limit, q.Collection)
		}
		if m := q.MinConfidence; m != nil && (*m < 0 || *m > 100) {
			t.Fatalf("parseIOCQuery(%q) min_confidence %d", raw, *m)
		}
		// The cursor of any accepted query reproduces its filters.
		pos := store.IOCCursor{DateAdded: time.Date(2025, 1, 1, 0, 0, 0, 1000, time.UTC), Ordinal: 7}
		tok := formatIOCCursor(pos, q.Carry)
		q2, err := s.parseIOCQuery("cursor="+url.QueryEscape(tok), true)
		if err != nil {
			t.Fatalf("cursor %q of %q: %v", tok, raw, err)
		}
		q.After = pos
		if !reflect.DeepEqual(q.IOCFilter, q2.IOCFilter) || q.Collection != q2.Collection {
			t.Fatalf("cursor of %q gives %+v in %q, want %+v in %q", raw, q2.IOCFilter, q2.Collection, q.IOCFilter, q.Collection)
		}
	})
}

func FuzzLookupBody(f *testing.F) {
	for _, s := range []string{
		`{"values":["198.51.100.7","evil[.]example"]}`, `{"values":[]}`, `{"values":["\u0000","\ud800"]}`,
		`{"values":["hxxps://x[.]example/a b"]}`, `[]`, ``, `{"values":["` + "\xff" + `"]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		values, err := decodeLookupBody(body)
		if err != nil {
			if c := hail.ErrorCode(err); c != hail.EINVALID {
				t.Fatalf("decodeLookupBody(%q) error code %s", body, c)
			}
			return
		}
		// Whatever the values, the answer is valid JSON, and a match
		// echoes the value and its normalised form.
		queries := make([]store.IOCValue, len(values))
		var matches []store.IOCMatch
		for i, v := range values {
			typ, norm, ok := pattern.Detect(v)
			if !ok {
				continue
			}
			queries[i] = store.IOCValue{Type: typ, Value: norm}
			matches = append(matches, store.IOCMatch{Query: queries[i], IOC: store.IOC{Type: typ, Value: norm, Description: v, Labels: []string{v}}})
		}
		out := appendLookup(nil, values, queries, matches)
		var decoded struct {
			Data []struct {
				Value   string
				Matches []json.RawMessage
				Error   string
			}
		}
		if err := json.Unmarshal(out, &decoded); err != nil {
			t.Fatalf("answer to %q is not JSON: %v\n%s", body, err, out)
		}
		if len(decoded.Data) != len(values) {
			t.Fatalf("answer to %q has %d items, want %d", body, len(decoded.Data), len(values))
		}
		for i, d := range decoded.Data {
			if (queries[i].Type == "") != (d.Error != "") || (queries[i].Type != "") != (len(d.Matches) > 0) {
				t.Fatalf("answer %d to %q: %+v", i, body, d)
			}
		}
	})
}
