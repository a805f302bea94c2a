package storetest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"hail/stix"
)

// The indicators of the stores' IOC benchmarks, shared so that SQLite and
// PostgreSQL are measured on the same data.

// BenchIOCFixture changes when BenchIndicator changes, so that a store
// cached from older objects is not reused.
const BenchIOCFixture = 2

// BenchIndicator returns indicator n of the IOC benchmarks, of about 550
// bytes and one observable: an IPv4 address (7 in 10), a block (1 in 20,
// of prefix lengths /20 to /28, none overlapping another), a domain or a
// SHA-256.
func BenchIndicator(tb testing.TB, n int) stix.Object {
	tb.Helper()
	var p string
	switch n % 20 {
	case 0:
		p = fmt.Sprintf("[ipv4-addr:value = '%s/%d']", BenchBlock(n), 20+(n/20)%9)
	case 1, 2, 3:
		p = fmt.Sprintf("[domain-name:value = 'c2-%d.example.net']", n)
	case 4, 5:
		p = fmt.Sprintf("[file:hashes.'SHA-256' = '%064x']", n)
	default:
		p = fmt.Sprintf("[ipv4-addr:value = '%s']", BenchAddr(n))
	}
	raw := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-3c1e-4f7a-9d2b-%012x",`+
		`"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"IOC %d",`+
		`"description":"Command and control server observed in a campaign.","indicator_types":["malicious-activity"],`+
		`"pattern":%q,"pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","valid_until":"2099-01-01T00:00:00Z",`+
		`"labels":["c2"],"confidence":%d,"created_by_ref":"identity--7c3b6b5e-2f0b-4f7a-9d1e-0a8b2c4d6e8f",`+
		`"object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]}`, n, n, n, p, 50+n%50)
	o, err := stix.Parse([]byte(raw))
	if err != nil {
		tb.Fatal(err)
	}
	return o
}

// BenchAddr is the address of indicator n: spread over 11.0.0.0/8 upwards.
func BenchAddr(n int) string {
	return fmt.Sprintf("%d.%d.%d.%d", 11+(n>>24)&127, (n>>16)&255, (n>>8)&255, n&255)
}

// BenchBlock is the network of block n (n a multiple of 20): each block
// has a /20 of its own from 64.0.0.0 up, apart from the addresses.
func BenchBlock(n int) string {
	b := 64<<24 + (n/20)<<12
	return fmt.Sprintf("%d.%d.%d.%d", b>>24&255, b>>16&255, b>>8&255, b&255)
}

// BenchInBlock is an address that block n holds, whatever its prefix
// length.
func BenchInBlock(n int) string {
	b := 64<<24 + (n/20)<<12 + 9
	return fmt.Sprintf("%d.%d.%d.%d", b>>24&255, b>>16&255, b>>8&255, b&255)
}

// BenchIOCCount is the number of indicators of the lookup and listing
// benchmarks: HAIL_BENCH_IOCS, default 20,000; by hand, 1000000.
func BenchIOCCount(tb testing.TB) int {
	if s := os.Getenv("HAIL_BENCH_IOCS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 100 {
			tb.Fatalf("HAIL_BENCH_IOCS=%q: want a number of at least 100", s)
		}
		return n
	}
	return 20000
}

// BenchNewerIndicator returns a later version (modified 2024-06-01) of
// indicator n carrying indicator n+1's observable, so that a listing that
// shows superseded versions' rows is caught.
func BenchNewerIndicator(tb testing.TB, n int) stix.Object {
	tb.Helper()
	next, id := BenchIndicator(tb, n+1), BenchIndicator(tb, n).ID
	raw := strings.Replace(string(next.Raw), `"id":"`+next.ID, `"id":"`+id, 1)
	raw = strings.Replace(raw, `"modified":"2024-01-01T00:00:00.000Z"`, `"modified":"2024-06-01T00:00:00.000Z"`, 1)
	return MustObject(tb, raw)
}
