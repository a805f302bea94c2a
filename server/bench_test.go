package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"hail/server"
	"hail/taxii"
)

// BenchmarkObjectsGet reads one page of 1000 objects over HTTP from a
// collection of 10,000.
func BenchmarkObjectsGet(b *testing.B) {
	e := newEnv(b, server.Config{}, true)
	const page = 1000
	seedIndicators(b, e, collIntel, 10000)
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/taxii2/api/collections/intel/objects/?limit=1000", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Accept", taxii.MediaType)
	req.Header.Set("Authorization", basic("apikey", e.keys["reader"]))
	n := getLoop(b, e.srv.Client(), req)
	b.ReportMetric(float64(n*page)/b.Elapsed().Seconds(), "objects/s")
}

// BenchmarkPostEnvelope adds envelopes of 100 new objects over HTTP.
func BenchmarkPostEnvelope(b *testing.B) {
	e := newEnv(b, server.Config{}, true)
	const size = 100
	client := e.srv.Client()
	next, n := 1, 0
	objs := make([]string, size)
	for b.Loop() {
		for j := range objs {
			objs[j] = indicator(next, "2024-01-01T00:00:00.000Z")
			next++
		}
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/taxii2/api/collections/rw/objects/", strings.NewReader(envelope(objs...)))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Accept", taxii.MediaType)
		req.Header.Set("Content-Type", taxii.MediaType)
		req.Header.Set("Authorization", basic("apikey", e.keys["rw"]))
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusAccepted {
			b.Fatalf("status %d", res.StatusCode)
		}
		n++
	}
	b.ReportMetric(float64(n*size)/b.Elapsed().Seconds(), "objects/s")
}

// BenchmarkUICollectionPage renders the dashboard's page of a collection
// of 10,000 objects: the newest 50 with the live stream's position.
func BenchmarkUICollectionPage(b *testing.B) {
	e := uiEnv(b, server.Config{})
	seedIndicators(b, e, collIntel, 10000)
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/ui/collections/api/"+collIntel+"/?since=all&after=", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.AddCookie(&http.Cookie{Name: "hail_ui", Value: e.keys["reader"]})
	getLoop(b, e.srv.Client(), req)
}

// getLoop sends req for every iteration, checks for 200 and reads the
// body; it returns the number of requests.
func getLoop(b *testing.B, client *http.Client, req *http.Request) int {
	n := 0
	for b.Loop() {
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		size, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatalf("status %d", res.StatusCode)
		}
		b.SetBytes(size)
		n++
	}
	return n
}

// seedIndicators adds indicators 1 to total to a collection, 1000 at a time.
func seedIndicators(b *testing.B, e *env, collection string, total int) {
	const batch = 1000
	for i := 0; i < total; i += batch {
		objs := make([]string, min(batch, total-i))
		for j := range objs {
			objs[j] = indicator(i+j+1, "2024-01-01T00:00:00.000Z")
		}
		e.seed(b, collection, objs...)
	}
}
