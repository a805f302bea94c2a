package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"hail/bootstrap"
	"hail/notify"
	"hail/store"
	"hail/webhook"
)

const webhookUsage = "usage: hail webhook add|set|list|show|test|pause|resume|rm"

func runWebhook(ctx context.Context, env *environ, args []string) error {
	if len(args) == 0 {
		return errors.New(webhookUsage)
	}
	switch args[0] {
	case "add":
		return webhookAdd(ctx, env, args[1:])
	case "set":
		return webhookSet(ctx, env, args[1:])
	case "list", "ls":
		return webhookList(ctx, env, args[1:])
	case "show", "log":
		return webhookShow(ctx, env, args[1:])
	case "test":
		return webhookTest(ctx, env, args[1:])
	case "pause", "resume":
		return webhookPause(ctx, env, args[0] == "pause", args[1:])
	case "rm", "remove", "delete":
		return webhookRemove(ctx, env, args[1:])
	}
	return fmt.Errorf("unknown webhook command %q (%s)", args[0], webhookUsage)
}

func webhookAdd(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "webhook add", &db)
	coll := fs.String("collection", "", "alias or id of the collection whose new entries are pushed (required)")
	root := fs.String("api-root", bootstrap.APIRootName, "API root of the collection")
	url := fs.String("url", "", "http or https URL that receives the deliveries (required)")
	secret := fs.String("secret", "", "key of the HMAC-SHA256 signatures (default: a new random one, printed)")
	batch := fs.Int("batch", webhook.DefaultBatch, "most objects per delivery")
	maxWait := fs.Duration("max-wait", webhook.DefaultMaxWait, "longest an object waits for a fuller batch; 0 sends at once")
	fromStart := fs.Bool("from-start", false, "also deliver what the collection already holds")
	allowPrivate := fs.Bool("allow-private", false, "accept a loopback, private or link-local address (the server also needs --webhook-allow-private)")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if *coll == "" || *url == "" {
		return errors.New("--collection and --url are required")
	}
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := ensure(ctx, env, st); err != nil {
		return err
	}
	c, err := st.Collection(ctx, *root, *coll)
	if err != nil {
		return err
	}
	h, err := webhook.Create(ctx, st, webhook.NewSender(webhook.SenderOptions{AllowPrivate: *allowPrivate}), webhook.Spec{
		CollectionID: c.ID, URL: *url, Secret: *secret, Batch: *batch, MaxWait: *maxWait, FromStart: *fromStart})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "created webhook %s: collection %s (alias %q) to %s\n", h.ID, c.ID, c.Alias, h.URL)
	if *secret == "" {
		fmt.Fprintf(env.stdout, "signing secret (shown once): %s\n", h.Secret)
	}
	return nil
}

func webhookList(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "webhook list", &db)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	hooks, err := st.Webhooks(ctx)
	if err != nil {
		return err
	}
	views := []webhook.View{}
	for _, h := range hooks {
		views = append(views, webhook.NewView(h, nil))
	}
	if *asJSON {
		return printJSON(env, views)
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCOLLECTION\tURL\tSTATE\tCURSOR\tLAST ERROR")
	for _, v := range views {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", v.ID, v.Collection, v.URL, hookState(v), hookTime(v.Cursor), v.LastError)
	}
	return tw.Flush()
}

// hookState sums up a webhook's state in a word or a sentence.
func hookState(v webhook.View) string {
	switch {
	case v.Paused:
		return "paused: " + v.PausedReason
	case v.Failures > 0:
		return fmt.Sprintf("retrying (%d failures since %s)", v.Failures, hookTime(v.FailingSince))
	}
	return "active"
}

func hookTime(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}

func webhookShow(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "webhook show", &db)
	asJSON := fs.Bool("json", false, "print JSON")
	n := fs.Int("n", 20, "attempts of the delivery log to show, newest first")
	st, id, err := openWebhookCommand(ctx, env, fs, &db, args)
	if err != nil {
		return err
	}
	defer st.Close()
	h, err := st.Webhook(ctx, id)
	if err != nil {
		return err
	}
	log, err := st.WebhookAttempts(ctx, id, max(*n, 1))
	if err != nil {
		return err
	}
	v := webhook.NewView(h, log)
	if *asJSON {
		return printJSON(env, v)
	}
	w := env.stdout
	fmt.Fprintf(w, "webhook %s\n  collection  %s\n  url         %s\n  batch       %d, max wait %s\n", v.ID, v.Collection, v.URL, v.Batch, v.MaxWait)
	fmt.Fprintf(w, "  state       %s\n  cursor      %s\n", hookState(v), hookTime(v.Cursor))
	if v.LastError != "" {
		fmt.Fprintf(w, "  last error  %s\n", v.LastError)
	}
	if v.NextAttempt != nil {
		fmt.Fprintf(w, "  next try    %s\n", *v.NextAttempt)
	}
	fmt.Fprintln(w, "\ndelivery log (newest first):")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tDELIVERY\tOBJECTS\tSTATUS\tLATENCY\tRESULT")
	for _, a := range v.Log {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%.1f ms\t%s\n", a.Time, a.Delivery, a.Objects, hookStatus(a), a.LatencyMS, hookResult(a))
	}
	return tw.Flush()
}

func hookStatus(a webhook.AttemptView) string {
	if a.Status == 0 {
		return "-"
	}
	return fmt.Sprint(a.Status)
}

func hookResult(a webhook.AttemptView) string {
	if a.OK {
		return "ok"
	}
	return a.Error
}

func webhookTest(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "webhook test", &db)
	allowPrivate := fs.Bool("allow-private", false, "allow a loopback, private or link-local address")
	st, id, err := openWebhookCommand(ctx, env, fs, &db, args)
	if err != nil {
		return err
	}
	defer st.Close()
	h, err := st.Webhook(ctx, id)
	if err != nil {
		return err
	}
	a, err := webhook.Test(ctx, st, webhook.NewSender(webhook.SenderOptions{AllowPrivate: *allowPrivate}), h)
	if err != nil {
		return err
	}
	v := webhook.NewAttemptView(a)
	fmt.Fprintf(env.stdout, "test delivery %s to %s: %s (status %s, %.1f ms)\n", v.Delivery, h.URL, hookResult(v), hookStatus(v), v.LatencyMS)
	if !a.OK() {
		return fmt.Errorf("test delivery failed: %s", a.Error)
	}
	return nil
}

func webhookPause(ctx context.Context, env *environ, pause bool, args []string) error {
	var db dbFlags
	name := map[bool]string{true: "pause", false: "resume"}[pause]
	fs := newFlagSet(env, "webhook "+name, &db)
	reason := "paused with hail webhook pause"
	if pause {
		fs.StringVar(&reason, "reason", reason, "why, shown in list and show")
	}
	st, id, err := openWebhookCommand(ctx, env, fs, &db, args)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.SetWebhookPaused(ctx, id, pause, reason); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%sd webhook %s\n", name, id)
	return nil
}

func webhookRemove(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "webhook rm", &db)
	st, id, err := openWebhookCommand(ctx, env, fs, &db, args)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.DeleteWebhook(ctx, id); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "removed webhook %s\n", id)
	return nil
}

// openWebhookCommand parses the flags of a command that takes one webhook
// id and opens the store.
func openWebhookCommand(ctx context.Context, env *environ, fs *flag.FlagSet, db *dbFlags, args []string) (store.Store, string, error) {
	if err := parse(fs, env, args); err != nil {
		return nil, "", err
	}
	if fs.NArg() != 1 {
		return nil, "", fmt.Errorf("usage: hail %s [flags] WEBHOOK_ID", fs.Name())
	}
	st, err := db.open(ctx)
	if err != nil {
		return nil, "", err
	}
	return st, strings.TrimSpace(fs.Arg(0)), nil
}

// startWebhooks runs the webhook worker of hail serve until ctx ends, and
// returns a function that stops it and waits. It does nothing when run is
// false.
func startWebhooks(ctx context.Context, st store.Store, n notify.Notifier, s *webhook.Sender, poll time.Duration,
	logger *slog.Logger, run bool) (stop func()) {
	if !run {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	w := webhook.NewWorker(st, webhook.Config{Sender: s, Notifier: n, Poll: poll, Logger: logger})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.Run(ctx)
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}
