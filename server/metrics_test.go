package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"hail/metrics"
	"hail/server"
	"hail/store"
)

// scrapeMetrics fetches GET /metrics from the main listener with the named
// fixture key ("" for none).
func scrapeMetrics(t *testing.T, e *env, key string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range e.auth(key) {
		req.Header.Set(k, v)
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
	return res.StatusCode, string(b)
}

// sample returns the value of the exposition line that starts with series,
// or "" when there is none.
func sample(body, series string) string {
	for line := range strings.SplitSeq(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

func TestMetricsCounts(t *testing.T) {
	m := metrics.New()
	e := newEnv(t, server.Config{Metrics: m}, false)
	m.WatchStore(e.db, time.Nanosecond)
	ctx := context.Background()
	if err := e.db.CreatePlan(ctx, store.Plan{Name: "trial", Rate: 1, Period: time.Hour}); err != nil {
		t.Fatal(err)
	}
	plan := "trial"
	setKey(t, e.db, "rw", store.KeyUpdate{Plan: &plan})
	e.seed(t, collIntel, indicator(1, "2025-01-01T00:00:00.000Z"), malware(2))

	wantStatus(t, "discovery", e.get(t, "/taxii2/", "admin"), 200)
	wantStatus(t, "discovery without the slash", e.get(t, "/taxii2", "admin"), 200)
	wantStatus(t, "objects", e.get(t, intelObjects, "reader"), 200)
	wantStatus(t, "objects by alias", e.get(t, "/taxii2/api/collections/intel/objects", "reader"), 200)
	wantStatus(t, "objects with a wrong key", e.do(t, "GET", intelObjects, map[string]string{"Authorization": "Bearer nope"}, nil), 401)
	wantStatus(t, "no endpoint", e.get(t, "/nothing/here/", "admin"), 404)
	wantStatus(t, "post", e.post(t, "drop", "writer", envelope(indicator(3, "2025-01-01T00:00:00.000Z"), malware(4))), 202)
	wantStatus(t, "post again", e.post(t, "drop", "writer", envelope(indicator(3, "2025-01-01T00:00:00.000Z"), malware(5))), 202)
	r, a := postImport(t, e, "collection=drop&format=txt", "admin", "203.0.113.7\n203.0.113.8\n")
	if r.status != 200 || a.Added != 2 {
		t.Errorf("import: %d %s, want 200 with 2 added", r.status, r.body)
	}
	wantStatus(t, "plan admits", e.get(t, "/taxii2/api/collections/rw/", "rw"), 200)
	wantStatus(t, "plan throttles", e.get(t, "/taxii2/api/collections/rw/", "rw"), 429)

	status, body := scrapeMetrics(t, e, "admin")
	if status != 200 {
		t.Fatalf("scrape: %d %s", status, body)
	}
	objects := "GET /taxii2/{root}/collections/{id}/objects/"
	for _, tt := range []struct{ series, want string }{
		{`hail_http_requests_total{route="GET /taxii2/",status="200"}`, "2"},
		{`hail_http_requests_total{route="` + objects + `",status="200"}`, "2"},
		{`hail_http_requests_total{route="` + objects + `",status="401"}`, "1"},
		{`hail_http_requests_total{route="/",status="404"}`, "1"},
		{`hail_http_requests_total{route="POST /taxii2/{root}/collections/{id}/objects/",status="202"}`, "2"},
		{`hail_http_requests_total{route="POST /api/v1/import/",status="200"}`, "1"},
		{`hail_http_requests_total{route="GET /taxii2/{root}/collections/{id}/",status="200"}`, "1"},
		{`hail_http_requests_total{route="GET /taxii2/{root}/collections/{id}/",status="429"}`, "1"},
		{`hail_http_request_duration_seconds_count{route="` + objects + `",status="200"}`, "2"},
		{`hail_objects_served_total{route="` + objects + `"}`, "4"},
		{`hail_objects_ingested_total`, "5"}, // 2 + 1 new by POST, 2 by import
		{`hail_plan_throttled_total{plan="trial"}`, "1"},
		{`hail_store_objects{alias="intel",api_root="api",collection="` + collIntel + `"}`, "2"},
		{`hail_store_objects{alias="drop",api_root="api",collection="` + collDrop + `"}`, "5"},
		{`hail_store_stats_up`, "1"},
	} {
		if got := sample(body, tt.series); got != tt.want {
			t.Errorf("%s = %q, want %q", tt.series, got, tt.want)
		}
	}
	for _, raw := range []string{collIntel + "/objects", "/nothing/here"} {
		if strings.Contains(body, raw) {
			t.Errorf("a route label holds the raw path %q", raw)
		}
	}
}

func TestMetricsAdminOnly(t *testing.T) {
	e := newEnv(t, server.Config{Metrics: metrics.New()}, false)
	for _, tt := range []struct {
		key  string
		want int
	}{{"", 401}, {"reader", 403}, {"revoked", 401}, {"admin", 200}} {
		status, body := scrapeMetrics(t, e, tt.key)
		if status != tt.want {
			t.Errorf("GET /metrics with key %q: %d, want %d", tt.key, status, tt.want)
		}
		if status == 200 && !strings.Contains(body, "# TYPE hail_http_requests_total counter") {
			t.Errorf("GET /metrics as admin: body lacks the request counter:\n%s", body)
		}
	}
	// A scraper that asks only for text is served, not refused with 406.
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/metrics/", nil)
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	for k, v := range e.auth("admin") {
		req.Header.Set(k, v)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if ct := res.Header.Get("Content-Type"); res.StatusCode != 200 || !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("GET /metrics/ with Accept text/plain: %d %q, want 200 text/plain", res.StatusCode, ct)
	}
}

func TestMetricsOff(t *testing.T) {
	e := newEnv(t, server.Config{}, false)
	if status, _ := scrapeMetrics(t, e, "admin"); status != 404 {
		t.Errorf("GET /metrics without metrics: %d, want 404", status)
	}
}

// BenchmarkMetricsOverhead serves discovery to the admin key in process,
// without and with metrics, to show what recording a request costs.
func BenchmarkMetricsOverhead(b *testing.B) {
	e := newEnv(b, server.Config{}, false)
	for _, bm := range []struct {
		name string
		m    *metrics.Metrics
	}{{"off", nil}, {"on", metrics.New()}} {
		b.Run(bm.name, func(b *testing.B) {
			h := server.New(server.Config{Metrics: bm.m}, e.db, nil)
			req, err := http.NewRequest(http.MethodGet, "/taxii2/", nil)
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Authorization", basic("apikey", e.keys["admin"]))
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}
