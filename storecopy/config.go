package storecopy

import (
	"context"
	"fmt"
	"slices"
	"time"

	"hail/store"
)

// missing returns what src lists that dst does not, by key, in src's
// order: what this run creates, an earlier run having made the rest.
func missing[T any](ctx context.Context, what string, src, dst func(context.Context) ([]T, error), key func(T) string) ([]T, error) {
	all, err := src(ctx)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	held, err := dst(ctx)
	if err != nil {
		return nil, fmt.Errorf("read target %s: %w", what, err)
	}
	have := make(map[string]bool, len(held))
	for _, h := range held {
		have[key(h)] = true
	}
	return slices.DeleteFunc(all, func(x T) bool { return have[key(x)] }), nil
}

// plans creates every plan of src in dst unless an earlier run did, before
// the keys that name them.
func (c *copier) plans(ctx context.Context) error {
	plans, err := missing(ctx, "plans", c.src.Plans, c.dst.Plans, func(p store.Plan) string { return p.Name })
	if err != nil {
		return err
	}
	for _, p := range plans {
		if err := c.dst.CreatePlan(ctx, p); err != nil {
			return fmt.Errorf("create plan %q: %w", p.Name, err)
		}
		c.res.Plans++
	}
	return nil
}

// feeds creates every feed of src in dst with its credentials, its mark
// and its next run, so that the target's server resumes it where the
// source's stopped, and its recorded runs, oldest first; unless an
// earlier run did.
func (c *copier) feeds(ctx context.Context) error {
	feeds, err := missing(ctx, "feeds", c.src.Feeds, c.dst.Feeds, func(f store.Feed) string { return f.Name })
	if err != nil {
		return err
	}
	for _, f := range feeds {
		runs, err := c.src.FeedRuns(ctx, f.Name, 0)
		if err != nil {
			return fmt.Errorf("read runs of feed %q: %w", f.Name, err)
		}
		if err := c.dst.CreateFeed(ctx, f); err != nil {
			return fmt.Errorf("create feed %q: %w", f.Name, err)
		}
		// FinishFeedRun also sets the mark and the next run: the feed's own
		// each time, so that the last leaves them as the source has them.
		for _, r := range slices.Backward(runs) {
			if err := c.dst.FinishFeedRun(ctx, f.Name, r, f.Mark, f.NextRun); err != nil {
				return fmt.Errorf("copy runs of feed %q: %w", f.Name, err)
			}
		}
		c.res.Feeds++
	}
	return nil
}

// webhooks creates every webhook of src in dst with its secret, its
// delivery state, whose cursor is a date_added the copy keeps, and its log
// of attempts, unless an earlier run did. A lease is not copied: the
// target's servers take their own.
func (c *copier) webhooks(ctx context.Context) error {
	hooks, err := missing(ctx, "webhooks", c.src.Webhooks, c.dst.Webhooks, func(w store.Webhook) string { return w.ID })
	if err != nil {
		return err
	}
	for _, w := range hooks {
		w.LeaseHolder, w.LeaseUntil = "", time.Time{}
		log, err := c.src.WebhookAttempts(ctx, w.ID, 0)
		if err != nil {
			return fmt.Errorf("read the log of webhook %s: %w", w.ID, err)
		}
		if err := c.dst.CreateWebhook(ctx, w); err != nil {
			return fmt.Errorf("create webhook %s: %w", w.ID, err)
		}
		// An attempt recorded without a state needs no lease.
		for _, a := range slices.Backward(log) {
			if err := c.dst.RecordWebhookAttempt(ctx, w.ID, "", a, nil); err != nil {
				return fmt.Errorf("copy the log of webhook %s: %w", w.ID, err)
			}
		}
		c.res.Webhooks++
	}
	return nil
}
