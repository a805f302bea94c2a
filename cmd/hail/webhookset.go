package main

import (
	"context"
	"flag"
	"fmt"

	"hail/webhook"
)

// webhookSet changes a webhook's URL, secret, batch size or wait and keeps
// where its deliveries stand.
func webhookSet(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "webhook set", &db)
	url := fs.String("url", "", "the receiver's new http or https URL")
	secret := fs.String("secret", "", "the new key of the HMAC-SHA256 signatures")
	newSecret := fs.Bool("new-secret", false, "a new random signing secret, printed once")
	batch := fs.Int("batch", 0, "most objects per delivery")
	maxWait := fs.Duration("max-wait", 0, "longest an object waits for a fuller batch; 0 sends at once")
	allowPrivate := fs.Bool("allow-private", false, "accept a loopback, private or link-local address (the server also needs --webhook-allow-private)")
	id, err := parseNamed(fs, env, args, "hail webhook set ID [--url URL] [--secret S | --new-secret] [--batch N] [--max-wait D]")
	if err != nil {
		return err
	}
	c := webhook.Change{URL: *url, Secret: *secret, NewSecret: *newSecret, Batch: *batch}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "max-wait" {
			c.MaxWait = maxWait
		}
	})
	if c.Secret != "" && c.NewSecret {
		return fmt.Errorf("give --secret or --new-secret, not both")
	}
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	h, err := webhook.Update(ctx, st, webhook.NewSender(webhook.SenderOptions{AllowPrivate: *allowPrivate}), id, c)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "webhook %s: to %s, batches of %d, waiting up to %s; deliveries go on from where they were\n",
		h.ID, h.URL, h.BatchSize, h.MaxWait)
	if c.NewSecret {
		fmt.Fprintf(env.stdout, "signing secret (shown once): %s\n", h.Secret)
	}
	return nil
}
