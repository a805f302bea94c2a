// Package stix models STIX 2.1 objects as hail stores them: the exact bytes a
// producer sent, plus the few common properties the server filters on.
package stix

import (
	"bytes"
	"encoding/json"
	"hail/jsonscan"
	"time"

	"hail"
)

// Object is one version of a STIX object. Raw holds the bytes exactly as they
// were received (custom properties survive byte for byte); the other fields are
// read from Raw by Parse.
type Object struct {
	ID          string // "type--UUID"
	Type        string
	SpecVersion string // "2.1" when the object does not say (SCOs may omit it)
	Created     string // as received; "" when absent
	Modified    string // as received; "" when absent
	// Version is the instant that identifies this version: modified, else
	// created, else the zero time (unversioned objects such as most SCOs).
	Version time.Time
	Revoked bool
	Raw     json.RawMessage
}

// VersionString is the version as TAXII reports it in manifests and status
// resources: modified, else created, else "" (the caller substitutes a
// server-consistent value, hail uses date_added).
func (o Object) VersionString() string {
	if o.Modified != "" {
		return o.Modified
	}
	return o.Created
}

// header is what Parse reads of an object: its common properties, nil
// when absent or null.
type header struct {
	Type, ID                       string
	SpecVersion, Created, Modified *string
	Revoked                        []byte
}

// readHeader reads the common properties of the valid JSON object raw.
// wrong names the first of them, in document order, that is not a string.
// As with encoding/json, the last of repeated names wins.
func readHeader(raw []byte) (h header, wrong string) {
	jsonscan.Members(raw, func(name, v []byte) bool {
		var dst *string
		switch string(name) {
		case "type":
			dst = &h.Type
		case "id":
			dst = &h.ID
		case "spec_version":
			dst = new(string)
			h.SpecVersion = dst
		case "created":
			dst = new(string)
			h.Created = dst
		case "modified":
			dst = new(string)
			h.Modified = dst
		case "revoked":
			h.Revoked = v
			return true
		default:
			return true
		}
		if string(v) == "null" {
			switch string(name) { // null leaves a property absent
			case "spec_version":
				h.SpecVersion = nil
			case "created":
				h.Created = nil
			case "modified":
				h.Modified = nil
			}
			return true
		}
		s, ok := jsonscan.String(v)
		if !ok && wrong == "" {
			wrong = string(name)
		}
		*dst = s
		return true
	})
	return h, wrong
}

// Parse reads the common properties of one STIX object and checks the rules
// every object must meet to be stored: a JSON object, a type, an id of the form
// type--UUID whose prefix is the type, parseable created/modified timestamps
// with modified not before created. Per-type rules are Validate's job.
// Errors are hail.EUNPROCESSABLE with a message that names the property.
func Parse(raw []byte) (Object, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return Object{}, hail.Errorf(hail.EUNPROCESSABLE, "A STIX object must be a JSON object.")
	}
	if !jsonscan.Valid(raw) {
		var v any // encoding/json says where the syntax breaks
		return Object{}, hail.Errorf(hail.EUNPROCESSABLE, "Invalid STIX object: %s.", jsonErrorText(json.Unmarshal(raw, &v)))
	}
	h, wrong := readHeader(raw)
	if wrong != "" {
		return Object{}, hail.Errorf(hail.EUNPROCESSABLE, "Invalid STIX object: property %q has the wrong JSON type.", wrong)
	}
	o := Object{ID: h.ID, Type: h.Type, SpecVersion: "2.1", Raw: json.RawMessage(raw)}
	if h.Type == "" {
		return o, hail.Errorf(hail.EUNPROCESSABLE, "Property \"type\" is required.")
	}
	if !ValidType(h.Type) {
		return o, hail.Errorf(hail.EUNPROCESSABLE, "Property \"type\" %q is not a valid STIX type name.", h.Type)
	}
	if h.ID == "" {
		return o, hail.Errorf(hail.EUNPROCESSABLE, "Property \"id\" is required.")
	}
	if err := CheckID(h.ID, h.Type); err != nil {
		return o, err
	}
	if h.SpecVersion != nil {
		o.SpecVersion = *h.SpecVersion
		if o.SpecVersion == "" {
			return o, hail.Errorf(hail.EUNPROCESSABLE, "Property \"spec_version\" must not be empty.")
		}
	}
	var created, modified time.Time
	var err error
	if h.Created != nil {
		o.Created = *h.Created
		if created, err = ParseTimestamp(o.Created); err != nil {
			return o, hail.Errorf(hail.EUNPROCESSABLE, "Property \"created\" is not a STIX timestamp: %q.", o.Created)
		}
	}
	if h.Modified != nil {
		o.Modified = *h.Modified
		if modified, err = ParseTimestamp(o.Modified); err != nil {
			return o, hail.Errorf(hail.EUNPROCESSABLE, "Property \"modified\" is not a STIX timestamp: %q.", o.Modified)
		}
		if h.Created != nil && modified.Before(created) {
			return o, hail.Errorf(hail.EUNPROCESSABLE, "Property \"modified\" (%s) is before \"created\" (%s).", o.Modified, o.Created)
		}
		o.Version = modified
	} else {
		o.Version = created
	}
	switch string(h.Revoked) {
	case "", "null", "false":
	case "true":
		o.Revoked = true
	default:
		return o, hail.Errorf(hail.EUNPROCESSABLE, "Property \"revoked\" must be a boolean.")
	}
	return o, nil
}

func jsonErrorText(err error) string {
	if se, ok := err.(*json.SyntaxError); ok {
		return "malformed JSON at offset " + itoa(se.Offset)
	}
	if te, ok := err.(*json.UnmarshalTypeError); ok {
		return "property \"" + te.Field + "\" has the wrong JSON type"
	}
	return "malformed JSON"
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
