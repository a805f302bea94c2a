package stix

import (
	"encoding/json"
	"hail/jsonscan"
	"strconv"
	"strings"
)

// externalReference checks one external-reference (STIX 2.1 §2.5).
var externalReference = all(
	object(
		req("source_name", text),
		opt("description", str),
		opt("url", str),
		opt("hashes", hashes),
		opt("external_id", str),
	),
	externalReferenceRules,
)

// externalReferenceRules checks the rules of STIX 2.1 §2.5.2 and, for CVE
// references, the identifier form that vulnerability matching relies on.
func externalReferenceRules(v json.RawMessage) *fault {
	m, _ := decodeObject(v)
	_, d := m["description"]
	_, u := m["url"]
	id, e := m["external_id"]
	if !d && !u && !e {
		return faultf(`needs one of "description", "url" or "external_id" besides "source_name"`)
	}
	name, _ := jsonscan.String(m["source_name"])
	if strings.ToLower(strings.TrimSpace(name)) != "cve" {
		return nil
	}
	if !e {
		return (&fault{msg: `is required when "source_name" is "cve"`}).under(".external_id")
	}
	s, _ := jsonscan.String(id)
	if !ValidCVE(strings.TrimSpace(s)) {
		return (&fault{msg: "must be a CVE identifier (CVE-YYYY-NNNN), got " + strconv.Quote(s)}).under(".external_id")
	}
	return nil
}

// ValidCVE reports whether s is a CVE identifier: "CVE-", a four-digit year,
// "-", and four or more digits.
func ValidCVE(s string) bool {
	if len(s) < 13 || s[:4] != "CVE-" || s[8] != '-' {
		return false
	}
	return allDigits(s[4:8]) && allDigits(s[9:])
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// killChainPhase checks one kill-chain-phase (STIX 2.1 §2.11).
var killChainPhase = object(
	req("kill_chain_name", text),
	req("phase_name", text),
)

// granularMarking checks the shape of one granular-marking (STIX 2.1 §7.2.3):
// selectors, and exactly one of lang and marking_ref. Whether the selectors
// resolve is checked against the whole object by checkSelectors.
func granularMarking(v json.RawMessage) *fault {
	if f := object(
		opt("lang", language),
		opt("marking_ref", ref("marking-definition")),
		req("selectors", list(selector)),
	)(v); f != nil {
		return f
	}
	m, _ := decodeObject(v)
	_, l := m["lang"]
	_, r := m["marking_ref"]
	if l == r {
		return faultf(`must have exactly one of "lang" and "marking_ref"`)
	}
	return nil
}

// language accepts an RFC 5646 language tag in its general shape: subtags of
// 1–8 letters or digits separated by '-', the first one letters only. An
// underscore separator (en_US, the POSIX locale form) is forgiven.
func language(v json.RawMessage) *fault {
	s, ok := jsonscan.String(v)
	if !ok {
		return faultf("must be a string")
	}
	subtags := strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '_' })
	if len(subtags) == 0 || strings.Count(s, "-")+strings.Count(s, "_") != len(subtags)-1 {
		return faultf("is not an RFC 5646 language tag: " + strconv.Quote(s))
	}
	for i, sub := range subtags {
		if len(sub) > 8 || strings.IndexFunc(sub, func(r rune) bool {
			letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
			return !(letter || i > 0 && r >= '0' && r <= '9')
		}) >= 0 {
			return faultf("is not an RFC 5646 language tag: " + strconv.Quote(s))
		}
	}
	return nil
}

// extensionTypes is extension-type-enum (STIX 2.1 §10.5).
var extensionTypes = []string{"new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension"}

// extensions checks the extensions dictionary (STIX 2.1 §3.2): every value is
// an object, and extensions defined by an extension-definition name their
// extension_type (§7.3).
func extensions(v json.RawMessage) *fault {
	m, ok := decodeObject(v)
	if !ok {
		return faultf("must be a dictionary (JSON object)")
	}
	if len(m) == 0 {
		return faultf("must not be an empty dictionary")
	}
	for _, k := range sortedKeys(m) {
		if strings.HasPrefix(k, "extension-definition--") {
			if CheckID(k, "extension-definition") != nil {
				return faultf("has a key that is not an extension-definition identifier: " + strconv.Quote(k))
			}
			if f := object(req("extension_type", enum(extensionTypes...)))(m[k]); f != nil {
				return f.under("." + k)
			}
			continue
		}
		if !validKey(k) {
			return faultf("has an invalid key " + strconv.Quote(k))
		}
		if kindOf(m[k]) != '{' {
			return faultf("must map each extension to a JSON object").under("." + k)
		}
	}
	return nil
}

// Common properties by category (STIX 2.1 §3.2).
var (
	// versioned are the common properties of SDOs and SROs.
	versioned = []field{
		req("spec_version", specVersion),
		req("created", timestamp),
		req("modified", timestamp),
		opt("created_by_ref", ref("identity")),
		opt("revoked", boolean),
		opt("labels", list(str)),
		opt("confidence", integer(0, 100)),
		opt("lang", language),
		opt("external_references", list(externalReference)),
		opt("object_marking_refs", list(ref("marking-definition"))),
		opt("granular_markings", list(granularMarking)),
		opt("extensions", extensions),
	}
	observableCommon = []field{
		opt("spec_version", specVersion),
		opt("object_marking_refs", list(ref("marking-definition"))),
		opt("granular_markings", list(granularMarking)),
		opt("defanged", boolean),
		opt("extensions", extensions),
	}
	// customCommon applies to types this package does not know, which may be
	// domain-like (ATT&CK's x-mitre-tactic) or observable-like: every common
	// property is optional, and checked when present.
	customCommon = []field{
		opt("spec_version", specVersion),
		opt("created", timestamp),
		opt("modified", timestamp),
		opt("created_by_ref", ref("identity")),
		opt("revoked", boolean),
		opt("labels", list(str)),
		opt("confidence", integer(0, 100)),
		opt("lang", language),
		opt("external_references", list(externalReference)),
		opt("object_marking_refs", list(ref("marking-definition"))),
		opt("granular_markings", list(granularMarking)),
		opt("defanged", boolean),
		opt("extensions", extensions),
	}
)

// specVersion accepts "2.1" (STIX 2.1 §3.2): STIX 2.0 content is converted
// with Convert20 before it is validated.
func specVersion(v json.RawMessage) *fault {
	s, ok := jsonscan.String(v)
	if !ok {
		return faultf("must be a string")
	}
	if s != "2.1" {
		return faultf(`must be "2.1", got ` + strconv.Quote(s) + " (STIX 2.0 objects are converted first)")
	}
	return nil
}

// without returns fields minus the named ones.
func without(fields []field, names ...string) []field {
	var out []field
next:
	for _, f := range fields {
		for _, n := range names {
			if f.name == n {
				continue next
			}
		}
		out = append(out, f)
	}
	return out
}

// required returns fields with the named ones made required.
func required(fields []field, names ...string) []field {
	out := append([]field(nil), fields...)
	for i := range out {
		for _, n := range names {
			if out[i].name == n {
				out[i].required = true
			}
		}
	}
	return out
}
