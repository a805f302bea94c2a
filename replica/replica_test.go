package replica

import (
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	"hail/store/postgres/pgtest"
	"hail/taxii"
)

// TestTwoReplicas runs two `hail serve` processes on one database: what
// one acknowledges the other serves, a status made by one is readable on
// the other, and a poller that pages on one finishes with the same next
// token on the other after the first is stopped.
func TestTwoReplicas(t *testing.T) {
	hailBinary(t)
	dsn := pgtest.Schema(t)
	key, coll := prepare(t, dsn)
	a, b := startServer(t, dsn), startServer(t, dsn)
	ca, cb := newClient(a.base, key), newClient(b.base, key)
	objects := "/taxii2/api/collections/" + coll + "/objects/"

	// POST to one, poll the other.
	first := indicators(0, 3)
	r := ca.do(t, "POST", objects, taxii.Envelope{Objects: first})
	if r.status != http.StatusAccepted {
		t.Fatalf("POST to replica A: %d %s, want 202", r.status, r.body)
	}
	var st taxii.Status
	decode(t, "status from replica A", r, &st)
	if st.SuccessCount != len(first) || st.ID == "" {
		t.Errorf("status from replica A: %+v, want %d successes and an id", st, len(first))
	}
	want := idsOf(t, first)
	var got []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		r := cb.do(t, "GET", objects, nil)
		if r.status != http.StatusOK {
			continue
		}
		var env taxii.Envelope
		decode(t, "objects from replica B", r, &env)
		if got = objectIDs(t, env); reflect.DeepEqual(got, want) {
			break
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("replica B serves %v, want what replica A acknowledged: %v", got, want)
	}

	// A status made by one replica is readable on the other.
	r = cb.do(t, "GET", "/taxii2/api/status/"+st.ID+"/", nil)
	var stB taxii.Status
	if r.status != http.StatusOK {
		t.Errorf("GET status %s on replica B: %d %s, want 200", st.ID, r.status, r.body)
	} else if decode(t, "status from replica B", r, &stB); !reflect.DeepEqual(stB, st) {
		t.Errorf("status on replica B:\n got %+v\nwant %+v (as replica A made it)", stB, st)
	}

	// Start paging on A, stop A, finish with the same next on B.
	more := indicators(len(first), 25)
	if r := cb.do(t, "POST", objects, taxii.Envelope{Objects: more}); r.status != http.StatusAccepted {
		t.Fatalf("POST to replica B: %d %s, want 202", r.status, r.body)
	}
	want = append(want, idsOf(t, more)...)
	r = ca.do(t, "GET", objects+"?limit=10", nil)
	var page taxii.Envelope
	if r.status != http.StatusOK {
		t.Fatalf("first page on replica A: %d %s", r.status, r.body)
	}
	decode(t, "first page on replica A", r, &page)
	if !page.More || page.Next == "" {
		t.Fatalf("first page on replica A: more %v, next %q; want more and a next token", page.More, page.Next)
	}
	got = objectIDs(t, page)
	a.stop(t)
	for pages := 0; page.More && pages < 10; pages++ {
		r := cb.do(t, "GET", objects+"?limit=10&next="+url.QueryEscape(page.Next), nil)
		if r.status != http.StatusOK {
			t.Fatalf("page after next=%s on replica B: %d %s", page.Next, r.status, r.body)
		}
		page = taxii.Envelope{}
		decode(t, "page on replica B", r, &page)
		got = append(got, objectIDs(t, page)...)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pages from A then B:\n got %v\nwant %v (every object once, in date_added order)", got, want)
	}
}
