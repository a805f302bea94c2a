package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hail/client"
	"hail/taxii"
)

// walkAll walks a collection and returns the ids seen, the page sizes and
// the high-water mark.
func walkAll(t *testing.T, c *client.Client, coll string, f client.Filter) (ids_ []string, sizes []int, last time.Time) {
	t.Helper()
	last, err := c.Walk(ctx, coll, f, func(p client.Page) error {
		ids_ = append(ids_, ids(t, p.Objects)...)
		sizes = append(sizes, len(p.Objects))
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	return ids_, sizes, last
}

func TestWalkByNext(t *testing.T) {
	e := newHail(t, false, nil)
	c := e.client(t)
	want := e.seed(t, e.defID, 1, 25)

	got, sizes, last := walkAll(t, c, e.defID, client.Filter{Limit: 7})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("walked ids = %v\nwant %v", got, want)
	}
	if !reflect.DeepEqual(sizes, []int{7, 7, 7, 4}) {
		t.Errorf("page sizes %v, want [7 7 7 4]", sizes)
	}
	qs := e.queries("/taxii2/api/collections/" + e.defID + "/objects/")
	for i, q := range qs[1:] {
		if v, _ := url.ParseQuery(q); v.Get("next") == "" || v.Get("limit") != "7" {
			t.Errorf("request %d query %q, want next with the original limit", i+2, q)
		}
	}
	final, err := c.Objects(ctx, e.defID, client.Filter{Limit: 1, IDs: []string{want[24]}})
	if err != nil {
		t.Fatal(err)
	}
	if !last.Equal(final.DateAddedLast) {
		t.Errorf("high-water mark %v, want the last object's date_added %v", last, final.DateAddedLast)
	}

	// A second walk from the mark reads nothing, then only what is new.
	got, _, again := walkAll(t, c, e.defID, client.Filter{AddedAfter: last})
	if len(got) != 0 || !again.Equal(last) {
		t.Errorf("walk from the mark: %v, mark %v; want nothing and the same mark %v", got, again, last)
	}
	fresh := e.seed(t, e.defID, 100, 3)
	got, _, after := walkAll(t, c, e.defID, client.Filter{AddedAfter: last, Limit: 2})
	if !reflect.DeepEqual(got, fresh) || !after.After(last) {
		t.Errorf("walk after adding 3: %v (mark %v), want %v and a later mark than %v", got, after, fresh, last)
	}
}

// dropNext removes "next" from every envelope, as a server that pages
// only by added_after does.
func dropNext(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		var env map[string]json.RawMessage
		if rec.Code == http.StatusOK && json.Unmarshal(body, &env) == nil && env["next"] != nil {
			delete(env, "next")
			body, _ = json.Marshal(env)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length") // the body is shorter now
		w.WriteHeader(rec.Code)
		w.Write(body)
	})
}

func TestWalkByAddedAfter(t *testing.T) {
	e := newHail(t, false, dropNext)
	c := e.client(t)
	want := e.seed(t, e.defID, 1, 25)
	var marks []time.Time
	var got []string
	var sizes []int
	_, err := c.Walk(ctx, e.defID, client.Filter{Limit: 10}, func(p client.Page) error {
		got = append(got, ids(t, p.Objects)...)
		sizes = append(sizes, len(p.Objects))
		marks = append(marks, p.DateAddedLast)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Each page after the first asks from just before the last one's mark,
	// so it begins with the object added then, which the walk drops.
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(sizes, []int{10, 9, 6}) {
		t.Errorf("walked %d ids in pages %v, want %d in [10 9 6]", len(got), sizes, len(want))
	}
	qs := e.queries("/taxii2/api/collections/" + e.defID + "/objects/")
	for i, q := range qs[1:] {
		v, _ := url.ParseQuery(q)
		if want := taxii.FormatTimestamp(taxii.JustBefore(marks[i])); v.Has("next") || v.Get("added_after") != want {
			t.Errorf("request %d query %q, want added_after=%s and no next", i+2, q, want)
		}
	}
}

func TestWalkEmptyCollection(t *testing.T) {
	e := newHail(t, false, nil)
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	calls := 0
	last, err := e.client(t).Walk(ctx, e.defID, client.Filter{AddedAfter: from}, func(client.Page) error { calls++; return nil })
	if err != nil || calls != 0 || !last.Equal(from) {
		t.Errorf("Walk(empty) = %v, %v after %d calls; want %v, no error, no calls", last, err, calls, from)
	}
}

// walkFunc is Client.Walk or Client.WalkAhead.
type walkFunc func(context.Context, string, client.Filter, func(client.Page) error) (time.Time, error)

func TestWalkStopsOnCallbackError(t *testing.T) {
	e := newHail(t, false, nil)
	c := e.client(t)
	e.seed(t, e.defID, 1, 10)
	checkStopsOnCallbackError(t, e.defID, "Walk", c.Walk)
}

// checkStopsOnCallbackError walks collection coll, whose callback fails on
// the second page, and checks that the walk returns that error with a mark
// just before the first page's: objects may share its date_added.
func checkStopsOnCallbackError(t *testing.T, coll, name string, walk walkFunc) {
	t.Helper()
	stop := errors.New("stop")
	var first time.Time
	calls := 0
	last, err := walk(ctx, coll, client.Filter{Limit: 4}, func(p client.Page) error {
		calls++
		if calls == 2 {
			return stop
		}
		first = p.DateAddedLast
		return nil
	})
	if !errors.Is(err, stop) || calls != 2 || !last.Equal(taxii.JustBefore(first)) {
		t.Errorf("%s = %v, %v after %d calls; want the callback's error after 2 and just before the first page's mark %v", name, last, err, calls, first)
	}
}

func TestWalkLoopGuard(t *testing.T) {
	obj := `{"type":"indicator","id":"indicator--00000001-0000-4000-8000-000000000001"}`
	stamp := "2025-05-01T00:00:00.000001Z"
	for _, tc := range []struct {
		name    string
		answers []string // envelope bodies, in turn; the last repeats
		header  bool     // send X-TAXII-Date-Added-Last = stamp
		want    error
		calls   int // requests expected
	}{
		{"same next", []string{`{"more":true,"next":"abc","objects":[` + obj + `]}`}, false, client.ErrLoop, 2},
		{"cycle", []string{`{"more":true,"next":"a","objects":[` + obj + `]}`, `{"more":true,"next":"b","objects":[]}`,
			`{"more":true,"next":"a","objects":[` + obj + `]}`}, false, client.ErrLoop, 3},
		// The second request asks from just before the mark, the third
		// for a page twice as large, which gives no more.
		{"same added_after", []string{`{"more":true,"objects":[` + obj + `]}`}, true, client.ErrLoop, 3},
		{"no way on", []string{`{"more":true,"objects":[` + obj + `]}`}, false, client.ErrStuck, 1},
	} {
		var n atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			i := int(n.Add(1)) - 1
			w.Header().Set("Content-Type", taxii.MediaType)
			if tc.header {
				w.Header().Set("X-TAXII-Date-Added-Last", stamp)
			}
			io.WriteString(w, tc.answers[min(i, len(tc.answers)-1)])
		}))
		c, err := client.New(srv.URL + "/taxii2/api/")
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Walk(ctx, "c", client.Filter{}, func(client.Page) error { return nil })
		if !errors.Is(err, tc.want) || int(n.Load()) != tc.calls {
			t.Errorf("%s: %v after %d requests, want %v after %d", tc.name, err, n.Load(), tc.want, tc.calls)
		}
		if err != nil && !strings.Contains(err.Error(), "server") {
			t.Errorf("%s: message %q does not say what the server did", tc.name, err)
		}
		srv.Close()
	}
}

// TestWalkAhead checks that the read-ahead walk hands over the same pages,
// in order, and keeps Walk's high-water mark, on success and when the
// callback fails.
func TestWalkAhead(t *testing.T) {
	e := newHail(t, false, nil)
	c := e.client(t)
	want := e.seed(t, e.defID, 1, 25)
	var got []string
	var sizes []int
	last, err := c.WalkAhead(ctx, e.defID, client.Filter{Limit: 7}, func(p client.Page) error {
		got = append(got, ids(t, p.Objects)...)
		sizes = append(sizes, len(p.Objects))
		return nil
	})
	if err != nil {
		t.Fatalf("WalkAhead: %v", err)
	}
	_, _, walkLast := walkAll(t, c, e.defID, client.Filter{Limit: 7})
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(sizes, []int{7, 7, 7, 4}) || !last.Equal(walkLast) {
		t.Errorf("WalkAhead: %d ids in pages %v, mark %v; want %d in [7 7 7 4], mark %v", len(got), sizes, last, len(want), walkLast)
	}

	checkStopsOnCallbackError(t, e.defID, "WalkAhead", c.WalkAhead)

	// A failing server: the error comes back with the mark of what was
	// handed over before it.
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	last, err = c.WalkAhead(ctx, "no-such-collection", client.Filter{AddedAfter: from}, func(client.Page) error { return nil })
	if err == nil || !last.Equal(from) {
		t.Errorf("WalkAhead(missing collection) = %v, %v; want an error and the mark %v", last, err, from)
	}
}
