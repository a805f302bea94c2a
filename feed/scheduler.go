package feed

import (
	"context"
	"log/slog"
	"time"

	"hail"
	"hail/store"
)

// DefaultLease is how long a claim on a feed lasts unless Scheduler.Lease
// says otherwise. It exceeds DefaultTimeout, so that a run ends before
// another replica may take the feed over from a runner that died.
const DefaultLease = DefaultTimeout + 5*time.Minute

// Scheduler runs the feeds that are due. Several schedulers (one per
// replica) may share a store: each claims a feed before it runs it.
type Scheduler struct {
	Runner *Runner
	// Now is the scheduler's clock (time.Now when nil).
	Now func() time.Time
	// Lease is how long a claim lasts (DefaultLease when 0); it should
	// exceed the Runner's timeout.
	Lease  time.Duration
	Logger *slog.Logger // nil discards
}

func (s *Scheduler) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

func (s *Scheduler) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// RunDue runs, one after another, every feed whose next run is at or
// before Now and that no one else is running, and returns the names of
// those it ran. A feed's failure is recorded in its run, not returned; an
// error is returned when the store fails.
func (s *Scheduler) RunDue(ctx context.Context) ([]string, error) {
	feeds, err := s.Runner.Store.Feeds(ctx)
	if err != nil {
		return nil, err
	}
	var ran []string
	for _, f := range feeds {
		if f.NextRun.After(s.now()) {
			continue
		}
		_, err := s.run(ctx, f.Name, true)
		switch {
		case hail.ErrorCode(err) == hail.ECONFLICT || hail.ErrorCode(err) == hail.ENOTFOUND:
			continue // another replica runs or ran it, or it was deleted meanwhile
		case err != nil:
			return ran, err
		}
		ran = append(ran, f.Name)
	}
	return ran, nil
}

// Run claims the named feed, runs it now whatever its schedule, and
// records the run with the feed's next run one period after this one
// started. Returns ECONFLICT if the feed is being run elsewhere and
// ENOTFOUND if it does not exist.
func (s *Scheduler) Run(ctx context.Context, name string) (store.FeedRun, error) {
	return s.run(ctx, name, false)
}

// run claims and runs a feed; with due, only if it is still due when
// claimed, since the list RunDue read may be stale by then.
func (s *Scheduler) run(ctx context.Context, name string, due bool) (store.FeedRun, error) {
	st := s.Runner.Store
	lease := s.Lease
	if lease <= 0 {
		lease = DefaultLease
	}
	now := s.now()
	f, err := st.ClaimFeed(ctx, name, now, now.Add(lease), due)
	if err != nil {
		return store.FeedRun{}, err
	}
	run, mark := s.Runner.Run(ctx, f)
	mark.Resets = f.Mark.Resets // so that a reset made meanwhile stands
	next := run.Started.Add(f.Every)
	if ended := s.now(); next.Before(ended) {
		next = ended // a run longer than the period: start again at once, not in a burst
	}
	// The run is recorded even when ctx was cancelled (a shutdown), so
	// that the mark it reached and the lease are not lost.
	if err := st.FinishFeedRun(context.WithoutCancel(ctx), name, run, mark, next); err != nil {
		return run, err
	}
	log := s.logger().With("feed", name, "read", run.Read, "added", run.Added, "new_versions", run.NewVersions, "duplicates", run.Duplicates,
		"rejected", run.Rejected, "revoked", run.Revoked, "not_modified", run.NotChanged, "took", run.Ended.Sub(run.Started))
	if run.Error != "" {
		log.Warn("feed run failed", "error", run.Error)
	} else {
		log.Info("feed run")
	}
	return run, nil
}

// Serve calls RunDue at every tick until ctx is done, logging store
// errors, and returns when ctx is done.
func (s *Scheduler) Serve(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.RunDue(ctx); err != nil && ctx.Err() == nil {
			s.logger().Error("feed scheduler", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
