package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"hail"
	"hail/stix"
	"hail/store"
	"hail/store/storetest"
)

const (
	fuzzCollection = "3f1d8e5a-2b6c-4d7e-8f90-a1b2c3d4e5f6"
	fuzzOther      = "4a2e9f6b-3c7d-4e8f-9a01-b2c3d4e5f607"
)

// fuzzFixture fills a store with objects of several types, versions and
// spec versions, added out of version order and partly deleted, so that
// every flag has been set and reset. It returns the ids and types used.
func fuzzFixture(tb testing.TB, db *DB) (ids, types []string) {
	ctx := context.Background()
	if err := db.CreateAPIRoot(ctx, store.APIRoot{Name: "api"}); err != nil {
		tb.Fatal(err)
	}
	for _, c := range []string{fuzzCollection, fuzzOther} {
		if err := db.CreateCollection(ctx, store.Collection{ID: c, APIRoot: "api"}); err != nil {
			tb.Fatal(err)
		}
	}
	obj := func(typ string, n int, spec, modified string) stix.Object {
		id := fmt.Sprintf("%s--%08x-aaaa-4bbb-8ccc-dddddddddddd", typ, n)
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
		if !slices.Contains(types, typ) {
			types = append(types, typ)
		}
		if modified == "" {
			return storetest.MustObject(tb, fmt.Sprintf(`{"type":%q,"id":%q,"value":"v%d"}`, typ, id, n))
		}
		return storetest.MustObject(tb, fmt.Sprintf(`{"type":%q,"spec_version":%q,"id":%q,"created":"2020-01-01T00:00:00Z","modified":%q}`,
			typ, spec, id, modified))
	}
	add := func(coll string, objs ...stix.Object) {
		if _, err := db.AddObjects(ctx, coll, objs); err != nil {
			tb.Fatal(err)
		}
	}
	del := func(o stix.Object) {
		if err := db.DeleteObject(ctx, fuzzCollection, o.ID, store.Filter{Versions: []string{o.Modified}, SpecVersions: []string{o.SpecVersion}}); err != nil {
			tb.Fatal(err)
		}
	}
	jan, feb, mar := "2024-01-01T00:00:00.000Z", "2024-02-01T00:00:00.000Z", "2024-03-01T00:00:00.000Z"
	add(fuzzCollection, obj("indicator", 1, "2.1", feb), obj("indicator", 1, "2.1", mar), obj("indicator", 2, "2.1", jan))
	add(fuzzOther, obj("indicator", 1, "2.1", jan), obj("tool", 9, "2.1", jan))
	add(fuzzCollection, obj("indicator", 1, "2.1", jan), obj("malware", 3, "2.0", feb), obj("malware", 3, "2.1", mar),
		obj("malware", 3, "2.0", jan), obj("malware", 4, "2.1", jan), obj("malware", 4, "2.0", feb),
		obj("ipv4-addr", 5, "", ""), obj("tool", 6, "2.1", jan), obj("tool", 6, "2.1", feb), obj("tool", 6, "2.1", mar),
		obj("indicator", 7, "2.1", jan), obj("indicator", 7, "2.1", feb))
	del(obj("tool", 6, "2.1", feb))
	del(obj("indicator", 7, "2.1", feb))
	del(obj("malware", 3, "2.1", mar))
	add(fuzzCollection, obj("malware", 8, "2.1", jan), obj("indicator", 7, "2.1", mar), obj("tool", 6, "2.1", feb))
	return ids, types
}

// fuzzRow is an entry as stored, without the flags under test.
type fuzzRow struct {
	da      int64
	id, typ string
	spec    string
	ns      int64
}

// reference selects from rows what f should return, straight from the
// definitions in store.Filter, and whether more remain.
func reference(rows []fuzzRow, f store.Filter) ([]fuzzRow, bool, error) {
	vs, err := store.ParseVersions(f.Versions)
	if err != nil {
		return nil, false, err
	}
	byID := map[string][]fuzzRow{}
	for _, r := range rows {
		byID[r.id] = append(byID[r.id], r)
	}
	var out []fuzzRow
	for _, versions := range byID {
		newest := ""
		for _, r := range versions {
			newest = max(newest, r.spec)
		}
		var admitted []fuzzRow
		for _, r := range versions {
			if len(f.SpecVersions) > 0 && slices.Contains(f.SpecVersions, r.spec) || len(f.SpecVersions) == 0 && r.spec == newest {
				admitted = append(admitted, r)
			}
		}
		if len(admitted) == 0 {
			continue
		}
		lo, hi := admitted[0].ns, admitted[0].ns
		for _, r := range admitted {
			lo, hi = min(lo, r.ns), max(hi, r.ns)
		}
		for _, r := range admitted {
			keep := vs.All || vs.Last && r.ns == hi || vs.First && r.ns == lo
			for _, t := range vs.Instants {
				keep = keep || r.ns == versionNanos(t) || r.ns == 0 && fromMicros(r.da).Equal(t)
			}
			keep = keep && (len(f.IDs) == 0 || slices.Contains(f.IDs, r.id))
			keep = keep && (len(f.Types) == 0 || slices.Contains(f.Types, r.typ))
			keep = keep && (f.AddedAfter.IsZero() || fromMicros(r.da).After(f.AddedAfter))
			if keep {
				out = append(out, r)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].da < out[j].da })
	n := f.PageSize()
	if len(out) > n {
		return out[:n], true, nil
	}
	return out, false, nil
}

// fuzzList splits a comma-separated fuzz input; a one-digit item picks from
// known, so that the fuzzer reaches real ids and types easily.
func fuzzList(s string, known []string) []string {
	if s == "" {
		return nil
	}
	items := strings.Split(s, ",")
	for i, it := range items {
		if len(it) == 1 && it[0] >= '0' && it[0] <= '9' {
			items[i] = known[int(it[0]-'0')%len(known)]
		}
	}
	return items
}

// FuzzObjectsFilter compares Objects with a reference implementation of
// the filter semantics over the stored rows, for arbitrary filters: the SQL
// built from a filter must select exactly the right page, and any value,
// however odd, must be bound rather than break the statement.
func FuzzObjectsFilter(f *testing.F) {
	db, err := Open(filepath.Join(f.TempDir(), "hail.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	ids, types := fuzzFixture(f, db)
	var rows []fuzzRow
	q, err := db.read.Query(`SELECT e.date_added, e.stix_id, e.type, e.spec_version, e.version FROM entries AS e
		JOIN collections AS c ON c.seq = e.collection WHERE c.id = ? ORDER BY e.date_added`, fuzzCollection)
	if err != nil {
		f.Fatal(err)
	}
	for q.Next() {
		var r fuzzRow
		if err := q.Scan(&r.da, &r.id, &r.typ, &r.spec, &r.ns); err != nil {
			f.Fatal(err)
		}
		rows = append(rows, r)
	}
	q.Close()
	base := rows[0].da
	f.Add("", "", "", "", 0, int64(-1), false)
	f.Fuzz(func(t *testing.T, idList, typeList, versionList, specList string, limit int, after int64, headers bool) {
		flt := store.Filter{
			IDs:          fuzzList(idList, ids),
			Types:        fuzzList(typeList, types),
			Versions:     fuzzList(versionList, []string{"first", "last", "all", "2024-02-01T00:00:00Z"}),
			SpecVersions: fuzzList(specList, []string{"2.0", "2.1"}),
			Limit:        limit,
			HeadersOnly:  headers,
		}
		if after >= 0 {
			flt.AddedAfter = time.UnixMicro(base).Add(time.Duration(after) * 100 * time.Nanosecond)
		}
		want, wantMore, wantErr := reference(rows, flt)
		p, err := db.Objects(context.Background(), fuzzCollection, flt)
		if wantErr != nil {
			if hail.ErrorCode(err) != hail.EINVALID {
				t.Fatalf("Objects(%+v): error %v, want code %s", flt, err, hail.EINVALID)
			}
			return
		}
		if err != nil {
			t.Fatalf("Objects(%+v): %v", flt, err)
		}
		var got []fuzzRow
		for _, e := range p.Entries {
			got = append(got, fuzzRow{da: e.DateAdded.UnixMicro(), id: e.Object.ID, typ: e.Object.Type,
				spec: e.Object.SpecVersion, ns: versionNanos(e.Object.Version)})
			if (e.Object.Raw == nil) != headers {
				t.Fatalf("Objects(%+v): %s has Raw %q", flt, e.Object.ID, e.Object.Raw)
			}
		}
		if !reflect.DeepEqual(got, want) || p.More != wantMore {
			t.Fatalf("Objects(%+v):\n got %+v more %v\nwant %+v more %v", flt, got, p.More, want, wantMore)
		}
	})
}
