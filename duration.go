package hail

import (
	"errors"
	"strconv"
	"time"
)

// maxDays bounds a span in days or weeks well inside time.Duration's
// range (about 292 years).
const maxDays = 100000

// ParseDuration reads a span as operators write one: a Go duration
// ("36h", "90m") or a whole number of days or weeks ("30d", "2w").
// time.ParseDuration refuses the last two, yet feed TTLs, indicator ages
// and schedules are mostly counted in them.
func ParseDuration(s string) (time.Duration, error) {
	if n := len(s); n > 1 && (s[n-1] == 'd' || s[n-1] == 'w') {
		k, err := strconv.Atoi(s[:n-1])
		if err != nil || k < 0 || k > maxDays || s[0] == '+' {
			return 0, errors.New("invalid duration " + strconv.Quote(s))
		}
		unit := 24 * time.Hour
		if s[n-1] == 'w' {
			unit *= 7
		}
		return time.Duration(k) * unit, nil
	}
	return time.ParseDuration(s)
}
