package replica

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"hail/store/postgres/pgtest"
	"hail/taxii"
)

// TestConnectionLoss cuts the connection between a server and its
// database: requests then fail with 503 and a TAXII error, the server
// serves again once the database is back, without a restart, and every
// object it acknowledged before the cut is there.
func TestConnectionLoss(t *testing.T) {
	hailBinary(t)
	dsn := pgtest.Schema(t)
	key, coll := prepare(t, dsn)
	p, proxied := viaProxy(t, dsn)
	s := startServer(t, proxied)
	c := newClient(s.base, key)
	objects := "/taxii2/api/collections/" + coll + "/objects/"

	var acked []string
	for i := 0; i < 3; i++ {
		objs := indicators(10*i, 5)
		r := c.do(t, "POST", objects, taxii.Envelope{Objects: objs})
		if r.status != http.StatusAccepted {
			t.Fatalf("POST before the cut: %d %s, want 202", r.status, r.body)
		}
		acked = append(acked, idsOf(t, objs)...)
	}

	p.Cut()
	for _, req := range []struct {
		method string
		body   any
	}{
		{"GET", nil},
		{"POST", taxii.Envelope{Objects: indicators(100, 5)}},
	} {
		r := c.do(t, req.method, objects, req.body)
		wantUnavailable(t, req.method+" while the database is cut off", r)
	}

	p.Restore()
	var r response
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if r = c.do(t, "GET", objects, nil); r.status == http.StatusOK {
			break
		}
	}
	if r.status != http.StatusOK {
		t.Fatalf("GET after the database came back: %d %s; want 200 within 30 s", r.status, r.body)
	}
	var env taxii.Envelope
	decode(t, "objects after the cut", r, &env)
	if got := objectIDs(t, env); !reflect.DeepEqual(got, acked) {
		t.Errorf("objects after the cut:\n got %v\nwant %v (every acknowledged object, and only those)", got, acked)
	}
	objs := indicators(200, 5)
	if r := c.do(t, "POST", objects, taxii.Envelope{Objects: objs}); r.status != http.StatusAccepted {
		t.Errorf("POST after the database came back: %d %s, want 202", r.status, r.body)
	}
	r = c.do(t, "GET", objects, nil)
	env = taxii.Envelope{}
	if decode(t, "objects after a new POST", r, &env); len(objectIDs(t, env)) != len(acked)+len(objs) {
		t.Errorf("after a POST once the database was back: %d objects, want %d", len(env.Objects), len(acked)+len(objs))
	}
}

// wantUnavailable reports unless r is a 503 with a TAXII error resource
// whose http_status says so (TAXII 2.1 §3.6.1).
func wantUnavailable(t *testing.T, what string, r response) {
	t.Helper()
	if r.status != http.StatusServiceUnavailable {
		t.Errorf("%s: status %d %s, want 503", what, r.status, r.body)
		return
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/taxii+json") {
		t.Errorf("%s: Content-Type %q, want the TAXII media type", what, ct)
	}
	var e taxii.Error
	if err := json.Unmarshal(r.body, &e); err != nil || e.Title == "" || e.HTTPStatus != "503" {
		t.Errorf("%s: body %s (%v), want a TAXII error with a title and http_status 503", what, r.body, err)
	}
}
