package stix_test

import (
	"encoding/json"
	"strings"
	"testing"

	"hail"
	"hail/stix"
)

// Valid objects of every type, one per line, that the cases below break one
// property at a time.
const (
	ts      = `"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z"`
	sv      = `"spec_version":"2.1"`
	ident   = "identity--023d105b-752e-4e3c-941c-7d3f3cb15e9e"
	marking = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
	ind     = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
	file1   = "file--364fe3e5-b1f4-5ba3-b951-ee5983b3538d"
	ipv4    = "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"
	extdef  = "extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e"
)

var base = map[string]string{
	"attack-pattern":   `{"type":"attack-pattern",` + sv + `,"id":"attack-pattern--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",` + ts + `,"name":"Spear Phishing","kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"initial-access"}],"external_references":[{"source_name":"capec","external_id":"CAPEC-163"}]}`,
	"campaign":         `{"type":"campaign",` + sv + `,"id":"campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",` + ts + `,"name":"Green Group Attacks","first_seen":"2023-01-01T00:00:00Z","last_seen":"2023-06-01T00:00:00Z"}`,
	"course-of-action": `{"type":"course-of-action",` + sv + `,"id":"course-of-action--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",` + ts + `,"name":"Add TCP port 80 filter rule"}`,
	"grouping":         `{"type":"grouping",` + sv + `,"id":"grouping--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3",` + ts + `,"context":"suspicious-activity","object_refs":["` + ind + `"]}`,
	"identity":         `{"type":"identity",` + sv + `,"id":"` + ident + `",` + ts + `,"name":"ACME","identity_class":"organization"}`,
	"incident":         `{"type":"incident",` + sv + `,"id":"incident--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",` + ts + `,"name":"Breach"}`,
	"indicator":        `{"type":"indicator",` + sv + `,"id":"` + ind + `",` + ts + `,"created_by_ref":"` + ident + `","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","valid_until":"2024-02-01T00:00:00Z","confidence":80,"object_marking_refs":["` + marking + `"]}`,
	"infrastructure":   `{"type":"infrastructure",` + sv + `,"id":"infrastructure--38c47d93-d984-4fd9-b87b-d69d0841628d",` + ts + `,"name":"Poison Ivy C2","first_seen":"2023-01-01T00:00:00Z"}`,
	"intrusion-set":    `{"type":"intrusion-set",` + sv + `,"id":"intrusion-set--4e78f46f-a023-4e5f-bc24-71b3ca22ec29",` + ts + `,"name":"Bobcat Breakin"}`,
	"location":         `{"type":"location",` + sv + `,"id":"location--a6e9345f-5a15-4c29-8bb3-7dcc5d168d64",` + ts + `,"latitude":48.8566,"longitude":2.3522,"precision":1000}`,
	"malware":          `{"type":"malware",` + sv + `,"id":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b",` + ts + `,"name":"Cryptolocker","malware_types":["ransomware"],"is_family":true,"sample_refs":["` + file1 + `"]}`,
	"malware-analysis": `{"type":"malware-analysis",` + sv + `,"id":"malware-analysis--d25167b7-fed0-4068-9ccd-a73dd2c5b07c",` + ts + `,"product":"microsoft","result":"malicious"}`,
	"note":             `{"type":"note",` + sv + `,"id":"note--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",` + ts + `,"content":"This is a note.","object_refs":["` + ind + `"]}`,
	"observed-data":    `{"type":"observed-data",` + sv + `,"id":"observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",` + ts + `,"first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":50,"object_refs":["` + ipv4 + `"]}`,
	"opinion":          `{"type":"opinion",` + sv + `,"id":"opinion--b01efc25-77b4-4003-b18b-f6e24b5cd9f7",` + ts + `,"opinion":"strongly-disagree","object_refs":["` + ind + `"]}`,
	"report":           `{"type":"report",` + sv + `,"id":"report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3",` + ts + `,"name":"The Black Vine Cyberespionage Group","report_types":["campaign"],"published":"2024-01-01T00:00:00Z","object_refs":["` + ind + `"]}`,
	"threat-actor":     `{"type":"threat-actor",` + sv + `,"id":"threat-actor--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",` + ts + `,"name":"Evil Org","threat_actor_types":["crime-syndicate"]}`,
	"tool":             `{"type":"tool",` + sv + `,"id":"tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",` + ts + `,"name":"VNC","tool_types":["remote-access"]}`,
	"vulnerability":    `{"type":"vulnerability",` + sv + `,"id":"vulnerability--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",` + ts + `,"name":"CVE-2016-1234","external_references":[{"source_name":"cve","external_id":"CVE-2016-1234"}]}`,

	"relationship": `{"type":"relationship",` + sv + `,"id":"relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad",` + ts + `,"relationship_type":"indicates","source_ref":"` + ind + `","target_ref":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b","start_time":"2024-01-01T00:00:00Z","stop_time":"2024-02-01T00:00:00Z"}`,
	"sighting":     `{"type":"sighting",` + sv + `,"id":"sighting--ee20065d-2555-424f-ad9e-0f8428623c75",` + ts + `,"sighting_of_ref":"` + ind + `","count":3,"first_seen":"2024-01-01T00:00:00Z","last_seen":"2024-01-02T00:00:00Z","where_sighted_refs":["` + ident + `"],"observed_data_refs":["observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf"]}`,

	"marking-definition":   `{"type":"marking-definition",` + sv + `,"id":"` + marking + `","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:WHITE","definition":{"tlp":"white"}}`,
	"language-content":     `{"type":"language-content",` + sv + `,"id":"language-content--b86bd89f-98bb-4fa9-8cb2-9ad421da981d",` + ts + `,"object_ref":"campaign--12a111f0-b824-4baf-a224-83b80237a094","object_modified":"2017-02-08T21:31:22.007Z","contents":{"de":{"name":"Bank Angriff 1"}}}`,
	"extension-definition": `{"type":"extension-definition",` + sv + `,"id":"` + extdef + `",` + ts + `,"created_by_ref":"` + ident + `","name":"Extension Foo Bar","schema":"https://www.example.com/schema-foo-1/v1/","version":"1.2.1","extension_types":["toplevel-property-extension"],"extension_properties":["toxicity"]}`,

	"artifact":             `{"type":"artifact",` + sv + `,"id":"artifact--6f437177-6e48-5cf8-9d9e-872a2bddd641","mime_type":"image/jpeg","payload_bin":"VBORw0KGgoAAAANSUhEUgAAADI="}`,
	"autonomous-system":    `{"type":"autonomous-system",` + sv + `,"id":"autonomous-system--f720c34b-98ae-597f-ade5-27ef187fe8e1","number":15139,"name":"Slime Industries","rir":"ARIN"}`,
	"directory":            `{"type":"directory",` + sv + `,"id":"directory--5b0a5e15-4c6e-5a5c-a8d6-0a4e1c2e2e1f","path":"C:\\Windows\\System32"}`,
	"domain-name":          `{"type":"domain-name",` + sv + `,"id":"domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5","value":"example.com","resolves_to_refs":["` + ipv4 + `"]}`,
	"email-addr":           `{"type":"email-addr",` + sv + `,"id":"email-addr--2d77a846-6264-5d51-b586-e43822ea1ea3","value":"john@example.com","display_name":"John Doe"}`,
	"email-message":        `{"type":"email-message",` + sv + `,"id":"email-message--72b7698f-10c2-565a-a2a6-b4996a2f2265","is_multipart":false,"from_ref":"email-addr--2d77a846-6264-5d51-b586-e43822ea1ea3","subject":"Hi","body":"Hello"}`,
	"file":                 `{"type":"file",` + sv + `,"id":"` + file1 + `","hashes":{"SHA-256":"fe90a7e910cb3a4739bed9180e807e93fa70c90f25a8915476f5e4bfbac681db"},"size":25536,"name":"foo.dll"}`,
	"ipv4-addr":            `{"type":"ipv4-addr",` + sv + `,"id":"` + ipv4 + `","value":"198.51.100.3"}`,
	"ipv6-addr":            `{"type":"ipv6-addr",` + sv + `,"id":"ipv6-addr--1e61d36c-a16c-53b7-a80f-2a00161c96b1","value":"2001:0db8:85a3:0000:0000:8a2e:0370:7334"}`,
	"mac-addr":             `{"type":"mac-addr",` + sv + `,"id":"mac-addr--65cfcf98-8a6e-5a1b-8f61-379ac4f92d00","value":"d2:fb:49:24:37:18"}`,
	"mutex":                `{"type":"mutex",` + sv + `,"id":"mutex--eba44954-d4e4-5d3b-814c-2b17dd8de300","name":"__CLEANSWEEP__"}`,
	"network-traffic":      `{"type":"network-traffic",` + sv + `,"id":"network-traffic--630d7bb1-0bbc-53a6-a6d4-f3c2d35c2734","dst_ref":"` + ipv4 + `","dst_port":443,"protocols":["ipv4","tcp"],"start":"2024-01-01T00:00:00Z","end":"2024-01-01T00:01:00Z"}`,
	"process":              `{"type":"process",` + sv + `,"id":"process--f52a906a-0dfc-40bd-92f1-e7778ead38a9","pid":1221,"command_line":"./gedit-bin --new-window"}`,
	"software":             `{"type":"software",` + sv + `,"id":"software--a1827f6d-ca53-5605-9e93-4316cd22a00a","name":"Word","vendor":"Microsoft"}`,
	"url":                  `{"type":"url",` + sv + `,"id":"url--c1477287-23ac-5971-a010-5c287877fa60","value":"https://example.com/research/index.html"}`,
	"user-account":         `{"type":"user-account",` + sv + `,"id":"user-account--0d5b424b-93b8-5cd8-ac36-306e1789d63c","user_id":"1001","account_login":"jdoe"}`,
	"windows-registry-key": `{"type":"windows-registry-key",` + sv + `,"id":"windows-registry-key--2ba37ae7-2745-5082-9dfd-9486dad41016","key":"hkey_local_machine\\system\\bar\\foo","values":[{"name":"Foo","data":"qwerty","data_type":"REG_SZ"}]}`,
	"x509-certificate":     `{"type":"x509-certificate",` + sv + `,"id":"x509-certificate--463d7b2a-8516-5a50-a3d7-6f801465d5de","issuer":"C=ZA, ST=Western Cape, L=Cape Town","serial_number":"36:f7:d4:32:f4:ab:70:ea:d3:ce:98:6e:ea:99:93:49"}`,

	"x-acme-widget": `{"type":"x-acme-widget",` + sv + `,"id":"x-acme-widget--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",` + ts + `,"name":"Widget","widget_refs":["` + ind + `"]}`,
}

// edit returns the base object of typ with set properties replaced (nil
// deletes).
func edit(tb testing.TB, typ string, set map[string]any) []byte {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(base[typ]), &m); err != nil {
		tb.Fatalf("base %s: %v", typ, err)
	}
	for k, v := range set {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func validate(raw []byte) error {
	o, err := stix.Parse(raw)
	if err != nil {
		return err
	}
	return stix.Validate(o)
}

func TestValidateBase(t *testing.T) {
	for typ := range base {
		if err := validate(edit(t, typ, nil)); err != nil {
			t.Errorf("%s: got %v, want valid", typ, err)
		}
	}
}

// raw marks a property value written as JSON text.
type raw string

func (r raw) MarshalJSON() ([]byte, error) { return []byte(r), nil }

func TestValidateRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		typ  string
		set  map[string]any
		prop string // the property the message must name
	}{
		// Common properties.
		{"spec_version 2.0", "indicator", map[string]any{"spec_version": "2.0"}, "spec_version"},
		{"spec_version missing on SDO", "indicator", map[string]any{"spec_version": nil}, "spec_version"},
		{"spec_version wrong on SCO", "ipv4-addr", map[string]any{"spec_version": "2.0"}, "spec_version"},
		{"created missing", "malware", map[string]any{"created": nil}, "created"},
		{"modified missing", "relationship", map[string]any{"modified": nil}, "modified"},
		{"created missing on marking", "marking-definition", map[string]any{"created": nil}, "created"},
		{"created_by_ref not identity", "indicator", map[string]any{"created_by_ref": ind}, "created_by_ref"},
		{"created_by_ref not an id", "indicator", map[string]any{"created_by_ref": "ACME"}, "created_by_ref"},
		{"confidence above 100", "indicator", map[string]any{"confidence": 101}, "confidence"},
		{"confidence negative", "indicator", map[string]any{"confidence": -1}, "confidence"},
		{"confidence fraction", "indicator", map[string]any{"confidence": 50.5}, "confidence"},
		{"confidence string", "indicator", map[string]any{"confidence": "high"}, "confidence"},
		{"lang not a string", "indicator", map[string]any{"lang": 1}, "lang"},
		{"lang not a tag", "indicator", map[string]any{"lang": "en us"}, "lang"},
		{"lang empty subtag", "indicator", map[string]any{"lang": "en--us"}, "lang"},
		{"lang empty", "indicator", map[string]any{"lang": ""}, "lang"},
		{"labels not a list", "indicator", map[string]any{"labels": "a"}, "labels"},
		{"labels empty", "indicator", map[string]any{"labels": []string{}}, "labels"},
		{"labels of numbers", "indicator", map[string]any{"labels": []any{1}}, "labels[0]"},
		{"revoked string", "indicator", map[string]any{"revoked": "yes"}, "revoked"},
		{"external_references empty", "attack-pattern", map[string]any{"external_references": []any{}}, "external_references"},
		{"external reference without source_name", "attack-pattern",
			map[string]any{"external_references": []any{map[string]any{"url": "https://example.com"}}}, "external_references[0].source_name"},
		{"external reference with only source_name", "attack-pattern",
			map[string]any{"external_references": []any{map[string]any{"source_name": "capec"}}}, "external_references[0]"},
		{"cve reference without external_id", "vulnerability",
			map[string]any{"external_references": []any{map[string]any{"source_name": "cve", "url": "https://cve.org"}}}, "external_references[0].external_id"},
		{"cve reference malformed", "vulnerability",
			map[string]any{"external_references": []any{map[string]any{"source_name": "cve", "external_id": "2016-1234"}}}, "external_references[0].external_id"},
		{"cve reference short number", "vulnerability",
			map[string]any{"external_references": []any{map[string]any{"source_name": "cve", "external_id": "CVE-2016-123"}}}, "external_references[0].external_id"},
		{"external reference hashes empty", "attack-pattern",
			map[string]any{"external_references": []any{map[string]any{"source_name": "x", "url": "u", "hashes": map[string]any{}}}}, "external_references[0].hashes"},
		{"object_marking_refs not markings", "indicator", map[string]any{"object_marking_refs": []string{ident}}, "object_marking_refs[0]"},
		{"object_marking_refs empty", "indicator", map[string]any{"object_marking_refs": []string{}}, "object_marking_refs"},
		{"granular marking without selectors", "indicator",
			map[string]any{"granular_markings": []any{map[string]any{"marking_ref": marking}}}, "granular_markings[0].selectors"},
		{"granular marking with lang and marking_ref", "indicator",
			map[string]any{"granular_markings": []any{map[string]any{"marking_ref": marking, "lang": "en", "selectors": []string{"pattern"}}}}, "granular_markings[0]"},
		{"granular marking ref not a marking", "indicator",
			map[string]any{"granular_markings": []any{map[string]any{"marking_ref": ident, "selectors": []string{"pattern"}}}}, "granular_markings[0].marking_ref"},
		{"granular marking bad selector", "indicator",
			map[string]any{"granular_markings": []any{map[string]any{"marking_ref": marking, "selectors": []string{"pattern..x"}}}}, "granular_markings[0].selectors[0]"},
		{"granular marking selects nothing", "indicator",
			map[string]any{"granular_markings": []any{map[string]any{"marking_ref": marking, "selectors": []string{"description"}}}}, "granular_markings[0].selectors[0]"},
		{"granular marking index out of range", "indicator",
			map[string]any{"granular_markings": []any{map[string]any{"marking_ref": marking, "selectors": []string{"indicator_types.[1]"}}}}, "granular_markings[0].selectors[0]"},
		{"extensions not a dictionary", "indicator", map[string]any{"extensions": []string{"x"}}, "extensions"},
		{"extensions empty", "indicator", map[string]any{"extensions": map[string]any{}}, "extensions"},
		{"extension without extension_type", "indicator",
			map[string]any{"extensions": map[string]any{extdef: map[string]any{"rank": 5}}}, "extensions." + extdef + ".extension_type"},
		{"extension_type not in enum", "indicator",
			map[string]any{"extensions": map[string]any{extdef: map[string]any{"extension_type": "new-thing"}}}, "extensions." + extdef + ".extension_type"},
		{"kill chain phase without phase_name", "attack-pattern",
			map[string]any{"kill_chain_phases": []any{map[string]any{"kill_chain_name": "lockheed"}}}, "kill_chain_phases[0].phase_name"},
		{"optional timestamp malformed", "campaign", map[string]any{"first_seen": "2023-01-01"}, "first_seen"},
		{"optional timestamp with offset", "relationship", map[string]any{"start_time": "2024-01-01T00:00:00+01:00"}, "start_time"},

		// Custom properties.
		{"custom property with capitals", "indicator", map[string]any{"x_Acme": 1}, "x_Acme"},
		{"custom property too short", "indicator", map[string]any{"xy": 1}, "xy"},
		{"custom property with hyphen", "indicator", map[string]any{"x-acme": 1}, "x-acme"},
		{"custom property too long", "indicator", map[string]any{strings.Repeat("a", 251): 1}, strings.Repeat("a", 251)},
		{"custom type property", "x-acme-widget", map[string]any{"Widget Name": 1}, "Widget Name"},
		{"custom type bad common property", "x-acme-widget", map[string]any{"created_by_ref": "nobody"}, "created_by_ref"},

		// SDOs.
		{"attack-pattern name", "attack-pattern", map[string]any{"name": nil}, "name"},
		{"campaign name", "campaign", map[string]any{"name": nil}, "name"},
		{"campaign last_seen before first_seen", "campaign", map[string]any{"last_seen": "2022-01-01T00:00:00Z"}, "last_seen"},
		{"course-of-action name", "course-of-action", map[string]any{"name": nil}, "name"},
		{"grouping context", "grouping", map[string]any{"context": nil}, "context"},
		{"grouping object_refs", "grouping", map[string]any{"object_refs": nil}, "object_refs"},
		{"grouping object_refs empty", "grouping", map[string]any{"object_refs": []string{}}, "object_refs"},
		{"identity name", "identity", map[string]any{"name": nil}, "name"},
		{"identity name blank", "identity", map[string]any{"name": "  "}, "name"},
		{"incident name", "incident", map[string]any{"name": nil}, "name"},
		{"indicator pattern", "indicator", map[string]any{"pattern": nil}, "pattern"},
		{"indicator pattern_type", "indicator", map[string]any{"pattern_type": nil}, "pattern_type"},
		{"indicator valid_from", "indicator", map[string]any{"valid_from": nil}, "valid_from"},
		{"indicator valid_until equal", "indicator", map[string]any{"valid_until": "2024-01-01T00:00:00Z"}, "valid_until"},
		{"indicator valid_until before", "indicator", map[string]any{"valid_until": "2023-01-01T00:00:00Z"}, "valid_until"},
		{"indicator bad stix pattern", "indicator", map[string]any{"pattern": "[ipv4-addr:value = '1.2.3.4'"}, "pattern"},
		{"indicator_types empty", "indicator", map[string]any{"indicator_types": []string{}}, "indicator_types"},
		{"infrastructure name", "infrastructure", map[string]any{"name": nil}, "name"},
		{"infrastructure last_seen", "infrastructure", map[string]any{"last_seen": "2022-01-01T00:00:00Z"}, "last_seen"},
		{"intrusion-set name", "intrusion-set", map[string]any{"name": nil}, "name"},
		{"intrusion-set last_seen", "intrusion-set", map[string]any{"first_seen": "2023-01-02T00:00:00Z", "last_seen": "2023-01-01T00:00:00Z"}, "last_seen"},
		{"location nothing", "location", map[string]any{"latitude": nil, "longitude": nil, "precision": nil}, "region"},
		{"location latitude alone", "location", map[string]any{"longitude": nil, "precision": nil, "region": "europe"}, "longitude"},
		{"location precision alone", "location", map[string]any{"latitude": nil, "longitude": nil, "country": "fr"}, "latitude"},
		{"location latitude range", "location", map[string]any{"latitude": 91}, "latitude"},
		{"location longitude range", "location", map[string]any{"longitude": -181}, "longitude"},
		{"malware is_family", "malware", map[string]any{"is_family": nil}, "is_family"},
		{"malware is_family string", "malware", map[string]any{"is_family": "true"}, "is_family"},
		{"malware family name", "malware", map[string]any{"name": nil}, "name"},
		{"malware sample_refs type", "malware", map[string]any{"sample_refs": []string{ipv4}}, "sample_refs[0]"},
		{"malware last_seen", "malware", map[string]any{"first_seen": "2023-01-02T00:00:00Z", "last_seen": "2023-01-01T00:00:00Z"}, "last_seen"},
		{"malware-analysis product", "malware-analysis", map[string]any{"product": nil}, "product"},
		{"malware-analysis result or refs", "malware-analysis", map[string]any{"result": nil}, "analysis_sco_refs"},
		{"note content", "note", map[string]any{"content": nil}, "content"},
		{"note object_refs", "note", map[string]any{"object_refs": nil}, "object_refs"},
		{"observed-data first_observed", "observed-data", map[string]any{"first_observed": nil}, "first_observed"},
		{"observed-data last_observed", "observed-data", map[string]any{"last_observed": nil}, "last_observed"},
		{"observed-data order", "observed-data", map[string]any{"last_observed": "2023-01-01T00:00:00Z"}, "last_observed"},
		{"observed-data number_observed", "observed-data", map[string]any{"number_observed": nil}, "number_observed"},
		{"observed-data number_observed zero", "observed-data", map[string]any{"number_observed": 0}, "number_observed"},
		{"observed-data number_observed too big", "observed-data", map[string]any{"number_observed": 1000000000}, "number_observed"},
		{"observed-data no objects", "observed-data", map[string]any{"object_refs": nil}, "object_refs"},
		{"observed-data both objects", "observed-data", map[string]any{"objects": map[string]any{"0": map[string]any{"type": "ipv4-addr", "value": "1.2.3.4"}}}, "objects"},
		{"observed-data objects empty", "observed-data", map[string]any{"object_refs": nil, "objects": map[string]any{}}, "objects"},
		{"opinion value", "opinion", map[string]any{"opinion": "maybe"}, "opinion"},
		{"opinion missing", "opinion", map[string]any{"opinion": nil}, "opinion"},
		{"opinion object_refs", "opinion", map[string]any{"object_refs": nil}, "object_refs"},
		{"report name", "report", map[string]any{"name": nil}, "name"},
		{"report published", "report", map[string]any{"published": nil}, "published"},
		{"report object_refs", "report", map[string]any{"object_refs": nil}, "object_refs"},
		{"report object_refs not ids", "report", map[string]any{"object_refs": []string{"indicator-1"}}, "object_refs[0]"},
		{"threat-actor name", "threat-actor", map[string]any{"name": nil}, "name"},
		{"threat-actor last_seen", "threat-actor", map[string]any{"first_seen": "2023-01-02T00:00:00Z", "last_seen": "2023-01-01T00:00:00Z"}, "last_seen"},
		{"tool name", "tool", map[string]any{"name": nil}, "name"},
		{"vulnerability name", "vulnerability", map[string]any{"name": nil}, "name"},

		// SROs.
		{"relationship_type", "relationship", map[string]any{"relationship_type": nil}, "relationship_type"},
		{"relationship_type characters", "relationship", map[string]any{"relationship_type": "Indicates"}, "relationship_type"},
		{"relationship source_ref", "relationship", map[string]any{"source_ref": nil}, "source_ref"},
		{"relationship target_ref", "relationship", map[string]any{"target_ref": nil}, "target_ref"},
		{"relationship target_ref not an id", "relationship", map[string]any{"target_ref": "malware"}, "target_ref"},
		{"relationship to relationship", "relationship", map[string]any{"target_ref": "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad"}, "target_ref"},
		{"relationship stop_time", "relationship", map[string]any{"stop_time": "2024-01-01T00:00:00Z"}, "stop_time"},
		{"sighting_of_ref", "sighting", map[string]any{"sighting_of_ref": nil}, "sighting_of_ref"},
		{"sighting_of_ref an SCO", "sighting", map[string]any{"sighting_of_ref": ipv4}, "sighting_of_ref"},
		{"sighting count", "sighting", map[string]any{"count": 1000000000}, "count"},
		{"sighting count negative", "sighting", map[string]any{"count": -1}, "count"},
		{"sighting last_seen", "sighting", map[string]any{"last_seen": "2023-01-01T00:00:00Z"}, "last_seen"},
		{"sighting where_sighted_refs", "sighting", map[string]any{"where_sighted_refs": []string{ind}}, "where_sighted_refs[0]"},
		{"sighting observed_data_refs", "sighting", map[string]any{"observed_data_refs": []string{ind}}, "observed_data_refs[0]"},

		// Meta objects.
		{"marking definition_type", "marking-definition", map[string]any{"definition_type": nil}, "definition_type"},
		{"marking definition", "marking-definition", map[string]any{"definition": nil}, "definition"},
		{"marking tlp value", "marking-definition", map[string]any{"definition": map[string]any{"tlp": "pink"}}, "definition.tlp"},
		{"marking statement", "marking-definition", map[string]any{"definition_type": "statement", "definition": map[string]any{"tlp": "white"}}, "definition.statement"},
		{"language-content object_ref", "language-content", map[string]any{"object_ref": nil}, "object_ref"},
		{"language-content contents", "language-content", map[string]any{"contents": nil}, "contents"},
		{"language-content contents shape", "language-content", map[string]any{"contents": map[string]any{"de": "Bank"}}, "contents.de"},
		{"extension-definition created_by_ref", "extension-definition", map[string]any{"created_by_ref": nil}, "created_by_ref"},
		{"extension-definition name", "extension-definition", map[string]any{"name": nil}, "name"},
		{"extension-definition schema", "extension-definition", map[string]any{"schema": nil}, "schema"},
		{"extension-definition version", "extension-definition", map[string]any{"version": nil}, "version"},
		{"extension-definition extension_types", "extension-definition", map[string]any{"extension_types": []string{"new-thing"}}, "extension_types[0]"},
		{"extension-definition extension_properties", "extension-definition", map[string]any{"extension_types": []string{"new-sdo"}}, "extension_properties"},

		// SCOs.
		{"artifact neither", "artifact", map[string]any{"payload_bin": nil}, "payload_bin"},
		{"artifact both", "artifact", map[string]any{"url": "https://example.com/a", "hashes": map[string]any{"MD5": "00"}}, "url"},
		{"artifact url without hashes", "artifact", map[string]any{"payload_bin": nil, "url": "https://example.com/a"}, "hashes"},
		{"autonomous-system number", "autonomous-system", map[string]any{"number": nil}, "number"},
		{"directory path", "directory", map[string]any{"path": nil}, "path"},
		{"domain-name value", "domain-name", map[string]any{"value": nil}, "value"},
		{"domain-name resolves_to_refs", "domain-name", map[string]any{"resolves_to_refs": []string{file1}}, "resolves_to_refs[0]"},
		{"email-addr value", "email-addr", map[string]any{"value": nil}, "value"},
		{"email-message is_multipart", "email-message", map[string]any{"is_multipart": nil}, "is_multipart"},
		{"email-message body when multipart", "email-message", map[string]any{"is_multipart": true}, "body"},
		{"email-message from_ref type", "email-message", map[string]any{"from_ref": ipv4}, "from_ref"},
		{"file hashes or name", "file", map[string]any{"hashes": nil, "name": nil}, "hashes"},
		{"file size negative", "file", map[string]any{"size": -1}, "size"},
		{"file hash key short", "file", map[string]any{"hashes": map[string]any{"md": "00"}}, "hashes"},
		{"file hash value empty", "file", map[string]any{"hashes": map[string]any{"MD5": ""}}, "hashes.MD5"},
		{"ipv4-addr value", "ipv4-addr", map[string]any{"value": nil}, "value"},
		{"ipv4-addr not an address", "ipv4-addr", map[string]any{"value": "198.51.100"}, "value"},
		{"ipv4-addr holding ipv6", "ipv4-addr", map[string]any{"value": "2001:db8::1"}, "value"},
		{"ipv6-addr holding ipv4", "ipv6-addr", map[string]any{"value": "198.51.100.3"}, "value"},
		{"mac-addr value", "mac-addr", map[string]any{"value": "d2:fb:49:24:37"}, "value"},
		{"mutex name", "mutex", map[string]any{"name": nil}, "name"},
		{"network-traffic protocols", "network-traffic", map[string]any{"protocols": nil}, "protocols"},
		{"network-traffic src or dst", "network-traffic", map[string]any{"dst_ref": nil}, "src_ref"},
		{"network-traffic port", "network-traffic", map[string]any{"dst_port": 70000}, "dst_port"},
		{"network-traffic end before start", "network-traffic", map[string]any{"end": "2023-01-01T00:00:00Z"}, "end"},
		{"network-traffic active with end", "network-traffic", map[string]any{"is_active": true}, "end"},
		{"process empty", "process", map[string]any{"pid": nil, "command_line": nil}, "pid"},
		{"software name", "software", map[string]any{"name": nil}, "name"},
		{"url value", "url", map[string]any{"value": nil}, "value"},
		{"user-account empty", "user-account", map[string]any{"user_id": nil, "account_login": nil}, "user_id"},
		{"windows-registry-key empty", "windows-registry-key", map[string]any{"key": nil, "values": nil}, "key"},
		{"windows-registry-key empty value", "windows-registry-key", map[string]any{"values": []any{map[string]any{}}}, "values[0]"},
		{"x509-certificate empty", "x509-certificate", map[string]any{"issuer": nil, "serial_number": nil}, "issuer"},
		{"x509-certificate validity", "x509-certificate", map[string]any{"validity_not_before": "yesterday"}, "validity_not_before"},
		{"defanged string", "url", map[string]any{"defanged": "no"}, "defanged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := validate(edit(t, tc.typ, tc.set))
			if err == nil {
				t.Fatalf("got valid, want an error naming %q", tc.prop)
			}
			if code := hail.ErrorCode(err); code != hail.EUNPROCESSABLE {
				t.Errorf("code: got %q, want %q (%v)", code, hail.EUNPROCESSABLE, err)
			}
			if msg := hail.ErrorMessage(err); !strings.Contains(msg, `"`+tc.prop+`"`) {
				t.Errorf("message: got %q, want it to name %q", msg, tc.prop)
			}
		})
	}
}

// TestValidateAccepts holds what real producers send that the specification
// allows, or that is sloppy but unambiguous.
func TestValidateAccepts(t *testing.T) {
	for _, tc := range []struct {
		name string
		typ  string
		set  map[string]any
	}{
		{"un-prefixed custom property", "attack-pattern", map[string]any{"mitre_version": "1.0"}},
		{"x_ custom property", "attack-pattern", map[string]any{"x_mitre_platforms": []string{"Android"}}},
		{"custom property with digits", "indicator", map[string]any{"x_acme_2fa": true}},
		{"custom property empty list", "indicator", map[string]any{"x_acme_tags": []string{}}},
		{"null optional property", "indicator", map[string]any{"description": raw("null")}},
		{"enum in capitals", "opinion", map[string]any{"opinion": "Strongly-Disagree"}},
		{"integer written as float", "indicator", map[string]any{"confidence": raw("80.0")}},
		{"confidence bounds", "indicator", map[string]any{"confidence": 0}},
		{"lang subtags", "indicator", map[string]any{"lang": "zh-Hant-TW"}},
		{"lang with underscore", "indicator", map[string]any{"lang": "en_US"}},
		{"timestamps with nanoseconds", "indicator", map[string]any{"valid_from": "2024-01-01T00:00:00.123456789Z"}},
		{"valid_until absent", "indicator", map[string]any{"valid_until": nil}},
		{"non-stix pattern not parsed", "indicator", map[string]any{"pattern_type": "sigma", "pattern": "title: x"}},
		{"pattern type in capitals", "indicator", map[string]any{"pattern_type": "STIX"}},
		{"pattern with blanks around", "indicator", map[string]any{"pattern": " [ipv4-addr:value = '198.51.100.1']\n"}},
		{"opinion with blanks", "opinion", map[string]any{"opinion": " agree "}},
		{"indicator without name", "indicator", map[string]any{"name": nil}},
		{"malware instance without name", "malware", map[string]any{"is_family": false, "name": nil}},
		{"location region only", "location", map[string]any{"latitude": nil, "longitude": nil, "precision": nil, "region": "northern-america"}},
		{"observed-data objects container", "observed-data", map[string]any{"object_refs": nil,
			"objects": map[string]any{"0": map[string]any{"type": "ipv4-addr", "value": "1.2.3.4"}}}},
		{"last_seen equal first_seen", "campaign", map[string]any{"last_seen": "2023-01-01T00:00:00Z"}},
		{"relationship to SCO", "relationship", map[string]any{"target_ref": ipv4}},
		{"relationship custom type", "relationship", map[string]any{"relationship_type": "x-acme-hosts"}},
		{"sighting of custom SDO", "sighting", map[string]any{"sighting_of_ref": "x-acme-widget--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}},
		{"marking via extension", "marking-definition", map[string]any{"definition_type": nil, "definition": nil,
			"extensions": map[string]any{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": map[string]any{"extension_type": "property-extension", "tlp_2_0": "amber+strict"}}}},
		{"predefined SCO extension", "file", map[string]any{"extensions": map[string]any{"ntfs-ext": map[string]any{"sid": "1-2-3"}}}},
		{"granular marking of list item", "indicator", map[string]any{"granular_markings": []any{
			map[string]any{"marking_ref": marking, "selectors": []string{"indicator_types.[0]", "pattern"}},
			map[string]any{"lang": "en", "selectors": []string{"pattern_type"}}}}},
		{"hash key in lower case", "file", map[string]any{"hashes": map[string]any{"sha256": "fe90a7e910cb3a4739bed9180e807e93fa70c90f25a8915476f5e4bfbac681db"}}},
		{"ipv4 CIDR", "ipv4-addr", map[string]any{"value": "198.51.100.0/24"}},
		{"ipv4 with blanks", "ipv4-addr", map[string]any{"value": " 198.51.100.3 "}},
		{"ipv6 CIDR", "ipv6-addr", map[string]any{"value": "2001:db8::/32"}},
		{"mac upper case with hyphens", "mac-addr", map[string]any{"value": "D2-FB-49-24-37-18"}},
		{"SCO without spec_version", "url", map[string]any{"spec_version": nil}},
		{"SCO defanged", "url", map[string]any{"defanged": true}},
		{"multipart email", "email-message", map[string]any{"is_multipart": true, "body": nil,
			"body_multipart": []any{map[string]any{"content_type": "text/plain", "body": "Hi"}}}},
		{"process with extension only", "process", map[string]any{"pid": nil, "command_line": nil,
			"extensions": map[string]any{"windows-process-ext": map[string]any{"aslr_enabled": true}}}},
		{"custom type with few properties", "x-acme-widget", map[string]any{"created": nil, "modified": nil, "spec_version": nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := validate(edit(t, tc.typ, tc.set)); err != nil {
				t.Errorf("got %v, want valid", err)
			}
		})
	}
}

func TestValidateNotAnObject(t *testing.T) {
	err := stix.Validate(stix.Object{Type: "indicator", Raw: []byte(`["indicator"]`)})
	if hail.ErrorCode(err) != hail.EUNPROCESSABLE {
		t.Errorf("got %v, want %s", err, hail.EUNPROCESSABLE)
	}
}

func TestValidatePatternErrorPosition(t *testing.T) {
	err := validate(edit(t, "indicator", map[string]any{"pattern": "[ipv4-addr:value = '1.2.3.4' AND]"}))
	if err == nil {
		t.Fatal("got valid, want an error")
	}
	if msg := hail.ErrorMessage(err); !strings.Contains(msg, `"pattern"`) || !strings.Contains(msg, "position") {
		t.Errorf("message: got %q, want it to name \"pattern\" and give the position", msg)
	}
}

func TestValidPropertyName(t *testing.T) {
	for s, want := range map[string]bool{
		"x_mitre_version": true, "abc": true, "a1_": true, "ab": false, "x-y": false, "X_y": false,
		strings.Repeat("a", 250): true, strings.Repeat("a", 251): false, "x_ü": false,
	} {
		if got := stix.ValidPropertyName(s); got != want {
			t.Errorf("ValidPropertyName(%q): got %v, want %v", s, got, want)
		}
	}
}

func TestValidCVE(t *testing.T) {
	for s, want := range map[string]bool{
		"CVE-2014-0160": true, "CVE-2021-44228": true, "CVE-2021-123456": true,
		"CVE-2014-016": false, "cve-2014-0160": false, "CVE-14-0160": false, "CVE-2014-01a0": false, "": false,
	} {
		if got := stix.ValidCVE(s); got != want {
			t.Errorf("ValidCVE(%q): got %v, want %v", s, got, want)
		}
	}
}

// benchAttackPattern is an ATT&CK object as MITRE publishes it.
var benchAttackPattern = []byte(`{"type":"attack-pattern","spec_version":"2.1","id":"attack-pattern--0c3e3e7a-4a3b-4a5c-8c5e-2d2c1b9a8f11","created":"2020-01-14T17:18:32.126Z","created_by_ref":"identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5","external_references":[{"source_name":"mitre-mobile-attack","url":"https://attack.mitre.org/techniques/T1406","external_id":"T1406"},{"source_name":"NIST Mobile Threat Catalogue","description":"National Institute of Standards and Technology. (n.d.). Mobile Threat Catalogue. Retrieved August 10, 2016.","url":"https://pages.nist.gov/mobile-threat-catalogue/application-threats/APP-21.html","external_id":"APP-21"}],"object_marking_refs":["marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168"],"modified":"2024-04-10T20:05:42.404Z","name":"Obfuscated Files or Information","description":"Adversaries may attempt to make a payload or file difficult to discover or analyze by encrypting, encoding, or otherwise obfuscating its contents on the device or in transit.","kill_chain_phases":[{"kill_chain_name":"mitre-mobile-attack","phase_name":"defense-evasion"}],"x_mitre_attack_spec_version":"3.2.0","x_mitre_contributors":["Alex Hinchliffe, Palo Alto Networks"],"x_mitre_deprecated":false,"x_mitre_detection":"Obfuscated files or information can be difficult to detect.","x_mitre_domains":["mobile-attack"],"x_mitre_is_subtechnique":false,"x_mitre_modified_by_ref":"identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5","x_mitre_platforms":["Android","iOS"],"x_mitre_version":"3.0","x_mitre_tactic_type":["Post-Adversary Device Access"]}`)

// BenchmarkParse reads the common properties, as every ingestion path
// does before Validate.
func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct {
		name string
		raw  []byte
	}{{"indicator", edit(b, "indicator", nil)}, {"attack-pattern", benchAttackPattern}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := stix.Parse(bc.raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkValidate(b *testing.B) {
	indicator := edit(b, "indicator", nil)
	for _, bc := range []struct {
		name string
		raw  []byte
	}{{"indicator", indicator}, {"attack-pattern", benchAttackPattern}} {
		o, err := stix.Parse(bc.raw)
		if err != nil {
			b.Fatal(err)
		}
		if err := stix.Validate(o); err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.raw)))
			b.ReportAllocs()
			for b.Loop() {
				if err := stix.Validate(o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestValidateBundle: a bundle inside an envelope or a bundle is not an
// object to store (TAXII 2.1 §3.7), whichever spec_version it claims.
func TestValidateBundle(t *testing.T) {
	for _, raw := range []string{
		`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[]}`,
		`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","spec_version":"2.1","objects":[]}`,
	} {
		o, err := stix.Parse([]byte(raw))
		if err == nil {
			err = stix.Validate(o)
		}
		if hail.ErrorCode(err) != hail.EUNPROCESSABLE || !strings.Contains(hail.ErrorMessage(err), "bundle") {
			t.Errorf("%s: %v, want unprocessable, naming the bundle", raw, err)
		}
	}
}
