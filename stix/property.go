package stix

import (
	"bytes"
	"encoding/json"
	"hail/jsonscan"
	"math"
	"strconv"
	"strings"
)

// fault says what is wrong with one property value. path locates the bad
// part below the property ("[2].source_name"); it is empty when the value
// itself is wrong.
type fault struct {
	path string
	msg  string
}

func faultf(msg string) *fault { return &fault{msg: msg} }

// under prefixes the location of f with one more step outward.
func (f *fault) under(step string) *fault {
	if f != nil {
		f.path = step + f.path
	}
	return f
}

// A checker inspects one JSON value of a property and reports what is wrong
// with it, or nil.
type checker func(v json.RawMessage) *fault

// field is one property of an object (or of an embedded type such as
// external-reference) with the check its value must pass.
type field struct {
	name     string
	required bool
	check    checker
}

func req(name string, c checker) field { return field{name: name, required: true, check: c} }
func opt(name string, c checker) field { return field{name: name, check: c} }

// kindOf returns the JSON kind of v by its first byte: '{', '[', '"', 'n',
// 't', 'f' or '0' for numbers.
func kindOf(v json.RawMessage) byte {
	v = bytes.TrimLeft(v, " \t\r\n")
	if len(v) == 0 {
		return 0
	}
	switch c := v[0]; c {
	case '{', '[', '"', 'n', 't', 'f':
		return c
	}
	return '0'
}

// str accepts any JSON string.
func str(v json.RawMessage) *fault {
	if kindOf(v) != '"' {
		return faultf("must be a string")
	}
	return nil
}

// text accepts a string that is not empty or blank: a required string that
// says nothing is as good as a missing one.
func text(v json.RawMessage) *fault {
	s, ok := jsonscan.String(v)
	if !ok {
		return faultf("must be a string")
	}
	if strings.TrimSpace(s) == "" {
		return faultf("must not be empty")
	}
	return nil
}

// timestamp accepts a STIX timestamp (STIX 2.1 §2.16).
func timestamp(v json.RawMessage) *fault {
	s, ok := jsonscan.String(v)
	if !ok {
		return faultf("must be a STIX timestamp string")
	}
	if _, err := ParseTimestamp(s); err != nil {
		return faultf("is not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.s+]Z): " + strconv.Quote(s))
	}
	return nil
}

// boolean accepts true or false (STIX 2.1 §2.2).
func boolean(v json.RawMessage) *fault {
	switch string(bytes.TrimSpace(v)) {
	case "true", "false":
		return nil
	}
	return faultf("must be true or false")
}

// maxInteger is the largest integer STIX allows (STIX 2.1 §2.10: signed 54-bit).
const maxInteger = 1<<53 - 1

// integer accepts a whole number in [lo, hi]. A number written with a zero
// fraction (5.0) is accepted: JSON does not tell integers apart.
func integer(lo, hi int64) checker {
	return func(v json.RawMessage) *fault {
		if kindOf(v) != '0' {
			return faultf("must be an integer")
		}
		s := string(bytes.TrimSpace(v))
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(s, 64)
			if ferr != nil || f != math.Trunc(f) || math.Abs(f) > maxInteger {
				return faultf("must be an integer")
			}
			n = int64(f)
		}
		if n < lo || n > hi {
			return faultf("must be between " + strconv.FormatInt(lo, 10) + " and " + strconv.FormatInt(hi, 10) + ", got " + s)
		}
		return nil
	}
}

// number accepts a JSON number in [lo, hi] (STIX 2.1 §2.6).
func number(lo, hi float64) checker {
	return func(v json.RawMessage) *fault {
		if kindOf(v) != '0' {
			return faultf("must be a number")
		}
		s := string(bytes.TrimSpace(v))
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return faultf("must be a number")
		}
		if f < lo || f > hi {
			return faultf("must be between " + strconv.FormatFloat(lo, 'f', -1, 64) + " and " + strconv.FormatFloat(hi, 'f', -1, 64) + ", got " + s)
		}
		return nil
	}
}

// decodeList returns the elements of a JSON array.
func decodeList(v json.RawMessage) ([]json.RawMessage, bool) { return jsonscan.Array(v) }

// list accepts a non-empty JSON array whose elements all pass each
// (STIX 2.1 §2.12: empty lists are prohibited).
func list(each checker) checker {
	return func(v json.RawMessage) *fault {
		l, ok := decodeList(v)
		if !ok {
			return faultf("must be a list")
		}
		if len(l) == 0 {
			return faultf("must not be an empty list")
		}
		for i, e := range l {
			if f := each(e); f != nil {
				return f.under("[" + strconv.Itoa(i) + "]")
			}
		}
		return nil
	}
}

// decodeObject returns the members of a JSON object.
func decodeObject(v json.RawMessage) (map[string]json.RawMessage, bool) { return jsonscan.Object(v) }

// validKey reports whether k is a valid dictionary key (STIX 2.1 §2.3):
// ASCII letters, digits, '-' and '_', at most 250 characters.
func validKey(k string) bool {
	if k == "" || len(k) > 250 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// dictionary accepts a non-empty JSON object with valid keys whose values all
// pass each (nil: any value).
func dictionary(each checker) checker {
	return func(v json.RawMessage) *fault {
		m, ok := decodeObject(v)
		if !ok {
			return faultf("must be a dictionary (JSON object)")
		}
		if len(m) == 0 {
			return faultf("must not be an empty dictionary")
		}
		for _, k := range sortedKeys(m) {
			if !validKey(k) {
				return faultf("has an invalid dictionary key " + strconv.Quote(k) + " (ASCII letters, digits, '-' and '_', at most 250)")
			}
			if each != nil {
				if f := each(m[k]); f != nil {
					return f.under("." + k)
				}
			}
		}
		return nil
	}
}

// hashes accepts a hashes dictionary (STIX 2.1 §2.7): keys of 3–250 valid
// characters, each value a non-empty string. Algorithm names are not held to
// hash-algorithm-ov: producers write "sha256" as often as "SHA-256".
func hashes(v json.RawMessage) *fault {
	if f := dictionary(text)(v); f != nil {
		return f
	}
	m, _ := decodeObject(v)
	for _, k := range sortedKeys(m) {
		if len(k) < 3 {
			return faultf("has a hash algorithm name shorter than 3 characters: " + strconv.Quote(k))
		}
	}
	return nil
}

// object accepts a JSON object whose listed members pass their checks.
// Members that are not listed are allowed.
func object(fields ...field) checker {
	return func(v json.RawMessage) *fault {
		m, ok := decodeObject(v)
		if !ok {
			return faultf("must be a JSON object")
		}
		return checkFields(m, fields)
	}
}

// checkFields checks the members of m against fields, in the order of
// fields, so that the first fault reported does not depend on map order.
func checkFields(m map[string]json.RawMessage, fields []field) *fault {
	for _, fd := range fields {
		v, ok := m[fd.name]
		// null says "no value": treated as absent, as producers mean it.
		if !ok || kindOf(v) == 'n' {
			if fd.required {
				return (&fault{msg: "is required"}).under("." + fd.name)
			}
			continue
		}
		if f := fd.check(v); f != nil {
			return f.under("." + fd.name)
		}
	}
	return nil
}

// enum accepts one of values (a STIX enumeration, STIX 2.1 §2.4). Case and
// surrounding blanks are forgiven; the meaning is unambiguous.
func enum(values ...string) checker {
	return func(v json.RawMessage) *fault {
		s, ok := jsonscan.String(v)
		if !ok {
			return faultf("must be a string")
		}
		s = strings.ToLower(strings.TrimSpace(s))
		for _, e := range values {
			if s == e {
				return nil
			}
		}
		return faultf("must be one of " + strings.Join(values, ", "))
	}
}

// ref accepts an identifier (STIX 2.1 §2.9) whose type is one of types, or
// of any type when types is empty.
func ref(types ...string) checker {
	return func(v json.RawMessage) *fault {
		s, ok := jsonscan.String(v)
		if !ok {
			return faultf("must be an identifier string")
		}
		if CheckID(s, "") != nil {
			return faultf("is not an identifier of the form type--UUID: " + strconv.Quote(s))
		}
		if len(types) == 0 {
			return nil
		}
		t, _, _ := strings.Cut(s, "--")
		for _, want := range types {
			if t == want {
				return nil
			}
		}
		return faultf("must reference " + strings.Join(types, " or ") + ", not " + t)
	}
}

// refExcept accepts an identifier whose type is none of types; why names
// the allowed kind in the message.
func refExcept(why string, types ...string) checker {
	return func(v json.RawMessage) *fault {
		if f := ref()(v); f != nil {
			return f
		}
		s, _ := jsonscan.String(v)
		t, _, _ := strings.Cut(s, "--")
		for _, bad := range types {
			if t == bad {
				return faultf("must reference " + why + ", not " + t)
			}
		}
		return nil
	}
}

// all accepts a value that passes every check, in order.
func all(checks ...checker) checker {
	return func(v json.RawMessage) *fault {
		for _, c := range checks {
			if f := c(v); f != nil {
				return f
			}
		}
		return nil
	}
}

// anything accepts any value: the property is known, its content is not
// checked.
func anything(json.RawMessage) *fault { return nil }
