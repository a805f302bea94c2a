package server

import (
	"encoding/base64"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"hail"
	"hail/store"
)

func testServer() *Server { return New(Config{}, nil, nil) }

func TestParseQuery(t *testing.T) {
	ts := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name    string
		query   string
		allowed []string
		want    store.Filter
		pos     bool
	}{
		{"empty", "", collectionParams, store.Filter{Limit: 1000}, false},
		{"added_after", "added_after=2025-05-01T00:00:00.000000Z", collectionParams,
			store.Filter{Limit: 1000, AddedAfter: ts("2025-05-01T00:00:00Z")}, true},
		{"added_after lenient seconds", "added_after=2025-05-01T00:00:00Z", collectionParams,
			store.Filter{Limit: 1000, AddedAfter: ts("2025-05-01T00:00:00Z")}, true},
		{"added_after plus as space", "added_after=2025-05-01T02:00:00+02:00", collectionParams,
			store.Filter{Limit: 1000, AddedAfter: ts("2025-05-01T00:00:00Z")}, true},
		{"added_after empty is absent", "added_after=", collectionParams, store.Filter{Limit: 1000}, false},
		{"next empty is absent", "next=", collectionParams, store.Filter{Limit: 1000}, false},
		{"limit", "limit=5", collectionParams, store.Filter{Limit: 5}, false},
		{"limit clamped", "limit=20000", collectionParams, store.Filter{Limit: 10000}, false},
		{"limit huge clamped", "limit=99999999999999999999999", collectionParams, store.Filter{Limit: 10000}, false},
		{"types", "match[type]=indicator,malware", collectionParams,
			store.Filter{Limit: 1000, Types: []string{"indicator", "malware"}}, false},
		{"encoded brackets", "match%5Btype%5D=indicator", collectionParams,
			store.Filter{Limit: 1000, Types: []string{"indicator"}}, false},
		{"ids", "match[id]=indicator--252c7c11-daf2-42bd-843b-be65edca9f61", collectionParams,
			store.Filter{Limit: 1000, IDs: []string{"indicator--252c7c11-daf2-42bd-843b-be65edca9f61"}}, false},
		{"versions", "match[version]=first,2018-03-02T01:01:01.123Z,last,last", collectionParams,
			store.Filter{Limit: 1000, Versions: []string{"first", "2018-03-02T01:01:01.123Z", "last"}}, false},
		{"version all", "match[version]=all", collectionParams, store.Filter{Limit: 1000, Versions: []string{"all"}}, false},
		{"spec versions", "match[spec_version]=2.0,2.1", collectionParams,
			store.Filter{Limit: 1000, SpecVersions: []string{"2.0", "2.1"}}, false},
		{"unknown match field ignored", "match[foo]=bar&match[foo]=baz&other=1", collectionParams, store.Filter{Limit: 1000}, false},
		{"type ignored on object endpoint", "match[type]=!!", objectParams, store.Filter{Limit: 1000}, false},
		{"versions endpoint ignores match[version]", "match[version]=first", versionsParams, store.Filter{Limit: 1000}, false},
		{"delete ignores limit", "limit=0&match[version]=last", deleteParams, store.Filter{Limit: 1000, Versions: []string{"last"}}, false},
	}
	s := testServer()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := s.parseQuery(tt.query, tt.allowed)
			if err != nil {
				t.Fatalf("parseQuery(%q): %v", tt.query, err)
			}
			if !reflect.DeepEqual(q.Filter, tt.want) {
				t.Errorf("parseQuery(%q) filter = %+v, want %+v", tt.query, q.Filter, tt.want)
			}
			if q.Positioned != tt.pos {
				t.Errorf("parseQuery(%q) positioned = %v, want %v", tt.query, q.Positioned, tt.pos)
			}
		})
	}
}

func TestParseQueryErrors(t *testing.T) {
	tests := []struct {
		query string
		param string // named in the message
	}{
		{"added_after=yesterday", "added_after"},
		{"added_after=2025-13-01T00:00:00Z", "added_after"},
		{"limit=0", "limit"},
		{"limit=-1", "limit"},
		{"limit=ten", "limit"},
		{"limit=", "limit"},
		{"limit=1.5", "limit"},
		{"limit=1&limit=2", "limit"},
		{"added_after=2025-01-01T00:00:00Z&added_after=2025-01-02T00:00:00Z", "added_after"},
		{"next=garbage", "next"},
		{"next=2025-01-01T00:00:00.000000Z.%%%", ""},
		{"next=2025-01-01T00:00:00.000000Z.!!!", "next"},
		{"next=a&next=b", "next"},
		{"match[type]=", "match[type]"},
		{"match[type]=indicator,", "match[type]"},
		{"match[type]=Indicator", "match[type]"},
		{"match[id]=indicator--123", "match[id]"},
		{"match[id]=x", "match[id]"},
		{"match[version]=newest", "match[version]"},
		{"match[version]=all,last", "match[version]"},
		{"match[version]=first,all", "match[version]"},
		{"match[spec_version]=two", "match[spec_version]"},
		{"match[spec_version]=2..1", "match[spec_version]"},
		{"match[type]=a,b&match[type]=c", "match[type]"},
		{"%zz=1", ""},
		{"a=1;b=2", ""},
		{"match[type]=" + strings.Repeat("indicator,", maxListValues) + "malware", "match[type]"},
	}
	s := testServer()
	for _, tt := range tests {
		_, err := s.parseQuery(tt.query, collectionParams)
		if hail.ErrorCode(err) != hail.EINVALID {
			t.Errorf("parseQuery(%q) error = %v, want code %s", tt.query, err, hail.EINVALID)
			continue
		}
		if msg := hail.ErrorMessage(err); !strings.Contains(msg, tt.param) {
			t.Errorf("parseQuery(%q) message %q does not name %q", tt.query, msg, tt.param)
		}
	}
}

func TestToken(t *testing.T) {
	s := testServer()
	pos := time.Date(2025, 5, 2, 11, 20, 0, 17000, time.UTC)
	q, err := s.parseQuery("match[type]=indicator&match[version]=all&limit=2&added_after=2020-01-01T00:00:00Z", collectionParams)
	if err != nil {
		t.Fatal(err)
	}
	tok := formatToken(pos, q.Carry)
	if !strings.HasPrefix(tok, "2025-05-02T11:20:00.000017Z.") {
		t.Errorf("token %q does not start with the position", tok)
	}
	if plain := formatToken(pos, url.Values{}); plain != "2025-05-02T11:20:00.000017Z" {
		t.Errorf("token without filters = %q, want the bare timestamp", plain)
	}
	want := store.Filter{AddedAfter: pos, Limit: 2, Types: []string{"indicator"}, Versions: []string{"all"}}
	later := pos.Add(time.Hour)
	for _, tt := range []struct {
		name  string
		query string
		want  store.Filter
	}{
		{"filters omitted", "next=" + url.QueryEscape(tok), want},
		{"filters repeated", "match[type]=indicator&match[version]=all&limit=2&next=" + url.QueryEscape(tok), want},
		{"request overrides token", "match[type]=malware&next=" + url.QueryEscape(tok),
			store.Filter{AddedAfter: pos, Limit: 2, Types: []string{"malware"}, Versions: []string{"all"}}},
		{"earlier added_after", "added_after=2020-01-01T00:00:00Z&next=" + url.QueryEscape(tok), want},
		{"later added_after wins", "added_after=" + url.QueryEscape(later.Format(time.RFC3339Nano)) + "&next=" + url.QueryEscape(tok),
			store.Filter{AddedAfter: later, Limit: 2, Types: []string{"indicator"}, Versions: []string{"all"}}},
		{"token as added_after", "added_after=" + url.QueryEscape(tok), store.Filter{AddedAfter: pos, Limit: 1000}},
		{"header value as next", "next=2025-05-02T11:20:00.000017Z", store.Filter{AddedAfter: pos, Limit: 1000}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.parseQuery(tt.query, collectionParams)
			if err != nil {
				t.Fatalf("parseQuery(%q): %v", tt.query, err)
			}
			if !reflect.DeepEqual(got.Filter, tt.want) {
				t.Errorf("parseQuery(%q) = %+v, want %+v", tt.query, got.Filter, tt.want)
			}
		})
	}
	// A token is only as good as the filters in it: they are validated again.
	forged := "2025-01-01T00:00:00.000000Z." + b64("match%5Btype%5D=NOT+A+TYPE")
	if _, err := s.parseQuery("next="+url.QueryEscape(forged), collectionParams); hail.ErrorCode(err) != hail.EINVALID {
		t.Errorf("forged token filter: error %v, want %s", err, hail.EINVALID)
	}
	alien := "2025-01-01T00:00:00.000000Z." + b64("collection=other")
	if _, err := s.parseQuery("next="+url.QueryEscape(alien), collectionParams); hail.ErrorCode(err) != hail.EINVALID {
		t.Errorf("token with an unknown parameter: error %v, want %s", err, hail.EINVALID)
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"", "added_after=2025-05-01T00:00:00Z&limit=10", "match[type]=indicator,malware&match[version]=all",
		"next=2025-05-02T11:20:00.000017Z.bWF0Y2glNUJ0eXBlJTVEPWluZGljYXRvcg", "limit=1e9", "match[version]=first,last",
	} {
		f.Add(s)
	}
	s := testServer()
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := s.parseQuery(raw, collectionParams)
		if err != nil {
			if hail.ErrorCode(err) != hail.EINVALID {
				t.Fatalf("parseQuery(%q) error code %s, want %s", raw, hail.ErrorCode(err), hail.EINVALID)
			}
			return
		}
		if q.Limit <= 0 || q.Limit > store.MaxLimit {
			t.Fatalf("parseQuery(%q) limit %d out of range", raw, q.Limit)
		}
		// The next token of any accepted query reproduces its filters.
		pos := time.Date(2025, 1, 1, 0, 0, 0, 1000, time.UTC)
		tok := formatToken(pos, q.Carry)
		q2, err := s.parseQuery("next="+url.QueryEscape(tok), collectionParams)
		if err != nil {
			t.Fatalf("token %q of %q: %v", tok, raw, err)
		}
		q.AddedAfter = pos
		if !reflect.DeepEqual(q.Filter, q2.Filter) {
			t.Fatalf("token of %q gives %+v, want %+v", raw, q2.Filter, q.Filter)
		}
	})
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
