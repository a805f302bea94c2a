package stix

import (
	"strings"

	"hail"
)

// ValidType reports whether s is a well-formed STIX type name (STIX 2.1 §2.13
// / §3.1): 3–250 characters of a–z, 0–9 and '-', starting with a letter, not
// ending with '-', and without "--".
func ValidType(s string) bool {
	if len(s) < 3 || len(s) > 250 {
		return false
	}
	if s[0] < 'a' || s[0] > 'z' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// CheckID checks that id is "type--UUID" (STIX 2.1 §2.9) and, when typ is not
// empty, that its prefix is typ. The error is hail.EUNPROCESSABLE.
func CheckID(id, typ string) error {
	prefix, u, ok := strings.Cut(id, "--")
	if !ok || !ValidType(prefix) || !ValidUUID(u) {
		return hail.Errorf(hail.EUNPROCESSABLE, "Property \"id\" %q is not of the form type--UUID.", id)
	}
	if typ != "" && prefix != typ {
		return hail.Errorf(hail.EUNPROCESSABLE, "Property \"id\" %q does not start with its type %q.", id, typ)
	}
	return nil
}

// ValidID reports whether id is "type--UUID".
func ValidID(id string) bool { return CheckID(id, "") == nil }

// ValidUUID reports whether s is an RFC 4122 UUID in its 36-character
// hyphenated form (any version, either case).
func ValidUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// ValidUUIDv4 reports whether s is a version 4, RFC 4122 variant UUID, the
// form TAXII 2.1 requires of identifiers (TAXII 2.1 §2) and Microsoft
// Sentinel requires of collection ids.
func ValidUUIDv4(s string) bool {
	if !ValidUUID(s) || s[14] != '4' {
		return false
	}
	switch s[19] {
	case '8', '9', 'a', 'b', 'A', 'B':
		return true
	}
	return false
}
