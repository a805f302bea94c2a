package ingest

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"hail"
	"hail/stix"
)

// Namespace is the UUIDv5 namespace of the ids hail derives for the objects
// it makes from IOC lists. It is hail's own, not the STIX namespace for
// cyber-observables (STIX 2.1 §2.9), because these ids name hail's
// statements about a value, not the value itself. Changing it would give
// every imported indicator a new id.
var Namespace = uuid.MustParse("da0d1ea9-70bb-4761-be5d-c5b48a656a4c")

// identityCreated is the created and modified time of every source identity:
// a fixed instant, so that the identity of a source is one version whoever
// makes it and whenever.
const identityCreated = "2026-01-01T00:00:00.000Z"

// TLP marking definitions: those TLP 1.0 predefined by STIX 2.1 §7.2.1.4,
// which the indicators hail makes have always referred to, and TLP 2.0's
// AMBER+STRICT, which TLP 1.0 has no level for: falling back to AMBER
// would let consumers share beyond the organisation what its publisher
// restricted to it. CLEAR is TLP 1.0's WHITE.
var tlpMarkings = map[string]string{
	"white":        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
	"green":        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
	"amber":        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
	"amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", // TLP 2.0
	"red":          "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}

// tlpLevel maps a TLP option to its level in tlpMarkings.
func tlpLevel(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "tlp:")
	switch s {
	case "clear", "white":
		return "white", true
	case "green", "amber", "amber+strict", "red":
		return s, true
	}
	return "", false
}

// TLPMarking returns the marking definition for a TLP level as
// ListOptions.TLP names it, so that it can be served beside the
// indicators that reference it: STIX 2.1's predefined TLP 1.0 object, or
// for AMBER+STRICT the object the OASIS TLP 2.0 extension publishes
// (oasis-open/cti-stix-common-objects). Returns EINVALID for an unknown
// level.
func TLPMarking(tlp string) (stix.Object, error) {
	level, ok := tlpLevel(tlp)
	if !ok {
		return stix.Object{}, hail.Errorf(hail.EINVALID, "Unknown TLP level %q.", tlp)
	}
	if level == "amber+strict" {
		return stix.Parse([]byte(`{"type":"marking-definition","spec_version":"2.1","id":"` + tlpMarkings[level] +
			`","created":"2022-10-01T00:00:00.000Z","name":"TLP:AMBER+STRICT","extensions":` +
			`{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":` +
			`{"extension_type":"property-extension","tlp_2_0":"amber+strict"}}}`))
	}
	raw := `{"type":"marking-definition","spec_version":"2.1","id":"` + tlpMarkings[level] +
		`","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:` + strings.ToUpper(level) +
		`","definition":{"tlp":"` + level + `"}}`
	return stix.Parse([]byte(raw))
}

// sdo holds the properties of the objects this package writes, in the order
// they are written. The same struct serves indicators, vulnerabilities and
// identities; empty properties are left out.
type sdo struct {
	Type               string        `json:"type"`
	SpecVersion        string        `json:"spec_version"`
	ID                 string        `json:"id"`
	CreatedByRef       string        `json:"created_by_ref,omitempty"`
	Created            string        `json:"created"`
	Modified           string        `json:"modified"`
	Name               string        `json:"name,omitempty"`
	Description        string        `json:"description,omitempty"`
	IndicatorTypes     []string      `json:"indicator_types,omitempty"`
	Pattern            string        `json:"pattern,omitempty"`
	PatternType        string        `json:"pattern_type,omitempty"`
	PatternVersion     string        `json:"pattern_version,omitempty"`
	ValidFrom          string        `json:"valid_from,omitempty"`
	ValidUntil         string        `json:"valid_until,omitempty"`
	ExternalReferences []externalRef `json:"external_references,omitempty"`
	Revoked            bool          `json:"revoked,omitempty"`
	Labels             []string      `json:"labels,omitempty"`
	Confidence         int           `json:"confidence,omitempty"`
	ObjectMarkingRefs  []string      `json:"object_marking_refs,omitempty"`
}

type externalRef struct {
	SourceName string `json:"source_name"`
	ExternalID string `json:"external_id,omitempty"`
	URL        string `json:"url,omitempty"`
}

// encode writes o as compact JSON without HTML escaping, so that URLs keep
// their '&', and parses it back into a stix.Object.
func (o *sdo) encode() (stix.Object, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(o); err != nil {
		return stix.Object{}, err
	}
	return stix.Parse(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

// deriveID returns typ--UUIDv5(Namespace, the JSON array of parts): a JSON
// array keeps ("a,b", "c") and ("a", "b,c") apart.
func deriveID(typ string, parts ...string) string {
	name, _ := json.Marshal(parts)
	return typ + "--" + uuid.NewSHA1(Namespace, name).String()
}

// Identity returns the identity object that stands for a list's source, the
// producer its indicators are created_by. Its id is the UUIDv5, under
// Namespace, of the JSON array ["identity", source], and
// its created and modified are a fixed instant, so that every import of the
// source yields the same bytes. It returns the zero Object for an empty
// source, which names no producer.
func Identity(source string) stix.Object {
	if source == "" {
		return stix.Object{}
	}
	o := sdo{
		Type: "identity", SpecVersion: "2.1", ID: identityID(source),
		Created: identityCreated, Modified: identityCreated, Name: source,
	}
	obj, err := o.encode()
	if err != nil {
		panic("ingest: identity does not encode: " + err.Error())
	}
	return obj
}

func identityID(source string) string { return deriveID("identity", "identity", source) }

// Indicator builds the STIX 2.1 object that states ioc as opt describes: an
// indicator (STIX 2.1 §4.7) with a single-comparison pattern or, for a CVE,
// which no pattern can express, a vulnerability (§4.19) whose external
// reference names the CVE.
//
// The name is the value (with its port), and the description lists
// ioc.Fields, one "name: value" per line: a caller whose lists carry
// volatile fields, such as a hit count, clears ioc.Fields so that they do
// not make a new version on every import.
//
// The id is the UUIDv5, under Namespace, of the JSON array [opt.Source,
// ioc.Type, value] (value with ":port" when there is a port), so one list
// imported twice names the same objects. created,
// modified and valid_from are opt.Now, so the output is the same bytes for
// the same IOC, options and Now. To keep an unchanged indicator one version
// across imports at different times, pass what this returns through Revise
// with the version already stored.
//
// Returns EINVALID for an unknown IOC type, TLP level, a confidence outside
// 0–100, or an IOC value with a NUL byte.
func Indicator(ioc IOC, opt ListOptions) (stix.Object, error) {
	o, err := newSDO(ioc, opt)
	if err != nil {
		return stix.Object{}, err
	}
	obj, err := o.encode()
	if err != nil {
		return stix.Object{}, hail.Errorf(hail.EINVALID, "Indicator for %q: %s", ioc.Value, hail.ErrorMessage(err))
	}
	return obj, nil
}

func newSDO(ioc IOC, opt ListOptions) (*sdo, error) {
	if opt.Confidence < 0 || opt.Confidence > 100 {
		return nil, hail.Errorf(hail.EINVALID, "Confidence %d is not in 0–100.", opt.Confidence)
	}
	if strings.IndexByte(ioc.Value, 0) >= 0 || ioc.Value == "" {
		return nil, hail.Errorf(hail.EINVALID, "IOC value %q is not usable.", ioc.Value)
	}
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	t := now().UTC().Truncate(time.Millisecond)
	ts := stix.FormatTimestamp(t)
	name := ioc.Value
	if ioc.Port != 0 {
		name = hostPort(ioc.Value, ioc.Port)
	}
	o := &sdo{
		SpecVersion: "2.1",
		Created:     ts,
		Modified:    ts,
		Name:        name,
		Description: describe(ioc.Fields),
		Labels:      opt.Labels,
		Confidence:  opt.Confidence,
	}
	if opt.Source != "" {
		o.CreatedByRef = identityID(opt.Source)
	}
	if opt.TLP != "" {
		level, ok := tlpLevel(opt.TLP)
		if !ok {
			return nil, hail.Errorf(hail.EINVALID, "Unknown TLP level %q: use clear, green, amber, amber+strict or red.", opt.TLP)
		}
		o.ObjectMarkingRefs = []string{tlpMarkings[level]}
	}
	if ioc.Type == TypeCVE {
		o.Type = "vulnerability"
		o.ID = deriveID(o.Type, opt.Source, ioc.Type, ioc.Value)
		if ioc.UUID != "" {
			o.ID = o.Type + "--" + ioc.UUID
		}
		// STIX 2.1 §4.19: a CVE reference has source_name "cve" and the id.
		o.ExternalReferences = []externalRef{{SourceName: "cve", ExternalID: ioc.Value,
			URL: "https://nvd.nist.gov/vuln/detail/" + ioc.Value}}
		return o, nil
	}
	pattern, ok := patternFor(ioc)
	if !ok {
		return nil, hail.Errorf(hail.EINVALID, "Unknown IOC type %q.", ioc.Type)
	}
	o.Type = "indicator"
	o.ID = deriveID(o.Type, opt.Source, ioc.Type, name)
	if ioc.UUID != "" {
		o.ID = o.Type + "--" + ioc.UUID
	}
	o.IndicatorTypes = []string{opt.IndicatorType}
	if opt.IndicatorType == "" {
		o.IndicatorTypes = []string{"malicious-activity"}
	}
	o.Pattern, o.PatternType, o.PatternVersion = pattern, "stix", "2.1"
	from := t
	if !ioc.ValidFrom.IsZero() {
		from = ioc.ValidFrom.UTC().Truncate(time.Millisecond)
	}
	o.ValidFrom = stix.FormatTimestamp(from)
	if opt.TTL > 0 {
		// STIX 2.1 §4.7: valid_until must be after valid_from.
		o.ValidUntil = stix.FormatTimestamp(from.Add(max(opt.TTL, time.Millisecond)))
	}
	return o, nil
}

// hostPort writes value:port, with brackets around an IPv6 address.
func hostPort(value string, port int) string {
	if strings.Contains(value, ":") {
		return "[" + value + "]:" + strconv.Itoa(port)
	}
	return value + ":" + strconv.Itoa(port)
}

// describe lists the fields sorted by name, one "name: value" per line.
func describe(fields map[string]string) string {
	if len(fields) == 0 {
		return ""
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(k + ": " + fields[k])
	}
	return b.String()
}

// patternObjects maps IOC types to the STIX object path their value is
// compared with (STIX 2.1 §9). Hash names are quoted where the grammar needs
// it, as the spec's examples write them.
var patternObjects = map[string]string{
	TypeIPv4:   "ipv4-addr:value",
	TypeIPv6:   "ipv6-addr:value",
	TypeDomain: "domain-name:value",
	TypeURL:    "url:value",
	TypeEmail:  "email-addr:value",
	TypeMD5:    "file:hashes.MD5",
	TypeSHA1:   "file:hashes.'SHA-1'",
	TypeSHA256: "file:hashes.'SHA-256'",
	TypeSHA512: "file:hashes.'SHA-512'",
}

// patternFor writes the STIX pattern of an IOC: one equality comparison, or,
// when the list gave a port, the destination and port of network traffic
// (STIX 2.1 §6.12), since "1.2.3.4:8080" names a service, not the whole host.
// A CIDR block is compared with '=' like an address, as consumers that map
// simple patterns to IP columns expect.
func patternFor(ioc IOC) (string, bool) {
	path, ok := patternObjects[ioc.Type]
	if ioc.Type == TypeCIDR {
		path, ok = patternObjects[TypeIPv4], true
		if strings.Contains(ioc.Value, ":") {
			path = patternObjects[TypeIPv6]
		}
	}
	if !ok {
		return "", false
	}
	if ioc.Port != 0 {
		switch ioc.Type {
		case TypeIPv4, TypeIPv6, TypeDomain:
			return "[network-traffic:dst_ref.value = " + quote(ioc.Value) +
				" AND network-traffic:dst_port = " + strconv.Itoa(ioc.Port) + "]", true
		}
	}
	return "[" + path + " = " + quote(ioc.Value) + "]", true
}

// quote writes a STIX pattern string literal: quotes and backslashes are
// escaped with a backslash (STIX 2.1 §9.2).
func quote(s string) string {
	if strings.ContainsAny(s, `'\`) {
		s = strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s)
	}
	return "'" + s + "'"
}

// Revise decides what to store after next (from Indicator) for an object
// whose latest stored version is prev, so that re-importing an unchanged list
// adds nothing while a change makes one new version:
//
//   - no prev (zero Raw): next as it is.
//   - prev revoked: prev, unchanged; a revoked object stays revoked (STIX 2.1
//     §3.6).
//   - otherwise next takes prev's created and valid_from (when the value was
//     first listed). A valid_until that still has at least half of the TTL
//     to run is kept, so a daily import does not make a daily version, yet an
//     indicator still listed never lapses while imports come more often than
//     TTL/2. If nothing else differs, prev is returned unchanged; else a new
//     version with modified = max(next's modified, prev's + 1 ms).
//
// changed reports whether the result is a new version to store. Returns
// EINVALID if the two are not versions of the same object or do not parse.
func Revise(prev, next stix.Object) (obj stix.Object, changed bool, err error) {
	if len(prev.Raw) == 0 {
		return next, true, nil
	}
	var p, n sdo
	if err := json.Unmarshal(prev.Raw, &p); err != nil {
		return stix.Object{}, false, hail.Errorf(hail.EINVALID, "Previous version of %s does not parse.", prev.ID)
	}
	if err := json.Unmarshal(next.Raw, &n); err != nil {
		return stix.Object{}, false, hail.Errorf(hail.EINVALID, "New version of %s does not parse.", next.ID)
	}
	if p.ID != n.ID {
		return stix.Object{}, false, hail.Errorf(hail.EINVALID, "Cannot revise %s with %s.", p.ID, n.ID)
	}
	if p.Revoked {
		return prev, false, nil
	}
	now, err1 := stix.ParseTimestamp(n.Modified)
	prevModified, err2 := stix.ParseTimestamp(p.Modified)
	if err1 != nil || err2 != nil {
		return stix.Object{}, false, hail.Errorf(hail.EINVALID, "Versions of %s lack a valid modified time.", p.ID)
	}
	n.Created = p.Created
	if n.ValidUntil != "" && p.ValidUntil != "" {
		nextUntil, err1 := stix.ParseTimestamp(n.ValidUntil)
		prevUntil, err2 := stix.ParseTimestamp(p.ValidUntil)
		if err1 == nil && err2 == nil && 2*prevUntil.Sub(now) >= nextUntil.Sub(now) {
			n.ValidUntil = p.ValidUntil
		}
	}
	if p.ValidFrom != "" && n.ValidFrom != "" && validPeriod(p.ValidFrom, n.ValidUntil) {
		n.ValidFrom = p.ValidFrom
	}
	n.Modified = p.Modified
	if reflect.DeepEqual(p, n) {
		return prev, false, nil
	}
	modified := prevModified.Add(time.Millisecond)
	if now.After(modified) {
		modified = now
	}
	n.Modified = stix.FormatTimestamp(modified)
	obj, err = n.encode()
	if err != nil {
		return stix.Object{}, false, hail.Errorf(hail.EINVALID, "Revision of %s: %s", p.ID, hail.ErrorMessage(err))
	}
	return obj, true, nil
}

// validPeriod reports whether until is empty or after from, as STIX 2.1 §4.7
// requires of valid_until; a clock set back can break it.
func validPeriod(from, until string) bool {
	if until == "" {
		return true
	}
	f, err1 := stix.ParseTimestamp(from)
	u, err2 := stix.ParseTimestamp(until)
	return err1 == nil && err2 == nil && u.After(f)
}
