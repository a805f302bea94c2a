package stix

import (
	"encoding/json"
	"hail/jsonscan"
	"strconv"
	"strings"

	"hail"
	"hail/stix/pattern"
)

// Lists of common value checks, named for what they hold.
var (
	stringList = list(str)
	idList     = list(ref())
	phases     = list(killChainPhase)
	softwareID = ref("software")
)

// notNode are the types that relationships cannot point at (STIX 2.1 §5.1.2:
// source_ref and target_ref reference SDOs or SCOs only).
var notNode = []string{"relationship", "sighting", "marking-definition", "language-content", "extension-definition", "bundle"}

// domainSchemas returns the schemas of the SDOs (STIX 2.1 §4), SROs (§5) and
// meta objects (§7).
func domainSchemas() map[string]*schema {
	sdo := func(specific []field, rules ...rule) *schema {
		return newSchema(versioned, specific, rules...)
	}
	named := func(extra ...field) []field {
		return append([]field{req("name", text), opt("description", str)}, extra...)
	}
	seen := ordered("first_seen", "last_seen", false)
	return map[string]*schema{
		// §4.1
		"attack-pattern": sdo(named(opt("aliases", stringList), opt("kill_chain_phases", phases))),
		// §4.2
		"campaign": sdo(named(opt("aliases", stringList), opt("first_seen", timestamp), opt("last_seen", timestamp),
			opt("objective", str)), seen),
		// §4.3; "action" is reserved.
		"course-of-action": sdo(named(opt("action", anything))),
		// §4.4
		"grouping": sdo([]field{opt("name", str), opt("description", str), req("context", text), req("object_refs", idList)}),
		// §4.5
		"identity": sdo(named(opt("roles", stringList), opt("identity_class", str), opt("sectors", stringList),
			opt("contact_information", str))),
		// §4.6
		"incident": sdo(named(opt("kill_chain_phases", phases))),
		// §4.7
		"indicator": sdo([]field{opt("name", str), opt("description", str), opt("indicator_types", stringList),
			req("pattern", text), req("pattern_type", text), opt("pattern_version", str),
			req("valid_from", timestamp), opt("valid_until", timestamp), opt("kill_chain_phases", phases)},
			ordered("valid_from", "valid_until", true), indicatorPattern),
		// §4.8
		"infrastructure": sdo(named(opt("infrastructure_types", stringList), opt("aliases", stringList),
			opt("kill_chain_phases", phases), opt("first_seen", timestamp), opt("last_seen", timestamp)), seen),
		// §4.9
		"intrusion-set": sdo(named(opt("aliases", stringList), opt("first_seen", timestamp), opt("last_seen", timestamp),
			opt("goals", stringList), opt("resource_level", str), opt("primary_motivation", str),
			opt("secondary_motivations", stringList)), seen),
		// §4.10
		"location": sdo([]field{opt("name", str), opt("description", str),
			opt("latitude", number(-90, 90)), opt("longitude", number(-180, 180)), opt("precision", number(0, 1e308)),
			opt("region", str), opt("country", str), opt("administrative_area", str), opt("city", str),
			opt("street_address", str), opt("postal_code", str)},
			locationRule, needs("latitude", "longitude"), needs("longitude", "latitude"), needs("precision", "latitude")),
		// §4.11. is_family is required as in STIX 2.1 OS; a family needs a name.
		"malware": sdo([]field{opt("name", str), opt("description", str), opt("malware_types", stringList),
			req("is_family", boolean), opt("aliases", stringList), opt("kill_chain_phases", phases),
			opt("first_seen", timestamp), opt("last_seen", timestamp), opt("operating_system_refs", list(softwareID)),
			opt("architecture_execution_envs", stringList), opt("implementation_languages", stringList),
			opt("capabilities", stringList), opt("sample_refs", list(ref("file", "artifact")))},
			seen, malwareName),
		// §4.12
		"malware-analysis": sdo([]field{req("product", text), opt("version", str), opt("host_vm_ref", softwareID),
			opt("operating_system_ref", softwareID), opt("installed_software_refs", list(softwareID)),
			opt("configuration_version", str), opt("modules", stringList), opt("analysis_engine_version", str),
			opt("analysis_definition_version", str), opt("submitted", timestamp), opt("analysis_started", timestamp),
			opt("analysis_ended", timestamp), opt("result_name", str), opt("result", str),
			opt("analysis_sco_refs", idList), opt("sample_ref", ref("file", "network-traffic", "artifact"))},
			anyOf("A malware-analysis", "result", "analysis_sco_refs")),
		// §4.13
		"note": sdo([]field{opt("abstract", str), req("content", text), opt("authors", stringList), req("object_refs", idList)}),
		// §4.14. objects is the deprecated 2.0 observable container, still
		// allowed in place of object_refs.
		"observed-data": sdo([]field{req("first_observed", timestamp), req("last_observed", timestamp),
			req("number_observed", integer(1, 999999999)), opt("objects", dictionary(observableInContainer)),
			opt("object_refs", idList)},
			ordered("first_observed", "last_observed", false),
			anyOf("An observed-data", "object_refs", "objects"), exclusive("object_refs", "objects")),
		// §4.15
		"opinion": sdo([]field{opt("explanation", str), opt("authors", stringList),
			req("opinion", enum("strongly-disagree", "disagree", "neutral", "agree", "strongly-agree")),
			req("object_refs", idList)}),
		// §4.16
		"report": sdo(named(opt("report_types", stringList), req("published", timestamp), req("object_refs", idList))),
		// §4.17
		"threat-actor": sdo(named(opt("threat_actor_types", stringList), opt("aliases", stringList),
			opt("first_seen", timestamp), opt("last_seen", timestamp), opt("roles", stringList), opt("goals", stringList),
			opt("sophistication", str), opt("resource_level", str), opt("primary_motivation", str),
			opt("secondary_motivations", stringList), opt("personal_motivations", stringList)), seen),
		// §4.18
		"tool": sdo(named(opt("tool_types", stringList), opt("aliases", stringList), opt("kill_chain_phases", phases),
			opt("tool_version", str))),
		// §4.19
		"vulnerability": sdo(named()),

		// §5.1
		"relationship": newSchema(versioned, []field{
			req("relationship_type", all(text, relationshipType)), opt("description", str),
			req("source_ref", refExcept("an SDO or SCO", notNode...)),
			req("target_ref", refExcept("an SDO or SCO", notNode...)),
			opt("start_time", timestamp), opt("stop_time", timestamp)},
			ordered("start_time", "stop_time", true)),
		// §5.2
		"sighting": newSchema(versioned, []field{
			opt("description", str), opt("first_seen", timestamp), opt("last_seen", timestamp),
			opt("count", integer(0, 999999999)),
			req("sighting_of_ref", refExcept("an SDO", append(append([]string(nil), notNode...), observableTypes...)...)),
			opt("observed_data_refs", list(ref("observed-data"))),
			opt("where_sighted_refs", list(ref("identity", "location"))), opt("summary", boolean)},
			seen),

		// §7.1; lang does not apply, the contents carry their languages.
		"language-content": newSchema(without(versioned, "lang"), []field{
			req("object_ref", ref()), opt("object_modified", timestamp),
			req("contents", dictionary(dictionary(nil)))}),
		// §7.2.1; marking definitions are not versioned.
		"marking-definition": newSchema(markingCommon, []field{
			opt("name", str), opt("definition_type", str), opt("definition", anything)},
			markingDefinition),
		// §7.3
		"extension-definition": newSchema(required(without(versioned, "confidence", "lang", "extensions"), "created_by_ref"),
			[]field{req("name", text), opt("description", str), req("schema", text), req("version", text),
				req("extension_types", list(enum(extensionTypes...))), opt("extension_properties", stringList)},
			extensionProperties),
	}
}

// markingCommon are the common properties of marking-definition (§7.2.1).
var markingCommon = []field{
	req("spec_version", specVersion),
	req("created", timestamp),
	opt("created_by_ref", ref("identity")),
	opt("external_references", list(externalReference)),
	opt("object_marking_refs", list(ref("marking-definition"))),
	opt("granular_markings", list(granularMarking)),
	opt("extensions", extensions),
}

// relationshipType holds relationship_type to ASCII a–z, 0–9 and '-'
// (STIX 2.1 §5.1.2).
func relationshipType(v json.RawMessage) *fault {
	s, _ := jsonscan.String(v)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return faultf("must hold only a-z, 0-9 and '-', got " + strconv.Quote(s))
		}
	}
	return nil
}

// observableInContainer checks one entry of the deprecated observable
// container (STIX 2.1 §2.13): an object with a type. Its references are
// local keys, so the 2.1 observable rules do not apply as such.
func observableInContainer(v json.RawMessage) *fault {
	return object(req("type", text))(v)
}

// locationRule: STIX 2.1 §4.10 requires region, country, or a latitude and
// longitude pair.
func locationRule(p props) error {
	if p.has("region") || p.has("country") || p.has("latitude") && p.has("longitude") {
		return nil
	}
	return hail.Errorf(hail.EUNPROCESSABLE, `A location needs "region", "country", or "latitude" and "longitude".`)
}

// malwareName: STIX 2.1 §4.11.1, "For a malware family the name MUST be
// defined."
func malwareName(p props) error {
	if strings.TrimSpace(string(p["is_family"])) == "true" && strings.TrimSpace(p.str("name")) == "" {
		return hail.Errorf(hail.EUNPROCESSABLE, `Property "name" is required when "is_family" is true.`)
	}
	return nil
}

// markingDefinition: without extensions, definition_type and definition are
// required (STIX 2.1 §7.2.1), and the two predefined definition types have
// their required property (§7.2.1.3, §7.2.1.4).
func markingDefinition(p props) error {
	if p.has("extensions") {
		return nil
	}
	for _, n := range []string{"definition_type", "definition"} {
		if !p.has(n) {
			return hail.Errorf(hail.EUNPROCESSABLE, "Property %q is required when \"extensions\" is absent.", n)
		}
	}
	var f *fault
	switch strings.ToLower(strings.TrimSpace(p.str("definition_type"))) {
	case "tlp":
		f = object(req("tlp", enum("white", "green", "amber", "red")))(p["definition"])
	case "statement":
		f = object(req("statement", text))(p["definition"])
	default:
		f = object()(p["definition"])
	}
	if f != nil {
		return propertyError(f.under("definition"))
	}
	return nil
}

// extensionProperties: STIX 2.1 §7.3.1, extension_properties "MUST only be
// used when the extension_types property includes a value of
// toplevel-property-extension".
func extensionProperties(p props) error {
	if !p.has("extension_properties") {
		return nil
	}
	l, _ := decodeList(p["extension_types"])
	for _, v := range l {
		if s, _ := jsonscan.String(v); strings.ToLower(strings.TrimSpace(s)) == "toplevel-property-extension" {
			return nil
		}
	}
	return hail.Errorf(hail.EUNPROCESSABLE, `Property "extension_properties" is only allowed when "extension_types" includes "toplevel-property-extension".`)
}

// indicatorPattern checks the pattern of indicators whose pattern_type is
// "stix" (STIX 2.1 §4.7.1, §9).
func indicatorPattern(p props) error {
	if strings.ToLower(strings.TrimSpace(p.str("pattern_type"))) != "stix" {
		return nil
	}
	if _, err := pattern.Parse(p.str("pattern")); err != nil {
		return hail.Errorf(hail.EUNPROCESSABLE, "Property \"pattern\" is not a valid STIX pattern: %s.", err.Error())
	}
	return nil
}
