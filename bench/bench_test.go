package bench

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkGenerate measures the generator, which must stay well ahead of
// the stores it feeds (target: bulk import at 50,000 objects/s). One
// operation is a batch of 1,000 objects, parsed by stix.Parse.
func BenchmarkGenerate(b *testing.B) {
	g := NewGenerator(1, 1<<40)
	for b.Loop() {
		if _, err := g.Next(1000); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "objects/s")
	b.ReportMetric(float64(g.Stats().Bytes)/float64(g.Stats().Versions), "bytes/object")
}

// BenchmarkScanEnvelope measures the pollers' page reading on a page of
// 1,000 generated objects: it must be far faster than loopback HTTP, or the
// raw HTTP reference would measure the client.
func BenchmarkScanEnvelope(b *testing.B) {
	objs, err := NewGenerator(1, 1000).Next(1000)
	if err != nil {
		b.Fatal(err)
	}
	var page bytes.Buffer
	page.WriteString(`{"more":true,"next":"MjAyNC0wMS0wMVQwMDowMDowMC4wMDAwMDBa","objects":[`)
	for i, o := range objs {
		if i > 0 {
			page.WriteByte(',')
		}
		page.Write(o.Raw)
	}
	page.WriteString("]}")
	b.SetBytes(int64(page.Len()))
	for b.Loop() {
		env, err := scanEnvelope(page.Bytes())
		if err != nil || env.Objects != 1000 {
			b.Fatalf("scanEnvelope = %+v, %v", env, err)
		}
	}
}

// BenchmarkSummarize measures the percentiles of one small-poll level of
// 100,000 requests.
func BenchmarkSummarize(b *testing.B) {
	src := make([]time.Duration, 100000)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range src {
		src[i] = time.Duration(r.Int64N(int64(20 * time.Millisecond)))
	}
	d := make([]time.Duration, len(src))
	for b.Loop() {
		copy(d, src)
		summarize(d)
	}
}
