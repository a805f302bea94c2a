package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"hail"
	"hail/stix"
	"hail/stix/pattern"
)

// CollectionFilter defines the content of a filter collection
// (Collection.Kind KindFilter; Collection.Filter holds it as JSON). Each
// field that is set must match; the values of one list are alternatives.
// The zero value matches every object: the "all" collection.
type CollectionFilter struct {
	// Types keeps objects of these STIX types.
	Types []string `json:"types,omitempty"`
	// Observables keeps indicators and vulnerabilities with at least one
	// observable of these IOC types (pattern.TypeIPv4 …, "cve").
	Observables []string `json:"observables,omitempty"`
	// Labels keeps objects with at least one of these labels.
	Labels []string `json:"labels,omitempty"`
	// IndicatorTypes keeps indicators with at least one of these
	// indicator_types.
	IndicatorTypes []string `json:"indicator_types,omitempty"`
	// MinConfidence keeps objects whose confidence is at least this;
	// objects without a confidence are left out.
	MinConfidence *int `json:"min_confidence,omitempty"`
	// MaxTLP keeps objects whose TLP marking is at most this restrictive:
	// "clear" (or "white"), "green", "amber", "amber+strict" or "red".
	// Objects without a TLP marking count as clear: TLP restricts sharing
	// only where a producer marked it, and most public feeds mark nothing.
	MaxTLP string `json:"max_tlp,omitempty"`
	// CreatedBy keeps objects whose created_by_ref is one of these
	// identity ids.
	CreatedBy []string `json:"created_by,omitempty"`
	// MaxAge keeps objects whose version (modified, else created) is at
	// most this old when they arrive: a Go duration ("36h") or a whole
	// number of days ("30d") or weeks ("2w"). Unversioned objects (most
	// SCOs) carry no age and are kept.
	MaxAge string `json:"max_age,omitempty"`

	maxAge time.Duration // MaxAge parsed
}

// TLP levels, least restrictive first, under their TLP 2.0 names.
var tlpLevels = map[string]int{"clear": 0, "white": 0, "green": 1, "amber": 2, "amber+strict": 3, "red": 4}

// ParseCollectionFilter reads a filter from JSON (an object with the keys
// of CollectionFilter's tags) or from the short form the CLI takes:
// key=value pairs separated by ';' or spaces, lists comma-separated, as in
// "observables=ipv4,ipv6 min_confidence=50". "" and "{}" are the empty
// filter. Returns EINVALID for unknown keys and for values that cannot
// match anything (an unknown IOC type or TLP level, a bad duration, a
// confidence outside 0–100, a malformed type or identity id).
func ParseCollectionFilter(s string) (CollectionFilter, error) {
	var f CollectionFilter
	s = strings.TrimSpace(s)
	switch {
	case s == "":
	case s[0] == '{':
		dec := json.NewDecoder(strings.NewReader(s))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			return f, hail.Errorf(hail.EINVALID, "Invalid collection filter: %v.", err)
		}
		if dec.More() {
			return f, hail.Errorf(hail.EINVALID, "Invalid collection filter: text after the JSON object.")
		}
	default:
		if err := f.parseShort(s); err != nil {
			return f, err
		}
	}
	return f, f.check()
}

// parseShort reads the key=value form.
func (f *CollectionFilter) parseShort(s string) error {
	for _, pair := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ' ' || r == '\t' || r == '\n' }) {
		key, value, ok := strings.Cut(pair, "=")
		if !ok {
			return hail.Errorf(hail.EINVALID, "Invalid collection filter: %q is not key=value.", pair)
		}
		list := strings.FieldsFunc(value, func(r rune) bool { return r == ',' })
		switch strings.ReplaceAll(key, "-", "_") {
		case "types", "type":
			f.Types = append(f.Types, list...)
		case "observables", "observable":
			f.Observables = append(f.Observables, list...)
		case "labels", "label":
			f.Labels = append(f.Labels, list...)
		case "indicator_types", "indicator_type":
			f.IndicatorTypes = append(f.IndicatorTypes, list...)
		case "created_by":
			f.CreatedBy = append(f.CreatedBy, list...)
		case "min_confidence":
			n, err := strconv.Atoi(value)
			if err != nil {
				return hail.Errorf(hail.EINVALID, "Invalid collection filter: min_confidence %q is not an integer.", value)
			}
			f.MinConfidence = &n
		case "max_tlp":
			f.MaxTLP = value
		case "max_age":
			f.MaxAge = value
		default:
			return hail.Errorf(hail.EINVALID, "Invalid collection filter: unknown key %q.", key)
		}
	}
	return nil
}

// check validates f and fills its parsed fields.
func (f *CollectionFilter) check() error {
	bad := func(format string, args ...any) error {
		return hail.Errorf(hail.EINVALID, "Invalid collection filter: "+format, args...)
	}
	for _, t := range f.Types {
		if !stix.ValidType(t) {
			return bad("%q is not a STIX type.", t)
		}
	}
	for _, t := range f.Observables {
		if !KnownIOCType(t) {
			return bad("%q is not an observable type (want one of %s).", t, strings.Join(iocTypes, ", "))
		}
	}
	for _, id := range f.CreatedBy {
		if stix.CheckID(id, "identity") != nil {
			return bad("created_by %q is not an identity id.", id)
		}
	}
	if f.MinConfidence != nil && (*f.MinConfidence < 0 || *f.MinConfidence > 100) {
		return bad("min_confidence %d is outside 0–100.", *f.MinConfidence)
	}
	if f.MaxTLP != "" {
		f.MaxTLP = strings.ToLower(f.MaxTLP)
		if _, ok := tlpLevels[f.MaxTLP]; !ok {
			return bad("max_tlp %q is not clear, green, amber, amber+strict or red.", f.MaxTLP)
		}
	}
	if f.MaxAge != "" {
		d, err := hail.ParseDuration(f.MaxAge)
		if err != nil || d <= 0 {
			return bad("max_age %q is not a positive duration such as 36h, 30d or 2w.", f.MaxAge)
		}
		f.maxAge = d
	}
	return nil
}

// IsEmpty reports whether f matches every object.
func (f CollectionFilter) IsEmpty() bool {
	return len(f.Types) == 0 && len(f.Observables) == 0 && len(f.Labels) == 0 && len(f.IndicatorTypes) == 0 &&
		f.MinConfidence == nil && f.MaxTLP == "" && len(f.CreatedBy) == 0 && f.MaxAge == ""
}

// String is f as compact JSON, the form Collection.Filter stores; "{}"
// for the empty filter.
func (f CollectionFilter) String() string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(f)
	return strings.TrimSpace(buf.String())
}

// Keeps reports whether a filter collection given filter f keeps a
// version it holds (see Store.RefilterCollection): one f matches, or an
// identity or marking definition, which the versions it holds may name.
func (f CollectionFilter) Keeps(o stix.Object, info ObjectInfo, now time.Time) bool {
	return IsContextType(o.Type) || f.Match(o, info, now)
}

// Match reports whether an object arriving at now, whose properties info
// holds (Inspect(o)), belongs in the collection f defines.
func (f CollectionFilter) Match(o stix.Object, info ObjectInfo, now time.Time) bool {
	if len(f.Types) > 0 && !slices.Contains(f.Types, o.Type) {
		return false
	}
	if len(f.Observables) > 0 && !slices.ContainsFunc(info.Observables, func(v IOCValue) bool {
		return slices.Contains(f.Observables, v.Type)
	}) {
		return false
	}
	if len(f.Labels) > 0 && !intersects(f.Labels, info.Labels) {
		return false
	}
	if len(f.IndicatorTypes) > 0 && !intersects(f.IndicatorTypes, info.IndicatorTypes) {
		return false
	}
	if f.MinConfidence != nil && (info.Confidence == nil || *info.Confidence < *f.MinConfidence) {
		return false
	}
	if f.MaxTLP != "" && tlpLevels[info.TLP] > tlpLevels[f.MaxTLP] {
		return false
	}
	if len(f.CreatedBy) > 0 && !slices.Contains(f.CreatedBy, info.CreatedBy) {
		return false
	}
	if f.MaxAge != "" && !o.Version.IsZero() {
		age := f.maxAge
		if age == 0 {
			age, _ = hail.ParseDuration(f.MaxAge) // a filter built in code, not parsed
		}
		if o.Version.Before(now.Add(-age)) {
			return false
		}
	}
	return true
}

// intersects reports whether a and b share a value.
func intersects(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// iocTypes are the IOC types the index knows, in the order messages list
// them.
var iocTypes = []string{
	pattern.TypeIPv4, pattern.TypeIPv6, pattern.TypeCIDR, pattern.TypeDomain, pattern.TypeURL, pattern.TypeEmail,
	pattern.TypeMD5, pattern.TypeSHA1, pattern.TypeSHA256, pattern.TypeSHA512, pattern.TypeSSDEEP, pattern.TypeTLSH,
	pattern.TypeX509MD5, pattern.TypeX509SHA1, pattern.TypeX509SHA256,
	pattern.TypeRegistryKey, pattern.TypeMutex, pattern.TypeASN, pattern.TypeCVE,
}

// KnownIOCType reports whether t is a type of the IOC index.
func KnownIOCType(t string) bool { return slices.Contains(iocTypes, t) }

// IOCTypes returns the types of the IOC index.
func IOCTypes() []string { return slices.Clone(iocTypes) }

// PrepareCollection checks c before a backend stores it, so that both
// backends accept the same collections: Kind defaults to KindExplicit; an
// explicit collection has no filter; a filter collection's filter must
// parse and is stored in its canonical JSON form. It returns c as it is to
// be stored and, for a filter collection, its parsed filter. Returns
// EINVALID otherwise.
func PrepareCollection(c Collection) (Collection, *CollectionFilter, error) {
	switch c.Kind {
	case "", KindExplicit:
		c.Kind = KindExplicit
		if strings.TrimSpace(c.Filter) != "" {
			return c, nil, hail.Errorf(hail.EINVALID, "An explicit collection has no filter.")
		}
		c.Filter = ""
		return c, nil, nil
	case KindFilter:
		f, err := ParseCollectionFilter(c.Filter)
		if err != nil {
			return c, nil, err
		}
		c.Filter = f.String()
		return c, &f, nil
	}
	return c, nil, hail.Errorf(hail.EINVALID, "Collection kind %q is neither %q nor %q.", c.Kind, KindExplicit, KindFilter)
}

// StoredFilter returns the filter of collection id, of kind and filter as
// stored: NotFilterCollection for an explicit collection.
func StoredFilter(id, kind, filter string) (CollectionFilter, error) {
	if kind != KindFilter {
		return CollectionFilter{}, NotFilterCollection(id)
	}
	f, err := ParseCollectionFilter(filter)
	if err != nil {
		return f, fmt.Errorf("collection %s: stored filter: %w", id, err)
	}
	return f, nil
}

// NotFilterCollection is the error of a refilter or prune asked of
// collection id, an explicit collection.
func NotFilterCollection(id string) error {
	return hail.Errorf(hail.EINVALID, "Collection %q is not a filter collection: what it holds was added to it, not matched.", id)
}
