package jsonscan

import (
	"bytes"
	"encoding/json"
)

// The splitters trust their input to be valid JSON (checked once, by
// Valid or encoding/json): on malformed input they return nonsense but
// always stop.

// valueEnd returns the index just past the JSON value that starts at b[i].
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = stringEnd(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string that starts at
// b[i] == '"'.
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// Members calls fn with the name (decoded) and the value (its bytes) of
// each member of the valid JSON object v, in order, until fn returns
// false. It reports whether v is an object. name is only valid during the
// call: it is a slice of v unless the name has escapes, so that reading
// an object allocates nothing.
func Members(v []byte, fn func(name, value []byte) bool) bool {
	i := space(v, 0)
	if i >= len(v) || v[i] != '{' {
		return false
	}
	for i = space(v, i+1); i < len(v) && v[i] == '"'; {
		kend := stringEnd(v, i)
		name := v[i+1 : max(kend-1, i+1)]
		if bytes.IndexByte(name, '\\') >= 0 {
			s, _ := String(v[i:kend])
			name = []byte(s)
		}
		i = space(v, kend)
		if i < len(v) && v[i] == ':' {
			i = space(v, i+1)
		}
		end := valueEnd(v, i)
		if !fn(name, v[i:end]) {
			break
		}
		if i = space(v, end); i < len(v) && v[i] == ',' {
			i = space(v, i+1)
		}
	}
	return true
}

// Object returns the members of the valid JSON object v by name, or
// false when v is not an object. As with encoding/json, the last of
// repeated names wins.
func Object(v []byte) (map[string]json.RawMessage, bool) {
	m := map[string]json.RawMessage{}
	ok := Members(v, func(name, value []byte) bool {
		m[string(name)] = json.RawMessage(value)
		return true
	})
	if !ok {
		return nil, false
	}
	return m, true
}

// Elements calls fn with the bytes of each element of the valid JSON
// array v, in order, until fn returns false. It reports whether v is an
// array.
func Elements(v []byte, fn func(elem []byte) bool) bool {
	i := space(v, 0)
	if i >= len(v) || v[i] != '[' {
		return false
	}
	for i = space(v, i+1); i < len(v) && v[i] != ']'; {
		end := valueEnd(v, i)
		if end == i {
			break // not valid JSON: stop rather than loop
		}
		if !fn(v[i:end]) {
			break
		}
		if i = space(v, end); i < len(v) && v[i] == ',' {
			i = space(v, i+1)
		}
	}
	return true
}

// Array returns the elements of the valid JSON array v, or false when v
// is not an array.
func Array(v []byte) ([]json.RawMessage, bool) {
	l := []json.RawMessage{}
	ok := Elements(v, func(elem []byte) bool {
		l = append(l, json.RawMessage(elem))
		return true
	})
	if !ok {
		return nil, false
	}
	return l, true
}

// String decodes the JSON string v, or returns false when v is not a
// string.
func String(v []byte) (string, bool) {
	t := bytes.TrimSpace(v)
	if len(t) < 2 || t[0] != '"' {
		return "", false
	}
	// Fast path: no escapes, the common case for identifiers and timestamps.
	if bytes.IndexByte(t[1:len(t)-1], '\\') < 0 {
		return string(t[1 : len(t)-1]), true
	}
	var s string
	if json.Unmarshal(t, &s) != nil {
		return "", false
	}
	return s, true
}

// Strings decodes the valid JSON array of strings v, or returns false
// when v is not an array or an element is not a string.
func Strings(v []byte) ([]string, bool) {
	var l []string
	ok := true
	isArray := Elements(v, func(elem []byte) bool {
		s, isString := String(elem)
		if !isString {
			ok = false
			return false
		}
		l = append(l, s)
		return true
	})
	return l, isArray && ok
}
