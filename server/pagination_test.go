package server_test

import (
	"cmp"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"hail/server"
	"hail/store"
	"hail/taxii"
)

// page is one page of a walk as the client saw it.
type page struct {
	env         envelopeBody
	first, last string // X-TAXII-Date-Added-First and -Last
}

// fetch gets one objects page.
func (e *env) fetch(t *testing.T, coll, query, key string) page {
	t.Helper()
	r := e.get(t, "/taxii2/api/collections/"+coll+"/objects/?"+query, key)
	if r.status != 200 {
		t.Fatalf("GET objects?%s: %d %s", query, r.status, r.body)
	}
	var p page
	r.json(t, &p.env)
	p.first, p.last = r.header.Get("X-TAXII-Date-Added-First"), r.header.Get("X-TAXII-Date-Added-Last")
	if p.env.More == nil {
		t.Errorf("GET objects?%s: no \"more\" in %s", query, r.body)
	}
	if more := p.env.More != nil && *p.env.More; more != (p.env.Next != nil) {
		t.Errorf("GET objects?%s: more %v but next %v", query, more, p.env.Next)
	}
	return p
}

// versionKeys returns "id|modified" for each object of a page.
func versionKeys(t *testing.T, objs []json.RawMessage) []string {
	t.Helper()
	out := make([]string, len(objs))
	for i, o := range objs {
		var h struct{ ID, Modified string }
		if err := json.Unmarshal(o, &h); err != nil {
			t.Fatal(err)
		}
		out[i] = h.ID + "|" + h.Modified
	}
	return out
}

// oracle asks the store directly what a complete walk must return, and the
// date_added of each entry.
func (e *env) oracle(t *testing.T, coll string, f store.Filter) (keys []string, added map[string]string) {
	t.Helper()
	f.Limit = store.MaxLimit
	p, err := e.db.Objects(context.Background(), coll, f)
	if err != nil || p.More {
		t.Fatalf("oracle: %v, more %v", err, p.More)
	}
	added = map[string]string{}
	for _, en := range p.Entries {
		k := en.Object.ID + "|" + en.Object.Modified
		keys = append(keys, k)
		added[k] = taxii.FormatTimestamp(en.DateAdded)
	}
	return keys, added
}

// seedPagination fills intel with 30 indicators, 6 malware and new versions
// of 10 indicators, interleaved.
func seedPagination(t *testing.T, e *env) {
	t.Helper()
	var objs []string
	for i := 1; i <= 30; i++ {
		objs = append(objs, indicator(i, "2024-01-01T00:00:00.000Z"))
		if i%5 == 0 {
			objs = append(objs, malware(100+i))
		}
	}
	e.seed(t, collIntel, objs...)
	for i := 1; i <= 30; i += 3 {
		e.seed(t, collIntel, indicator(i, "2024-06-01T00:00:00.000Z"))
	}
}

func TestPagination(t *testing.T) {
	e := newEnv(t, server.Config{}, true)
	seedPagination(t, e)
	const early = "added_after=2000-01-01T00:00:00Z"
	tests := []struct {
		name   string
		filter string       // the first request's query, without limit
		limit  int          // 7 when 0
		want   store.Filter // the same query for the oracle
		// follow builds the query of the next request from the first one,
		// the previous next token and X-TAXII-Date-Added-Last.
		follow func(filter, next, last string) string
	}{
		{"next with filters repeated", "", 0, store.Filter{},
			func(f, next, _ string) string { return f + "&next=" + url.QueryEscape(next) }},
		{"next alone", "", 0, store.Filter{},
			func(_, next, _ string) string { return "next=" + url.QueryEscape(next) }},
		{"next with added_after kept (OpenCTI)", early, 0, store.Filter{},
			func(f, next, _ string) string { return f + "&next=" + url.QueryEscape(next) }},
		{"added_after = X-TAXII-Date-Added-Last", "", 0, store.Filter{},
			func(f, _, last string) string { return f + "&added_after=" + url.QueryEscape(last) }},
		{"next sent as added_after (old XSOAR)", "", 0, store.Filter{},
			func(f, next, _ string) string { return f + "&added_after=" + url.QueryEscape(next) }},
		{"filtered, next alone", "match[type]=malware", 2, store.Filter{Types: []string{"malware"}},
			func(_, next, _ string) string { return "next=" + url.QueryEscape(next) }},
		{"all versions, next alone", "match[version]=all", 0, store.Filter{Versions: []string{"all"}},
			func(_, next, _ string) string { return "next=" + url.QueryEscape(next) }},
		{"all versions, filters repeated", "match[version]=all&match[type]=indicator", 0,
			store.Filter{Versions: []string{"all"}, Types: []string{"indicator"}},
			func(f, next, _ string) string { return f + "&next=" + url.QueryEscape(next) }},
		{"all versions by X-TAXII-Date-Added-Last", "match[version]=all", 0, store.Filter{Versions: []string{"all"}},
			func(f, _, last string) string { return f + "&added_after=" + url.QueryEscape(last) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, added := e.oracle(t, collIntel, tt.want)
			limit := cmp.Or(tt.limit, 7)
			filter := tt.filter + "&limit=" + strconv.Itoa(limit)
			if len(want) <= 2*limit {
				t.Fatalf("oracle gives %d entries; the fixture is too small to page", len(want))
			}
			var got []string
			query := filter
			for pages := 0; ; pages++ {
				if pages > 50 {
					t.Fatalf("no end after %d pages", pages)
				}
				p := e.fetch(t, collIntel, query, "reader")
				keys := versionKeys(t, p.env.Objects)
				if len(keys) > limit {
					t.Errorf("page of %d entries, limit %d", len(keys), limit)
				}
				if len(keys) > 0 && (p.first != added[keys[0]] || p.last != added[keys[len(keys)-1]]) {
					t.Errorf("X-TAXII-Date-Added-First/Last %q/%q, want %q/%q",
						p.first, p.last, added[keys[0]], added[keys[len(keys)-1]])
				}
				got = append(got, keys...)
				if !*p.env.More {
					break
				}
				query = tt.follow(filter, *p.env.Next, p.last)
			}
			if !slices.Equal(got, want) {
				t.Errorf("walk returned %d entries %v, want each of %d exactly once: %v", len(got), got, len(want), want)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	e := newEnv(t, server.Config{DefaultLimit: 4, MaxLimit: 10}, true)
	seedPagination(t, e)
	for _, tt := range []struct {
		query string
		n     int
	}{{"", 4}, {"limit=3", 3}, {"limit=10", 10}, {"limit=11", 10}, {"limit=100000000000000000000", 10}} {
		p := e.fetch(t, collIntel, tt.query, "reader")
		if len(p.env.Objects) != tt.n || !*p.env.More {
			t.Errorf("GET objects?%s: %d objects, more %v; want %d and more", tt.query, len(p.env.Objects), *p.env.More, tt.n)
		}
	}
	// Exactly a page's worth left: the page holds it all and says no more.
	want, _ := e.oracle(t, collIntel, store.Filter{Types: []string{"malware"}})
	p := e.fetch(t, collIntel, "match[type]=malware&limit="+strconv.Itoa(len(want)), "reader")
	if len(p.env.Objects) != len(want) || *p.env.More || p.env.Next != nil {
		t.Errorf("exact page: %d objects, more %v, next %v; want %d, false, none", len(p.env.Objects), *p.env.More, p.env.Next, len(want))
	}
}

// TestVolume posts MITRE ATT&CK for Mobile in chunks and reads it back
// page by page.
func TestVolume(t *testing.T) {
	const path = "../../shared/data/mobile-attack-17.1.json"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("shared data not available (%v); it lives beside the repository at %s", err, path)
	}
	var bundle struct{ Objects []json.RawMessage }
	if err := json.Unmarshal(raw, &bundle); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, server.Config{}, true)
	var stored []string
	failures := 0
	const chunk = 300
	for i := 0; i < len(bundle.Objects); i += chunk {
		objs := bundle.Objects[i:min(i+chunk, len(bundle.Objects))]
		body, _ := json.Marshal(map[string]any{"objects": objs})
		r := e.post(t, "rw", "admin", string(body))
		if r.status != 202 {
			t.Fatalf("POST chunk %d: %d %s", i/chunk, r.status, r.body)
		}
		var st taxii.Status
		r.json(t, &st)
		checkStatus(t, st, len(objs), st.SuccessCount, st.FailureCount)
		for _, s := range st.Successes {
			stored = append(stored, s.ID)
		}
		for _, f := range st.Failures {
			t.Logf("refused %s: %s", f.ID, f.Message)
		}
		failures += st.FailureCount
	}
	if failures > len(bundle.Objects)/100 {
		t.Errorf("%d of %d objects refused", failures, len(bundle.Objects))
	}
	var got []string
	query := "limit=500"
	for pages := 0; ; pages++ {
		if pages > 20 {
			t.Fatal("no end after 20 pages")
		}
		p := e.fetch(t, collRW, query, "admin")
		for _, k := range versionKeys(t, p.env.Objects) {
			id, _, _ := strings.Cut(k, "|")
			got = append(got, id)
		}
		if !*p.env.More {
			break
		}
		query = "limit=500&next=" + url.QueryEscape(*p.env.Next)
	}
	sort.Strings(got)
	sort.Strings(stored)
	if !slices.Equal(got, stored) {
		t.Errorf("paged back %d ids, stored %d; they differ", len(got), len(stored))
	}
	t.Logf("%d objects posted, %d stored and read back in pages of 500", len(bundle.Objects), len(got))
}
