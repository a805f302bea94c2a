package limit

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hail"
	"hail/store"
)

func TestParseRate(t *testing.T) {
	for _, tc := range []struct {
		in     string
		n      int
		period time.Duration
		ok     bool
	}{
		{"60/min", 60, time.Minute, true},
		{" 4 / h ", 4, time.Hour, true},
		{"1000/day", 1000, 24 * time.Hour, true},
		{"5/10s", 5, 10 * time.Second, true},
		{"", 0, 0, true},
		{"0", 0, 0, true},
		{"0/min", 0, 0, true},
		{"60", 0, 0, false},
		{"-1/min", 0, 0, false},
		{"x/min", 0, 0, false},
		{"60/fortnight", 0, 0, false},
		{"60/-5s", 0, 0, false},
	} {
		n, period, err := ParseRate(tc.in)
		if tc.ok != (err == nil) || n != tc.n || period != tc.period {
			t.Errorf("ParseRate(%q) = %d, %v, %v; want %d, %v, ok %v", tc.in, n, period, err, tc.n, tc.period, tc.ok)
		}
		if err != nil && hail.ErrorCode(err) != hail.EINVALID {
			t.Errorf("ParseRate(%q) error code %q, want %q", tc.in, hail.ErrorCode(err), hail.EINVALID)
		}
	}
}

func TestFormatRate(t *testing.T) {
	for _, tc := range []struct {
		n      int
		period time.Duration
		want   string
	}{{60, time.Minute, "60/min"}, {4, time.Hour, "4/h"}, {5, 10 * time.Second, "5/10s"}, {0, 0, "unlimited"}} {
		if got := FormatRate(tc.n, tc.period); got != tc.want {
			t.Errorf("FormatRate(%d, %v) = %q, want %q", tc.n, tc.period, got, tc.want)
		}
	}
}

func TestGCRA(t *testing.T) {
	if iv, b := GCRA(60, time.Minute, 0); iv != time.Second || b != 60 {
		t.Errorf("GCRA(60/min) = %v, %d; want 1s, 60", iv, b)
	}
	if iv, b := GCRA(3, time.Minute, 1); iv != 20*time.Second || b != 1 {
		t.Errorf("GCRA(3/min burst 1) = %v, %d; want 20s, 1", iv, b)
	}
}

func TestRetryAfter(t *testing.T) {
	for d, want := range map[time.Duration]int{0: 1, time.Millisecond: 1, time.Second: 1, 1500 * time.Millisecond: 2, 20 * time.Second: 20} {
		if got := RetryAfter(d); got != want {
			t.Errorf("RetryAfter(%v) = %d, want %d", d, got, want)
		}
	}
}

func TestAllowedFrom(t *testing.T) {
	list, err := ParsePrefixes([]string{"192.0.2.7/24", "2001:db8::1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"192.0.2.0/24", "2001:db8::1/128"}; !slices.Equal(list, want) {
		t.Errorf("ParsePrefixes = %v, want %v", list, want)
	}
	if _, err := ParsePrefixes([]string{"192.0.2.0/33"}); hail.ErrorCode(err) != hail.EINVALID {
		t.Errorf("ParsePrefixes(bad) = %v, want EINVALID", err)
	}
	for addr, want := range map[string]bool{
		"192.0.2.9:5555":        true,
		"192.0.2.9":             true,
		"[::ffff:192.0.2.9]:80": true,
		"[2001:db8::1]:443":     true,
		"198.51.100.1:80":       false,
		"[2001:db8::2]:443":     false,
		"garbage":               false,
	} {
		if got := AllowedFrom(list, addr); got != want {
			t.Errorf("AllowedFrom(%s) = %v, want %v", addr, got, want)
		}
	}
	if !AllowedFrom(nil, "garbage") {
		t.Errorf("AllowedFrom(no ranges) = false, want true")
	}
}

// memory is a Write that keeps what it is given.
type memory struct {
	mu   sync.Mutex
	rows []store.Activity
	fail bool
}

func (m *memory) write(_ context.Context, rows []store.Activity) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errors.New("down")
	}
	m.rows = append(m.rows, rows...)
	return nil
}

func TestRecorder(t *testing.T) {
	m := &memory{}
	r := &Recorder{Write: m.write}
	t0 := time.Date(2025, 3, 1, 2, 59, 0, 0, time.UTC)
	r.Add(Event{Key: "soc1", Collection: "ips", Time: t0, Poll: true, Objects: 10, Bytes: 100, Status: 200,
		AddedAfter: t0.Add(-time.Hour), DateAddedLast: t0.Add(-time.Minute)})
	r.Add(Event{Key: "soc1", Collection: "ips", Time: t0.Add(30 * time.Second), Objects: 5, Bytes: 50, Status: 200,
		DateAddedLast: t0.Add(-30 * time.Second)})
	r.Add(Event{Key: "soc1", Collection: "ips", Time: t0.Add(40 * time.Second), Status: 429})
	r.Add(Event{Key: "soc1", Collection: "ips", Time: t0.Add(2 * time.Minute), Poll: true, Status: 200}) // next hour
	m.fail = true
	if err := r.Flush(context.Background()); err == nil {
		t.Errorf("Flush with a failing Write = nil, want its error")
	}
	m.fail = false
	if err := r.Flush(context.Background()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	slices.SortFunc(m.rows, func(a, b store.Activity) int { return a.First.Compare(b.First) })
	want := []store.Activity{
		{Key: "soc1", Collection: "ips", First: t0, Last: t0.Add(40 * time.Second), Requests: 3, Polls: 1, LastPoll: t0,
			Objects: 15, Bytes: 150, LastAddedAfter: t0.Add(-time.Hour), LastDateAddedLast: t0.Add(-30 * time.Second),
			Errors: map[int]int64{429: 1}},
		{Key: "soc1", Collection: "ips", First: t0.Add(2 * time.Minute), Last: t0.Add(2 * time.Minute), Requests: 1, Polls: 1,
			LastPoll: t0.Add(2 * time.Minute)},
	}
	if !reflect.DeepEqual(m.rows, want) {
		t.Errorf("flushed\n%+v\nwant\n%+v", m.rows, want)
	}
	if err := r.Flush(context.Background()); err != nil || len(m.rows) != 2 {
		t.Errorf("second Flush wrote %d rows, %v; want nothing new", len(m.rows)-2, err)
	}
}

func TestRecorderBounded(t *testing.T) {
	m := &memory{}
	r := &Recorder{Write: m.write, MaxRows: 2}
	t0 := time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC)
	for _, c := range []string{"a", "b", "c", "a", "d"} {
		r.Add(Event{Key: "k", Collection: c, Time: t0})
	}
	if got := r.Dropped(); got != 2 {
		t.Errorf("Dropped = %d, want 2", got)
	}
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range m.rows {
		names = append(names, a.Collection+":"+strings.Repeat("x", int(a.Requests)))
	}
	slices.Sort(names)
	if want := []string{"a:xx", "b:x"}; !slices.Equal(names, want) {
		t.Errorf("flushed %v, want %v", names, want)
	}
}

func TestRecorderTimed(t *testing.T) {
	m := &memory{}
	r := &Recorder{Write: m.write, Every: time.Millisecond}
	r.Add(Event{Key: "k", Time: time.Now()})
	deadline := time.Now().Add(10 * time.Second)
	for {
		m.mu.Lock()
		n := len(m.rows)
		m.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no timed flush within 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}

func BenchmarkRecorderAdd(b *testing.B) {
	r := &Recorder{Write: func(context.Context, []store.Activity) error { return nil }}
	t0 := time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.Add(Event{Key: "soc1", Collection: "ips", Time: t0, Poll: true, Objects: 10, Bytes: 1000, Status: 200})
		}
	})
}

func FuzzParseRate(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		n, period, err := ParseRate(s)
		if err != nil {
			return
		}
		if n < 0 || (n > 0) != (period > 0) {
			t.Fatalf("ParseRate(%q) = %d, %v", s, n, period)
		}
		if n > 0 {
			n2, p2, err := ParseRate(FormatRate(n, period))
			if err != nil || n2 != n || p2 != period {
				t.Fatalf("ParseRate(FormatRate(%d, %v)) = %d, %v, %v", n, period, n2, p2, err)
			}
		}
	})
}

func FuzzAllowedFrom(f *testing.F) {
	f.Fuzz(func(t *testing.T, prefix, addr string) {
		list, err := ParsePrefixes([]string{prefix})
		if err != nil {
			return
		}
		AllowedFrom(list, addr)
		// A canonical range parses to itself.
		again, err := ParsePrefixes(list)
		if err != nil || !slices.Equal(again, list) {
			t.Fatalf("ParsePrefixes(%v) = %v, %v", list, again, err)
		}
	})
}

func TestDescribe(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 3, 0, 0, 0, time.UTC)
	a := store.Activity{Key: "soc1", Collection: "ips", LastPoll: t0, LastDateAddedLast: t0.Add(-2 * time.Second),
		Recent: store.ActivityCounts{Polls: 24, Objects: 1234}}
	want := "soc1 polled ips 24 times in the last 24 h, last at 2025-03-01 03:00Z, received 1,234 objects, up to date as of 2025-03-01 02:59:58Z"
	if got := Describe(a, "ips", 24*time.Hour); got != want {
		t.Errorf("Describe =\n%s\nwant\n%s", got, want)
	}
	if got, want := Describe(store.Activity{Key: "k", Recent: store.ActivityCounts{Polls: 1}}, "", 24*time.Hour),
		"k polled the server once in the last 24 h, received 0 objects"; got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
}

func TestStale(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 3, 0, 0, 0, time.UTC)
	p := store.Plan{MinPollInterval: 15 * time.Minute}
	acts := []store.Activity{{LastPoll: t0}, {LastPoll: t0.Add(-time.Hour)}}
	for _, tc := range []struct {
		now  time.Time
		plan store.Plan
		want bool
	}{
		{t0.Add(45 * time.Minute), p, false},
		{t0.Add(46 * time.Minute), p, true},
		{t0.Add(24 * time.Hour), store.Plan{}, false},
	} {
		if got := Stale(acts, tc.plan, tc.now); got != tc.want {
			t.Errorf("Stale(at %v, interval %v) = %v, want %v", tc.now, tc.plan.MinPollInterval, got, tc.want)
		}
	}
	if !Stale(nil, p, t0) {
		t.Errorf("Stale(no activity) = false, want true")
	}
}

func TestTotal(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 3, 0, 0, 0, time.UTC)
	acts := []store.Activity{
		{Collection: "a", First: t0.Add(time.Hour), Last: t0.Add(2 * time.Hour), LastPoll: t0.Add(2 * time.Hour), Requests: 3, Polls: 2,
			Errors: map[int]int64{429: 1}, Recent: store.ActivityCounts{Requests: 3, Polls: 2, Objects: 10}},
		{Collection: "b", First: t0, Last: t0.Add(time.Hour), LastPoll: t0.Add(3 * time.Hour), Requests: 1, Polls: 1,
			Errors: map[int]int64{429: 2, 404: 1}, Recent: store.ActivityCounts{Requests: 1, Polls: 1, Objects: 5}},
	}
	got := Total(acts)
	if !got.First.Equal(t0) || !got.Last.Equal(t0.Add(2*time.Hour)) || !got.LastPoll.Equal(t0.Add(3*time.Hour)) ||
		got.Requests != 4 || got.Polls != 3 || got.Errors[429] != 3 || got.Errors[404] != 1 ||
		got.Recent != (store.ActivityCounts{Requests: 4, Polls: 3, Objects: 15}) {
		t.Errorf("Total = %+v", got)
	}
	if got := Total(nil); !got.Last.IsZero() || got.Requests != 0 {
		t.Errorf("Total(nil) = %+v, want zero", got)
	}
	if acts[0].Errors[429] != 1 {
		t.Errorf("Total changed its argument: %+v", acts[0].Errors)
	}
}
