// Package digits formats numbers for people: the load benchmark's report,
// the activity summaries of package limit and the dashboard all group
// thousands with it.
package digits

import (
	"strconv"
	"strings"
)

// Grouped writes n with commas between thousands: 1,234,567.
func Grouped(n int64) string {
	s := strconv.FormatInt(n, 10)
	digits := strings.TrimPrefix(s, "-")
	var b strings.Builder
	if len(digits) < len(s) {
		b.WriteByte('-')
	}
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
