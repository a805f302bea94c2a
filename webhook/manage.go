package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/google/uuid"

	"hail"
	"hail/store"
	"hail/taxii"
)

// MaxMaxWait is the longest Spec.MaxWait accepted.
const MaxMaxWait = time.Hour

// Spec is what an operator gives to create a webhook.
type Spec struct {
	CollectionID string
	URL          string
	Secret       string        // a random one when empty
	Batch        int           // DefaultBatch when 0
	MaxWait      time.Duration // how long an entry may wait for a fuller batch; 0 sends at once
	// FromStart delivers what the collection already holds; otherwise
	// delivery starts with the next entry added.
	FromStart bool
}

// Create checks spec with s's URL rules, stores the webhook and returns it,
// secret included. Returns EINVALID for a bad URL, batch or wait,
// ENOTFOUND if the collection does not exist.
func Create(ctx context.Context, st store.Store, s *Sender, spec Spec) (store.Webhook, error) {
	if err := s.CheckURL(spec.URL); err != nil {
		return store.Webhook{}, err
	}
	if spec.Batch == 0 {
		spec.Batch = DefaultBatch
	}
	if spec.Batch < 1 || spec.Batch > store.MaxLimit {
		return store.Webhook{}, hail.Errorf(hail.EINVALID, "The batch size must be between 1 and %d.", store.MaxLimit)
	}
	if spec.MaxWait < 0 || spec.MaxWait > MaxMaxWait {
		return store.Webhook{}, hail.Errorf(hail.EINVALID, "The maximum wait must be between 0 and %s.", MaxMaxWait)
	}
	if spec.Secret == "" {
		var b [24]byte
		rand.Read(b[:])
		spec.Secret = "whsec_" + hex.EncodeToString(b[:])
	}
	var cursor time.Time
	if !spec.FromStart {
		stats, err := st.CollectionStats(ctx, spec.CollectionID)
		if err != nil {
			return store.Webhook{}, err
		}
		cursor = stats.LastDateAdded
	}
	w := store.Webhook{ID: uuid.NewString(), CollectionID: spec.CollectionID, URL: spec.URL, Secret: spec.Secret,
		BatchSize: spec.Batch, MaxWait: spec.MaxWait, Created: time.Now().UTC(), State: store.WebhookState{Cursor: cursor}}
	if err := st.CreateWebhook(ctx, w); err != nil {
		return store.Webhook{}, err
	}
	return w, nil
}

// View is how the CLI and the admin API show a webhook: never its secret,
// except Secret once, at creation.
type View struct {
	ID           string        `json:"id"`
	Collection   string        `json:"collection"`
	URL          string        `json:"url"`
	Secret       string        `json:"secret,omitempty"`
	Batch        int           `json:"batch"`
	MaxWait      string        `json:"max_wait"`
	Created      string        `json:"created"`
	Cursor       *string       `json:"cursor"` // date_added of the last entry delivered
	Paused       bool          `json:"paused"`
	PausedReason string        `json:"paused_reason,omitempty"`
	Failures     int           `json:"failures"`
	FailingSince *string       `json:"failing_since"`
	NextAttempt  *string       `json:"next_attempt"`
	LastError    string        `json:"last_error,omitempty"`
	LeaseHolder  string        `json:"lease_holder,omitempty"`
	Log          []AttemptView `json:"log,omitempty"`
}

// AttemptView is how the CLI and the admin API show a logged attempt.
type AttemptView struct {
	Delivery  string  `json:"delivery"`
	Time      string  `json:"time"`
	Objects   int     `json:"objects"`
	Status    int     `json:"status"` // 0 when no response came
	LatencyMS float64 `json:"latency_ms"`
	OK        bool    `json:"ok"`
	Error     string  `json:"error,omitempty"`
}

// NewView returns the view of h with log.
func NewView(h store.Webhook, log []store.WebhookAttempt) View {
	v := View{ID: h.ID, Collection: h.CollectionID, URL: h.URL, Batch: h.BatchSize, MaxWait: h.MaxWait.String(),
		Created: taxii.FormatTimestamp(h.Created), Cursor: optTime(h.State.Cursor), Paused: h.State.Paused,
		PausedReason: h.State.PausedReason, Failures: h.State.Failures, FailingSince: optTime(h.State.FailingSince),
		NextAttempt: optTime(h.State.NextAttempt), LastError: h.State.LastError, LeaseHolder: h.LeaseHolder}
	for _, a := range log {
		v.Log = append(v.Log, NewAttemptView(a))
	}
	return v
}

// NewAttemptView returns the view of a.
func NewAttemptView(a store.WebhookAttempt) AttemptView {
	return AttemptView{Delivery: a.Delivery, Time: taxii.FormatTimestamp(a.Time), Objects: a.Objects,
		Status: a.Status, LatencyMS: float64(a.Latency.Microseconds()) / 1000, OK: a.OK(), Error: a.Error}
}

func optTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := taxii.FormatTimestamp(t)
	return &s
}
