package postgres

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"hail/stix"
	"hail/store"
)

// FuzzVersionKey checks the stored form of object versions: it reads back
// as the same instant, and its byte order is the instants' order, which the
// first/last flags and the unique index rely on.
func FuzzVersionKey(f *testing.F) {
	f.Add("2024-01-01T00:00:00.000Z", "2024-01-01T00:00:00.001Z")
	f.Add("2016-04-06T20:03:00Z", "2016-04-06T20:03:00.000000001Z")
	f.Add("0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z")
	f.Fuzz(func(t *testing.T, a, b string) {
		ta, err := stix.ParseTimestamp(a)
		if err != nil {
			return
		}
		tb, err := stix.ParseTimestamp(b)
		if err != nil {
			return
		}
		ka, kb := versionKey(ta), versionKey(tb)
		back, err := parseVersionKey(ka)
		if err != nil || !back.Equal(ta) {
			t.Errorf("parseVersionKey(versionKey(%s)) = %v, %v; want %v", a, back, err, ta)
		}
		if got, want := strings.Compare(ka, kb), ta.Compare(tb); got != want {
			t.Errorf("%q vs %q compare %d, the instants %d", ka, kb, got, want)
		}
	})
}

// FuzzWhere checks that filter values never reach the SQL text: the WHERE
// clause built from any filter is the one built from the same filter with
// every value replaced by a fixed one of the same kind, and every value is
// bound as a parameter.
func FuzzWhere(f *testing.F) {
	f.Add("", "", "", "", int64(0))
	f.Add("last", "2.1", "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "indicator", int64(1700000000000000))
	f.Add("first,2024-01-01T00:00:00.000Z,last", "2.0,2.1", "a,b", "x,y", int64(-5))
	f.Add("all", "", "'; DROP TABLE entries; --", "$1", int64(1))
	f.Add("2024-01-01T00:00:00.000000001Z", "2.1", "", "", int64(0))
	f.Fuzz(func(t *testing.T, versions, specs, ids, types string, after int64) {
		split := func(s string) []string {
			if s == "" {
				return nil
			}
			return strings.Split(s, ",")
		}
		filter := store.Filter{Versions: split(versions), SpecVersions: split(specs), IDs: split(ids), Types: split(types)}
		if after != 0 {
			filter.AddedAfter = time.UnixMicro(after)
		}
		var q query
		if err := q.where(7, filter, false); err != nil {
			return
		}
		shape := filter
		shape.IDs, shape.Types, shape.SpecVersions = same(filter.IDs, "i"), same(filter.Types, "t"), same(filter.SpecVersions, "s")
		shape.Versions = nil
		for _, v := range filter.Versions {
			switch v {
			case "all", "first", "last":
				shape.Versions = append(shape.Versions, v)
			default:
				tm, _ := store.ParseVersions([]string{v})
				if tm.Instants[0].Nanosecond()%1000 == 0 {
					shape.Versions = append(shape.Versions, "2000-01-01T00:00:00Z")
				} else {
					shape.Versions = append(shape.Versions, "2000-01-01T00:00:00.000000001Z")
				}
			}
		}
		if !filter.AddedAfter.IsZero() {
			shape.AddedAfter = time.UnixMicro(1)
		}
		var want query
		if err := want.where(7, shape, false); err != nil {
			t.Fatalf("shape filter %+v: %v", shape, err)
		}
		if q.cond.String() != want.cond.String() {
			t.Errorf("SQL depends on values:\n got %s\nwant %s", q.cond.String(), want.cond.String())
		}
		if n := len(q.args); !strings.Contains(q.cond.String(), "$"+strconv.Itoa(n)) || strings.Contains(q.cond.String(), "$"+strconv.Itoa(n+1)) {
			t.Errorf("%d args for %s", n, q.cond.String())
		}
	})
}

// same is a list as long as ss of the value v.
func same(ss []string, v string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i := range out {
		out[i] = v
	}
	return out
}
