package server_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"hail/server"
	"hail/taxii"
)

// logLines decodes the JSON log.
func logLines(t *testing.T, e *env) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(e.log.String()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func TestRequestLog(t *testing.T) {
	e := newEnv(t, server.Config{}, true)
	e.seed(t, collIntel, indicator(1, "2024-01-01T00:00:00.000Z"), indicator(2, "2024-01-01T00:00:00.000Z"))
	h := e.auth("reader")
	h["User-Agent"] = "Sentinel-Test/1.0"
	e.do(t, http.MethodGet, "/taxii2/api/collections/intel/objects/?limit=5", h, nil)
	e.do(t, http.MethodGet, "/taxii2/api/collections/intel/objects/", map[string]string{"Authorization": basic("apikey", "hail_not_a_key")}, nil)

	lines := logLines(t, e)
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want one per request: %s", len(lines), e.log.String())
	}
	want := map[string]any{
		"msg": "request", "method": "GET", "path": "/taxii2/api/collections/intel/objects/", "query": "limit=5",
		"status": 200.0, "key": "reader", "user_agent": "Sentinel-Test/1.0", "objects": 2.0,
	}
	for k, v := range want {
		if lines[0][k] != v {
			t.Errorf("log %q = %v, want %v", k, lines[0][k], v)
		}
	}
	for _, k := range []string{"bytes", "duration", "date_added_last"} {
		if _, ok := lines[0][k]; !ok {
			t.Errorf("log line lacks %q: %v", k, lines[0])
		}
	}
	if lines[1]["status"] != 401.0 || lines[1]["key"] != "" {
		t.Errorf("failed login logged as %v, want status 401 and no key", lines[1])
	}
	for name, secret := range e.keys {
		if strings.Contains(e.log.String(), secret) {
			t.Errorf("the log holds the secret of key %s", name)
		}
	}
	if strings.Contains(e.log.String(), "hail_not_a_key") {
		t.Error("the log holds a presented credential")
	}
}

func TestInternalError(t *testing.T) {
	e := newEnv(t, server.Config{}, true)
	e.db.Close()
	for _, key := range []string{"reader", ""} {
		r := e.get(t, "/taxii2/api/collections/open/objects/", key)
		var te taxii.Error
		r.json(t, &te)
		if r.status != 500 || te.Title != "Internal error." {
			t.Errorf("with the store closed (key %q): %d %s, want 500 Internal error.", key, r.status, r.body)
		}
	}
	var errs int
	for _, l := range logLines(t, e) {
		if l["level"] == "ERROR" {
			errs++
			if l["msg"] != "internal error" || l["err"] == nil {
				t.Errorf("error log line %v, want msg \"internal error\" with err", l)
			}
		}
	}
	if errs != 2 {
		t.Errorf("%d error log lines, want one per failed request", errs)
	}
}

func TestStatusRetention(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, server.Config{Now: clock, StatusRetention: time.Hour}, true)
	id := func(r *response) string {
		var st taxii.Status
		r.json(t, &st)
		return st.ID
	}
	old := id(e.post(t, "rw", "rw", envelope(indicator(1, "2024-01-01T00:00:00.000Z"))))
	if r := e.get(t, "/taxii2/api/status/"+old+"/", "rw"); !strings.Contains(string(r.body), `"request_timestamp":"2025-06-01T12:00:00.000000Z"`) {
		t.Errorf("status %s, want request_timestamp from the server clock", r.body)
	}
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	recent := id(e.post(t, "rw", "rw", envelope(indicator(2, "2024-01-01T00:00:00.000Z"))))
	if r := e.get(t, "/taxii2/api/status/"+old+"/", "rw"); r.status != 404 {
		t.Errorf("status older than the retention: %d, want 404", r.status)
	}
	if r := e.get(t, "/taxii2/api/status/"+recent+"/", "rw"); r.status != 200 {
		t.Errorf("recent status: %d, want 200", r.status)
	}
}

func TestDiscoveryURLs(t *testing.T) {
	e := newEnv(t, server.Config{}, true)
	pub := newEnv(t, server.Config{PublicURL: "https://taxii.example.org/"}, true)
	tests := []struct {
		name   string
		e      *env
		header map[string]string
		want   string
	}{
		{"request host", e, nil, e.srv.URL},
		{"forwarded", e, map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "proxy.example.net"}, "https://proxy.example.net"},
		{"forwarded chain", e, map[string]string{"X-Forwarded-Proto": "https, http", "X-Forwarded-Host": "a.example, b.example"}, "https://a.example"},
		{"forged host ignored", e, map[string]string{"X-Forwarded-Host": "evil.example/x?"}, e.srv.URL},
		{"forged proto ignored", e, map[string]string{"X-Forwarded-Proto": "javascript"}, e.srv.URL},
		{"public URL wins", pub, map[string]string{"X-Forwarded-Host": "proxy.example.net"}, "https://taxii.example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.e.auth("admin")
			for k, v := range tt.header {
				h[k] = v
			}
			var d taxii.Discovery
			tt.e.do(t, http.MethodGet, "/taxii2/", h, nil).json(t, &d)
			if want := tt.want + "/taxii2/api/"; d.Default != want || len(d.APIRoots) == 0 || d.APIRoots[0] != want {
				t.Errorf("discovery default %q api_roots %q, want %q first", d.Default, d.APIRoots, want)
			}
		})
	}
}
