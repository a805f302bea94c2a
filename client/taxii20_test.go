package client_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"hail/client"
	"hail/internal/taxii20test"
	"hail/taxii"
)

func TestTAXII20Walk(t *testing.T) {
	srv := taxii20test.Start(t)
	var want []string
	for n := 0; n < 25; n++ {
		srv.Add(t, taxii20test.Indicator(n))
		var head struct{ ID string }
		json.Unmarshal([]byte(taxii20test.Indicator(n)), &head)
		want = append(want, head.ID)
	}
	cl, err := client.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	// The server refuses the TAXII 2.1 media type: the client asks again
	// in 2.0 and stays with it.
	cols, err := cl.Collections(context.Background())
	if err != nil || len(cols) != 1 || cols[0].ID != taxii20test.CollectionID {
		t.Fatalf("Collections = %+v, %v", cols, err)
	}
	if !cl.TAXII20() {
		t.Errorf("the client did not change to TAXII 2.0")
	}
	ids, sizes, last := walkAll(t, cl, taxii20test.CollectionID, client.Filter{Limit: 10})
	if !slices.Equal(ids, want) || len(sizes) != 3 {
		t.Errorf("walk read %d objects in pages of %v, want the 25 in order in 3:\n%v", len(ids), sizes, ids)
	}
	if want := []string{"items 0-9", "items 10-19", "items 20-29"}; !slices.Equal(srv.Ranges(), want) {
		t.Errorf("ranges asked %q, want %q", srv.Ranges(), want)
	}
	if !last.Equal(srv.DateAdded(24)) {
		t.Errorf("walk mark %v, want the last date_added %v", last, srv.DateAdded(24))
	}
	accepts := srv.Accepts()
	if len(accepts) != 5 || accepts[0] == taxii20test.MediaType || accepts[1] != taxii20test.MediaType ||
		accepts[2] != taxii20test.STIXMediaType {
		t.Errorf("Accept headers %q: want one TAXII 2.1 request, then 2.0 ones", accepts)
	}

	// From the mark, only what was added since.
	srv.Add(t, taxii20test.Indicator(25), taxii20test.Indicator(26))
	ids, _, _ = walkAll(t, cl, taxii20test.CollectionID, client.Filter{AddedAfter: last, Limit: 10})
	if len(ids) != 2 || ids[0] != "indicator--00000019-1111-4222-8333-444444444444" {
		t.Errorf("walk from the mark read %v, want the 2 added since", ids)
	}
}

func TestTAXII20WholeAnswer(t *testing.T) {
	srv := taxii20test.Start(t)
	srv.IgnoreRange = true
	for n := 0; n < 7; n++ {
		srv.Add(t, taxii20test.Indicator(n))
	}
	cl, err := client.New(srv.URL, client.WithTAXII20())
	if err != nil {
		t.Fatal(err)
	}
	// A server that ignores Range answers with everything, and no
	// Content-Range: one page.
	ids, sizes, _ := walkAll(t, cl, taxii20test.CollectionID, client.Filter{Limit: 3})
	if len(ids) != 7 || len(sizes) != 1 {
		t.Errorf("walk read %d objects in pages of %v, want 7 in 1", len(ids), sizes)
	}
	if accepts := srv.Accepts(); len(accepts) != 1 || accepts[0] != taxii20test.STIXMediaType {
		t.Errorf("Accept headers %q: want TAXII 2.0 from the first request", accepts)
	}
}

// TestTAXII20NotEither: a server that refuses the TAXII 2.0 media type too
// gets its answer to the 2.1 request back, and the client stays with 2.1.
func TestTAXII20NotEither(t *testing.T) {
	var accepts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		accepts = append(accepts, r.Header.Get("Accept"))
		w.Header().Set("Content-Type", taxii.MediaType)
		w.WriteHeader(http.StatusNotAcceptable)
		if len(accepts) == 1 {
			w.Write([]byte(`{"title":"First refusal"}`))
		} else {
			w.Write([]byte(`{"title":"Second refusal"}`))
		}
	}))
	defer srv.Close()
	cl, err := client.New(srv.URL + "/api/")
	if err != nil {
		t.Fatal(err)
	}
	_, err = cl.Collections(context.Background())
	if err == nil || !strings.Contains(err.Error(), "First refusal") || cl.TAXII20() || len(accepts) != 2 {
		t.Errorf("Collections: %v after %d requests, TAXII 2.0 %v; want the first refusal after 2, still 2.1", err, len(accepts), cl.TAXII20())
	}
}

// TestTAXII20Lenient walks a TAXII 2.0 server that answers the 2.1 media
// type with application/json and pages with 206 and Content-Range on its
// own: the first such page changes the client to 2.0.
func TestTAXII20Lenient(t *testing.T) {
	srv := taxii20test.Start(t)
	srv.Lenient, srv.MaxPage = true, 10
	for n := 0; n < 25; n++ {
		srv.Add(t, taxii20test.Indicator(n))
	}
	cl, err := client.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ids, sizes, _ := walkAll(t, cl, taxii20test.CollectionID, client.Filter{})
	if len(ids) != 25 || !slices.Equal(sizes, []int{10, 10, 5}) || !cl.TAXII20() {
		t.Errorf("walk read %d objects in pages of %v, TAXII 2.0 %v; want 25 in 10, 10, 5, then 2.0", len(ids), sizes, cl.TAXII20())
	}
	if want := []string{"", "items 10-19", "items 20-29"}; !slices.Equal(srv.Ranges(), want) {
		t.Errorf("ranges asked %q, want %q", srv.Ranges(), want)
	}
}
