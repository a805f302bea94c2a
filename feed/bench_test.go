package feed_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"hail/store"
)

// benchList is a list of n IPv4 addresses.
func benchList(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "10.%d.%d.%d\n", i>>16&255, i>>8&255, i&255)
	}
	return b.String()
}

// benchmarkListFeed runs a feed of a 5,000-line list whose ETag changes at
// every run, so that each run fetches and reads it: after the first, every
// line is a duplicate, which is the steady state of a daily list.
func benchmarkListFeed(b *testing.B, snapshot bool) {
	ls := &listServer{}
	list := benchList(5000)
	ls.set(list, `"0"`)
	srv := httptest.NewServer(ls)
	defer srv.Close()
	local := openStore(b, localColl, "local")
	mustCreate(b, local, store.Feed{Name: "bench", Kind: store.FeedText, URL: srv.URL,
		List: store.FeedList{Source: "Bench", Snapshot: snapshot}})
	s, c := scheduler(local)
	b.ResetTimer()
	for i := range b.N {
		ls.set(list, fmt.Sprintf(`"%d"`, i+1))
		c.Advance(time.Hour)
		run, err := s.Run(ctx, "bench")
		if err != nil || run.Error != "" || run.Read != 5000 {
			b.Fatalf("run %+v, %v", run, err)
		}
	}
	b.ReportMetric(float64(b.N*5000)/b.Elapsed().Seconds(), "lines/s")
}

func BenchmarkListFeed(b *testing.B)         { benchmarkListFeed(b, false) }
func BenchmarkListFeedSnapshot(b *testing.B) { benchmarkListFeed(b, true) }

// BenchmarkMISPFeed runs a misp feed of one event of 5,000 attributes
// whose ETag changes at every run: after the first, every attribute is a
// duplicate, the steady state of a MISP event re-published unchanged.
func BenchmarkMISPFeed(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"Event":{"info":"bench","Orgc":{"name":"Bench"},"Attribute":[`)
	for i := range 5000 {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"type":"ip-dst","value":"10.%d.%d.%d","to_ids":true,"uuid":"%08x-0000-4000-8000-000000000000"}`,
			i>>16&255, i>>8&255, i&255, i)
	}
	sb.WriteString("]}}")
	ls := &listServer{}
	ls.set(sb.String(), `"0"`)
	srv := httptest.NewServer(ls)
	defer srv.Close()
	local := openStore(b, localColl, "local")
	mustCreate(b, local, store.Feed{Name: "bench", Kind: store.FeedMISP, URL: srv.URL + "/event.json"})
	s, c := scheduler(local)
	b.ResetTimer()
	for i := range b.N {
		ls.set(sb.String(), fmt.Sprintf(`"%d"`, i+1))
		c.Advance(time.Hour)
		run, err := s.Run(ctx, "bench")
		if err != nil || run.Error != "" || run.Read != 5000 {
			b.Fatalf("run %+v, %v", run, err)
		}
	}
	b.ReportMetric(float64(b.N*5000)/b.Elapsed().Seconds(), "attributes/s")
}
