package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"hail/stix"
	"hail/stix/pattern"
)

// IOC types, as stix/pattern names them (pattern.TypeIPv4 …), plus "cve"
// for vulnerabilities.
//
// The IOC index holds, per collection, the observables of the current
// version of every indicator and vulnerability the collection holds:
//   - an indicator with pattern_type "stix" gives the value of every
//     equality or IN comparison on the paths pattern.Observables lists;
//   - a vulnerability gives its CVE ids (external_references with
//     source_name "cve").
//
// The current version of an object is its greatest version (modified, else
// created) in the collection. When a greater version arrives, its rows
// replace the old ones, with the new entry's date_added, so that a client
// listing with Since sees the change. A revoked current version keeps its
// rows, marked Revoked, so that exports can tell consumers to drop them.
// An older version arriving late changes nothing.

// IOCValue is one observable: a type and its value in the canonical form
// pattern.Normalize gives.
type IOCValue struct {
	Type  string
	Value string
}

// IOC is one row of the IOC index: one observable of the current version
// of an indicator (or vulnerability) in a collection, with what the
// indicator says about it.
type IOC struct {
	// ID identifies the row stably: IOCID(IndicatorID, Type, Value). A new
	// version of the indicator naming the same value keeps the ID.
	ID    string
	Type  string
	Value string

	// IndicatorID is the STIX id of the indicator or vulnerability, and
	// Version its version (modified, else created).
	IndicatorID string
	Version     time.Time
	// DateAdded is the date_added of that version's entry in the
	// collection, and Ordinal the position of the observable among those of
	// the version (0, 1, …). Together they order listings and make cursors.
	DateAdded time.Time
	Ordinal   int

	Name        string
	Description string
	// Confidence is the indicator's confidence (0–100); nil when absent.
	Confidence *int
	// ThreatType is the first of the indicator_types, "" when none.
	ThreatType string
	Labels     []string
	// TLP is the most restrictive TLP marking in object_marking_refs, as a
	// TLP 2.0 name ("clear", "green", "amber", "amber+strict", "red"; TLP
	// 1.0 "white" reads as "clear"), or "" when the object has none.
	TLP        string
	ValidFrom  time.Time // zero when absent
	ValidUntil time.Time // zero when absent: no end
	Revoked    bool
	// CreatedBy is created_by_ref, and Source the name of that identity
	// when the store holds it (its latest version), else "".
	CreatedBy string
	Source    string
	// Created and Modified are the indicator's timestamps as received.
	Created  string
	Modified string
}

// Cursor is the position of i in a listing: IOCFilter.After resumes after it.
func (i IOC) Cursor() IOCCursor { return IOCCursor{DateAdded: i.DateAdded, Ordinal: i.Ordinal} }

// Expired reports whether the IOC's valid_until is at or before now.
func (i IOC) Expired(now time.Time) bool { return !i.ValidUntil.IsZero() && !i.ValidUntil.After(now) }

// IOCID is the stable id of the row naming value of type typ for the
// object indicatorID: 32 hex digits of SHA-256 over the three, each
// followed by a NUL so that no two triples share an input.
func IOCID(indicatorID, typ, value string) string {
	h := sha256.New()
	for _, s := range []string{indicatorID, typ, value} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// IOCCursor is a position in a collection's IOC listing, which is ordered
// by (DateAdded, Ordinal). The zero value is the start.
type IOCCursor struct {
	DateAdded time.Time
	Ordinal   int
}

// IOCFilter selects rows of a collection's IOC index. The zero value
// selects every row that is neither expired nor revoked. Fields are ANDed.
type IOCFilter struct {
	// Types keeps these IOC types (ORed); empty keeps all.
	Types []string
	// Since, when not zero, keeps rows with DateAdded > Since.
	Since time.Time
	// After, when not zero, keeps rows after that position: DateAdded
	// greater, or equal with a greater Ordinal. Pass the Cursor of the last
	// row of a page to get the next one.
	After IOCCursor
	// MinConfidence, when not nil, keeps rows whose confidence is at least
	// that; rows without a confidence are then left out.
	MinConfidence *int
	// IncludeExpired keeps rows whose valid_until is at or before Now.
	IncludeExpired bool
	// IncludeRevoked keeps rows of revoked indicators.
	IncludeRevoked bool
	// Now is the instant expiry is judged at; the zero time means the
	// store's clock.
	Now time.Time
	// Limit is the page size; 0 or less means MaxLimit, and so does a
	// larger value.
	Limit int
}

// PageSize is the number of rows a page for f holds at most.
func (f IOCFilter) PageSize() int {
	if f.Limit <= 0 || f.Limit > MaxLimit {
		return MaxLimit
	}
	return f.Limit
}

// IOCPage is one page of IOC rows in (DateAdded, Ordinal) order. More is
// true when rows matching the filter remain after the last one.
type IOCPage struct {
	IOCs []IOC
	More bool
}

// IOCMatch is one answer of LookupIOCs: the row found and the looked-up
// value it answers (an address can be answered by a CIDR row that holds it).
type IOCMatch struct {
	Query IOCValue
	IOC   IOC
}

// MaxLookup is the most values one LookupIOCs call takes.
const MaxLookup = 1000

// ObjectInfo is what the IOC index and filter collections read of an object
// beyond stix.Object's header. Inspect decodes it once per object version.
type ObjectInfo struct {
	Name           string
	Description    string
	Labels         []string
	Confidence     *int // nil when absent
	CreatedBy      string
	MarkingRefs    []string // object_marking_refs
	TLP            string   // as IOC.TLP
	IndicatorTypes []string
	ValidFrom      time.Time
	ValidUntil     time.Time
	// Observables are the IOCs of an indicator with a STIX pattern or of a
	// vulnerability, without duplicates, in pattern order; nil otherwise.
	Observables []IOCValue
}

// ThreatType is the first indicator type, which consumers such as
// Microsoft Sentinel show as the threat type.
func (info ObjectInfo) ThreatType() string {
	if len(info.IndicatorTypes) == 0 {
		return ""
	}
	return info.IndicatorTypes[0]
}

// properties are the fields Inspect decodes. A property of the wrong JSON
// type is skipped (encoding/json carries on past type errors), so a
// malformed optional property never hides the others.
type properties struct {
	Name               string   `json:"name"`
	Description        string   `json:"description"`
	Labels             []string `json:"labels"`
	Confidence         *int     `json:"confidence"`
	CreatedBy          string   `json:"created_by_ref"`
	ObjectMarkingRefs  []string `json:"object_marking_refs"`
	IndicatorTypes     []string `json:"indicator_types"`
	ValidFrom          string   `json:"valid_from"`
	ValidUntil         string   `json:"valid_until"`
	Pattern            string   `json:"pattern"`
	PatternType        string   `json:"pattern_type"`
	ExternalReferences []struct {
		SourceName string `json:"source_name"`
		ExternalID string `json:"external_id"`
	} `json:"external_references"`
}

// Inspect reads the properties the IOC index and collection filters use
// from o.Raw. Observables come from an indicator whose pattern_type is
// "stix" (or absent, as in STIX 2.0) and whose pattern parses (see
// pattern.Observables), and from a vulnerability's external references
// with source_name "cve" (STIX 2.1 §4.19: external_id is then the CVE id).
// Unreadable properties are left empty.
func Inspect(o stix.Object) ObjectInfo {
	var p properties
	json.Unmarshal(o.Raw, &p) // type errors skip a field; see properties
	info := ObjectInfo{
		Name: p.Name, Description: p.Description, Labels: p.Labels, Confidence: p.Confidence,
		CreatedBy: p.CreatedBy, MarkingRefs: p.ObjectMarkingRefs, TLP: TLP(p.ObjectMarkingRefs),
	}
	switch o.Type {
	case "indicator":
		info.IndicatorTypes = p.IndicatorTypes
		info.ValidFrom, _ = stix.ParseTimestamp(p.ValidFrom)
		info.ValidUntil, _ = stix.ParseTimestamp(p.ValidUntil)
		if p.PatternType != "stix" && p.PatternType != "" {
			break
		}
		if pat, err := pattern.Parse(p.Pattern); err == nil {
			for _, ob := range pat.Observables() {
				info.Observables = append(info.Observables, IOCValue(ob))
			}
		}
	case "vulnerability":
		for _, ref := range p.ExternalReferences {
			if ref.SourceName != "cve" {
				continue
			}
			v, ok := pattern.Normalize(pattern.TypeCVE, ref.ExternalID)
			if ok && !containsValue(info.Observables, v) {
				info.Observables = append(info.Observables, IOCValue{pattern.TypeCVE, v})
			}
		}
	}
	return info
}

func containsValue(vs []IOCValue, value string) bool {
	for _, v := range vs {
		if v.Value == value {
			return true
		}
	}
	return false
}

// TLP marking definitions, TLP 1.0 (predefined by STIX 2.1 §7.2.1.4) and
// TLP 2.0 (the OASIS TLP 2.0 extension), by id.
var tlpMarkings = map[string]string{
	"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "clear", // TLP:WHITE
	"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
	"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
	"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
	"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "clear",
	"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "green",
	"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "amber",
	"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": "amber+strict",
	"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "red",
}

// TLP returns the most restrictive TLP level among marking refs, as a TLP
// 2.0 name, or "" when none of them is a TLP marking.
func TLP(refs []string) string {
	best, level := "", -1
	for _, r := range refs {
		if t, ok := tlpMarkings[r]; ok && tlpLevels[t] > level {
			best, level = t, tlpLevels[t]
		}
	}
	return best
}
