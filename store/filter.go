package store

import (
	"time"

	"hail"
	"hail/stix"
	"hail/taxii"
)

// VersionSelection is Filter.Versions parsed: which versions of each object
// a filter keeps. Backends share it so that they read match[version] alike.
type VersionSelection struct {
	All      bool // every version
	First    bool // the earliest version
	Last     bool // the latest version
	Instants []time.Time
}

// ParseVersions parses Filter.Versions. No values means "last" (TAXII 2.1
// §3.4.1: the default of match[version]). Timestamps are STIX timestamps,
// or, leniently, the other RFC 3339 forms taxii.ParseTimestamp reads; they
// are matched as instants. Returns EINVALID for any other value.
func ParseVersions(values []string) (VersionSelection, error) {
	var v VersionSelection
	if len(values) == 0 {
		v.Last = true
		return v, nil
	}
	for _, s := range values {
		switch s {
		case "all":
			v.All = true
		case "first":
			v.First = true
		case "last":
			v.Last = true
		default:
			t, err := stix.ParseTimestamp(s)
			if err != nil {
				if t, err = taxii.ParseTimestamp(s); err != nil {
					return VersionSelection{}, hail.Errorf(hail.EINVALID,
						"match[version] %q is not \"first\", \"last\", \"all\" or a timestamp.", s)
				}
			}
			v.Instants = append(v.Instants, t)
		}
	}
	return v, nil
}

// PageSize is the number of entries a page for f holds at most: f.Limit,
// or MaxLimit when f.Limit is not positive or larger.
func (f Filter) PageSize() int {
	if f.Limit <= 0 || f.Limit > MaxLimit {
		return MaxLimit
	}
	return f.Limit
}
