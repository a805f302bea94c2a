package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hail/jsonscan"
	"net/netip"
	"slices"
	"strings"
	"time"

	"hail/stix"
	"hail/stix/pattern"
)

// The IOC index holds, per collection, the observables of the current
// version of every indicator and vulnerability the collection holds, typed
// as stix/pattern names them (pattern.TypeIPv4 …; "cve" for CVE ids):
//   - an indicator with pattern_type "stix" gives the value of every
//     equality or IN comparison on the paths pattern.Observables lists;
//   - a vulnerability gives its CVE ids (external_references with
//     source_name "cve").
//
// The current version of an object in a collection is the one a poll
// without match[version] or match[spec_version] returns (TAXII 2.1 §3.4.1):
// the greatest version (modified, else created) among the object's versions
// of the newest spec_version the collection holds. A version of an older
// spec_version is never current while a newer spec_version is held, even
// if modified later: a 2.1 version modified in February hides a 2.0 one
// modified in March. When a version arrives that becomes current, its rows
// replace the old ones, with the new entry's date_added, so that a client
// listing with Since sees the change. A revoked current version keeps its
// rows, marked Revoked, so that exports can tell consumers to drop them.
// A version that does not become current (an older one arriving late, or
// one of an older spec_version) changes nothing. When DeleteObject removes
// the current version, the rows of the version that becomes current come
// back with that version's own date_added, as TAXII DELETE is not seen by
// pollers either.

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

// properties are the fields Inspect reads. A property of the wrong JSON
// type is skipped, so a malformed optional property never hides the
// others.
type properties struct {
	Name, Description, CreatedBy                string
	Labels, ObjectMarkingRefs, IndicatorTypes   []string
	Confidence                                  []byte
	ValidFrom, ValidUntil, Pattern, PatternType string
	ExternalReferences                          []externalReference
}

type externalReference struct{ SourceName, ExternalID string }

// readProperties reads the properties of the JSON object raw (valid, as
// stix.Parse checked) by splitting it: decoding it with encoding/json
// cost more than the pattern parsing it feeds.
func readProperties(raw []byte) properties {
	var p properties
	jsonscan.Members(raw, func(name, v []byte) bool {
		var dst *string
		var list *[]string
		switch string(name) {
		case "name":
			dst = &p.Name
		case "description":
			dst = &p.Description
		case "created_by_ref":
			dst = &p.CreatedBy
		case "valid_from":
			dst = &p.ValidFrom
		case "valid_until":
			dst = &p.ValidUntil
		case "pattern":
			dst = &p.Pattern
		case "pattern_type":
			dst = &p.PatternType
		case "labels":
			list = &p.Labels
		case "object_marking_refs":
			list = &p.ObjectMarkingRefs
		case "indicator_types":
			list = &p.IndicatorTypes
		case "confidence":
			p.Confidence = v
		case "external_references":
			p.ExternalReferences = externalReferences(v)
		}
		if dst != nil {
			*dst, _ = jsonscan.String(v)
		} else if list != nil {
			if l, ok := jsonscan.Strings(v); ok {
				*list = l
			} else {
				*list = nil
			}
		}
		return true
	})
	return p
}

// externalReferences reads the source_name and external_id of each
// external reference in the list v.
func externalReferences(v []byte) []externalReference {
	var refs []externalReference
	jsonscan.Elements(v, func(elem []byte) bool {
		var r externalReference
		if jsonscan.Members(elem, func(name, v []byte) bool {
			switch string(name) {
			case "source_name":
				r.SourceName, _ = jsonscan.String(v)
			case "external_id":
				r.ExternalID, _ = jsonscan.String(v)
			}
			return true
		}) {
			refs = append(refs, r)
		}
		return true
	})
	return refs
}

// Inspect reads the properties the IOC index and collection filters use
// from o.Raw. Observables come from an indicator whose pattern_type is
// "stix" (or absent, as in STIX 2.0) and whose pattern parses (see
// pattern.Observables), and from a vulnerability's external references
// with source_name "cve" (STIX 2.1 §4.19: external_id is then the CVE id).
// Unreadable properties are left empty.
func Inspect(o stix.Object) ObjectInfo {
	p := readProperties(o.Raw)
	info := ObjectInfo{
		Name: p.Name, Description: p.Description, Labels: p.Labels, Confidence: confidence(p.Confidence),
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

// confidence reads a confidence property: an integer 0–100 (STIX 2.1
// §3.2), else nil, so that a malformed value never passes for a low one.
func confidence(raw json.RawMessage) *int {
	var n int
	if len(raw) == 0 || json.Unmarshal(raw, &n) != nil || n < 0 || n > 100 {
		return nil
	}
	return &n
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

// Indexed reports whether objects of type typ can have IOCs: indicators and
// vulnerabilities.
func Indexed(typ string) bool { return typ == "indicator" || typ == "vulnerability" }

// Blocks and addresses are compared in the IPv6 space, IPv4 mapped into
// ::ffff:0:0/96, so that one index serves both families: a block is keyed
// by its prefix length there (96 + bits for IPv4) and its network address
// as 16 big-endian bytes, which compare bytewise as addresses do. An
// address lies in a block when masking it to the block's prefix length
// gives the block's key; a lookup probes each prefix length the index
// holds, O(lengths × log n), where a scan of blocks by range would visit
// every block that starts below the address.

// BlockKey returns the key of a cidr value: its prefix length and network
// address in the IPv6 space. ok is false when value is not a block.
func BlockKey(value string) (plen int, network []byte, ok bool) {
	p, err := netip.ParsePrefix(value)
	if err != nil {
		return 0, nil, false
	}
	p = p.Masked()
	plen = p.Bits()
	if p.Addr().Is4() {
		plen += 96
	}
	a := p.Addr().As16()
	return plen, a[:], true
}

// AddressKey returns the key of an ipv4 or ipv6 value, as a block of one
// address, and false when value is not an address.
func AddressKey(value string) ([16]byte, bool) {
	a, err := netip.ParseAddr(value)
	if err != nil || a.Zone() != "" {
		return [16]byte{}, false
	}
	return a.As16(), true
}

// MaskKey returns the network address of the block of prefix length plen
// (0–128, in the IPv6 space) that holds addr.
func MaskKey(addr [16]byte, plen int) []byte {
	out := make([]byte, 16)
	for i := range out {
		switch bits := plen - 8*i; {
		case bits >= 8:
			out[i] = addr[i]
		case bits > 0:
			out[i] = addr[i] & (0xff << (8 - bits))
		}
	}
	return out
}

// IOCLookup gathers the answers to a LookupIOCs call, so that backends
// share how queries map to rows and how answers are ordered. A backend
// asks the index for the values ByType gives (exact matches, passed to
// AddExact) and, for each prefix length its blocks have, for the blocks
// Networks gives (passed to AddBlock), then returns Matches.
type IOCLookup struct {
	values  []IOCValue
	exact   map[IOCValue][]int       // value → indexes in values
	addrs   map[[16]byte][]int       // address key → indexes in values
	nets    map[int]map[string][]int // prefix length → network → indexes in values
	answers map[int]map[[2]int64]IOC // value index → rows by (date_added, ordinal)
}

// NewIOCLookup prepares a lookup of values; repeated values are looked up
// once.
func NewIOCLookup(values []IOCValue) *IOCLookup {
	l := &IOCLookup{exact: make(map[IOCValue][]int), addrs: make(map[[16]byte][]int), nets: make(map[int]map[string][]int), answers: make(map[int]map[[2]int64]IOC)}
	for _, v := range values {
		if _, ok := l.exact[v]; ok {
			continue
		}
		i := len(l.values)
		l.values = append(l.values, v)
		l.exact[v] = append(l.exact[v], i)
		if v.Type == "ipv4" || v.Type == "ipv6" {
			if k, ok := AddressKey(v.Value); ok {
				l.addrs[k] = append(l.addrs[k], i)
			}
		}
	}
	return l
}

// ByType returns the values to match exactly, by type, in input order.
func (l *IOCLookup) ByType() map[string][]string {
	out := make(map[string][]string)
	for _, v := range l.values {
		out[v.Type] = append(out[v.Type], v.Value)
	}
	return out
}

// HasAddresses reports whether some values are addresses, which blocks
// may hold.
func (l *IOCLookup) HasAddresses() bool { return len(l.addrs) > 0 }

// Networks returns the distinct network addresses (see BlockKey) of the
// blocks of prefix length plen that would hold the addresses looked up.
func (l *IOCLookup) Networks(plen int) [][]byte {
	byNet := l.nets[plen]
	if byNet == nil {
		byNet = make(map[string][]int)
		for k, is := range l.addrs {
			n := string(MaskKey(k, plen))
			byNet[n] = append(byNet[n], is...)
		}
		l.nets[plen] = byNet
	}
	out := make([][]byte, 0, len(byNet))
	for n := range byNet {
		out = append(out, []byte(n))
	}
	slices.SortFunc(out, func(a, b []byte) int { return strings.Compare(string(a), string(b)) })
	return out
}

// AddExact records a row found by type and value.
func (l *IOCLookup) AddExact(c IOC) {
	for _, i := range l.exact[IOCValue{c.Type, c.Value}] {
		l.answer(i, c)
	}
}

// AddBlock records a cidr row found by its key, after Networks was called
// for its prefix length: it answers every address looked up that the
// block holds.
func (l *IOCLookup) AddBlock(c IOC) {
	plen, network, ok := BlockKey(c.Value)
	if !ok {
		return
	}
	for _, i := range l.nets[plen][string(network)] {
		l.answer(i, c)
	}
}

func (l *IOCLookup) answer(i int, c IOC) {
	m := l.answers[i]
	if m == nil {
		m = make(map[[2]int64]IOC)
		l.answers[i] = m
	}
	m[[2]int64{c.DateAdded.UnixMicro(), int64(c.Ordinal)}] = c
}

// Matches returns the answers grouped by looked-up value, in the order of
// the values, each group in (DateAdded, Ordinal) order.
func (l *IOCLookup) Matches() []IOCMatch {
	var out []IOCMatch
	for i, v := range l.values {
		m := l.answers[i]
		keys := make([][2]int64, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b [2]int64) int {
			if a[0] != b[0] {
				return cmpInt64(a[0], b[0])
			}
			return cmpInt64(a[1], b[1])
		})
		for _, k := range keys {
			out = append(out, IOCMatch{Query: v, IOC: m[k]})
		}
	}
	return out
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
