package postgres

import (
	"strconv"
	"strings"
	"time"

	"hail/store"
)

// versionLayout is the stored form of an object version: fixed width, so
// that byte order is time order, with nanoseconds, so that STIX timestamps
// finer than a microsecond stay distinct.
const versionLayout = "2006-01-02T15:04:05.000000000Z"

// versionKey is the stored form of Object.Version. The zero time (an
// unversioned object) is "0001-01-01T00:00:00.000000000Z", before any
// real version.
func versionKey(t time.Time) string { return t.UTC().Format(versionLayout) }

// parseVersionKey reads back what versionKey wrote.
func parseVersionKey(s string) (time.Time, error) { return time.Parse(versionLayout, s) }

// unversioned is the version key of an object with neither modified nor
// created.
var unversioned = versionKey(time.Time{})

// query is the WHERE clause of a selection of entries (aliased e), built
// from a Filter. Values are always bound as $n parameters; only fixed SQL
// fragments are written into the text.
type query struct {
	cond strings.Builder
	args []any
}

// arg binds v and returns its placeholder.
func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// and adds one condition.
func (q *query) and(cond string) {
	if q.cond.Len() > 0 {
		q.cond.WriteString(" AND ")
	}
	q.cond.WriteString(cond)
}

// where selects the entries of collection seq that f matches. anySpec
// drops the default restriction to each object's newest spec_version (for
// DeleteObject without filters). Returns EINVALID for a bad match[version].
func (q *query) where(seq int64, f store.Filter, anySpec bool) error {
	vs, err := store.ParseVersions(f.Versions)
	if err != nil {
		return err
	}
	q.and("e.collection = " + q.arg(seq))
	if !f.AddedAfter.IsZero() {
		// date_added is whole microseconds, and UnixMicro rounds down, so
		// > t is > t's microsecond.
		q.and("e.date_added > " + q.arg(f.AddedAfter.UnixMicro()))
	}
	if len(f.IDs) > 0 {
		q.and("e.stix_id = ANY(" + q.arg(f.IDs) + ")")
	}
	if len(f.Types) > 0 {
		q.and("e.type = ANY(" + q.arg(f.Types) + ")")
	}
	specs := ""
	switch {
	case len(f.SpecVersions) > 0:
		specs = q.arg(f.SpecVersions)
		q.and("e.spec_version = ANY(" + specs + ")")
	case !anySpec:
		// TAXII 2.1 §3.4.1: without match[spec_version], only the latest
		// spec version the server holds for each object.
		q.and("e.latest_spec")
	}
	if !vs.All {
		q.versions(vs, len(f.SpecVersions), specs)
	}
	return nil
}

// versions adds the version selection. The is_first/is_last flags are kept
// per spec_version, so they are exact when one spec_version of an object is
// admitted; when nSpecs > 1 are requested (bound at placeholder specs), a
// version only counts as first or last if no admitted version of the object
// is earlier or later.
func (q *query) versions(vs store.VersionSelection, nSpecs int, specs string) {
	var terms []string
	edge := func(flag, cmp string) {
		if nSpecs <= 1 {
			terms = append(terms, "e."+flag)
			return
		}
		terms = append(terms, "(e."+flag+" AND NOT EXISTS (SELECT 1 FROM entries AS x"+
			" WHERE x.collection = e.collection AND x.stix_id = e.stix_id AND x.version "+cmp+" e.version"+
			" AND x.spec_version = ANY("+specs+")))")
	}
	if vs.Last {
		// Written as in the entries_current index predicate when it stands
		// alone, so the planner can use that index.
		edge("is_last", ">")
	}
	if vs.First {
		edge("is_first", "<")
	}
	if len(vs.Instants) > 0 {
		keys := make([]string, len(vs.Instants))
		var micros []int64
		for i, t := range vs.Instants {
			keys[i] = versionKey(t)
			if t.Nanosecond()%1000 == 0 {
				micros = append(micros, t.UnixMicro())
			}
		}
		terms = append(terms, "e.version = ANY("+q.arg(keys)+")")
		// An object with neither modified nor created has date_added as
		// its version (TAXII 2.1 §3.4.1: "a server-consistent value").
		if len(micros) > 0 {
			terms = append(terms, "(e.version = "+q.arg(unversioned)+" AND e.date_added = ANY("+q.arg(micros)+"))")
		}
	}
	if len(terms) == 1 {
		q.and(terms[0])
		return
	}
	q.and("(" + strings.Join(terms, " OR ") + ")")
}
