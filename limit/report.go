package limit

import (
	"fmt"
	"time"

	"hail/internal/digits"
	"hail/store"
)

// StaleFactor is how many of its plan's poll intervals a key may go
// without polling before it is called stale.
const StaleFactor = 3

// Stale reports whether a key on plan p, whose activity is acts, has not
// polled any collection for longer than StaleFactor × p.MinPollInterval at
// now. A plan without a poll interval sets no expectation: never stale.
func Stale(acts []store.Activity, p store.Plan, now time.Time) bool {
	if p.MinPollInterval <= 0 {
		return false
	}
	var last time.Time
	for _, a := range acts {
		last = later(last, a.LastPoll)
	}
	return now.Sub(last) > StaleFactor*p.MinPollInterval
}

// Describe says in one sentence what a key did with a collection, shown
// under name, with Recent read as the last `recent`: "soc1 polled ips 24
// times in the last 24 h, last at 2025-03-01 03:00Z, received 1,234
// objects, up to date as of 2025-03-01 02:59:58Z".
func Describe(a store.Activity, name string, recent time.Duration) string {
	if name == "" {
		name = "the server"
	}
	s := fmt.Sprintf("%s polled %s %s in the last %s", a.Key, name, times(a.Recent.Polls), hours(recent))
	if !a.LastPoll.IsZero() {
		s += ", last at " + clock(a.LastPoll)
	}
	s += ", received " + digits.Grouped(a.Recent.Objects) + " objects"
	if !a.LastDateAddedLast.IsZero() {
		s += ", up to date as of " + clock(a.LastDateAddedLast)
	}
	return s
}

func times(n int64) string {
	if n == 1 {
		return "once"
	}
	return digits.Grouped(n) + " times"
}

func hours(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d h", d/time.Hour)
	}
	return d.String()
}

// clock writes a time in UTC to the minute, or to the second when its
// seconds are not zero: "2025-03-01 03:00Z".
func clock(t time.Time) string {
	t = t.UTC()
	if t.Second() == 0 {
		return t.Format("2006-01-02 15:04Z")
	}
	return t.Format("2006-01-02 15:04:05Z")
}
