package limit

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"hail"
)

// periods are the units a rate may be given per.
var periods = map[string]time.Duration{
	"s": time.Second, "sec": time.Second, "second": time.Second,
	"m": time.Minute, "min": time.Minute, "minute": time.Minute,
	"h": time.Hour, "hour": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour,
}

// ParseRate reads a rate such as "60/min", "1000/h" or "5/10s": a number of
// requests per a unit (s, min, h, day) or a Go duration. "0" and "" mean
// no limit and give 0, 0. Errors are hail.EINVALID.
func ParseRate(s string) (n int, period time.Duration, err error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, 0, nil
	}
	num, per, ok := strings.Cut(s, "/")
	n, err = strconv.Atoi(strings.TrimSpace(num))
	if !ok || err != nil || n < 0 {
		return 0, 0, hail.Errorf(hail.EINVALID, "Rate %q is not COUNT/PERIOD, such as 60/min.", s)
	}
	per = strings.TrimSpace(per)
	if d, ok := periods[per]; ok {
		period = d
	} else if period, err = time.ParseDuration(per); err != nil || period <= 0 {
		return 0, 0, hail.Errorf(hail.EINVALID, "Rate %q has no period hail knows: use s, min, h, day or a duration such as 10s.", s)
	}
	if n == 0 {
		return 0, 0, nil
	}
	return n, period, nil
}

// FormatRate writes a rate as ParseRate reads it; "unlimited" for n 0.
func FormatRate(n int, period time.Duration) string {
	if n <= 0 || period <= 0 {
		return "unlimited"
	}
	for _, u := range []struct {
		name string
		d    time.Duration
	}{{"day", 24 * time.Hour}, {"h", time.Hour}, {"min", time.Minute}, {"s", time.Second}} {
		if period == u.d {
			return fmt.Sprintf("%d/%s", n, u.name)
		}
	}
	return fmt.Sprintf("%d/%s", n, period)
}

// GCRA returns the emission interval and burst of a rate of n per period
// at most burst at once (n when burst is 0), as store.Store.TakeToken
// takes them. n must be positive.
func GCRA(n int, period time.Duration, burst int) (interval time.Duration, b int) {
	if burst <= 0 {
		burst = n
	}
	return max(period/time.Duration(n), time.Microsecond), burst
}

// RetryAfter is the whole number of seconds, at least 1, a client is told
// to wait for d (RFC 9110 §10.2.3): rounded up, so that a client that
// waits exactly that long is admitted.
func RetryAfter(d time.Duration) int {
	return max(int((d+time.Second-1)/time.Second), 1)
}
