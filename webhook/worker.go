package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"sync"
	"time"

	"hail"
	"hail/notify"
	"hail/store"
	"hail/taxii"
)

// Defaults of the zero fields of Config.
const (
	DefaultPoll       = 5 * time.Second
	DefaultLeaseTTL   = 30 * time.Second
	DefaultBackoffMin = time.Second
	DefaultBackoffMax = 10 * time.Minute
	DefaultPauseAfter = 24 * time.Hour
	DefaultBatch      = 100
	DefaultMaxWait    = 5 * time.Second
)

// Config tunes a Worker. The zero value is usable.
type Config struct {
	// Sender makes the requests (NewSender(SenderOptions{}) when nil).
	Sender *Sender
	// Notifier wakes the worker when objects are committed; without one,
	// or for commits it does not hear of, the store is read every Poll.
	Notifier notify.Notifier
	// Poll is how often the store is read for webhooks and new entries
	// without a wake-up (DefaultPoll when 0).
	Poll time.Duration
	// LeaseTTL is how long a process holds a webhook without renewing the
	// lease; another takes it over after that (DefaultLeaseTTL when 0).
	LeaseTTL time.Duration
	// BackoffMin and BackoffMax bound the wait after a failed attempt: it
	// doubles from BackoffMin with each failure in a row, up to BackoffMax,
	// and is then jittered to between half and all of that. A longer
	// Retry-After from the receiver wins.
	BackoffMin, BackoffMax time.Duration
	// PauseAfter pauses a webhook that has failed for longer than this
	// (DefaultPauseAfter when 0).
	PauseAfter time.Duration
	// Now is the clock (time.Now when nil); Jitter returns numbers in
	// [0, 1) (math/rand when nil). Tests replace them.
	Now    func() time.Time
	Jitter func() float64
	// Holder names this process in leases (random when empty).
	Holder string
	// Logger receives failures (discarded when nil).
	Logger *slog.Logger
}

// Worker delivers every webhook of a store. Several processes sharing a
// database may each run one: a lease in the store makes one process at a
// time deliver each webhook, and its cursor, saved after every attempt,
// lets any of them resume where the last left off.
type Worker struct {
	st  store.Store
	cfg Config
}

// NewWorker returns a worker for st's webhooks; Run starts it.
func NewWorker(st store.Store, cfg Config) *Worker {
	if cfg.Sender == nil {
		cfg.Sender = NewSender(SenderOptions{})
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	// A lease renewed every third of its life must outlast an attempt, or
	// a second process could send the same batch while the first waits.
	cfg.LeaseTTL = max(cfg.LeaseTTL, 3*cfg.Sender.opt.Timeout)
	if cfg.BackoffMin <= 0 {
		cfg.BackoffMin = DefaultBackoffMin
	}
	if cfg.BackoffMax < cfg.BackoffMin {
		cfg.BackoffMax = max(DefaultBackoffMax, cfg.BackoffMin)
	}
	if cfg.PauseAfter <= 0 {
		cfg.PauseAfter = DefaultPauseAfter
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Jitter == nil {
		cfg.Jitter = mathrand.Float64
	}
	if cfg.Holder == "" {
		var b [8]byte
		rand.Read(b[:])
		cfg.Holder = hex.EncodeToString(b[:])
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Worker{st: st, cfg: cfg}
}

// runner is the goroutine delivering one webhook.
type runner struct {
	wake chan struct{}
	done chan struct{}
}

// Run delivers until ctx ends, then waits for attempts in flight to finish
// (each within the sender's timeout), saves their outcome and releases
// its leases. It returns nil.
func (w *Worker) Run(ctx context.Context) error {
	var wakeups <-chan struct{}
	if w.cfg.Notifier != nil {
		// Any collection: a filter collection gains entries from writes
		// to the others.
		sub := w.cfg.Notifier.Subscribe(notify.AnyCollection)
		defer sub.Close()
		wakeups = sub.C()
	}
	runners := map[string]*runner{}
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(w.cfg.Poll)
	defer tick.Stop()
	w.startRunners(ctx, runners, &wg)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			w.startRunners(ctx, runners, &wg)
		case _, ok := <-wakeups:
			if !ok {
				wakeups = nil
			}
			for _, r := range runners {
				select {
				case r.wake <- struct{}{}:
				default:
				}
			}
		}
	}
}

// startRunners forgets runners that have stopped and starts one for each
// webhook that is not paused and has none.
func (w *Worker) startRunners(ctx context.Context, runners map[string]*runner, wg *sync.WaitGroup) {
	for id, r := range runners {
		select {
		case <-r.done:
			delete(runners, id)
		default:
		}
	}
	hooks, err := w.st.Webhooks(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.cfg.Logger.Error("webhooks: list", "err", err)
		}
		return
	}
	for _, h := range hooks {
		if h.State.Paused || runners[h.ID] != nil {
			continue
		}
		// Another process's unexpired lease: it delivers this webhook.
		if h.LeaseHolder != "" && h.LeaseHolder != w.cfg.Holder && w.cfg.Now().Before(h.LeaseUntil) {
			continue
		}
		r := &runner{wake: make(chan struct{}, 1), done: make(chan struct{})}
		runners[h.ID] = r
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(r.done)
			w.deliver(ctx, h.ID, r.wake)
		}()
	}
}

// deliver delivers one webhook for as long as this process holds its
// lease and it is not paused or deleted.
func (w *Worker) deliver(ctx context.Context, id string, wake <-chan struct{}) {
	defer func() {
		// With a context of its own: ctx may be why the loop ended.
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		w.st.ReleaseWebhookLease(rctx, id, w.cfg.Holder)
	}()
	var renew time.Time
	for {
		// The lease is renewed once a third of it has passed, not at every
		// step: a renewal is a write.
		if now := w.cfg.Now(); !now.Before(renew) {
			ok, err := w.st.AcquireWebhookLease(ctx, id, w.cfg.Holder, now, w.cfg.LeaseTTL)
			if err != nil || !ok {
				if err != nil && ctx.Err() == nil && hail.ErrorCode(err) != hail.ENOTFOUND {
					w.cfg.Logger.Error("webhook: lease", "webhook", id, "err", err)
				}
				return
			}
			renew = now.Add(w.cfg.LeaseTTL / 3)
		}
		h, err := w.st.Webhook(ctx, id)
		if err != nil || h.State.Paused || h.LeaseHolder != w.cfg.Holder {
			return
		}
		wait, err := w.Step(ctx, h)
		if err != nil {
			if ctx.Err() != nil || hail.ErrorCode(err) == hail.ECONFLICT || hail.ErrorCode(err) == hail.ENOTFOUND {
				return
			}
			w.cfg.Logger.Error("webhook: delivery", "webhook", id, "err", err)
			wait = w.cfg.Poll
		}
		if wait <= 0 {
			continue
		}
		// The lease is renewed well before it expires, even while waiting
		// out a long backoff.
		timer := time.NewTimer(min(wait, w.cfg.LeaseTTL/3))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// Step makes at most one delivery attempt for h, the webhook as stored,
// saves the outcome, and returns how long to wait before the next step
// (0 when more entries are ready now). The caller must hold h's lease.
func (w *Worker) Step(ctx context.Context, h store.Webhook) (time.Duration, error) {
	now := w.cfg.Now()
	s := h.State
	if now.Before(s.NextAttempt) {
		return s.NextAttempt.Sub(now), nil
	}
	batch := h.BatchSize
	if batch <= 0 {
		batch = DefaultBatch
	}
	page, err := w.st.Objects(ctx, h.CollectionID, store.Filter{AddedAfter: s.Cursor, Limit: batch, Versions: []string{"all"}})
	if err != nil {
		return 0, err
	}
	entries, more := page.Entries, page.More
	if !s.PendingLast.IsZero() {
		// A retry sends the batch that failed: entries up to PendingLast.
		// If all of them were deleted meanwhile, a new batch goes out.
		n := len(entries)
		for n > 0 && entries[n-1].DateAdded.After(s.PendingLast) {
			n--
		}
		if n > 0 {
			more = more || n < len(entries)
			entries = entries[:n]
		}
	}
	if len(entries) == 0 {
		return w.cfg.Poll, nil
	}
	if s.PendingLast.IsZero() && !more && len(entries) < batch && h.MaxWait > 0 {
		if ready := entries[0].DateAdded.Add(h.MaxWait); now.Before(ready) {
			return ready.Sub(now), nil
		}
	}
	last := entries[len(entries)-1].DateAdded
	delivery := DeliveryID(h.ID, s.Cursor, last)
	body := AppendEnvelope(make([]byte, 0, 4096), delivery, h, entries, more, false)
	// An attempt under way finishes even when shutdown begins meanwhile,
	// within the sender's timeout: cut short, it would leave the receiver
	// holding a batch whose cursor was never saved, and the next process
	// would send those objects again.
	res := w.cfg.Sender.Send(context.WithoutCancel(ctx), h, delivery, body)
	a := store.WebhookAttempt{Delivery: delivery, Time: now, Objects: len(entries), Status: res.Status, Latency: res.Latency}
	if res.Err == nil {
		// Saved even when shutdown begins meanwhile: the receiver has the
		// batch, and a restart should not send it again.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		st := store.WebhookState{Cursor: last, LastError: s.LastError}
		if err := w.st.RecordWebhookAttempt(sctx, h.ID, w.cfg.Holder, a, &st); err != nil {
			return 0, err
		}
		if more {
			return 0, nil
		}
		return w.cfg.Poll, nil
	}
	if ctx.Err() != nil {
		// Shutting down: whoever resumes the webhook retries the batch.
		return 0, ctx.Err()
	}
	a.Error = res.Err.Error()
	st := store.WebhookState{Cursor: s.Cursor, PendingLast: last, Failures: s.Failures + 1,
		FailingSince: s.FailingSince, LastError: a.Error}
	if st.FailingSince.IsZero() {
		st.FailingSince = now
	}
	wait := max(w.backoff(st.Failures), res.RetryAfter)
	st.NextAttempt = now.Add(wait)
	if failing := now.Sub(st.FailingSince); failing >= w.cfg.PauseAfter {
		st.Paused = true
		st.PausedReason = fmt.Sprintf("failing since %s (%d attempts): %s",
			taxii.FormatTimestamp(st.FailingSince), st.Failures, truncate(a.Error, 300))
		w.cfg.Logger.Warn("webhook paused", "webhook", h.ID, "reason", st.PausedReason)
	}
	if err := w.st.RecordWebhookAttempt(ctx, h.ID, w.cfg.Holder, a, &st); err != nil {
		return 0, err
	}
	return wait, nil
}

// backoff is the wait after the nth failure in a row: BackoffMin doubled
// n-1 times, at most BackoffMax, jittered to between half and all of it,
// so that webhooks failing together do not retry together.
func (w *Worker) backoff(n int) time.Duration {
	d := w.cfg.BackoffMin
	for i := 1; i < n && d < w.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, w.cfg.BackoffMax)
	return d/2 + time.Duration(w.cfg.Jitter()*float64(d/2))
}

// Test sends h a delivery with no objects and "test": true, now, whatever
// its state, logs the attempt, and returns it. Paused webhooks can be
// tested before they are resumed.
func Test(ctx context.Context, st store.Store, s *Sender, h store.Webhook) (store.WebhookAttempt, error) {
	var b [16]byte
	rand.Read(b[:])
	delivery := fmt.Sprintf("test-%x", b[:])
	body := AppendEnvelope(nil, delivery, h, nil, false, true)
	start := s.opt.Now()
	res := s.Send(ctx, h, delivery, body)
	a := store.WebhookAttempt{Delivery: delivery, Time: start, Status: res.Status, Latency: res.Latency}
	if res.Err != nil {
		a.Error = res.Err.Error()
	}
	if err := st.RecordWebhookAttempt(ctx, h.ID, "", a, nil); err != nil {
		return a, err
	}
	return a, nil
}
