package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"hail/auth"
	"hail/bootstrap"
	"hail/client"
	"hail/server"
	"hail/stix"
	"hail/store"
	"hail/store/sqlite"
)

// hailEnv is a real hail server over a temp-dir SQLite store, prepared as
// on a first start, with extra keys and collections.
type hailEnv struct {
	db      *sqlite.DB
	srv     *httptest.Server
	root    string            // API root URL
	keys    map[string]string // key name → secret
	defID   string            // id of the "default" collection
	readID  string            // id of collection "feed": reader reads
	openID  string            // id of collection "open": public
	smallID string            // id of collection "tiny" in root "small"

	mu       sync.Mutex
	requests []*http.Request // every request the server received
}

// newHail starts the server. wrap, when not nil, wraps its handler (to
// make it misbehave).
func newHail(tb testing.TB, tlsServer bool, wrap func(http.Handler) http.Handler) *hailEnv {
	tb.Helper()
	db, err := sqlite.Open(filepath.Join(tb.TempDir(), "hail.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	ctx := context.Background()
	res, err := bootstrap.Ensure(ctx, db, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	e := &hailEnv{db: db, keys: map[string]string{"admin": res.AdminKey},
		readID: uuid.NewString(), openID: uuid.NewString(), smallID: uuid.NewString()}
	def, err := db.Collection(ctx, bootstrap.APIRootName, bootstrap.DefaultAlias)
	if err != nil {
		tb.Fatal(err)
	}
	e.defID = def.ID
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(db.CreateAPIRoot(ctx, store.APIRoot{Name: "small", Title: "Small", MaxContentLength: 2048}))
	must(db.CreateCollection(ctx, store.Collection{ID: e.readID, APIRoot: "api", Alias: "feed", Title: "Feed"}))
	must(db.CreateCollection(ctx, store.Collection{ID: e.openID, APIRoot: "api", Alias: "open", Title: "Open", Public: true}))
	must(db.CreateCollection(ctx, store.Collection{ID: e.smallID, APIRoot: "small", Alias: "tiny", Title: "Tiny"}))
	for _, k := range []store.Key{
		{Name: "reader", Read: []string{e.readID}},
		{Name: "nobody"},
	} {
		secret, hash := auth.NewKey()
		k.ID, k.Hash = uuid.NewString(), hash
		must(db.CreateKey(ctx, k))
		e.keys[k.Name] = secret
	}
	var h http.Handler = server.New(server.Config{}, db, nil)
	if wrap != nil {
		h = wrap(h)
	}
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.requests = append(e.requests, r.Clone(context.Background()))
		e.mu.Unlock()
		h.ServeHTTP(w, r)
	})
	e.srv = httptest.NewUnstartedServer(record)
	// The TLS test's refused handshakes are expected; keep them off stderr.
	e.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tlsServer {
		e.srv.StartTLS()
	} else {
		e.srv.Start()
	}
	tb.Cleanup(e.srv.Close)
	e.root = e.srv.URL + "/taxii2/api/"
	return e
}

// client returns a client of the API root with the admin key as Basic
// password and fast retries.
func (e *hailEnv) client(tb testing.TB, opts ...client.Option) *client.Client {
	tb.Helper()
	opts = append([]client.Option{client.WithBasicAuth("apikey", e.keys["admin"]),
		client.WithBackoff(time.Millisecond, 10*time.Millisecond)}, opts...)
	c, err := client.New(e.root, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// seed adds n indicators, numbered from first, straight into the store.
func (e *hailEnv) seed(tb testing.TB, collectionID string, first, n int) []string {
	tb.Helper()
	objs := make([]stix.Object, 0, n)
	ids := make([]string, 0, n)
	for i := first; i < first+n; i++ {
		o, err := stix.Parse(indicator(i))
		if err != nil {
			tb.Fatal(err)
		}
		objs = append(objs, o)
		ids = append(ids, o.ID)
	}
	for len(objs) > 0 {
		k := min(len(objs), 1000)
		if _, err := e.db.AddObjects(context.Background(), collectionID, objs[:k]); err != nil {
			tb.Fatal(err)
		}
		objs = objs[k:]
	}
	return ids
}

// queries returns the raw query strings of the requests to a path.
func (e *hailEnv) queries(path string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, r := range e.requests {
		if r.URL.Path == path {
			out = append(out, r.URL.RawQuery)
		}
	}
	return out
}

// lastRequest returns the last request the server received.
func (e *hailEnv) lastRequest() *http.Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.requests[len(e.requests)-1]
}

// uuidN returns the n-th test UUIDv4.
func uuidN(n int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n) }

// indicator returns a valid STIX 2.1 indicator numbered n, with a custom
// property that must survive byte for byte.
func indicator(n int) []byte {
	return fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":"indicator--%s","created":"2024-01-01T00:00:00.000Z",`+
		`"modified":"2024-01-01T00:00:00.000Z","name":"IOC %d","pattern":"[ipv4-addr:value = '203.0.113.%d']",`+
		`"pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","x_kept":{"b":1,  "a":[2]}}`, uuidN(n), n, n%256)
}

// ids returns the ids of raw objects, in order.
func ids(tb testing.TB, objs []json.RawMessage) []string {
	tb.Helper()
	out := make([]string, len(objs))
	for i, o := range objs {
		var h struct{ ID string }
		if err := json.Unmarshal(o, &h); err != nil {
			tb.Fatalf("object %d: %v: %s", i, err, o)
		}
		out[i] = h.ID
	}
	return out
}
