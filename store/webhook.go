package store

import "time"

// Webhook is a subscription that pushes a collection's new entries, in
// date_added order, to an HTTP endpoint (package webhook delivers them).
type Webhook struct {
	ID           string // UUIDv4
	CollectionID string
	URL          string
	// Secret keys the HMAC signature of every delivery. It is stored as
	// given, since signing needs it; it is never shown after creation.
	Secret    string
	BatchSize int           // most entries per delivery
	MaxWait   time.Duration // longest an entry waits for a fuller batch
	Created   time.Time
	State     WebhookState
	// LeaseHolder names the process delivering the webhook until
	// LeaseUntil; "" when none (see AcquireWebhookLease). Read only.
	LeaseHolder string
	LeaseUntil  time.Time
}

// WebhookState is where a webhook's delivery stands. The delivering
// process saves it with RecordWebhookAttempt after every attempt, so that
// another process, or the same after a restart, resumes from it.
type WebhookState struct {
	// Cursor is the date_added of the last entry delivered: the next batch
	// starts after it. Zero means the collection's first entry.
	Cursor time.Time
	// PendingLast is the date_added of the last entry of a batch that
	// failed and will be sent again, so that a retry holds the same
	// entries under the same delivery id; zero when no batch is pending.
	PendingLast time.Time
	// Failures counts the attempts that failed in a row, FailingSince is
	// when the first of them was made, NextAttempt when the next may be.
	Failures     int
	FailingSince time.Time
	NextAttempt  time.Time
	LastError    string // of the latest failed attempt; kept after a success
	// Paused stops deliveries; PausedReason says why (a webhook failing for
	// too long is paused by the worker, or an operator paused it).
	Paused       bool
	PausedReason string
}

// WebhookUpdate is what UpdateWebhook changes of a webhook; a nil field
// is left as it is.
type WebhookUpdate struct {
	URL       *string
	Secret    *string
	BatchSize *int
	MaxWait   *time.Duration
}

// Args returns u's fields as statement arguments: nil for those left as
// they are, for the stores' coalesce.
func (u WebhookUpdate) Args() (url, secret, batch, maxWait any) {
	if u.URL != nil {
		url = *u.URL
	}
	if u.Secret != nil {
		secret = *u.Secret
	}
	if u.BatchSize != nil {
		batch = *u.BatchSize
	}
	if u.MaxWait != nil {
		maxWait = int64(*u.MaxWait)
	}
	return url, secret, batch, maxWait
}

// WebhookAttempt is one entry of a webhook's delivery log.
type WebhookAttempt struct {
	Delivery string // the delivery id sent in X-Hail-Delivery
	Time     time.Time
	Objects  int
	Status   int // HTTP status; 0 when no response came
	Latency  time.Duration
	Error    string // "" for a success
}

// OK reports whether the attempt succeeded.
func (a WebhookAttempt) OK() bool { return a.Error == "" }

// WebhookLogSize is how many attempts each webhook's log keeps: the
// newest, older ones are dropped.
const WebhookLogSize = 100
