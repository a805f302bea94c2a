package client_test

import (
	"fmt"
	"testing"

	"hail/client"
)

// BenchmarkWalk pulls a collection of 10,000 objects from a local hail
// server over HTTP, at the server's default page size and at its largest.
// Client and server share the machine, so the figure is a lower bound.
func BenchmarkWalk(b *testing.B) {
	e := newHail(b, false, nil)
	const total = 10000
	e.seed(b, e.defID, 1, total)
	c := e.client(b)
	for _, limit := range []int{0, 10000} {
		b.Run(fmt.Sprintf("limit=%d", limit), func(b *testing.B) {
			objects := 0
			for b.Loop() {
				n, size := 0, 0
				_, err := c.Walk(ctx, e.defID, client.Filter{Limit: limit}, func(p client.Page) error {
					n += len(p.Objects)
					for _, o := range p.Objects {
						size += len(o)
					}
					return nil
				})
				if err != nil || n != total {
					b.Fatalf("walked %d objects, %v; want %d", n, err, total)
				}
				objects += n
				b.SetBytes(int64(size))
			}
			b.ReportMetric(float64(objects)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}
