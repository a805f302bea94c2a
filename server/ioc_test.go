package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"hail/auth"
	"hail/server"
	"hail/store"
)

// IOC API fixture: collection "all" in the default root, readable by key
// "analyst" only (and admin).
const (
	collAll    = "88888888-8888-4888-8888-888888888888"
	identityID = "identity--00000384-0000-4000-8000-000000000384"
	tlpGreen   = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
)

// iocNow is the server clock of IOC tests: expiry is judged against it.
var iocNow = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// newIOCEnv starts a server whose "all" collection holds no IOCs yet.
// Collection "open" is public.
func newIOCEnv(tb testing.TB) *env {
	tb.Helper()
	e := newEnv(tb, server.Config{Now: func() time.Time { return iocNow }}, true)
	ctx := context.Background()
	if err := e.db.CreateCollection(ctx, store.Collection{ID: collAll, APIRoot: "api", Alias: "all", Title: "All"}); err != nil {
		tb.Fatal(err)
	}
	secret, hash := auth.NewKey()
	if err := e.db.CreateKey(ctx, store.Key{Name: "analyst", Hash: hash, Read: []string{collAll}}); err != nil {
		tb.Fatal(err)
	}
	e.keys["analyst"] = secret
	return e
}

// iocInd returns an indicator numbered n with pattern p and more
// properties (JSON members with a leading comma, or "").
func iocInd(n int, p, more string) string {
	return fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%s","created":"2025-01-01T00:00:00.000Z",`+
		`"modified":"2025-01-01T00:00:00.000Z","name":"IOC %d","pattern":%q,"pattern_type":"stix",`+
		`"valid_from":"2025-01-01T00:00:00Z"%s}`, uuidN(n), n, p, more)
}

// seedIOCs fills "all" with the standard IOC fixture and returns the
// expected value of every IOC listed by default (neither expired nor
// revoked), by type.
func seedIOCs(tb testing.TB, e *env) map[string][]string {
	tb.Helper()
	e.seed(tb, collAll,
		`{"type":"identity","spec_version":"2.1","id":"`+identityID+`","created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z","name":"ACME CERT","identity_class":"organization"}`,
		iocInd(1, "[ipv4-addr:value = '198.51.100.7']", `,"confidence":80,"indicator_types":["malicious-activity","anomalous-activity"],`+
			`"labels":["botnet","c2"],"object_marking_refs":["`+tlpGreen+`"],"valid_until":"2026-01-01T00:00:00Z",`+
			`"description":"C2 server","created_by_ref":"`+identityID+`"`),
		iocInd(2, "[ipv4-addr:value = '10.0.0.0/8']", `,"confidence":50`),
		iocInd(3, "[ipv6-addr:value = '2001:DB8::1']", `,"confidence":70`),
		iocInd(4, "[ipv6-addr:value = '2001:db8:abcd::/48']", `,"confidence":70`),
		iocInd(5, "[domain-name:value = 'EVIL.Example']", `,"confidence":90`),
		iocInd(6, "[url:value = 'http://evil.example/payload']", `,"confidence":90`),
		iocInd(7, "[file:hashes.'SHA-256' = '"+strings.Repeat("AB", 32)+"']", `,"confidence":40`),
		iocInd(8, "[file:hashes.MD5 = '"+strings.Repeat("0f", 16)+"']", ``),
		iocInd(9, "[email-addr:value = 'Phish@Evil.Example']", `,"confidence":65`),
		iocInd(10, "[ipv4-addr:value = '192.0.2.1' OR ipv4-addr:value = '192.0.2.2']", `,"confidence":60`),
		iocInd(11, "[ipv4-addr:value = '192.0.2.99']", `,"confidence":95,"valid_until":"2025-02-01T00:00:00Z"`),
		iocInd(12, "[ipv4-addr:value = '192.0.2.100']", `,"confidence":95,"revoked":true`),
		iocInd(13, "[domain-name:value = 'meh.example']", `,"confidence":10`),
		`{"type":"vulnerability","spec_version":"2.1","id":"vulnerability--`+uuidN(14)+`","created":"2025-01-01T00:00:00.000Z",`+
			`"modified":"2025-01-01T00:00:00.000Z","name":"CVE-2024-3094","external_references":[{"source_name":"cve","external_id":"CVE-2024-3094"}]}`,
	)
	return map[string][]string{
		"ipv4":   {"198.51.100.7", "192.0.2.1", "192.0.2.2"},
		"cidr":   {"10.0.0.0/8", "2001:db8:abcd::/48"},
		"ipv6":   {"2001:db8::1"},
		"domain": {"evil.example", "meh.example"},
		"url":    {"http://evil.example/payload"},
		"sha256": {strings.Repeat("ab", 32)},
		"md5":    {strings.Repeat("0f", 16)},
		"email":  {"phish@evil.example"},
		"cve":    {"CVE-2024-3094"},
	}
}

// values returns the sorted values of want for the given types (every
// type when none).
func values(want map[string][]string, types ...string) []string {
	var out []string
	for t, vs := range want {
		if len(types) == 0 || slices.Contains(types, t) {
			out = append(out, vs...)
		}
	}
	sort.Strings(out)
	return out
}

// iocItem is the IOC API's item.
type iocItem struct {
	ID          string   `json:"id"`
	Type        string   `json:"type"`
	Value       string   `json:"value"`
	Confidence  *int     `json:"confidence"`
	ThreatType  string   `json:"threat_type"`
	Labels      []string `json:"labels"`
	TLP         string   `json:"tlp"`
	ValidFrom   *string  `json:"valid_from"`
	ValidUntil  *string  `json:"valid_until"`
	Revoked     bool     `json:"revoked"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Source      string   `json:"source"`
	CreatedBy   string   `json:"created_by"`
	IndicatorID string   `json:"indicator_id"`
	Created     *string  `json:"created"`
	Modified    *string  `json:"modified"`
	DateAdded   string   `json:"date_added"`
}

// iocList is the listing's body.
type iocList struct {
	Data       []iocItem `json:"data"`
	More       bool      `json:"more"`
	NextCursor *string   `json:"next_cursor"`
}

// itemValues returns the sorted values of items.
func itemValues(items []iocItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Value
	}
	sort.Strings(out)
	return out
}

// rest sends an IOC API request with the named fixture key as a bearer
// token ("" for none). Every error response is checked for the API's
// error shape and Content-Type, and a 500 is always reported.
func (e *env) rest(t testing.TB, method, path, key string, body io.Reader) *response {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+e.keys[key])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := &response{status: res.StatusCode, header: res.Header, body: b}
	if r.status == http.StatusInternalServerError {
		t.Errorf("%s %s: 500 %s", method, path, b)
	}
	if r.status >= 400 {
		checkRESTError(t, r)
	}
	return r
}

// checkRESTError checks an error response: application/json, and a body
// {"error": {"code": …, "message": …}} with nothing else.
func checkRESTError(t testing.TB, r *response) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type %q, want application/json", ct)
	}
	var body map[string]map[string]string
	if err := json.Unmarshal(r.body, &body); err != nil || len(body) != 1 || len(body["error"]) != 2 ||
		body["error"]["code"] == "" || body["error"]["message"] == "" {
		t.Errorf("error body %s, want {\"error\": {\"code\": …, \"message\": …}}", r.body)
	}
}

// errorCode returns the code of an error response.
func errorCode(t testing.TB, r *response) string {
	t.Helper()
	var body struct{ Error struct{ Code string } }
	json.Unmarshal(r.body, &body)
	return body.Error.Code
}

// list gets one listing page and decodes it.
func (e *env) list(t testing.TB, query, key string) iocList {
	t.Helper()
	r := e.rest(t, http.MethodGet, "/api/v1/iocs?"+query, key, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /api/v1/iocs?%s: status %d, body %s", query, r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var l iocList
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return l
}

// listAll follows next_cursor from query to the end and returns every item.
func (e *env) listAll(t testing.TB, query, key string) []iocItem {
	t.Helper()
	var out []iocItem
	for range 100000 {
		l := e.list(t, query, key)
		out = append(out, l.Data...)
		if !l.More {
			if l.NextCursor != nil {
				t.Errorf("last page has next_cursor %q", *l.NextCursor)
			}
			return out
		}
		if l.NextCursor == nil || *l.NextCursor == "" || len(l.Data) == 0 {
			t.Fatalf("page with more=true has %d items and next_cursor %v", len(l.Data), l.NextCursor)
		}
		query = "cursor=" + url.QueryEscape(*l.NextCursor)
	}
	t.Fatal("paging does not end")
	return nil
}

func TestIOCListItem(t *testing.T) {
	e := newIOCEnv(t)
	seedIOCs(t, e)
	r := e.rest(t, http.MethodGet, "/api/v1/iocs?type=ipv4", "analyst", nil)
	var raw struct{ Data []map[string]json.RawMessage }
	if err := json.Unmarshal(r.body, &raw); err != nil || len(raw.Data) == 0 {
		t.Fatalf("body %s: %v", r.body, err)
	}
	var keys []string
	for k := range raw.Data[0] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	wantKeys := []string{"confidence", "created", "created_by", "date_added", "description", "id", "indicator_id", "labels",
		"modified", "name", "revoked", "source", "threat_type", "tlp", "type", "valid_from", "valid_until", "value"}
	if !reflect.DeepEqual(keys, wantKeys) {
		t.Errorf("item keys %q, want %q", keys, wantKeys)
	}

	l := e.list(t, "type=ipv4", "analyst")
	var got *iocItem
	for i := range l.Data {
		if l.Data[i].Value == "198.51.100.7" {
			got = &l.Data[i]
		}
	}
	if got == nil {
		t.Fatalf("198.51.100.7 not listed: %+v", l.Data)
	}
	conf := 80
	str := func(s string) *string { return &s }
	ind := "indicator--" + uuidN(1)
	want := iocItem{
		ID: store.IOCID(ind, "ipv4", "198.51.100.7"), Type: "ipv4", Value: "198.51.100.7", Confidence: &conf,
		ThreatType: "malicious-activity", Labels: []string{"botnet", "c2"}, TLP: "green",
		ValidFrom: str("2025-01-01T00:00:00.000000Z"), ValidUntil: str("2026-01-01T00:00:00.000000Z"),
		Name: "IOC 1", Description: "C2 server", Source: "ACME CERT", CreatedBy: identityID, IndicatorID: ind,
		Created: str("2025-01-01T00:00:00.000Z"), Modified: str("2025-01-01T00:00:00.000Z"), DateAdded: got.DateAdded,
	}
	if !reflect.DeepEqual(*got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("item\n got %s\nwant %s", g, w)
	}
	if _, err := time.Parse(time.RFC3339Nano, got.DateAdded); err != nil {
		t.Errorf("date_added %q is not a timestamp", got.DateAdded)
	}

	// An indicator that lacks the optional properties: nulls, empty
	// strings and an empty list, never missing keys.
	l = e.list(t, "type=md5", "analyst")
	if len(l.Data) != 1 {
		t.Fatalf("md5 items %+v, want 1", l.Data)
	}
	md5 := l.Data[0]
	if md5.Confidence != nil || md5.ValidUntil != nil || md5.Labels == nil || len(md5.Labels) != 0 || md5.TLP != "" || md5.Source != "" {
		t.Errorf("md5 item %+v: want confidence and valid_until null, labels [], tlp and source empty", md5)
	}
}

func TestIOCListFilters(t *testing.T) {
	e := newIOCEnv(t)
	want := seedIOCs(t, e)
	l := e.list(t, "", "analyst")
	var idx5 string // date_added of the domain evil.example, for since
	for _, it := range l.Data {
		if it.Value == "evil.example" {
			idx5 = it.DateAdded
		}
	}
	if idx5 == "" {
		t.Fatalf("evil.example not listed: %+v", l.Data)
	}
	all := values(want)
	sinceWant := []string{"192.0.2.1", "192.0.2.2", "CVE-2024-3094", "http://evil.example/payload", "meh.example",
		"phish@evil.example", strings.Repeat("0f", 16), strings.Repeat("ab", 32)}
	sort.Strings(sinceWant)
	tests := []struct {
		name, query string
		want        []string
	}{
		{"no filter", "", all},
		{"collection default is all", "collection=all", all},
		{"collection by id", "collection=" + collAll, all},
		{"collection root/alias", "collection=api/all", all},
		{"one type", "type=ipv4", values(want, "ipv4")},
		{"type upper case", "type=IPv4", values(want, "ipv4")},
		{"type comma list", "type=ipv4,domain", values(want, "ipv4", "domain")},
		{"type repeated", "type=ipv4&type=domain", values(want, "ipv4", "domain")},
		{"type empty item", "type=ipv4,", values(want, "ipv4")},
		{"type empty", "type=", all},
		{"type group ip", "type=ip", values(want, "ipv4", "ipv6", "cidr")},
		{"type group hash", "type=hash", values(want, "md5", "sha256")},
		{"type cve", "type=cve", values(want, "cve")},
		{"type without rows", "type=mutex", nil},
		{"min_confidence", "min_confidence=70", []string{"198.51.100.7", "2001:db8::1", "2001:db8:abcd::/48", "evil.example", "http://evil.example/payload"}},
		{"min_confidence 0 drops rows without confidence", "min_confidence=0&type=md5,sha256", values(want, "sha256")},
		{"include_expired", "include_expired=true&type=ipv4", append(values(want, "ipv4"), "192.0.2.99")},
		{"include_expired flag", "include_expired&type=ipv4", append(values(want, "ipv4"), "192.0.2.99")},
		{"include_expired false", "include_expired=false&type=ipv4", values(want, "ipv4")},
		{"include_revoked", "include_revoked=1&type=ipv4", append(values(want, "ipv4"), "192.0.2.100")},
		{"include both", "include_revoked=yes&include_expired=on&type=ipv4", append(values(want, "ipv4"), "192.0.2.100", "192.0.2.99")},
		{"since is exclusive", "since=" + url.QueryEscape(idx5), sinceWant},
		{"since date", "since=2025-01-01", all},
		{"since as Logic Apps' utcNow writes it", "since=2025-01-01T00:00:00.1234567Z", all},
		{"since with an offset", "since=" + url.QueryEscape("2025-01-01T02:00:00+02:00"), all},
		{"since later than all", "since=2030-01-01T00:00:00Z", nil},
		{"filters combined", "type=ipv4,domain&min_confidence=60&since=" + url.QueryEscape(idx5), []string{"192.0.2.1", "192.0.2.2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := itemValues(e.listAll(t, tt.query, "analyst"))
			wantSorted := slices.Clone(tt.want)
			sort.Strings(wantSorted)
			if !slices.Equal(got, wantSorted) {
				t.Errorf("GET ?%s values\n got %q\nwant %q", tt.query, got, wantSorted)
			}
		})
	}
}

func TestIOCListOtherCollections(t *testing.T) {
	e := newIOCEnv(t)
	e.seed(t, collIntel, iocInd(50, "[domain-name:value = 'intel.example']", ""))
	e.seed(t, collOpen, iocInd(51, "[domain-name:value = 'open.example']", ""))
	tests := []struct{ query, key, want string }{
		{"collection=intel", "reader", "intel.example"},
		{"collection=" + collIntel, "admin", "intel.example"},
		{"collection=open", "", "open.example"},
		{"collection=api/open", "nobody", "open.example"},
	}
	for _, tt := range tests {
		got := itemValues(e.listAll(t, tt.query, tt.key))
		if !slices.Equal(got, []string{tt.want}) {
			t.Errorf("GET ?%s as %q: values %q, want [%q]", tt.query, tt.key, got, tt.want)
		}
	}
}

func TestIOCPaging(t *testing.T) {
	e := newIOCEnv(t)
	want := seedIOCs(t, e)
	// One indicator with many observables, so that pages end inside one
	// date_added and the cursor's ordinal matters.
	const many = 30
	var ips []string
	for i := range many {
		ips = append(ips, fmt.Sprintf("'100.64.0.%d'", i+1))
	}
	e.seed(t, collAll, iocInd(60, "[ipv4-addr:value IN ("+strings.Join(ips, ", ")+")]", ""))
	full := e.listAll(t, "limit=10000", "analyst")
	if len(full) != len(values(want))+many {
		t.Fatalf("one page: %d items, want %d", len(full), len(values(want))+many)
	}
	for _, tt := range []struct {
		query string
		types []string
	}{
		{"limit=1", nil},
		{"limit=7", nil},
		{"limit=16", nil},
		{"limit=3&type=ip", []string{"ipv4", "ipv6", "cidr"}},
		{"limit=2&type=domain&min_confidence=50", nil},
	} {
		t.Run(tt.query, func(t *testing.T) {
			got := e.listAll(t, tt.query, "analyst")
			seen := map[string]int{}
			for _, it := range got {
				seen[it.ID]++
			}
			for id, n := range seen {
				if n != 1 {
					t.Errorf("item %s listed %d times", id, n)
				}
			}
			vals, _ := url.ParseQuery(tt.query)
			vals.Set("limit", "10000")
			one := e.list(t, vals.Encode(), "analyst")
			if one.More {
				t.Fatalf("GET ?%s: more pages, want one", vals.Encode())
			}
			if !reflect.DeepEqual(got, one.Data) {
				t.Errorf("paged listing (%d items) differs from one-page listing (%d items)", len(got), len(one.Data))
			}
			for _, it := range got {
				if tt.types != nil && !slices.Contains(tt.types, it.Type) {
					t.Errorf("page after the first lost the type filter: %+v", it)
				}
			}
		})
	}
	// The cursor carries the filters, and parameters sent with it win.
	first := e.list(t, "type=cidr&limit=1", "analyst")
	if !first.More || first.NextCursor == nil {
		t.Fatalf("first page %+v, want more", first)
	}
	rest := e.list(t, "cursor="+url.QueryEscape(*first.NextCursor), "analyst")
	if len(rest.Data) != 1 || rest.Data[0].Type != "cidr" || rest.More {
		t.Errorf("second page %+v, want the other cidr only", rest)
	}
	over := e.list(t, "type=ipv6&cursor="+url.QueryEscape(*first.NextCursor), "analyst")
	if got := itemValues(over.Data); !slices.Equal(got, []string{"2001:db8::1"}) {
		t.Errorf("cursor with type=ipv6: %q, want [2001:db8::1]", got)
	}
}

func TestIOCLimitClamped(t *testing.T) {
	e := newIOCEnv(t)
	seedIOCs(t, e)
	for _, q := range []string{"limit=999999", "limit=99999999999999999999999"} {
		if l := e.list(t, q, "analyst"); len(l.Data) != 13 || l.More {
			t.Errorf("GET ?%s: %d items, more %v; want 13, false", q, len(l.Data), l.More)
		}
	}
}

func TestIOCAuth(t *testing.T) {
	e := newIOCEnv(t)
	seedIOCs(t, e)
	tests := []struct {
		name, method, path, key string
		auth                    string // raw Authorization header, instead of key
		wantStatus              int
		wantCode                string
	}{
		{"no key", "GET", "/api/v1/iocs", "", "", 401, "unauthenticated"},
		{"no key lookup", "GET", "/api/v1/iocs/lookup?value=198.51.100.7", "", "", 401, "unauthenticated"},
		{"no key export", "GET", "/api/v1/iocs/export", "", "", 401, "unauthenticated"},
		{"no key missing collection", "GET", "/api/v1/iocs?collection=nope", "", "", 401, "unauthenticated"},
		{"wrong key", "GET", "/api/v1/iocs", "", "Bearer not-a-key", 401, "unauthenticated"},
		{"empty bearer", "GET", "/api/v1/iocs", "", "Bearer ", 401, "unauthenticated"},
		{"revoked key", "GET", "/api/v1/iocs", "revoked", "", 401, "unauthenticated"},
		{"unreadable collection", "GET", "/api/v1/iocs", "reader", "", 404, "not_found"},
		{"unreadable lookup", "GET", "/api/v1/iocs/lookup?value=198.51.100.7", "reader", "", 404, "not_found"},
		{"unreadable export", "GET", "/api/v1/iocs/export", "reader", "", 404, "not_found"},
		{"write-only collection", "GET", "/api/v1/iocs?collection=drop", "writer", "", 404, "not_found"},
		{"missing collection", "GET", "/api/v1/iocs?collection=nope", "analyst", "", 404, "not_found"},
		{"missing root", "GET", "/api/v1/iocs?collection=nope/all", "admin", "", 404, "not_found"},
		{"reader", "GET", "/api/v1/iocs", "analyst", "", 200, ""},
		{"admin", "GET", "/api/v1/iocs", "admin", "", 200, ""},
		{"basic auth also works", "GET", "/api/v1/iocs", "", basic("apikey", e.keys["analyst"]), 200, ""},
		{"anonymous on public collection", "GET", "/api/v1/iocs?collection=open", "", "", 200, ""},
		{"trailing slash", "GET", "/api/v1/iocs/", "analyst", "", 200, ""},
		{"lookup trailing slash", "GET", "/api/v1/iocs/lookup/?value=x", "analyst", "", 200, ""},
		{"unknown endpoint", "GET", "/api/v1/nothing", "analyst", "", 404, "not_found"},
		{"method not allowed", "DELETE", "/api/v1/iocs", "analyst", "", 405, "method_not_allowed"},
		{"method not allowed export", "POST", "/api/v1/iocs/export", "analyst", "", 405, "method_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, e.srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.auth != "":
				req.Header.Set("Authorization", tt.auth)
			case tt.key != "":
				req.Header.Set("Authorization", "Bearer "+e.keys[tt.key])
			}
			res, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			r := &response{status: res.StatusCode, header: res.Header, body: b}
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.wantStatus, b)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			if tt.wantStatus < 400 {
				return
			}
			checkRESTError(t, r)
			if got := errorCode(t, r); got != tt.wantCode {
				t.Errorf("code %q, want %q", got, tt.wantCode)
			}
			if tt.wantStatus == 401 {
				if got := r.header.Values("WWW-Authenticate"); !slices.Equal(got, []string{`Bearer realm="hail"`}) {
					t.Errorf("WWW-Authenticate %q, want [Bearer realm=\"hail\"]", got)
				}
			}
			if tt.wantStatus == 405 && r.header.Get("Allow") == "" {
				t.Errorf("405 without Allow")
			}
		})
	}
}

func TestIOCAcceptIgnored(t *testing.T) {
	e := newIOCEnv(t)
	for _, accept := range []string{"text/html", "application/taxii+json;version=2.0", "text/csv", "*/*"} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/iocs", nil)
		req.Header.Set("Accept", accept)
		req.Header.Set("Authorization", "Bearer "+e.keys["analyst"])
		res, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" {
			t.Errorf("Accept %q: status %d, Content-Type %q; want 200 application/json", accept, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
}

func TestIOCBadParameters(t *testing.T) {
	e := newIOCEnv(t)
	seedIOCs(t, e)
	for _, q := range []string{
		"limit=0", "limit=-1", "limit=abc", "limit=1.5", "limit=1&limit=2",
		"min_confidence=101", "min_confidence=-1", "min_confidence=high", "min_confidence=50&min_confidence=60",
		"since=yesterday", "since=2025-13-01", "since=1&since=2",
		"include_expired=maybe", "include_revoked=2",
		"type=ipv5", "type=ipv4,foo", "type=ipv4&type=foo",
		"cursor=garbage!", "cursor=" + url.QueryEscape("YWZ0ZXI9eA"), "cursor=a&cursor=b",
		"collection=", "collection=all&collection=all",
		"%zz", "type=%",
	} {
		for _, p := range []string{"/api/v1/iocs", "/api/v1/iocs/export", "/api/v1/iocs/lookup"} {
			if strings.HasPrefix(q, "cursor") && p != "/api/v1/iocs" {
				continue // only the listing pages
			}
			path := p + "?" + q
			if p == "/api/v1/iocs/lookup" {
				path += "&value=198.51.100.7"
			}
			r := e.rest(t, http.MethodGet, path, "analyst", nil)
			if r.status != 400 || errorCode(t, r) != "invalid" {
				t.Errorf("GET %s: status %d body %s, want 400 invalid", path, r.status, r.body)
			}
		}
	}
}

func TestIOCGarbageNever500(t *testing.T) {
	e := newIOCEnv(t)
	seedIOCs(t, e)
	garbage := []string{
		"", "%00", "\x00", "%FF%FE", "' OR 1=1 --", "\"", "\\", "ipv4\x00", strings.Repeat("a", 10000),
		"9999999999999999999999999", "-0", "+1", "0x10", "NaN", "1e3", "true,false", "[]", "{}", "%2C%2C%2C",
		"2025-05-01T00:00:00.000000Z.", "../../etc/passwd", "all/../secret", "api/", "/", "//", "*", "%25",
		"\u202e", "💥", "null", "undefined", "cidr,ip,hash,IP", "ALL",
	}
	params := []string{"type", "collection", "since", "min_confidence", "include_expired", "include_revoked", "limit", "cursor", "format", "value"}
	paths := []string{"/api/v1/iocs", "/api/v1/iocs/lookup", "/api/v1/iocs/export"}
	for _, p := range paths {
		for _, param := range params {
			for _, g := range garbage {
				path := p + "?" + param + "=" + url.QueryEscape(g)
				r := e.rest(t, http.MethodGet, path, "analyst", nil)
				if r.status >= 500 {
					t.Errorf("GET %s: status %d", path, r.status)
				}
			}
		}
		// Raw, unescaped garbage in the query string itself.
		for _, raw := range []string{"&&&", "=", "type", "type==", ";", "a=%", "%", "limit=%31%30"} {
			r := e.rest(t, http.MethodGet, p+"?"+raw, "analyst", nil)
			if r.status >= 500 {
				t.Errorf("GET %s?%s: status %d", p, raw, r.status)
			}
		}
	}
	for _, body := range []string{"", "null", "[]", "{}", `{"values":null}`, `{"values":"x"}`, `{"values":[1,2]}`,
		`{"values":[null]}`, `{"values":[""]}`, "\x00", `{"values":["a"]}{}`, strings.Repeat("[", 100000)} {
		r := e.rest(t, http.MethodPost, "/api/v1/iocs/lookup", "analyst", strings.NewReader(body))
		if r.status >= 500 {
			t.Errorf("POST lookup %q: status %d", truncateForLog(body), r.status)
		}
	}
}

func truncateForLog(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
