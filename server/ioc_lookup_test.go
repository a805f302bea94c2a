package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// lookupItem is one answer of a lookup.
type lookupItem struct {
	Value      string    `json:"value"`
	Type       string    `json:"type"`
	Normalized string    `json:"normalized"`
	Matches    []iocItem `json:"matches"`
	Error      string    `json:"error"`
}

// matchValues returns "type:value" of each match, in order.
func (l lookupItem) matchValues() []string {
	out := []string{}
	for _, m := range l.Matches {
		out = append(out, m.Type+":"+m.Value)
	}
	return out
}

// lookupGet looks values up with GET and decodes the answer.
func (e *env) lookupGet(t *testing.T, query string, values ...string) []lookupItem {
	t.Helper()
	v := url.Values{"value": values}
	path := "/api/v1/iocs/lookup?" + v.Encode()
	if query != "" {
		path += "&" + query
	}
	return e.decodeLookup(t, e.rest(t, http.MethodGet, path, "analyst", nil))
}

// lookupPost looks values up with POST and decodes the answer.
func (e *env) lookupPost(t *testing.T, values ...string) []lookupItem {
	t.Helper()
	body, _ := json.Marshal(map[string][]string{"values": values})
	return e.decodeLookup(t, e.rest(t, http.MethodPost, "/api/v1/iocs/lookup", "analyst", strings.NewReader(string(body))))
}

func (e *env) decodeLookup(t *testing.T, r *response) []lookupItem {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("lookup: status %d, body %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var body struct{ Data []lookupItem }
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return body.Data
}

func TestIOCLookup(t *testing.T) {
	e := newIOCEnv(t)
	seedIOCs(t, e)
	sha := strings.Repeat("ab", 32)
	tests := []struct {
		value, typ, normalized string
		matches                []string
	}{
		{"198.51.100.7", "ipv4", "198.51.100.7", []string{"ipv4:198.51.100.7"}},
		{" 198.51.100.7 ", "ipv4", "198.51.100.7", []string{"ipv4:198.51.100.7"}},
		{"198[.]51[.]100[.]7", "ipv4", "198.51.100.7", []string{"ipv4:198.51.100.7"}},
		{"10.1.2.3", "ipv4", "10.1.2.3", []string{"cidr:10.0.0.0/8"}},
		{"10.0.0.0/8", "cidr", "10.0.0.0/8", []string{"cidr:10.0.0.0/8"}},
		{"11.0.0.1", "ipv4", "11.0.0.1", []string{}},
		{"2001:db8::1", "ipv6", "2001:db8::1", []string{"ipv6:2001:db8::1"}},
		{"2001:0DB8:0000::0001", "ipv6", "2001:db8::1", []string{"ipv6:2001:db8::1"}},
		{"2001:db8:abcd:12::5", "ipv6", "2001:db8:abcd:12::5", []string{"cidr:2001:db8:abcd::/48"}},
		{"2001:db8:abce::5", "ipv6", "2001:db8:abce::5", []string{}},
		{"EVIL.example", "domain", "evil.example", []string{"domain:evil.example"}},
		{"evil[.]example", "domain", "evil.example", []string{"domain:evil.example"}},
		{"hxxp://evil[.]example/payload", "url", "http://evil.example/payload", []string{"url:http://evil.example/payload"}},
		{"HTTP://EVIL.EXAMPLE/payload", "url", "http://evil.example/payload", []string{"url:http://evil.example/payload"}},
		{"http://evil.example/PAYLOAD", "url", "http://evil.example/PAYLOAD", []string{}},
		{strings.ToUpper(sha), "sha256", sha, []string{"sha256:" + sha}},
		{"phish[@]evil[.]example", "email", "phish@evil.example", []string{"email:phish@evil.example"}},
		{"cve-2024-3094", "cve", "CVE-2024-3094", []string{"cve:CVE-2024-3094"}},
		{"192.0.2.99", "ipv4", "192.0.2.99", []string{}},   // expired
		{"192.0.2.100", "ipv4", "192.0.2.100", []string{}}, // revoked
	}
	var vals []string
	for _, tt := range tests {
		vals = append(vals, tt.value)
	}
	vals = append(vals, "not an ioc!", "")
	for name, got := range map[string][]lookupItem{"GET": e.lookupGet(t, "", vals...), "POST": e.lookupPost(t, vals...)} {
		if len(got) != len(vals) {
			t.Fatalf("%s: %d answers, want %d", name, len(got), len(vals))
		}
		for i, tt := range tests {
			g := got[i]
			if g.Value != tt.value || g.Type != tt.typ || g.Normalized != tt.normalized || g.Error != "" ||
				!slices.Equal(g.matchValues(), tt.matches) {
				t.Errorf("%s %q: got value %q type %q normalized %q matches %q error %q; want type %q normalized %q matches %q",
					name, tt.value, g.Value, g.Type, g.Normalized, g.matchValues(), g.Error, tt.typ, tt.normalized, tt.matches)
			}
		}
		for _, g := range got[len(tests):] {
			if g.Error == "" || g.Matches == nil || len(g.Matches) != 0 || g.Type != "" {
				t.Errorf("%s %q: %+v, want an error note and matches []", name, g.Value, g)
			}
		}
	}
	// The matched IOC is a full item.
	m := e.lookupGet(t, "", "198.51.100.7")[0].Matches[0]
	if m.Source != "ACME CERT" || m.TLP != "green" || m.ThreatType != "malicious-activity" || m.IndicatorID == "" {
		t.Errorf("match %+v, want the full item", m)
	}
}

func TestIOCLookupFilters(t *testing.T) {
	e := newIOCEnv(t)
	seedIOCs(t, e)
	tests := []struct {
		query, value string
		want         []string
	}{
		{"include_expired=true", "192.0.2.99", []string{"ipv4:192.0.2.99"}},
		{"include_revoked=true", "192.0.2.100", []string{"ipv4:192.0.2.100"}},
		{"min_confidence=60", "10.9.9.9", []string{}},
		{"min_confidence=50", "10.9.9.9", []string{"cidr:10.0.0.0/8"}},
		{"collection=open", "198.51.100.7", []string{}},
		// Lookup ignores the listing's type and since filters.
		{"type=domain", "198.51.100.7", []string{"ipv4:198.51.100.7"}},
		{"since=2030-01-01", "198.51.100.7", []string{"ipv4:198.51.100.7"}},
	}
	for _, tt := range tests {
		got := e.lookupGet(t, tt.query, tt.value)
		if len(got) != 1 || !slices.Equal(got[0].matchValues(), tt.want) {
			t.Errorf("lookup %q with %s: %+v, want matches %q", tt.value, tt.query, got, tt.want)
		}
	}
}

func TestIOCLookupDuplicatesAndOrder(t *testing.T) {
	e := newIOCEnv(t)
	seedIOCs(t, e)
	// The same value twice, in two spellings, and an address that two
	// indicators answer (an exact one and a block).
	e.seed(t, collAll, iocInd(70, "[ipv4-addr:value = '10.0.0.7']", ""))
	got := e.lookupPost(t, "10.0.0.7", "evil.example", "10[.]0[.]0[.]7")
	if len(got) != 3 {
		t.Fatalf("answers %+v, want 3", got)
	}
	for _, i := range []int{0, 2} {
		m := got[i].matchValues()
		slices.Sort(m)
		if !slices.Equal(m, []string{"cidr:10.0.0.0/8", "ipv4:10.0.0.7"}) {
			t.Errorf("answer %d (%q): matches %q, want the address and its block", i, got[i].Value, m)
		}
	}
	if got[1].Value != "evil.example" || len(got[1].Matches) != 1 {
		t.Errorf("answer 1: %+v, want evil.example with one match", got[1])
	}
}

func TestIOCLookupLimits(t *testing.T) {
	e := newIOCEnv(t)
	seedIOCs(t, e)
	many := make([]string, 1001)
	for i := range many {
		many[i] = fmt.Sprintf("192.0.2.%d", i%256)
	}
	if got := e.lookupPost(t, many[:1000]...); len(got) != 1000 {
		t.Errorf("1000 values: %d answers", len(got))
	}
	body, _ := json.Marshal(map[string][]string{"values": many})
	r := e.rest(t, http.MethodPost, "/api/v1/iocs/lookup", "analyst", strings.NewReader(string(body)))
	if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(string(r.body), "1000") {
		t.Errorf("1001 values: status %d body %s, want 413 naming the limit", r.status, r.body)
	}
	r = e.rest(t, http.MethodGet, "/api/v1/iocs/lookup?"+url.Values{"value": many}.Encode(), "analyst", nil)
	if r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("1001 values by GET: status %d body %s, want 413", r.status, r.body)
	}
	huge := `{"values":["` + strings.Repeat("a", 5<<20) + `"]}`
	r = e.rest(t, http.MethodPost, "/api/v1/iocs/lookup", "analyst", strings.NewReader(huge))
	if r.status != http.StatusRequestEntityTooLarge || errorCode(t, r) != "too_large" {
		t.Errorf("5 MiB body: status %d body %s, want 413 too_large", r.status, r.body)
	}
	for _, body := range []string{"", "not json", `{"values":"198.51.100.7"}`, `{"values":[]}`, `{}`, `["198.51.100.7"]`} {
		r := e.rest(t, http.MethodPost, "/api/v1/iocs/lookup", "analyst", strings.NewReader(body))
		if r.status != http.StatusBadRequest || errorCode(t, r) != "invalid" {
			t.Errorf("body %q: status %d body %s, want 400 invalid", body, r.status, r.body)
		}
	}
	r = e.rest(t, http.MethodGet, "/api/v1/iocs/lookup", "analyst", nil)
	if r.status != http.StatusBadRequest {
		t.Errorf("GET without value: status %d, want 400", r.status)
	}
}
