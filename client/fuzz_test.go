package client

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"hail"
)

// FuzzDecodeEnvelope checks that any body either fails to decode or yields
// objects that are each one valid JSON value, copied from the body.
func FuzzDecodeEnvelope(f *testing.F) {
	f.Add([]byte(`{"more":true,"next":"2025-05-01T00:00:00.000001Z","objects":[{"type":"indicator","id":"x"},{"a":[1,2]}]}`))
	f.Add([]byte(`{"more":false}`))
	f.Add([]byte(`{"objects":null,"next":12345}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var p Page
		size := int64(-1) // a body of unknown length, or of its length, in turn
		if len(body)%2 == 0 {
			size = int64(len(body))
		}
		if err := decodeEnvelope(bytes.NewReader(body), size, &p); err != nil {
			return
		}
		for i, o := range p.Objects {
			if !json.Valid(o) {
				t.Errorf("object %d is not valid JSON: %q", i, o)
			}
			if !bytes.Contains(body, bytes.TrimSpace(o)) {
				t.Errorf("object %d %q is not in the body", i, o)
			}
		}
	})
}

// FuzzParseRetryAfter checks that a header value never gives a negative
// wait, nor a wait with ok false.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "Thu, 01 May 2025 12:00:30 GMT", "Thursday, 01-May-25 12:01:00 GMT", "-1", "1e3"} {
		f.Add(s)
	}
	now := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, now)
		if d < 0 || (!ok && d != 0) {
			t.Errorf("parseRetryAfter(%q) = %v, %v", v, d, ok)
		}
	})
}

// FuzzErrorFromBody checks that any error response gives a known code and
// a non-empty message.
func FuzzErrorFromBody(f *testing.F) {
	f.Add(404, []byte(`{"title":"Not found.","description":"No such collection.","http_status":"404"}`))
	f.Add(502, []byte(`<html>bad gateway</html>`))
	f.Add(422, []byte(`{"title":7}`))
	codes := map[string]bool{hail.EINVALID: true, hail.EUNAUTHENTICATED: true, hail.EFORBIDDEN: true,
		hail.ENOTFOUND: true, hail.ECONFLICT: true, hail.ETOOLARGE: true, hail.EUNPROCESSABLE: true,
		hail.ETOOMANY: true, hail.EUNAVAILABLE: true, hail.EINTERNAL: true}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := errorFromBody(status, body)
		if !codes[e.Code] || e.Message == "" {
			t.Errorf("errorFromBody(%d, %q) = %+v", status, body, e)
		}
	})
}

// FuzzContentRange checks that a TAXII 2.0 Content-Range either fails to
// read or gives a span that makes sense, and that pageRange's next page
// starts after it.
func FuzzContentRange(f *testing.F) {
	for _, s := range []string{"items 0-99/250", "items 10-19/*", "items=0-0/1", "items 5-4/10", "bytes 0-1/2", "items 0-9/9", " items  1 - 2 / 3 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		first, last, total, err := contentRange(v)
		if err != nil {
			return
		}
		if first < 0 || last < first || (total != -1 && total <= last) {
			t.Errorf("contentRange(%q) = %d, %d, %d", v, first, last, total)
		}
		resp := &http.Response{Header: http.Header{"Content-Range": {v}}}
		var p Page
		if err := pageRange(resp, 10, &p); err != nil {
			t.Fatalf("pageRange(%q): %v, after contentRange read it", v, err)
		}
		if p.More && p.Next != strconv.Itoa(last+1) {
			t.Errorf("pageRange(%q): next %q, want %d", v, p.Next, last+1)
		}
	})
}
