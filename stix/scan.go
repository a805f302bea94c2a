package stix

import (
	"encoding/json"
)

// Parse checks the JSON syntax of an object once; Validate then walks its
// values with the splitters below, which trust that syntax. Decoding nested
// values with encoding/json instead re-validates each of them, and made
// validation several times slower than parsing. On malformed input the
// splitters return nonsense but always stop.

// skipSpace returns the index of the first non-blank byte of b at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
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

// splitArray returns the elements of the valid JSON array v, or false when v
// is not an array.
func splitArray(v []byte) ([]json.RawMessage, bool) {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '[' {
		return nil, false
	}
	l := []json.RawMessage{}
	for i = skipSpace(v, i+1); i < len(v) && v[i] != ']'; {
		end := valueEnd(v, i)
		if end == i {
			break // not valid JSON: stop rather than loop
		}
		l = append(l, json.RawMessage(v[i:end]))
		if i = skipSpace(v, end); i < len(v) && v[i] == ',' {
			i = skipSpace(v, i+1)
		}
	}
	return l, true
}

// splitObject returns the members of the valid JSON object v, or false when
// v is not an object. As with encoding/json, the last of repeated names wins.
func splitObject(v []byte) (map[string]json.RawMessage, bool) {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '{' {
		return nil, false
	}
	m := map[string]json.RawMessage{}
	for i = skipSpace(v, i+1); i < len(v) && v[i] == '"'; {
		kend := stringEnd(v, i)
		name, _ := decodeString(v[i:kend])
		i = skipSpace(v, kend)
		if i < len(v) && v[i] == ':' {
			i = skipSpace(v, i+1)
		}
		end := valueEnd(v, i)
		m[name] = json.RawMessage(v[i:end])
		if i = skipSpace(v, end); i < len(v) && v[i] == ',' {
			i = skipSpace(v, i+1)
		}
	}
	return m, true
}
