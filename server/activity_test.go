package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"hail/auth"
	"hail/server"
	"hail/store"
	"hail/store/postgres"
	"hail/store/postgres/pgtest"
	"hail/taxii"
)

// activityReport is the body of GET /api/v1/keys/{name}/activity.
type activityReport struct {
	Key             string `json:"key"`
	Plan            string `json:"plan"`
	MinPollInterval string `json:"min_poll_interval"`
	Stale           bool   `json:"stale"`
	Collections     []struct {
		Collection        string           `json:"collection"`
		Summary           string           `json:"summary"`
		FirstRequest      string           `json:"first_request"`
		LastRequest       string           `json:"last_request"`
		Requests          int64            `json:"requests"`
		Polls             int64            `json:"polls"`
		LastPoll          string           `json:"last_poll"`
		Objects           int64            `json:"objects"`
		Bytes             int64            `json:"bytes"`
		LastAddedAfter    string           `json:"last_added_after"`
		LastDateAddedLast string           `json:"last_date_added_last"`
		Errors            map[string]int64 `json:"errors"`
		Last24h           struct {
			Requests, Polls, Objects int64
		} `json:"last_24h"`
	} `json:"collections"`
}

// flush writes the activity a test server holds.
func flush(t *testing.T, srv *httptest.Server) {
	t.Helper()
	if err := srv.Config.Handler.(*server.Server).FlushActivity(context.Background()); err != nil {
		t.Fatalf("FlushActivity: %v", err)
	}
}

// activity reads a key's activity with the admin key.
func (e *env) activity(t *testing.T, name string) activityReport {
	t.Helper()
	flush(t, e.srv)
	r := e.rest(t, "GET", "/api/v1/keys/"+name+"/activity", "admin", nil)
	if r.status != 200 {
		t.Fatalf("GET activity of %s: %d %s", name, r.status, r.body)
	}
	var rep activityReport
	r.json(t, &rep)
	return rep
}

func TestActivity(t *testing.T) {
	clock := newClock()
	e := newPlanEnv(t, clock, store.Plan{})
	res := e.seed(t, collIntel, indicator(1, "2024-01-01T00:00:00.000Z"), indicator(2, "2024-01-01T00:00:00.000Z"))
	last := taxii.FormatTimestamp(res[1].DateAdded)
	t0 := clock.Now()

	var bytes int64
	get := func(path string, status int) *response {
		t.Helper()
		r := e.get(t, path, "reader")
		wantStatus(t, "GET "+path, r, status)
		bytes += int64(len(r.body))
		return r
	}
	get(intelObjects, 200) // poll: 2 objects
	clock.Advance(time.Minute)
	p := e.fetch(t, collIntel, "limit=1", "reader") // poll: 1 object
	bytes += int64(len(mustJSON(t, p.env)))
	get(intelObjects+"?next="+url.QueryEscape(*p.env.Next), 200) // same walk: 1 object
	clock.Advance(time.Minute)
	get("/taxii2/api/collections/intel/objects/?added_after="+url.QueryEscape(last), 200) // poll by alias: nothing new
	get("/taxii2/api/collections/nope/objects/", 404)
	get("/taxii2/", 200)

	rep := e.activity(t, "reader")
	if rep.Key != "reader" || rep.Plan != store.UnrestrictedPlan || rep.Stale || len(rep.Collections) != 3 {
		t.Fatalf("activity: %+v; want reader on %s, not stale, 3 collections", rep, store.UnrestrictedPlan)
	}
	none, intel, nope := rep.Collections[0], rep.Collections[1], rep.Collections[2]
	if none.Collection != "" || none.Requests != 1 || none.Polls != 0 {
		t.Errorf("activity without a collection: %+v; want 1 request, no poll", none)
	}
	if nope.Collection != "nope" || nope.Requests != 1 || nope.Polls != 0 || nope.Errors["404"] != 1 {
		t.Errorf("activity of a missing collection: %+v; want 1 request, one 404", nope)
	}
	stamp := func(d time.Duration) string { return taxii.FormatTimestamp(t0.Add(d)) }
	if intel.Collection != collIntel || intel.Requests != 4 || intel.Polls != 3 || intel.Objects != 4 ||
		intel.FirstRequest != stamp(0) || intel.LastRequest != stamp(2*time.Minute) || intel.LastPoll != stamp(2*time.Minute) ||
		intel.LastAddedAfter != last || intel.LastDateAddedLast != last || len(intel.Errors) != 0 ||
		intel.Last24h.Requests != 4 || intel.Last24h.Polls != 3 || intel.Last24h.Objects != 4 {
		t.Errorf("activity of intel: %+v\nwant 4 requests, 3 polls, 4 objects, first %s, last %s, added_after and date_added_last %s",
			intel, stamp(0), stamp(2*time.Minute), last)
	}
	if got := intel.Bytes + none.Bytes + nope.Bytes; got != bytes {
		t.Errorf("bytes: %d, want %d as the client received", got, bytes)
	}
	if want := "reader polled " + collIntel + " 3 times in the last 24 h, last at 2025-05-01 02:02Z, received 4 objects, up to date as of "; !strings.HasPrefix(intel.Summary, want) {
		t.Errorf("summary %q, want it to start %q", intel.Summary, want)
	}

	// A day later the totals stay and the last 24 h are empty.
	clock.Advance(25 * time.Hour)
	rep = e.activity(t, "reader")
	if c := rep.Collections[1]; c.Requests != 4 || c.Last24h.Requests != 0 {
		t.Errorf("a day later: %d requests, %d in the last 24 h; want 4, 0", c.Requests, c.Last24h.Requests)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestActivityStale(t *testing.T) {
	clock := newClock()
	e := newPlanEnv(t, clock, store.Plan{Name: "free", MinPollInterval: 10 * time.Minute})
	if rep := e.activity(t, "reader"); !rep.Stale || rep.MinPollInterval != "10m0s" || rep.Plan != "free" {
		t.Errorf("a key that never polled: %+v; want stale, plan free, interval 10m0s", rep)
	}
	wantStatus(t, "poll", e.get(t, intelObjects, "reader"), 200)
	clock.Advance(30 * time.Minute)
	if rep := e.activity(t, "reader"); rep.Stale {
		t.Errorf("30 min after a poll on a 10 min plan: stale, want not")
	}
	clock.Advance(time.Second)
	if rep := e.activity(t, "reader"); !rep.Stale {
		t.Errorf("30 min 1 s after a poll on a 10 min plan: not stale, want stale")
	}
}

func TestActivityAccess(t *testing.T) {
	e := newPlanEnv(t, newClock(), store.Plan{})
	for _, tc := range []struct {
		key, name string
		status    int
	}{
		{"", "reader", 401},
		{"reader", "reader", 403},
		{"admin", "nobody-at-all", 404},
		{"admin", "revoked", 200},
	} {
		r := e.rest(t, "GET", "/api/v1/keys/"+tc.name+"/activity", tc.key, nil)
		wantStatus(t, "activity of "+tc.name+" with key "+tc.key, r, tc.status)
	}
}

// TestPlanReplicas runs two servers over two pools on one PostgreSQL
// schema, as two replicas behind a load balancer: the key's rate and its
// activity are shared.
func TestPlanReplicas(t *testing.T) {
	dsn := pgtest.Schema(t)
	ctx := context.Background()
	clock := newClock()
	var srvs [2]*httptest.Server
	var dbs [2]*postgres.DB
	for i := range srvs {
		db, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(dbs[0].CreateAPIRoot(ctx, store.APIRoot{Name: "api", Title: "Test root", Default: true}))
	must(dbs[0].CreateCollection(ctx, store.Collection{ID: collIntel, APIRoot: "api", Alias: "intel", Title: "Intel"}))
	must(dbs[0].CreatePlan(ctx, store.Plan{Name: "pro", Rate: 3, Period: time.Minute}))
	secret, hash := auth.NewKey()
	must(dbs[0].CreateKey(ctx, store.Key{Name: "soc1", Hash: hash, Read: []string{collIntel}, Plan: "pro"}))
	adminSecret, adminHash := auth.NewKey()
	must(dbs[0].CreateKey(ctx, store.Key{Name: "admin", Hash: adminHash, Admin: true}))
	for i := range srvs {
		srvs[i] = httptest.NewServer(server.New(server.Config{Now: clock.Now}, dbs[i], nil))
		t.Cleanup(srvs[i].Close)
	}
	get := func(i int, path, key string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", srvs[i].URL+path, nil)
		req.Header.Set("Accept", taxii.MediaType)
		req.SetBasicAuth("apikey", key)
		res, err := srvs[i].Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	for i, tc := range []struct {
		replica    int
		advance    time.Duration
		status     int
		retryAfter string
	}{
		{0, 0, 200, ""}, {1, 0, 200, ""}, {0, 0, 200, ""}, // the burst, over both replicas
		{1, 0, 429, "20"}, {0, 0, 429, "20"},
		{1, 20 * time.Second, 200, ""}, {0, 0, 429, "20"},
		{0, 20 * time.Second, 200, ""},
	} {
		clock.Advance(tc.advance)
		res := get(tc.replica, intelObjects, secret)
		if res.StatusCode != tc.status || res.Header.Get("Retry-After") != tc.retryAfter {
			t.Errorf("request %d on replica %d: %d, Retry-After %q; want %d, %q",
				i, tc.replica, res.StatusCode, res.Header.Get("Retry-After"), tc.status, tc.retryAfter)
		}
	}
	for i := range srvs {
		flush(t, srvs[i])
	}
	res := get(1, "/api/v1/keys/soc1/activity", adminSecret)
	if res.StatusCode != 200 {
		t.Fatalf("activity: %d", res.StatusCode)
	}
	acts, err := dbs[1].Activity(ctx, "soc1", clock.Now().Add(-time.Hour))
	if err != nil || len(acts) != 1 {
		t.Fatalf("Activity = %+v, %v; want one collection", acts, err)
	}
	if a := acts[0]; a.Requests != 8 || a.Polls != 5 || a.Errors[429] != 3 {
		t.Errorf("activity over both replicas: %d requests, %d polls, errors %v; want 8, 5, 429×3", a.Requests, a.Polls, a.Errors)
	}
}
