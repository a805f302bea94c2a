package store

import (
	"strings"
	"testing"
	"time"

	"hail"
)

func TestParseVersions(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		in   []string
		want VersionSelection
	}{
		{nil, VersionSelection{Last: true}},
		{[]string{"first"}, VersionSelection{First: true}},
		{[]string{"first", "last"}, VersionSelection{First: true, Last: true}},
		{[]string{"all"}, VersionSelection{All: true}},
		{[]string{"2024-01-02T03:04:05.678Z"}, VersionSelection{Instants: []time.Time{at("2024-01-02T03:04:05.678Z")}}},
		{[]string{"2024-01-02T03:04:05Z", "last"}, VersionSelection{Last: true, Instants: []time.Time{at("2024-01-02T03:04:05Z")}}},
		// Lenient forms a client may send.
		{[]string{"2024-01-02T05:04:05+02:00"}, VersionSelection{Instants: []time.Time{at("2024-01-02T03:04:05Z")}}},
	} {
		got, err := ParseVersions(tc.in)
		if err != nil {
			t.Errorf("ParseVersions(%q): %v", tc.in, err)
			continue
		}
		if got.All != tc.want.All || got.First != tc.want.First || got.Last != tc.want.Last || len(got.Instants) != len(tc.want.Instants) {
			t.Errorf("ParseVersions(%q) = %+v, want %+v", tc.in, got, tc.want)
			continue
		}
		for i := range got.Instants {
			if !got.Instants[i].Equal(tc.want.Instants[i]) {
				t.Errorf("ParseVersions(%q) instant %d = %v, want %v", tc.in, i, got.Instants[i], tc.want.Instants[i])
			}
		}
	}
	for _, bad := range []string{"", "latest", "LAST", "2024-01-02", "2024-01-02T03:04:05"} {
		_, err := ParseVersions([]string{"first", bad})
		if hail.ErrorCode(err) != hail.EINVALID {
			t.Errorf("ParseVersions(%q): error %v, want code %s", bad, err, hail.EINVALID)
		}
	}
}

func TestPageSize(t *testing.T) {
	for limit, want := range map[int]int{0: MaxLimit, -1: MaxLimit, 1: 1, MaxLimit: MaxLimit, MaxLimit + 1: MaxLimit} {
		if got := (Filter{Limit: limit}).PageSize(); got != want {
			t.Errorf("Filter{Limit: %d}.PageSize() = %d, want %d", limit, got, want)
		}
	}
}

// FuzzParseVersions checks that any comma-separated match[version] value
// either parses into a selection that accounts for every item, or fails
// with EINVALID.
func FuzzParseVersions(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		values := strings.Split(s, ",")
		v, err := ParseVersions(values)
		if err != nil {
			if hail.ErrorCode(err) != hail.EINVALID {
				t.Fatalf("ParseVersions(%q): error %v, want code %s", values, err, hail.EINVALID)
			}
			return
		}
		keywords := 0
		for _, x := range values {
			if x == "all" || x == "first" || x == "last" {
				keywords++
			}
		}
		if keywords+len(v.Instants) != len(values) {
			t.Fatalf("ParseVersions(%q) = %+v: %d keywords and %d instants for %d values", values, v, keywords, len(v.Instants), len(values))
		}
		if !v.All && !v.First && !v.Last && len(v.Instants) == 0 {
			t.Fatalf("ParseVersions(%q) selects nothing", values)
		}
	})
}
