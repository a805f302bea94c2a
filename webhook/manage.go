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
	if err := checkBatch(spec.Batch, spec.MaxWait); err != nil {
		return store.Webhook{}, err
	}
	if spec.Secret == "" {
		spec.Secret = newSecret()
	}
	var cursor time.Time
	if !spec.FromStart {
		last, err := st.LastDateAdded(ctx, spec.CollectionID)
		if err != nil {
			return store.Webhook{}, err
		}
		cursor = last
	}
	w := store.Webhook{ID: uuid.NewString(), CollectionID: spec.CollectionID, URL: spec.URL, Secret: spec.Secret,
		BatchSize: spec.Batch, MaxWait: spec.MaxWait, Created: time.Now().UTC(), State: store.WebhookState{Cursor: cursor}}
	if err := st.CreateWebhook(ctx, w); err != nil {
		return store.Webhook{}, err
	}
	return w, nil
}

// checkBatch checks a batch size and a wait. Returns EINVALID.
func checkBatch(batch int, maxWait time.Duration) error {
	if batch < 1 || batch > store.MaxLimit {
		return hail.Errorf(hail.EINVALID, "The batch size must be between 1 and %d.", store.MaxLimit)
	}
	if maxWait < 0 || maxWait > MaxMaxWait {
		return hail.Errorf(hail.EINVALID, "The maximum wait must be between 0 and %s.", MaxMaxWait)
	}
	return nil
}

// newSecret returns a random signing secret.
func newSecret() string {
	var b [24]byte
	rand.Read(b[:])
	return "whsec_" + hex.EncodeToString(b[:])
}

// Change is what an operator changes of a webhook; a zero field stays.
type Change struct {
	URL       string
	Secret    string
	NewSecret bool // a new random secret instead of Secret
	Batch     int
	MaxWait   *time.Duration
}

// Update checks c with s's URL rules and applies it to webhook id, keeping
// its delivery state: the next delivery goes to the new URL, signed with
// the new secret, from where the last one ended. It returns the webhook
// as it now is, with the secret when c set one. Returns EINVALID for a bad
// URL, batch or wait, or nothing to change; ENOTFOUND if there is no such
// webhook.
func Update(ctx context.Context, st store.Store, s *Sender, id string, c Change) (store.Webhook, error) {
	h, err := st.Webhook(ctx, id)
	if err != nil {
		return h, err
	}
	var u store.WebhookUpdate
	if c.URL != "" {
		if err := s.CheckURL(c.URL); err != nil {
			return store.Webhook{}, err
		}
		u.URL = &c.URL
	}
	if c.NewSecret {
		c.Secret = newSecret()
	}
	if c.Secret != "" {
		u.Secret = &c.Secret
	}
	batch, wait := h.BatchSize, h.MaxWait
	if c.Batch != 0 {
		batch, u.BatchSize = c.Batch, &c.Batch
	}
	if c.MaxWait != nil {
		wait, u.MaxWait = *c.MaxWait, c.MaxWait
	}
	if u == (store.WebhookUpdate{}) {
		return store.Webhook{}, hail.Errorf(hail.EINVALID, "Nothing to change: give a URL, a secret, a batch size or a wait.")
	}
	if err := checkBatch(batch, wait); err != nil {
		return store.Webhook{}, err
	}
	if err := st.UpdateWebhook(ctx, id, u); err != nil {
		return store.Webhook{}, err
	}
	h, err = st.Webhook(ctx, id)
	if err != nil {
		return h, err
	}
	if u.Secret == nil {
		h.Secret = ""
	}
	return h, nil
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
