package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// seedBenchIOCs adds n ipv4 IOCs to "all", in indicators of 1000 values,
// and one CIDR block, and returns the values.
func seedBenchIOCs(b *testing.B, e *env, n int) []string {
	b.Helper()
	var all []string
	for k := 0; k < n; k += 1000 {
		var ips []string
		for i := k; i < min(k+1000, n); i++ {
			v := fmt.Sprintf("100.%d.%d.%d", 64+i/65536, i/256%256, i%256)
			ips = append(ips, "'"+v+"'")
			all = append(all, v)
		}
		e.seed(b, collAll, iocInd(1000+k/1000, "[ipv4-addr:value IN ("+strings.Join(ips, ", ")+")]", `,"confidence":50`))
	}
	e.seed(b, collAll, iocInd(999, "[ipv4-addr:value = '10.0.0.0/8']", ""))
	return all
}

// benchDo sends req and fails on any status but 200; it returns the body
// size.
func benchDo(b *testing.B, client *http.Client, req *http.Request) int64 {
	res, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	size, _ := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b.Fatalf("status %d", res.StatusCode)
	}
	return size
}

// BenchmarkIOCLookup looks values up over HTTP in a collection of 20,000
// IOCs: one value by GET (an address that a CIDR block also answers), and
// 100 values by POST.
func BenchmarkIOCLookup(b *testing.B) {
	e := newIOCEnv(b)
	all := seedBenchIOCs(b, e, 20000)
	client := e.srv.Client()
	b.Run("GET-1", func(b *testing.B) {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/iocs/lookup?value=10.0.0.1&value="+all[12345], nil)
		req.Header.Set("Authorization", "Bearer "+e.keys["analyst"])
		for b.Loop() {
			benchDo(b, client, req)
		}
	})
	b.Run("POST-100", func(b *testing.B) {
		body, _ := json.Marshal(map[string][]string{"values": all[:100]})
		for b.Loop() {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v1/iocs/lookup", strings.NewReader(string(body)))
			req.Header.Set("Authorization", "Bearer "+e.keys["analyst"])
			benchDo(b, client, req)
		}
		b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "values/s")
	})
}

// BenchmarkIOCExport streams an export of 20,000 IOCs (two store pages)
// over HTTP in each format.
func BenchmarkIOCExport(b *testing.B) {
	e := newIOCEnv(b)
	const n = 20000
	seedBenchIOCs(b, e, n)
	client := e.srv.Client()
	for _, format := range []string{"txt", "csv", "json"} {
		b.Run(format, func(b *testing.B) {
			req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/iocs/export?type=ipv4&format="+format, nil)
			req.Header.Set("Authorization", "Bearer "+e.keys["analyst"])
			for b.Loop() {
				b.SetBytes(benchDo(b, client, req))
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "values/s")
		})
	}
}
