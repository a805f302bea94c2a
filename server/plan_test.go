package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"hail"
	"hail/server"
	"hail/store"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2025, 5, 1, 2, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newPlanEnv starts a test server on clock and puts the reader key on a
// plan made from p (none when p.Name is "").
func newPlanEnv(t *testing.T, clock *fakeClock, p store.Plan) *env {
	t.Helper()
	e := newEnv(t, server.Config{Now: clock.Now}, false)
	if p.Name != "" {
		if err := e.db.CreatePlan(context.Background(), p); err != nil {
			t.Fatal(err)
		}
		setKey(t, e.db, "reader", store.KeyUpdate{Plan: &p.Name})
	}
	return e
}

func setKey(t *testing.T, st store.Store, name string, u store.KeyUpdate) {
	t.Helper()
	if err := st.UpdateKey(context.Background(), name, u); err != nil {
		t.Fatal(err)
	}
}

// wantRefusal checks a 429 with its Retry-After and message.
func wantRefusal(t *testing.T, what string, r *response, retryAfter string, message string) {
	t.Helper()
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != retryAfter ||
		!strings.Contains(string(r.body), message) {
		t.Errorf("%s: %d, Retry-After %q, body %s; want 429, Retry-After %q, a message with %q",
			what, r.status, r.header.Get("Retry-After"), r.body, retryAfter, message)
	}
}

func wantStatus(t *testing.T, what string, r *response, status int) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: %d %s, want %d", what, r.status, r.body, status)
	}
}

const intelObjects = "/taxii2/api/collections/" + collIntel + "/objects/"

func TestPlanRate(t *testing.T) {
	clock := newClock()
	e := newPlanEnv(t, clock, store.Plan{Name: "pro", Rate: 2, Period: time.Minute})
	for i := range 2 {
		wantStatus(t, "request within the burst", e.get(t, intelObjects, "reader"), 200)
		_ = i
	}
	r := e.get(t, intelObjects, "reader")
	wantRefusal(t, "third request at once", r, "30", `The \"pro\" plan allows 2/min`)
	clock.Advance(29 * time.Second)
	wantRefusal(t, "request 1 s early", e.get(t, intelObjects, "reader"), "1", "pro")
	clock.Advance(time.Second)
	wantStatus(t, "request after Retry-After", e.get(t, intelObjects, "reader"), 200)
	wantRefusal(t, "next request at once", e.get(t, intelObjects, "reader"), "30", "pro")
	// The IOC API answers in its own error shape, from the same bucket.
	rr := e.rest(t, "GET", "/api/v1/iocs/?collection=intel", "reader", nil)
	if rr.status != 429 || rr.header.Get("Retry-After") != "30" || errorCode(t, rr) != hail.ETOOMANY {
		t.Errorf("IOC API over the limit: %d, Retry-After %q, %s; want 429, 30, code %s", rr.status, rr.header.Get("Retry-After"), rr.body, hail.ETOOMANY)
	}
	// Other keys have their own buckets; the admin key has no limit.
	for range 5 {
		wantStatus(t, "admin key", e.get(t, "/taxii2/api/collections/"+collSecret+"/objects/", "admin"), 200)
	}
}

func TestPlanAPIs(t *testing.T) {
	e := newPlanEnv(t, newClock(), store.Plan{Name: "free", APIs: []string{store.APIREST}})
	r := e.get(t, intelObjects, "reader")
	if r.status != 403 || !strings.Contains(string(r.body), `The \"free\" plan does not include the TAXII API`) {
		t.Errorf("TAXII on a REST-only plan: %d %s; want 403 naming the plan", r.status, r.body)
	}
	wantStatus(t, "discovery on a REST-only plan", e.get(t, "/taxii2/", "reader"), 403)
	wantStatus(t, "IOC API on a REST-only plan", e.rest(t, "GET", "/api/v1/iocs/?collection=intel", "reader", nil), 200)

	e = newPlanEnv(t, newClock(), store.Plan{Name: "pro", APIs: []string{store.APITAXII}})
	wantStatus(t, "TAXII on a TAXII plan", e.get(t, intelObjects, "reader"), 200)
	rr := e.rest(t, "GET", "/api/v1/iocs/?collection=intel", "reader", nil)
	if rr.status != 403 || !strings.Contains(string(rr.body), `The \"pro\" plan does not include the IOC REST API`) {
		t.Errorf("IOC API on a TAXII plan: %d %s; want 403 naming the plan", rr.status, rr.body)
	}
	stream := e.get(t, "/taxii2/api/collections/"+collIntel+"/stream/", "reader")
	wantStatus(t, "stream on a TAXII-only plan", stream, 403)

	// A key whose plan was deleted from under it is refused, not let through.
	ghost := "ghost"
	setKey(t, e.db, "rw", store.KeyUpdate{Plan: &ghost})
	r = e.get(t, "/taxii2/api/collections/"+collRW+"/objects/", "rw")
	if r.status != 403 || !strings.Contains(string(r.body), "ghost") {
		t.Errorf("key on a missing plan: %d %s; want 403 naming it", r.status, r.body)
	}
}

func TestPlanPollInterval(t *testing.T) {
	clock := newClock()
	e := newPlanEnv(t, clock, store.Plan{Name: "free", MinPollInterval: 15 * time.Minute})
	e.seed(t, collIntel, indicator(1, "2024-01-01T00:00:00.000Z"), indicator(2, "2024-01-01T00:00:00.000Z"))
	p := e.fetch(t, collIntel, "limit=1", "reader")
	if p.env.Next == nil {
		t.Fatalf("first page has no next")
	}
	// The rest of the walk is not a new poll.
	wantStatus(t, "second page of the walk", e.get(t, intelObjects+"?next="+url.QueryEscape(*p.env.Next), "reader"), 200)
	clock.Advance(5 * time.Minute)
	wantRefusal(t, "new poll after 5 min", e.get(t, intelObjects, "reader"), "600", "every 15m0s")
	wantRefusal(t, "poll by alias after 5 min", e.get(t, "/taxii2/api/collections/intel/objects/", "reader"), "600", "free")
	wantRefusal(t, "manifest poll after 5 min", e.get(t, "/taxii2/api/collections/"+collIntel+"/manifest/", "reader"), "600", "free")
	wantStatus(t, "a single object is no poll", e.get(t, intelObjects+"indicator--"+uuidN(1)+"/", "reader"), 200)
	wantStatus(t, "another collection", e.get(t, "/taxii2/api/collections/"+collRW+"/objects/", "reader"), 200)
	clock.Advance(10 * time.Minute)
	wantStatus(t, "poll after the interval", e.get(t, intelObjects, "reader"), 200)
}

func TestPlanMaxPage(t *testing.T) {
	e := newPlanEnv(t, newClock(), store.Plan{Name: "small", MaxPage: 1})
	e.seed(t, collIntel, indicator(1, "2024-01-01T00:00:00.000Z"), indicator(2, "2024-01-01T00:00:00.000Z"))
	for _, q := range []string{"", "limit=100"} {
		p := e.fetch(t, collIntel, q, "reader")
		if len(p.env.Objects) != 1 || p.env.More == nil || !*p.env.More {
			t.Errorf("GET objects?%s on a 1-object plan: %d objects, more %v; want 1, true", q, len(p.env.Objects), p.env.More)
		}
	}
	if p := e.fetch(t, collIntel, "", "admin"); len(p.env.Objects) != 2 {
		t.Errorf("admin page: %d objects, want 2", len(p.env.Objects))
	}
}

func TestKeyExpiryAndAddresses(t *testing.T) {
	clock := newClock()
	e := newPlanEnv(t, clock, store.Plan{})
	expires := clock.Now().Add(time.Hour)
	setKey(t, e.db, "reader", store.KeyUpdate{Expires: &expires})
	wantStatus(t, "key before its expiry", e.get(t, intelObjects, "reader"), 200)
	clock.Advance(time.Hour)
	r := e.get(t, intelObjects, "reader")
	if r.status != 401 || !strings.Contains(string(r.body), "expired") {
		t.Errorf("expired key: %d %s; want 401 saying it expired", r.status, r.body)
	}
	never := time.Time{}
	setKey(t, e.db, "reader", store.KeyUpdate{Expires: &never})
	wantStatus(t, "key with its expiry removed", e.get(t, intelObjects, "reader"), 200)

	setKey(t, e.db, "reader", store.KeyUpdate{AllowIPs: &[]string{"192.0.2.0/24", "2001:db8::/32"}})
	r = e.get(t, intelObjects, "reader")
	if r.status != 403 || !strings.Contains(string(r.body), "may not be used from this address") {
		t.Errorf("key from an address outside its ranges: %d %s; want 403", r.status, r.body)
	}
	setKey(t, e.db, "reader", store.KeyUpdate{AllowIPs: &[]string{"192.0.2.0/24", "127.0.0.0/8"}})
	wantStatus(t, "key from an address in its ranges", e.get(t, intelObjects, "reader"), 200)

	// A wrong secret says nothing of any key.
	r = e.do(t, "GET", intelObjects, map[string]string{"Authorization": basic("apikey", "wrong")}, nil)
	if r.status != 401 || strings.Contains(string(r.body), "expired") || strings.Contains(string(r.body), "address") {
		t.Errorf("wrong key: %d %s; want a plain 401", r.status, r.body)
	}
}
