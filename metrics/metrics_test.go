package metrics

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hail"
	"hail/store"
)

// fakeStore answers only what the store collector asks.
type fakeStore struct {
	store.Store
	counts atomic.Int64
	fail   atomic.Bool
}

func (f *fakeStore) APIRoots(context.Context) ([]store.APIRoot, error) {
	return []store.APIRoot{{Name: "api"}}, nil
}

func (f *fakeStore) Collections(context.Context, string) ([]store.Collection, error) {
	return []store.Collection{{ID: "c1", Alias: "one"}, {ID: "gone"}}, nil
}

func (f *fakeStore) CollectionStats(_ context.Context, id string) (store.CollectionStats, error) {
	f.counts.Add(1)
	if f.fail.Load() {
		return store.CollectionStats{}, io.ErrUnexpectedEOF
	}
	if id == "gone" {
		return store.CollectionStats{}, hail.Errorf(hail.ENOTFOUND, "gone")
	}
	return store.CollectionStats{Objects: 3, Versions: 5}, nil
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Errorf("scrape status = %d, want 200", rec.Code)
	}
	return rec.Body.String()
}

func TestCounters(t *testing.T) {
	m := New()
	m.Request("GET /taxii2/", 200, time.Millisecond)
	m.Request("GET /taxii2/", 200, time.Millisecond)
	m.Request("GET /taxii2/", 406, time.Millisecond)
	m.ObjectsServed("GET /x/", 7)
	m.ObjectsIngested(4)
	m.Throttled("free")
	body := scrape(t, m)
	for _, want := range []string{
		`hail_http_requests_total{route="GET /taxii2/",status="200"} 2`,
		`hail_http_requests_total{route="GET /taxii2/",status="406"} 1`,
		`hail_http_request_duration_seconds_count{route="GET /taxii2/",status="200"} 2`,
		`hail_objects_served_total{route="GET /x/"} 7`,
		`hail_objects_ingested_total 4`,
		`hail_plan_throttled_total{plan="free"} 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}

func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.Request("r", 200, 0)
	m.ObjectsServed("r", 1)
	m.ObjectsIngested(1)
	m.Throttled("p")
}

func TestStoreCollectorCaches(t *testing.T) {
	m := New()
	st := &fakeStore{}
	now := time.Unix(1000, 0)
	c := &storeCollector{st: st, ttl: time.Minute, now: func() time.Time { return now }}
	m.reg.MustRegister(c)
	body := scrape(t, m)
	for _, want := range []string{
		`hail_store_objects{alias="one",api_root="api",collection="c1"} 3`,
		`hail_store_object_versions{alias="one",api_root="api",collection="c1"} 5`,
		`hail_store_stats_up 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if strings.Contains(body, `collection="gone"`) {
		t.Errorf("a collection deleted during the count is shown")
	}
	scrape(t, m)
	if got := st.counts.Load(); got != 2 {
		t.Errorf("CollectionStats calls after two scrapes within the TTL = %d, want 2", got)
	}
	now = now.Add(time.Minute)
	st.fail.Store(true)
	body = scrape(t, m)
	if got := st.counts.Load(); got != 3 {
		t.Errorf("CollectionStats calls after the TTL = %d, want 3", got)
	}
	if !strings.Contains(body, `hail_store_stats_up 0`) || !strings.Contains(body, `hail_store_objects{alias="one",api_root="api",collection="c1"} 3`) {
		t.Errorf("after a failed count, want stats_up 0 and the previous sizes; got\n%s", body)
	}
}

func BenchmarkRequest(b *testing.B) {
	m := New()
	for b.Loop() {
		m.Request("GET /taxii2/{root}/collections/{id}/objects/", 200, time.Millisecond)
	}
}
