package stix

import (
	"strings"
	"time"
)

// ParseTimestamp parses a STIX timestamp (STIX 2.1 §2.16):
// YYYY-MM-DDTHH:MM:SS[.s+]Z in UTC. It is strict about the shape, since
// timestamps in stored objects must be comparable by other consumers, but
// accepts any number of fractional digits (up to nanoseconds).
func ParseTimestamp(s string) (time.Time, error) {
	if len(s) < 20 || s[len(s)-1] != 'Z' || s[10] != 'T' {
		return time.Time{}, &time.ParseError{Layout: "2006-01-02T15:04:05Z", Value: s, Message: ": not a STIX timestamp"}
	}
	if len(s) > 20 && s[19] != '.' {
		return time.Time{}, &time.ParseError{Layout: "2006-01-02T15:04:05Z", Value: s, Message: ": not a STIX timestamp"}
	}
	if len(s) > 20 && (len(s) == 21 || strings.IndexFunc(s[20:len(s)-1], notDigit) >= 0 || len(s) > 30) {
		return time.Time{}, &time.ParseError{Layout: "2006-01-02T15:04:05.999999999Z", Value: s, Message: ": bad fraction"}
	}
	return time.Parse(time.RFC3339Nano, s)
}

func notDigit(r rune) bool { return r < '0' || r > '9' }

// FormatTimestamp formats t as a STIX timestamp with millisecond precision,
// the least that created and modified must carry (STIX 2.1 §3.2).
func FormatTimestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
