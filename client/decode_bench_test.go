package client

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkDecodeEnvelope decodes a page of 1,000 indicators of about
// 400 bytes each, the client's share of reading a page.
func BenchmarkDecodeEnvelope(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(`{"more":true,"next":"2025-05-01T00:00:00.001000Z","objects":[`)
	for i := range 1000 {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-0000-4000-8000-%012x",`+
			`"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"IOC %d",`+
			`"pattern":"[ipv4-addr:value = '203.0.113.%d']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z",`+
			`"labels":["malicious-activity"],"x_kept":{"b":1,"a":[2]}}`, i, i, i, i%256)
	}
	buf.WriteString(`]}`)
	body := buf.Bytes()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var p Page
		if err := decodeEnvelope(bytes.NewReader(body), int64(len(body)), &p); err != nil || len(p.Objects) != 1000 {
			b.Fatalf("%d objects, %v", len(p.Objects), err)
		}
	}
	b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "objects/s")
}
