package bench

import (
	"net"
	"testing"
	"time"
)

func TestParseServing(t *testing.T) {
	tests := []struct {
		line string
		want string
		ok   bool
	}{
		{`{"time":"2026-01-01T00:00:00Z","level":"INFO","msg":"serving","addr":"127.0.0.1:41234","store":"sqlite:x.db","discovery":"http://127.0.0.1:41234/taxii2/"}` + "\n",
			"127.0.0.1:41234", true},
		{`{"msg":"serving","addr":"[::1]:8080"}`, "[::1]:8080", true},
		{`{"msg":"serving","addr":"10.0.0.1:8080"}`, "", false}, // not loopback
		{`{"msg":"serving","addr":"localhost:8080"}`, "", false},
		{`{"msg":"serving","addr":"127.0.0.1:0"}`, "", false},
		{`{"msg":"serving","addr":"127.0.0.1"}`, "", false},
		{`{"msg":"request","addr":"127.0.0.1:1","path":"serving"}`, "", false},
		{`{"msg":"stopped"}`, "", false},
		{`hail: "serving" is not JSON`, "", false},
		{``, "", false},
	}
	for _, tt := range tests {
		got, ok := parseServing([]byte(tt.line))
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseServing(%s) = %q, %v; want %q, %v", tt.line, got, ok, tt.want, tt.ok)
		}
	}
}

func TestStatusField(t *testing.T) {
	status := "Name:\thail\nVmPeak:\t  812345 kB\nVmHWM:\t   40960 kB\nVmRSS:\t   30000 kB\nThreads:\t8\n"
	tests := []struct {
		name string
		want int64
		ok   bool
	}{
		{"VmHWM", 40960, true},
		{"VmRSS", 30000, true},
		{"Threads", 0, false}, // no unit
		{"VmSwap", 0, false},  // absent
		{"Vm", 0, false},      // a prefix of names is no name
	}
	for _, tt := range tests {
		got, ok := statusField([]byte(status), tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("statusField(%s) = %d, %v; want %d, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestStatCPU(t *testing.T) {
	tests := []struct {
		stat string
		want time.Duration
		ok   bool
	}{
		{"4242 (hail) S 1 4242 4242 0 -1 4194560 1270 0 0 0 150 37 0 0 20 0 9 0 123 1000 200 18446744073709551615\n",
			1870 * time.Millisecond, true},
		// The command name may hold spaces and parentheses.
		{"7 (a) b) (c) R 1 7 7 0 -1 0 0 0 0 0 5 5 0 0 20 0 1 0 1 1 1", 100 * time.Millisecond, true},
		{"7 (hail) S 1 2 3", 0, false},
		{"no parenthesis 1 2 3 4 5 6 7 8 9 10 11 12 13", 0, false},
		{"7 (x) S 1 7 7 0 -1 0 0 0 0 0 -5 5 0", 0, false},
	}
	for _, tt := range tests {
		got, ok := statCPU([]byte(tt.stat))
		if got != tt.want || ok != tt.ok {
			t.Errorf("statCPU(%q) = %v, %v; want %v, %v", tt.stat, got, ok, tt.want, tt.ok)
		}
	}
}

func TestWithSearchPath(t *testing.T) {
	tests := []struct{ dsn, want string }{
		{"postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "postgres://postgres@127.0.0.1:5432/test?search_path=s1&sslmode=disable"},
		{"postgresql://u:p@h/db", "postgresql://u:p@h/db?search_path=s1"},
		{"host=127.0.0.1 dbname=test", "host=127.0.0.1 dbname=test search_path=s1"},
	}
	for _, tt := range tests {
		if got, err := withSearchPath(tt.dsn, "s1"); got != tt.want || err != nil {
			t.Errorf("withSearchPath(%q) = %q, %v; want %q", tt.dsn, got, err, tt.want)
		}
	}
}

func TestGrouped(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -12345: "-12,345"} {
		if got := grouped(n); got != want {
			t.Errorf("grouped(%d) = %q, want %q", n, got, want)
		}
	}
}

// FuzzParseServing: whatever the log line, an address is only returned if
// it is a loopback host and a valid port.
func FuzzParseServing(f *testing.F) {
	f.Add([]byte(`{"msg":"serving","addr":"127.0.0.1:8080"}`))
	f.Add([]byte(`{"msg":"serving","addr":"[::1]:1"}`))
	f.Add([]byte(`{"msg":"serving","addr":"0.0.0.0:80"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		addr, ok := parseServing(line)
		if !ok {
			return
		}
		host, _, err := net.SplitHostPort(addr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			t.Errorf("parseServing(%q) = %q, not a loopback address", line, addr)
		}
	})
}

// FuzzStatusField: no input makes statusField panic or report a negative
// size.
func FuzzStatusField(f *testing.F) {
	f.Add([]byte("VmHWM:\t 1024 kB\n"), "VmHWM")
	f.Add([]byte("MemTotal:       24682392 kB\nMemFree: 1 kB"), "MemTotal")
	f.Fuzz(func(t *testing.T, status []byte, name string) {
		if n, ok := statusField(status, name); ok && n < 0 {
			t.Errorf("statusField(%q, %q) = %d", status, name, n)
		}
	})
}

// FuzzStatCPU: no /proc/PID/stat content makes statCPU panic or report a
// negative time.
func FuzzStatCPU(f *testing.F) {
	f.Add([]byte("4242 (hail) S 1 4242 4242 0 -1 4194560 1270 0 0 0 150 37 0 0 20 0 9 0 123 1000 200"))
	f.Add([]byte("1 ()) R 0 0 0 0 0 0 0 0 0 0 1 1"))
	f.Fuzz(func(t *testing.T, stat []byte) {
		if d, ok := statCPU(stat); ok && d < 0 {
			t.Errorf("statCPU(%q) = %v", stat, d)
		}
	})
}
