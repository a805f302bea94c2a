package taxii

import (
	"strings"
	"time"
)

// TimestampLayout is the TAXII 2.1 timestamp: RFC 3339 in UTC with exactly
// microsecond precision (TAXII 2.1 §2, "timestamp").
const TimestampLayout = "2006-01-02T15:04:05.000000Z"

// FormatTimestamp formats t as a TAXII timestamp.
func FormatTimestamp(t time.Time) string { return t.UTC().Format(TimestampLayout) }

// ParseTimestamp parses a timestamp leniently, as real clients send them:
// seconds to nanoseconds, "Z" or a numeric offset, and a "+" that arrived as a
// space because the client did not encode it in the query string.
func ParseTimestamp(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, ' '); i > 10 {
		// "2025-01-01T00:00:00 00:00": a '+' decoded as a space.
		s = s[:i] + "+" + s[i+1:]
	}
	if len(s) >= 11 && (s[10] == 't' || s[10] == ' ') {
		s = s[:10] + "T" + s[11:]
	}
	if strings.HasSuffix(s, "z") {
		s = s[:len(s)-1] + "Z"
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// JustBefore returns the latest timestamp before t: t less a microsecond,
// the precision of TAXII timestamps. A walk that stopped after a page whose
// X-TAXII-Date-Added-Last is t goes on from JustBefore(t), not from t:
// objects may share a date_added (other servers give every object of one
// request the same), and added_after is exclusive, so the rest of those
// added at t would be skipped. What is read again is a duplicate, which the
// store recognises.
func JustBefore(t time.Time) time.Time { return t.Add(-time.Microsecond) }
