package store

import (
	"slices"
	"time"
)

// APIs a plan may grant (Plan.APIs).
const (
	APITAXII  = "taxii"  // the TAXII 2.1 endpoints under /taxii2/
	APIREST   = "rest"   // the IOC API under /api/v1/iocs/
	APIStream = "stream" // the stream extension of TAXII collections
)

// UnrestrictedPlan is the name of the built-in plan of a key whose Plan is
// empty, admin keys included: every API, no rate, page or poll limit. It is
// never stored.
const UnrestrictedPlan = "unrestricted"

// Plan is a tier of service a key is sold: which APIs it may use and how
// often. Zero limits mean no limit.
type Plan struct {
	Name string
	// Rate requests are admitted per Period, at most Burst of them at once
	// (Rate when Burst is 0). Rate 0 admits every request.
	Rate   int
	Period time.Duration
	Burst  int
	// APIs lists the APIs granted (APITAXII, APIREST, APIStream); empty
	// grants every one.
	APIs []string
	// MaxPage caps the page size of objects, manifests and IOC listings.
	MaxPage int
	// MinPollInterval is the shortest time between two polls of one
	// collection by one key; the pages of one walk are one poll.
	MinPollInterval time.Duration
	Created         time.Time
}

// Allows reports whether p grants api.
func (p Plan) Allows(api string) bool {
	return len(p.APIs) == 0 || slices.Contains(p.APIs, api)
}

// KeyUpdate changes a key; nil fields are left as they are.
type KeyUpdate struct {
	Plan     *string    // "" for the built-in unrestricted plan
	Expires  *time.Time // the zero time for no expiry
	AllowIPs *[]string  // CIDR blocks or addresses; empty for any address
}

// Activity is what one key did with one collection: a row of the record
// kept per (key, collection). Collection is the collection's id, or the
// name the requests gave when it names no collection, and "" for requests
// that name none (discovery, API roots).
//
// Given to RecordActivity, an Activity is a delta: counts are added,
// First keeps the earliest value, Last, LastAddedAfter and
// LastDateAddedLast the latest. Returned by Activity, it is the total.
type Activity struct {
	Key        string
	Collection string
	First      time.Time
	Last       time.Time
	Requests   int64
	// Polls counts the requests that start a walk of the collection's
	// objects or manifest; LastPoll is the latest of them.
	Polls    int64
	LastPoll time.Time
	Objects  int64 // objects and manifest records served
	Bytes    int64 // response bytes
	// LastAddedAfter is the latest added_after a request asked for;
	// LastDateAddedLast the latest X-TAXII-Date-Added-Last served.
	LastAddedAfter    time.Time
	LastDateAddedLast time.Time
	// Errors counts the responses of status 400 and above, by status.
	Errors map[int]int64
	// Recent counts requests, polls and objects by hour, for the hours
	// from Activity's since argument on (ignored by RecordActivity, which
	// counts the whole delta in the hour of Last).
	Recent ActivityCounts
}

// ActivityCounts are the counts of a span of time.
type ActivityCounts struct {
	Requests int64
	Polls    int64
	Objects  int64
}

// ActivityRetention is how long the hourly counts behind Activity.Recent
// are kept; totals are kept as long as the key.
const ActivityRetention = 7 * 24 * time.Hour
