package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"hail/bootstrap"
	"hail/metrics"
	"hail/notify"
	"hail/notify/pgnotify"
	"hail/server"
	"hail/store"
	"hail/store/cache"
	"hail/store/postgres"
	"hail/webhook"
)

func runServe(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "serve", &db)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (env HAIL_ADDR)")
	publicURL := fs.String("public-url", "", "external base URL, e.g. https://taxii.example.org, used in discovery (env HAIL_PUBLIC_URL)")
	strictEmpty := fs.Bool("strict-empty", false, `answer empty pages with {"more":false} as the spec says, instead of adding "objects":[] for clients that need the key`)
	runFeeds := fs.Bool("feeds", true, "run the feeds that are due (hail feed); replicas sharing a database run each once")
	maxImport := fs.Int64("max-import-size", server.DefaultMaxImportSize, "largest body POST /api/v1/import reads, and largest content it unpacks a gzip or zip body to, in bytes")
	runWebhooks := fs.Bool("webhooks", true, "deliver webhooks (hail webhook); replicas sharing a database deliver each from one at a time")
	webhookPrivate := fs.Bool("webhook-allow-private", false, "let webhooks reach loopback, private and link-local addresses (receivers on this network)")
	webhookPoll := fs.Duration("webhook-poll", webhook.DefaultPoll, "how often webhooks look for objects written without a wake-up, e.g. by hail import")
	dashboard := fs.Bool("dashboard", true, "serve the web dashboard at /ui/ (sign in with an API key)")
	metricsAddr := fs.String("metrics-addr", "", "listen address of a separate, unauthenticated Prometheus /metrics endpoint, e.g. 127.0.0.1:9464; empty for none (env HAIL_METRICS_ADDR). Admin keys can read GET /metrics on --addr")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(env.stderr, nil))
	tuneGC(env)

	st, err := db.open(ctx)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	res, err := bootstrap.Ensure(ctx, st, time.Now())
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	// Metrics are always recorded: admin keys read them on the main listener.
	m := metrics.New()
	m.WatchStore(st, 0)
	stopMetrics, err := startMetrics(*metricsAddr, m, logger)
	if err != nil {
		ln.Close()
		return err
	}
	defer stopMetrics()
	base := strings.TrimRight(*publicURL, "/")
	if base == "" {
		base = "http://" + ln.Addr().String()
	}
	if err := printWelcome(ctx, env, st, base, res, *dashboard); err != nil {
		ln.Close()
		return err
	}

	notifier, err := newNotifier(ctx, st, logger)
	if err != nil {
		ln.Close()
		return err
	}
	defer notifier.Close()
	sender := webhook.NewSender(webhook.SenderOptions{AllowPrivate: *webhookPrivate})
	// Requests find their key and collection through a short-lived cache;
	// a change made by another process is seen within cache.DefaultTTL.
	cached := cache.New(st, cache.Options{})
	h := server.New(server.Config{PublicURL: *publicURL, StrictEmpty: *strictEmpty, MaxImportSize: *maxImport, Notifier: notifier, Webhooks: sender, Metrics: m, NoDashboard: !*dashboard}, cached, logger)
	defer startFeeds(ctx, st, logger, *runFeeds)() // before st.Close: a run records itself first
	// Stopped before st.Close, as feeds are: an attempt records itself first.
	defer startWebhooks(ctx, st, notifier, sender, *webhookPoll, logger, *runWebhooks)()
	defer startPrunes(ctx, h, logger)()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	// Shutdown waits for responses to end, and streams never do on their
	// own: closing the notifier ends them (clients resume elsewhere).
	srv.RegisterOnShutdown(func() { notifier.Close() })
	logger.Info("serving", "addr", ln.Addr().String(), "store", db.describe(), "discovery", base+"/taxii2/")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown)
	// Activity is written in batches; write what the last requests did.
	if e := h.FlushActivity(shutdown); e != nil {
		logger.Error("record activity", "err", e)
	}
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	logger.Info("stopped")
	return err
}

// newNotifier returns what wakes streams when objects are committed: on
// PostgreSQL, LISTEN/NOTIFY, so that a commit on any replica wakes the
// streams of all; on SQLite, whose writers share this process, a hub.
func newNotifier(ctx context.Context, st store.Store, logger *slog.Logger) (notify.Notifier, error) {
	if db, ok := st.(*postgres.DB); ok {
		n, err := pgnotify.New(ctx, db.Pool(), pgnotify.Options{Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("stream notifications: %w", err)
		}
		return n, nil
	}
	return notify.NewHub(), nil
}

// printWelcome tells an operator where the server is and, on the first
// start, the admin key, laid out as Microsoft Sentinel's TAXII connector asks
// for them.
func printWelcome(ctx context.Context, env *environ, st store.Store, base string, res bootstrap.Result, dashboard bool) error {
	roots, err := st.APIRoots(ctx)
	if err != nil {
		return err
	}
	w := env.stdout
	fmt.Fprintf(w, "hail is serving TAXII 2.1\n  discovery:  %s/taxii2/\n", base)
	for _, r := range roots {
		fmt.Fprintf(w, "  API root:   %s/taxii2/%s/\n", base, r.Name)
		cols, err := st.Collections(ctx, r.Name)
		if err != nil {
			return err
		}
		for _, c := range cols {
			fmt.Fprintf(w, "    collection %s  alias %-10s %s\n", c.ID, c.Alias, c.Title)
		}
	}
	if dashboard {
		fmt.Fprintf(w, "  dashboard:  %s/ui/ (sign in with an API key)\n", base)
	}
	if res.AdminKey != "" {
		fmt.Fprintf(w, "\nFirst start: created the admin API key %q. It is shown only this once:\n\n    %s\n\n", bootstrap.AdminKeyName, res.AdminKey)
		fmt.Fprintf(w, "Microsoft Sentinel (Threat Intelligence – TAXII): API root URL = %s/taxii2/%s/, Collection ID = one of the ids above,\n", base, bootstrap.APIRootName)
		fmt.Fprintf(w, "Username = apikey, Password = the key. curl: curl -u apikey:KEY %s/taxii2/\n", base)
		fmt.Fprintln(w, "Make keys with less power with: hail key add --name NAME --read ALIAS[,ALIAS] [--write ALIAS]")
	}
	return nil
}

// startPrunes prunes, every server.PruneInterval, the filter collections
// of the API roots that objects were deleted from. stop ends it and waits.
func startPrunes(ctx context.Context, h *server.Server, logger *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(server.PruneInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := h.PruneDue(ctx); err != nil && ctx.Err() == nil {
					logger.Warn("prune filter collections", "err", err)
				}
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
