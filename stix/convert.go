package stix

import (
	"bytes"
	"encoding/json"
	"hail/jsonscan"
	"io"
	"strings"

	"hail"
)

// typesFromLabels maps the STIX 2.0 types whose labels property carried the
// object's subtype to the STIX 2.1 property that carries it now, and to the
// 2.1 vocabulary that says which labels are subtypes (STIX 2.1 §10.10,
// §10.15, §10.22, §10.23, §10.26; each a superset of its 2.0 label
// vocabulary).
var typesFromLabels = map[string]struct {
	property string
	vocab    []string
}{
	"indicator": {"indicator_types", []string{"anomalous-activity", "anonymization", "benign", "compromised",
		"malicious-activity", "attribution", "unknown"}},
	"malware": {"malware_types", []string{"adware", "backdoor", "bot", "bootkit", "ddos", "downloader", "dropper",
		"exploit-kit", "keylogger", "ransomware", "remote-access-trojan", "resource-exploitation",
		"rogue-security-software", "rootkit", "screen-capture", "spyware", "trojan", "unknown", "virus", "webshell",
		"wiper", "worm"}},
	"report": {"report_types", []string{"attack-pattern", "campaign", "identity", "incident", "indicator",
		"intrusion-set", "malware", "observed-data", "threat-actor", "threat-report", "tool", "vulnerability"}},
	"threat-actor": {"threat_actor_types", []string{"activist", "competitor", "crime-syndicate", "criminal", "hacker",
		"insider-accidental", "insider-disgruntled", "nation-state", "private-sector", "sensationalist", "spy",
		"terrorist", "unknown"}},
	"tool": {"tool_types", []string{"denial-of-service", "exploitation", "information-gathering", "network-capture",
		"credential-exploitation", "remote-access", "vulnerability-scanning", "unknown"}},
}

// Convert20 turns one STIX 2.0 object into STIX 2.1, as the 2.1
// specification's changes from 2.0 require:
//
//   - "spec_version": "2.1" is added (2.0 carried it on the bundle only);
//   - on indicator, malware, report, threat-actor and tool, labels that are
//     values of the type's vocabulary move to indicator_types,
//     malware_types, report_types, threat_actor_types or tool_types (2.1
//     forbids labels for subtypes); other labels stay in labels;
//   - indicators without pattern_type get "stix", the only 2.0 language;
//   - malware without is_family gets true: 2.0 malware described families.
//
// Everything else, custom properties included, is kept with its value, and
// the deprecated observable container of observed-data stays as it is (2.1
// still allows it). The output is compact JSON with type, spec_version and
// id first and the other properties in their original order.
//
// An object that already says "spec_version": "2.1" is returned compacted
// and otherwise unchanged. Errors are hail.EUNPROCESSABLE.
func Convert20(raw []byte) ([]byte, error) {
	ms, err := decodeMembers(raw)
	if err != nil {
		return nil, err
	}
	typ, ok := jsonscan.String(ms.get("type"))
	if !ok || typ == "" {
		return nil, hail.Errorf(hail.EUNPROCESSABLE, "Property \"type\" is required and must be a string.")
	}
	if v := ms.get("spec_version"); v != nil {
		switch s, _ := jsonscan.String(v); s {
		case "2.1":
			var b bytes.Buffer
			if err := json.Compact(&b, raw); err != nil {
				return nil, hail.Errorf(hail.EUNPROCESSABLE, "Invalid STIX object: %s.", jsonErrorText(err))
			}
			return b.Bytes(), nil
		case "2.0":
		default:
			return nil, hail.Errorf(hail.EUNPROCESSABLE, "Property \"spec_version\" must be \"2.0\" for conversion, got %s.", v)
		}
	}
	ms = ms.without("spec_version")
	if t, ok := typesFromLabels[typ]; ok {
		ms = ms.moveLabels(t.property, t.vocab)
	}
	switch typ {
	case "indicator":
		if ms.get("pattern_type") == nil {
			ms = ms.insertAfter("pattern", member{"pattern_type", json.RawMessage(`"stix"`)})
		}
	case "malware":
		if ms.get("is_family") == nil {
			ms = ms.insertAfter("malware_types", member{"is_family", json.RawMessage(`true`)})
		}
	}
	return ms.encode(typ), nil
}

// member is one property of a JSON object, in the order written.
type member struct {
	name  string
	value json.RawMessage
}

type members []member

// decodeMembers reads the top-level properties of a JSON object in order. A
// name written twice keeps its first place and its last value, the value
// encoding/json would see.
func decodeMembers(raw []byte) (members, error) {
	bad := func(err error) error {
		return hail.Errorf(hail.EUNPROCESSABLE, "Invalid STIX object: %s.", jsonErrorText(err))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, hail.Errorf(hail.EUNPROCESSABLE, "A STIX object must be a JSON object.")
	}
	var ms members
	seen := map[string]int{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, bad(err)
		}
		name, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, bad(err)
		}
		if i, dup := seen[name]; dup {
			ms[i].value = v
			continue
		}
		seen[name] = len(ms)
		ms = append(ms, member{name, v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, bad(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, hail.Errorf(hail.EUNPROCESSABLE, "Invalid STIX object: data after the object.")
	}
	return ms, nil
}

func (ms members) index(name string) int {
	for i, m := range ms {
		if m.name == name {
			return i
		}
	}
	return -1
}

func (ms members) get(name string) json.RawMessage {
	if i := ms.index(name); i >= 0 {
		return ms[i].value
	}
	return nil
}

func (ms members) without(name string) members {
	if i := ms.index(name); i >= 0 {
		return append(ms[:i:i], ms[i+1:]...)
	}
	return ms
}

// insertAfter puts m after the property named after, or last when there is
// no such property.
func (ms members) insertAfter(after string, m member) members {
	i := ms.index(after)
	if i < 0 {
		return append(ms, m)
	}
	out := append(ms[:i+1:i+1], m)
	return append(out, ms[i+1:]...)
}

// moveLabels moves the labels found in vocab (compared without regard to
// case or surrounding blanks) to the list property, after any values it
// already holds. It puts property where labels was, and drops labels when
// none are left. Labels that are not a list of strings are left alone.
func (ms members) moveLabels(property string, vocab []string) members {
	i := ms.index("labels")
	if i < 0 {
		return ms
	}
	var labels []string
	if json.Unmarshal(ms[i].value, &labels) != nil {
		return ms
	}
	var moved, kept []string
	if prior := ms.get(property); prior != nil && json.Unmarshal(prior, &moved) != nil {
		return ms
	}
	for _, l := range labels {
		if v := vocabValue(l, vocab); v != "" {
			if !contains(moved, v) {
				moved = append(moved, v)
			}
		} else {
			kept = append(kept, l)
		}
	}
	if len(moved) == 0 {
		return ms
	}
	movedJSON, _ := json.Marshal(moved)
	ms = ms.without(property)
	i = ms.index("labels")
	if len(kept) == 0 {
		ms[i] = member{property, movedJSON}
		return ms
	}
	keptJSON, _ := json.Marshal(kept)
	ms[i].value = keptJSON
	return ms.insertAfter("labels", member{property, movedJSON})
}

func vocabValue(label string, vocab []string) string {
	l := strings.ToLower(strings.TrimSpace(label))
	for _, v := range vocab {
		if l == v {
			return v
		}
	}
	return ""
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

// encode writes the object as compact JSON: type, spec_version 2.1 and id
// first, then the rest in order.
func (ms members) encode(typ string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"type":`)
	name, _ := json.Marshal(typ)
	b.Write(name)
	b.WriteString(`,"spec_version":"2.1"`)
	if id := ms.get("id"); id != nil {
		b.WriteString(`,"id":`)
		json.Compact(&b, id)
	}
	for _, m := range ms {
		if m.name == "type" || m.name == "id" {
			continue
		}
		b.WriteByte(',')
		name, _ := json.Marshal(m.name)
		b.Write(name)
		b.WriteByte(':')
		json.Compact(&b, m.value)
	}
	b.WriteByte('}')
	return b.Bytes()
}
