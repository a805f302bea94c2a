package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hail/auth"
	"hail/server"
	"hail/stix"
	"hail/store"
	"hail/store/sqlite"
	"hail/store/storetest"
	"hail/taxii"
)

// Fixture: API roots, collections and keys every test server starts with.
const (
	collIntel  = "11111111-1111-4111-8111-111111111111" // alias intel: reader reads
	collDrop   = "22222222-2222-4222-8222-222222222222" // alias drop: writer writes
	collSecret = "33333333-3333-4333-8333-333333333333" // alias secret: admin only
	collOpen   = "44444444-4444-4444-8444-444444444444" // alias open: public
	collRW     = "55555555-5555-4555-8555-555555555555" // alias rw: reader reads, writer writes, rw both
	collTiny   = "66666666-6666-4666-8666-666666666666" // alias tiny, root "small"
	collHidden = "77777777-7777-4777-8777-777777777777" // alias h, root "hidden"

	tinyMax = 2048 // max_content_length of root "small"
)

// env is a running test server over a real SQLite store.
type env struct {
	db   *sqlite.DB
	h    *server.Server
	srv  *httptest.Server
	keys map[string]string // key name → secret
	log  *syncBuffer
}

// syncBuffer is a bytes.Buffer that the server's log and a test may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// newEnv starts a server with cfg over a fresh store holding the fixture.
// public controls whether collection "open" is public.
func newEnv(tb testing.TB, cfg server.Config, public bool) *env {
	tb.Helper()
	db, err := sqlite.Open(filepath.Join(tb.TempDir(), "hail.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	var mu sync.Mutex
	clock := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	db.Now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Millisecond)
		return clock
	}
	ctx := context.Background()
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(db.CreateAPIRoot(ctx, store.APIRoot{Name: "api", Title: "Test root", Description: "Root for tests", Default: true}))
	must(db.CreateAPIRoot(ctx, store.APIRoot{Name: "small", Title: "Small root", MaxContentLength: tinyMax}))
	must(db.CreateAPIRoot(ctx, store.APIRoot{Name: "hidden", Title: "Hidden root"}))
	for _, c := range []store.Collection{
		{ID: collIntel, APIRoot: "api", Alias: "intel", Title: "Intel", Description: "Read by reader"},
		{ID: collDrop, APIRoot: "api", Alias: "drop", Title: "Drop box"},
		{ID: collSecret, APIRoot: "api", Alias: "secret", Title: "Secret"},
		{ID: collOpen, APIRoot: "api", Alias: "open", Title: "Open", Public: public},
		{ID: collRW, APIRoot: "api", Alias: "rw", Title: "Read-write"},
		{ID: collTiny, APIRoot: "small", Alias: "tiny", Title: "Tiny"},
		{ID: collHidden, APIRoot: "hidden", Alias: "h", Title: "Hidden"},
	} {
		must(db.CreateCollection(ctx, c))
	}
	e := &env{db: db, keys: map[string]string{}, log: &syncBuffer{}}
	for _, k := range []store.Key{
		{Name: "admin", Admin: true},
		{Name: "reader", Read: []string{collIntel, collRW}},
		{Name: "writer", Write: []string{collDrop, collRW}},
		{Name: "rw", Read: []string{collRW, collTiny}, Write: []string{collRW, collTiny}},
		{Name: "nobody"},
		{Name: "revoked", Read: []string{store.AllCollections}},
	} {
		secret, hash := auth.NewKey()
		k.Hash = hash
		must(db.CreateKey(ctx, k))
		e.keys[k.Name] = secret
	}
	must(db.RevokeKey(ctx, "revoked"))
	if cfg.Title == "" {
		cfg.Title = "hail test"
	}
	logger := slog.New(slog.NewJSONHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.h = server.New(cfg, db, logger)
	e.srv = httptest.NewServer(e.h)
	tb.Cleanup(e.srv.Close)
	return e
}

// response is what a test sees of an HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into v.
func (r *response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// basic returns a Basic Authorization header value.
func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// do sends a request. Unless header says otherwise it asks for TAXII 2.1
// and sends no credentials; a header given as "" is left out. Every
// response is checked for what TAXII requires of all of them: the exact
// Content-Type, and on errors a TAXII error body whose http_status matches.
func (e *env) do(t testing.TB, method, path string, header map[string]string, body io.Reader) *response {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", taxii.MediaType)
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
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
	if ct := res.Header.Values("Content-Type"); len(ct) != 1 || ct[0] != taxii.MediaType {
		t.Errorf("%s %s: Content-Type %q, want exactly %q", method, path, ct, taxii.MediaType)
	}
	if r.status >= 400 && method != http.MethodHead {
		var te taxii.Error
		if err := json.Unmarshal(b, &te); err != nil || te.Title == "" || te.HTTPStatus != strconv.Itoa(r.status) {
			t.Errorf("%s %s: status %d with body %s, want a TAXII error with http_status %q", method, path, r.status, b, strconv.Itoa(r.status))
		}
	}
	return r
}

// get sends a GET with the named fixture key as Sentinel does (Basic,
// user "apikey"); "" sends none.
func (e *env) get(t testing.TB, path, key string) *response {
	t.Helper()
	return e.do(t, http.MethodGet, path, e.auth(key), nil)
}

// auth returns the header for the named key.
func (e *env) auth(key string) map[string]string {
	if key == "" {
		return map[string]string{}
	}
	return map[string]string{"Authorization": basic("apikey", e.keys[key])}
}

// seed adds objects to a collection directly through the store.
func (e *env) seed(tb testing.TB, collection string, objs ...string) []store.AddResult {
	tb.Helper()
	parsed := make([]stix.Object, len(objs))
	for i, o := range objs {
		parsed[i] = storetest.MustObject(tb, o)
	}
	res, err := e.db.AddObjects(context.Background(), collection, parsed)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// scenario is one request and what must come back.
type scenario struct {
	name       string
	method     string // GET when empty
	path       string
	key        string            // fixture key sent as Basic apikey:KEY; "" for none
	header     map[string]string // more headers; "" removes one
	body       string
	wantStatus int
	check      func(t *testing.T, r *response)
}

// run runs scenarios as subtests.
func (e *env) run(t *testing.T, scenarios []scenario) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			method := sc.method
			if method == "" {
				method = http.MethodGet
			}
			h := e.auth(sc.key)
			for k, v := range sc.header {
				h[k] = v
			}
			var body io.Reader
			if sc.body != "" {
				body = strings.NewReader(sc.body)
			}
			r := e.do(t, method, sc.path, h, body)
			if r.status != sc.wantStatus {
				t.Errorf("%s %s: status %d, want %d; body %s", method, sc.path, r.status, sc.wantStatus, r.body)
				return
			}
			if sc.check != nil {
				sc.check(t, r)
			}
		})
	}
}

// bodyContains checks that the body holds every string.
func bodyContains(want ...string) func(*testing.T, *response) {
	return func(t *testing.T, r *response) {
		t.Helper()
		for _, w := range want {
			if !bytes.Contains(r.body, []byte(w)) {
				t.Errorf("body %s does not contain %q", r.body, w)
			}
		}
	}
}

// bodyIs checks the exact body.
func bodyIs(want string) func(*testing.T, *response) {
	return func(t *testing.T, r *response) {
		t.Helper()
		if string(r.body) != want {
			t.Errorf("body %s, want %s", r.body, want)
		}
	}
}

// uuidN returns the n-th test UUIDv4.
func uuidN(n int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n) }

// indicator returns a valid STIX 2.1 indicator numbered n, at version modified.
func indicator(n int, modified string) string {
	return fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%s","created":"2024-01-01T00:00:00.000Z",`+
		`"modified":%q,"name":"IOC %d","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '203.0.113.%d']",`+
		`"pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","x_custom":{"kept":"byte for byte"}}`,
		uuidN(n), modified, n, n%256)
}

// malware returns a valid STIX 2.1 malware object numbered n.
func malware(n int) string {
	return fmt.Sprintf(`{"type":"malware","spec_version":"2.1","id":"malware--%s","created":"2024-01-01T00:00:00.000Z",`+
		`"modified":"2024-01-01T00:00:00.000Z","name":"Malware %d","is_family":true}`, uuidN(n), n)
}

// envelope wraps objects in a TAXII envelope.
func envelope(objs ...string) string {
	return `{"objects":[` + strings.Join(objs, ",") + `]}`
}

// envelopeBody is the part of an envelope tests look at.
type envelopeBody struct {
	More    *bool             `json:"more"`
	Next    *string           `json:"next"`
	Objects []json.RawMessage `json:"objects"`
}

// ids returns the ids of an envelope's objects, in order.
func (b envelopeBody) ids(t *testing.T) []string {
	t.Helper()
	out := make([]string, len(b.Objects))
	for i, o := range b.Objects {
		var h struct{ ID string }
		if err := json.Unmarshal(o, &h); err != nil {
			t.Fatal(err)
		}
		out[i] = h.ID
	}
	return out
}

func TestRoutes(t *testing.T) {
	e := newEnv(t, server.Config{}, true)
	ind := "indicator--" + uuidN(1)
	e.seed(t, collIntel, indicator(1, "2024-01-01T00:00:00.000Z"))
	obj := "/taxii2/api/collections/intel/objects/" + ind + "/"
	discovery := func(t *testing.T, r *response) {
		var d taxii.Discovery
		r.json(t, &d)
		want := []string{e.srv.URL + "/taxii2/api/", e.srv.URL + "/taxii2/hidden/", e.srv.URL + "/taxii2/small/"}
		if d.Title != "hail test" || d.Default != want[0] || fmt.Sprint(d.APIRoots) != fmt.Sprint(want) {
			t.Errorf("discovery = %+v, want title %q, default %q, api_roots %q", d, "hail test", want[0], want)
		}
	}
	apiRoot := func(max int64) func(*testing.T, *response) {
		return func(t *testing.T, r *response) {
			var a taxii.APIRoot
			r.json(t, &a)
			if len(a.Versions) != 1 || a.Versions[0] != taxii.MediaType || a.MaxContentLength != max || a.Title == "" {
				t.Errorf("api root = %+v, want versions [%s], max_content_length %d", a, taxii.MediaType, max)
			}
		}
	}
	intel := func(t *testing.T, r *response) {
		var c taxii.Collection
		r.json(t, &c)
		want := taxii.Collection{ID: collIntel, Title: "Intel", Description: "Read by reader", Alias: "intel",
			CanRead: true, CanWrite: true, MediaTypes: []string{taxii.STIXMediaType}}
		if fmt.Sprint(c) != fmt.Sprint(want) {
			t.Errorf("collection = %+v, want %+v", c, want)
		}
	}
	allowed := func(want string) func(*testing.T, *response) {
		return func(t *testing.T, r *response) {
			if got := r.header.Get("Allow"); got != want {
				t.Errorf("Allow = %q, want %q", got, want)
			}
		}
	}
	e.run(t, []scenario{
		{name: "discovery", path: "/taxii2/", key: "admin", wantStatus: 200, check: discovery},
		{name: "discovery no slash", path: "/taxii2", key: "admin", wantStatus: 200, check: discovery},
		{name: "api root", path: "/taxii2/api/", key: "admin", wantStatus: 200, check: apiRoot(server.DefaultMaxContentLength)},
		{name: "api root no slash", path: "/taxii2/api", key: "admin", wantStatus: 200, check: apiRoot(server.DefaultMaxContentLength)},
		{name: "api root own max_content_length", path: "/taxii2/small/", key: "admin", wantStatus: 200, check: apiRoot(tinyMax)},
		{name: "unknown api root", path: "/taxii2/nope/", key: "admin", wantStatus: 404},
		{name: "collections", path: "/taxii2/api/collections/", key: "admin", wantStatus: 200,
			check: bodyContains(collIntel, collDrop, collSecret, collOpen, collRW)},
		{name: "collections no slash", path: "/taxii2/api/collections", key: "admin", wantStatus: 200, check: bodyContains(collIntel)},
		{name: "collections of unknown root", path: "/taxii2/nope/collections/", key: "admin", wantStatus: 404},
		{name: "collection by alias", path: "/taxii2/api/collections/intel/", key: "admin", wantStatus: 200, check: intel},
		{name: "collection by id", path: "/taxii2/api/collections/" + collIntel + "/", key: "admin", wantStatus: 200, check: intel},
		{name: "collection no slash", path: "/taxii2/api/collections/" + collIntel, key: "admin", wantStatus: 200, check: intel},
		{name: "collection of another root", path: "/taxii2/small/collections/intel/", key: "admin", wantStatus: 404},
		{name: "missing collection", path: "/taxii2/api/collections/nope/", key: "admin", wantStatus: 404},
		{name: "objects", path: "/taxii2/api/collections/intel/objects/", key: "admin", wantStatus: 200, check: bodyContains(ind)},
		{name: "objects no slash", path: "/taxii2/api/collections/intel/objects", key: "admin", wantStatus: 200, check: bodyContains(ind)},
		{name: "manifest", path: "/taxii2/api/collections/intel/manifest/", key: "admin", wantStatus: 200, check: bodyContains(ind)},
		{name: "manifest no slash", path: "/taxii2/api/collections/intel/manifest", key: "admin", wantStatus: 200, check: bodyContains(ind)},
		{name: "object", path: obj, key: "admin", wantStatus: 200, check: bodyContains(ind)},
		{name: "object no slash", path: strings.TrimSuffix(obj, "/"), key: "admin", wantStatus: 200, check: bodyContains(ind)},
		{name: "versions", path: obj + "versions/", key: "admin", wantStatus: 200, check: bodyIs(`{"more":false,"versions":["2024-01-01T00:00:00.000Z"]}`)},
		{name: "versions no slash", path: obj + "versions", key: "admin", wantStatus: 200, check: bodyContains("2024-01-01T00:00:00.000Z")},
		{name: "unknown status", path: "/taxii2/api/status/" + uuidN(9) + "/", key: "admin", wantStatus: 404},
		{name: "unknown status no slash", path: "/taxii2/api/status/" + uuidN(9), key: "admin", wantStatus: 404},
		{name: "double slash", path: "/taxii2/api//collections/", key: "admin", wantStatus: 200, check: bodyContains(collIntel)},
		{name: "dot segments", path: "/taxii2/api/./collections/intel/../rw/", key: "admin", wantStatus: 200, check: bodyContains(collRW)},
		{name: "root path", path: "/", key: "admin", wantStatus: 404},
		{name: "unknown path", path: "/nothing/here", key: "admin", wantStatus: 404},
		{name: "too deep", path: obj + "versions/more/", key: "admin", wantStatus: 404},
		{name: "unknown path anonymous", path: "/nothing", wantStatus: 404},
		{name: "PUT discovery", method: "PUT", path: "/taxii2/", key: "admin", wantStatus: 405, check: allowed("GET, HEAD")},
		{name: "DELETE objects", method: "DELETE", path: "/taxii2/api/collections/intel/objects/", key: "admin", wantStatus: 405, check: allowed("GET, POST, HEAD")},
		{name: "POST object", method: "POST", path: obj, key: "admin", wantStatus: 405, check: allowed("GET, DELETE, HEAD")},
		{name: "PATCH collections no slash", method: "PATCH", path: "/taxii2/api/collections", key: "admin", wantStatus: 405, check: allowed("GET, HEAD")},
		{name: "HEAD api root", method: "HEAD", path: "/taxii2/api/", key: "admin", wantStatus: 200, check: bodyIs("")},
	})
}

func TestAccept(t *testing.T) {
	e := newEnv(t, server.Config{}, true)
	path := "/taxii2/api/collections/"
	var scs []scenario
	for _, a := range []string{
		"", "*/*", "application/*", "application/json", "application/taxii+json", "application/taxii+json;version=2.1",
		"application/taxii+json; version=2.1", "APPLICATION/TAXII+JSON;VERSION=2.1",
		"application/taxii+json;version=2.1,application/stix+json;version=2.1",
		"text/html;q=0.9, application/taxii+json;version=2.1;q=0.5", "text/html,*/*;q=0.8",
	} {
		scs = append(scs, scenario{name: "served " + a, path: path, key: "admin", header: map[string]string{"Accept": a}, wantStatus: 200})
	}
	for _, a := range []string{
		"application/taxii+json;version=2.0", "application/vnd.oasis.taxii+json; version=2.0",
		"application/vnd.oasis.stix+json; version=2.0,application/vnd.oasis.taxii+json; version=2.0",
		"text/html", "application/xml", "application/taxii+json;version=2.1;q=0",
	} {
		scs = append(scs, scenario{name: "refused " + a, path: path, key: "admin", header: map[string]string{"Accept": a}, wantStatus: 406,
			check: bodyContains(`"http_status":"406"`)})
	}
	scs = append(scs, scenario{name: "refused on POST", method: "POST", path: "/taxii2/api/collections/rw/objects/", key: "admin",
		header: map[string]string{"Accept": "application/vnd.oasis.taxii+json; version=2.0", "Content-Type": taxii.MediaType},
		body:   envelope(indicator(1, "2024-01-01T00:00:00.000Z")), wantStatus: 406})
	e.run(t, scs)
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t, server.Config{}, true)
	key := e.keys["reader"]
	objects := "/taxii2/api/collections/intel/objects/"
	challenged := func(t *testing.T, r *response) {
		got := strings.Join(r.header.Values("WWW-Authenticate"), ", ")
		if !strings.Contains(got, `Basic realm="hail"`) || !strings.Contains(got, `Bearer realm="hail"`) {
			t.Errorf("WWW-Authenticate = %q, want Basic and Bearer challenges", got)
		}
		var te taxii.Error
		r.json(t, &te)
		if te.HTTPStatus != "401" || te.Title == "" {
			t.Errorf("401 body = %s, want a TAXII error", r.body)
		}
	}
	var scs []scenario
	for name, h := range map[string]string{
		"Sentinel apikey:KEY":    basic("apikey", key),
		"blank user":             basic("", key),
		"key as user":            basic(key, "notNeeded"),
		"key as user, no pass":   basic(key, ""),
		"lowercase basic (MISP)": "basic " + base64.StdEncoding.EncodeToString([]byte("apikey:"+key)),
		"Bearer":                 "Bearer " + key,
		"lowercase bearer":       "bearer " + key,
		"Token (taxii2-client)":  "Token " + key,
	} {
		scs = append(scs, scenario{name: name, path: objects, header: map[string]string{"Authorization": h}, wantStatus: 200})
	}
	for name, h := range map[string]string{
		"wrong password":     basic("apikey", "hail_wrong"),
		"wrong bearer":       "Bearer hail_wrong",
		"not base64":         "Basic !!!",
		"unknown scheme":     "Negotiate abc",
		"scheme only":        "Bearer",
		"empty basic":        basic("", ""),
		"revoked key":        basic("apikey", e.keys["revoked"]),
		"bad key on public":  basic("apikey", "hail_wrong"),
		"bad key on unknown": "Bearer hail_wrong",
	} {
		path := objects
		switch name {
		case "bad key on public":
			path = "/taxii2/api/collections/open/objects/"
		case "bad key on unknown":
			path = "/nothing/"
		}
		scs = append(scs, scenario{name: name, path: path, header: map[string]string{"Authorization": h}, wantStatus: 401, check: challenged})
	}
	scs = append(scs,
		scenario{name: "no key", path: objects, wantStatus: 401, check: challenged},
		scenario{name: "no key, collection", path: "/taxii2/api/collections/intel/", wantStatus: 401, check: challenged},
		scenario{name: "no key, missing collection", path: "/taxii2/api/collections/nope/", wantStatus: 401, check: challenged},
		scenario{name: "no key, root without public collection", path: "/taxii2/hidden/", wantStatus: 401, check: challenged},
		scenario{name: "no key, unknown root", path: "/taxii2/nope/collections/", wantStatus: 401, check: challenged},
		scenario{name: "no key, status", path: "/taxii2/api/status/" + uuidN(1) + "/", wantStatus: 401, check: challenged},
		scenario{name: "no key, POST to public", method: "POST", path: "/taxii2/api/collections/open/objects/",
			header: map[string]string{"Content-Type": taxii.MediaType}, body: envelope(), wantStatus: 401, check: challenged},
		scenario{name: "no key, DELETE on public", method: "DELETE", path: "/taxii2/api/collections/open/objects/indicator--" + uuidN(1) + "/",
			wantStatus: 401, check: challenged},
		scenario{name: "public objects without key", path: "/taxii2/api/collections/open/objects/", wantStatus: 200},
		scenario{name: "public manifest without key", path: "/taxii2/api/collections/open/manifest/", wantStatus: 200},
		scenario{name: "public collection without key", path: "/taxii2/api/collections/open/", wantStatus: 200,
			check: bodyContains(`"can_read":true`, `"can_write":false`)},
		scenario{name: "public root without key", path: "/taxii2/api/", wantStatus: 200},
		scenario{name: "collections without key list public only", path: "/taxii2/api/collections/", wantStatus: 200,
			check: func(t *testing.T, r *response) {
				var cs taxii.Collections
				r.json(t, &cs)
				if len(cs.Collections) != 1 || cs.Collections[0].ID != collOpen {
					t.Errorf("collections = %+v, want only %s", cs.Collections, collOpen)
				}
			}},
		scenario{name: "discovery without key lists public roots", path: "/taxii2/", wantStatus: 200,
			check: func(t *testing.T, r *response) {
				var d taxii.Discovery
				r.json(t, &d)
				if want := e.srv.URL + "/taxii2/api/"; len(d.APIRoots) != 1 || d.APIRoots[0] != want || d.Default != want {
					t.Errorf("discovery = %+v, want only %s", d, want)
				}
			}},
	)
	e.run(t, scs)

	t.Run("no public collection", func(t *testing.T) {
		e := newEnv(t, server.Config{}, false)
		e.run(t, []scenario{
			{name: "discovery", path: "/taxii2/", wantStatus: 401, check: challenged},
			{name: "api root", path: "/taxii2/api/", wantStatus: 401, check: challenged},
			{name: "collections", path: "/taxii2/api/collections/", wantStatus: 401, check: challenged},
			{name: "discovery with key", path: "/taxii2/", key: "nobody", wantStatus: 200},
		})
	})
}

func TestRights(t *testing.T) {
	e := newEnv(t, server.Config{}, true)
	ind := func(n int) string { return "indicator--" + uuidN(n) }
	for _, c := range []string{collIntel, collDrop, collSecret, collRW} {
		e.seed(t, c, indicator(1, "2024-01-01T00:00:00.000Z"), indicator(2, "2024-01-01T00:00:00.000Z"),
			indicator(3, "2024-01-01T00:00:00.000Z"))
	}
	list := func(want ...string) func(*testing.T, *response) {
		return func(t *testing.T, r *response) {
			var cs taxii.Collections
			r.json(t, &cs)
			var got []string
			for _, c := range cs.Collections {
				got = append(got, fmt.Sprintf("%s:%v/%v", c.Alias, c.CanRead, c.CanWrite))
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("collections = %v, want %v", got, want)
			}
		}
	}
	post := func(name, coll, key string, want int) scenario {
		return scenario{name: name, method: "POST", path: "/taxii2/api/collections/" + coll + "/objects/", key: key,
			header: map[string]string{"Content-Type": taxii.MediaType}, body: envelope(indicator(9, "2024-01-01T00:00:00.000Z")), wantStatus: want}
	}
	del := func(name, coll, key string, n, want int) scenario {
		return scenario{name: name, method: "DELETE", path: "/taxii2/api/collections/" + coll + "/objects/" + ind(n) + "/", key: key, wantStatus: want}
	}
	e.run(t, []scenario{
		{name: "reader list", path: "/taxii2/api/collections/", key: "reader", wantStatus: 200, check: list("intel:true/false", "open:true/false", "rw:true/false")},
		{name: "writer list", path: "/taxii2/api/collections/", key: "writer", wantStatus: 200, check: list("drop:false/true", "open:true/false", "rw:false/true")},
		{name: "rw list", path: "/taxii2/api/collections/", key: "rw", wantStatus: 200, check: list("open:true/false", "rw:true/true")},
		{name: "nobody list", path: "/taxii2/api/collections/", key: "nobody", wantStatus: 200, check: list("open:true/false")},
		{name: "nobody list of a root with nothing for it", path: "/taxii2/hidden/collections/", key: "nobody", wantStatus: 200, check: bodyIs("{}")},
		{name: "reader reads intel", path: "/taxii2/api/collections/intel/objects/", key: "reader", wantStatus: 200, check: bodyContains(ind(1))},
		{name: "reader cannot see secret", path: "/taxii2/api/collections/secret/", key: "reader", wantStatus: 404},
		{name: "reader cannot read secret", path: "/taxii2/api/collections/secret/objects/", key: "reader", wantStatus: 404},
		{name: "nobody cannot see intel", path: "/taxii2/api/collections/intel/", key: "nobody", wantStatus: 404},
		{name: "writer sees drop", path: "/taxii2/api/collections/drop/", key: "writer", wantStatus: 200,
			check: bodyContains(`"can_read":false`, `"can_write":true`)},
		{name: "writer cannot read drop objects", path: "/taxii2/api/collections/drop/objects/", key: "writer", wantStatus: 403},
		{name: "writer cannot read drop manifest", path: "/taxii2/api/collections/drop/manifest/", key: "writer", wantStatus: 403},
		{name: "writer cannot read drop object", path: "/taxii2/api/collections/drop/objects/" + ind(1) + "/", key: "writer", wantStatus: 403},
		{name: "writer cannot read drop versions", path: "/taxii2/api/collections/drop/objects/" + ind(1) + "/versions/", key: "writer", wantStatus: 403},
		post("writer adds to drop", "drop", "writer", 202),
		post("reader cannot add to intel", "intel", "reader", 403),
		post("reader cannot add to public", "open", "reader", 403),
		post("reader cannot see secret to add", "secret", "reader", 404),
		post("admin adds anywhere", "secret", "admin", 202),
		// TAXII 2.1 §5.7: read F/write F 404; read T/write F 403; read F/write T 403; both allowed.
		del("delete: neither right", "rw", "nobody", 1, 404),
		del("delete: read only", "rw", "reader", 1, 403),
		del("delete: write only", "rw", "writer", 1, 403),
		del("delete: read and write", "rw", "rw", 1, 200),
		del("delete: admin", "rw", "admin", 2, 200),
		del("delete: read only, other collection", "intel", "reader", 1, 403),
		del("delete: invisible", "secret", "reader", 1, 404),
		{name: "deleted object is gone", path: "/taxii2/api/collections/rw/objects/" + ind(1) + "/", key: "admin", wantStatus: 404},
		{name: "other objects stay", path: "/taxii2/api/collections/rw/objects/" + ind(3) + "/", key: "admin", wantStatus: 200},
	})

	// A collection the key may not see answers exactly like a missing one.
	hidden := e.get(t, "/taxii2/api/collections/secret/objects/", "reader")
	missing := e.get(t, "/taxii2/api/collections/secreu/objects/", "reader")
	if hidden.status != missing.status || !bytes.Equal(bytes.ReplaceAll(hidden.body, []byte("secret"), []byte("secreu")), missing.body) {
		t.Errorf("hidden collection answers %d %s, missing one %d %s; want the same", hidden.status, hidden.body, missing.status, missing.body)
	}
}

// TestWireHeaders reads a raw response: header names go out as the specs
// spell them, for clients that look them up case-sensitively.
func TestWireHeaders(t *testing.T) {
	e := newEnv(t, server.Config{}, true)
	e.seed(t, collOpen, indicator(1, "2024-01-01T00:00:00.000Z"))
	raw := func(path, auth string) string {
		conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nAccept: %s\r\n%sConnection: close\r\n\r\n", path, taxii.MediaType, auth)
		b, err := io.ReadAll(conn)
		if err != nil {
			t.Fatal(err)
		}
		head, _, _ := strings.Cut(string(b), "\r\n\r\n")
		return head
	}
	head := raw("/taxii2/api/collections/open/objects/", "")
	for _, want := range []string{"\r\nX-TAXII-Date-Added-First: ", "\r\nX-TAXII-Date-Added-Last: ", "\r\nContent-Type: " + taxii.MediaType + "\r\n"} {
		if !strings.Contains(head, want) {
			t.Errorf("response head %q lacks %q", head, want)
		}
	}
	head = raw("/taxii2/api/collections/intel/objects/", "")
	for _, want := range []string{"HTTP/1.1 401 ", "\r\nWWW-Authenticate: Basic realm=\"hail\"", "\r\nWWW-Authenticate: Bearer realm=\"hail\""} {
		if !strings.Contains(head, want) {
			t.Errorf("response head %q lacks %q", head, want)
		}
	}
}
