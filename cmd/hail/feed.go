package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"hail"
	"hail/bootstrap"
	"hail/feed"
	"hail/store"
	"hail/taxii"
)

const feedUsage = `usage:
  hail feed add  --name N --url URL --kind taxii21|stix-bundle|txt|csv|json-list|misp --collection ALIAS
                 [--taxii-collection ID [--all-versions]] [--token KEY | --user U --password P]
                 [--ca FILE] [--cert FILE --key FILE] --every 1h
                 [--source NAME --tlp LEVEL --confidence N --ttl 720h --snapshot]
  hail feed set  NAME [--url URL] [--token KEY | --user U --password P] [--every 1h] [--ca FILE]
                 [--cert FILE --key FILE] [--all-versions=true|false] [--reset-mark] ...
  hail feed list
  hail feed run  NAME
  hail feed runs NAME [--limit N]
  hail feed rm   NAME`

func runFeed(ctx context.Context, env *environ, args []string) error {
	if len(args) == 0 {
		return errors.New(feedUsage)
	}
	switch args[0] {
	case "add":
		return feedAdd(ctx, env, args[1:])
	case "set":
		return feedSet(ctx, env, args[1:])
	case "list", "ls":
		return feedList(ctx, env, args[1:])
	case "run":
		return feedRun(ctx, env, args[1:])
	case "runs":
		return feedRuns(ctx, env, args[1:])
	case "rm", "remove", "delete":
		return feedRemove(ctx, env, args[1:])
	}
	return fmt.Errorf("unknown feed command %q\n%s", args[0], feedUsage)
}

// feedAdd stores a feed. Its secrets are stored in the database in clear
// (see store.Feed): the server presents them to the source unattended.
func feedAdd(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "feed add", &db)
	var f store.Feed
	fs.StringVar(&f.Name, "name", "", "feed name (required)")
	fs.StringVar(&f.URL, "url", "", "TAXII 2.1 API root URL, or the URL of the bundle or list (required)")
	fs.StringVar(&f.Kind, "kind", "", "taxii21, stix-bundle, txt, csv, json-list or misp (required)")
	coll := fs.String("collection", bootstrap.DefaultAlias, "local collection alias or id to add into")
	root := fs.String("api-root", bootstrap.APIRootName, "local API root of the collection")
	fs.StringVar(&f.TAXIICollection, "taxii-collection", "", "taxii21: remote collection id or alias")
	fs.StringVar(&f.User, "user", "", "HTTP Basic user name")
	password := fs.String("password", "", "HTTP Basic password (env "+envPullPassword+")")
	token := fs.String("token", "", "API key sent as Authorization: Bearer (env "+envPullToken+")")
	spanVar(fs, &f.Every, "every", time.Hour, "time between runs, at least 1m (e.g. 15m, 6h, 1d)")
	fs.BoolVar(&f.AllVersions, "all-versions", false, "taxii21: mirror every version of the remote objects, not only the latest")
	fs.BoolVar(&f.Insecure, "insecure", false, "accept any TLS certificate (test sources only)")
	var tf tlsFiles
	tf.flags(fs, "; stored with the feed")
	fs.StringVar(&f.List.Source, "source", "", "IOC lists: producer name, the identity the indicators are created by")
	fs.StringVar(&f.List.TLP, "tlp", "", "IOC lists: clear, green, amber, amber+strict or red")
	fs.IntVar(&f.List.Confidence, "confidence", 0, "IOC lists: STIX confidence 1-100")
	spanVar(fs, &f.List.TTL, "ttl", 0, "IOC lists: validity, sets valid_until (e.g. 30d or 720h)")
	labels := fs.String("labels", "", "IOC lists: comma-separated labels")
	columns := fs.String("columns", "", "IOC lists: CSV columns holding indicators, by name or 1-based number")
	fs.BoolVar(&f.List.AllAttributes, "all-attributes", false, "misp: also the attributes whose to_ids is false, which MISP marks as context")
	fs.BoolVar(&f.List.Snapshot, "snapshot", false, "IOC lists: each list is the source's complete list; revoke what it drops (needs --source)")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if fs.NArg() != 0 || f.Name == "" || f.URL == "" || f.Kind == "" {
		return errors.New(feedUsage)
	}
	f.List.Labels, f.List.Columns = splitList(*labels), splitList(*columns)
	var err error
	if f.CA, f.ClientCert, f.ClientKey, err = tf.read(); err != nil {
		return err
	}
	f.Password, f.Token = *password, *token
	if f.Password == "" {
		f.Password = env.getenv(envPullPassword)
	}
	if f.Token == "" && f.User == "" && f.Password == "" {
		f.Token = env.getenv(envPullToken)
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
	if !c.Writable() {
		return fmt.Errorf("collection %q is a filter collection, which holds what matches its filter; feed an explicit one", *coll)
	}
	f.CollectionID = c.ID
	if err := feed.Check(f); err != nil {
		return err
	}
	if err := st.CreateFeed(ctx, f); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "added feed %q: %s every %s into %q; a running hail serve runs it within a minute, or run it now with: hail feed run %s\n",
		f.Name, f.Kind, f.Every, *coll, f.Name)
	return nil
}

// feedList shows every feed with its mark and last run.
func feedList(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "feed list", &db)
	if err := parse(fs, env, args); err != nil {
		return err
	}
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	feeds, err := st.Feeds(ctx)
	if err != nil {
		return err
	}
	if len(feeds) == 0 {
		fmt.Fprintln(env.stdout, "no feeds; add one with: hail feed add --name N --url URL --kind txt --collection ALIAS")
		return nil
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tEVERY\tNEXT RUN\tLAST RUN\tREAD\tADDED\tNEW VERSIONS\tDUP\tREJECTED\tREVOKED\tMARK\tRESULT")
	for _, f := range feeds {
		r := f.LastRun
		kind := f.Kind
		if f.AllVersions {
			kind += " (all versions)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", f.Name, kind, f.Every,
			timeOrDash(f.NextRun, "now"), timeOrDash(r.Started, "never"), r.Read, r.Added, r.NewVersions, r.Duplicates, r.Rejected,
			r.Revoked, markText(f), result(r))
	}
	return tw.Flush()
}

// timeOrDash formats t, or says none for the zero time.
func timeOrDash(t time.Time, none string) string {
	if t.IsZero() {
		return none
	}
	return t.UTC().Format(time.RFC3339)
}

// markText is a feed's high-water mark as the list shows it.
func markText(f store.Feed) string {
	switch {
	case !f.Mark.AddedAfter.IsZero() && f.Kind == store.FeedMISP:
		return "events changed after " + taxii.FormatTimestamp(f.Mark.AddedAfter)
	case !f.Mark.AddedAfter.IsZero():
		return "added_after " + taxii.FormatTimestamp(f.Mark.AddedAfter)
	case f.Mark.ETag != "":
		return "etag " + f.Mark.ETag
	case f.Mark.LastModified != "":
		return "last-modified " + f.Mark.LastModified
	}
	return "-"
}

// result says how a run ended.
func result(r store.FeedRun) string {
	switch {
	case r.Started.IsZero():
		return "-"
	case r.Error != "":
		return "error: " + r.Error
	case r.NotChanged:
		return "not modified"
	}
	return "ok in " + r.Ended.Sub(r.Started).Round(time.Millisecond).String()
}

// feedRuns shows the latest runs of one feed, newest first.
func feedRuns(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "feed runs", &db)
	limit := fs.Int("limit", 20, "runs to show; 0 for all")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: hail feed runs NAME [--limit N]")
	}
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	runs, err := st.FeedRuns(ctx, fs.Arg(0), *limit)
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		fmt.Fprintf(env.stdout, "feed %q has not run yet\n", fs.Arg(0))
		return nil
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STARTED\tREAD\tADDED\tNEW VERSIONS\tDUP\tREJECTED\tREVOKED\tRESULT")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", timeOrDash(r.Started, "-"), r.Read, r.Added, r.NewVersions, r.Duplicates,
			r.Rejected, r.Revoked, result(r))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range runs {
		if len(r.Rejections) > 0 {
			fmt.Fprintf(env.stdout, "\nrejected by the run of %s:\n", timeOrDash(r.Started, "-"))
			printRejections(env.stdout, r)
		}
	}
	return nil
}

// printRejections lists what a run record kept of its rejections, one a
// line, and how many more it counted.
func printRejections(w io.Writer, r store.FeedRun) {
	for _, rj := range r.Rejections {
		where := rj.Where
		if rj.ID != "" {
			where += " (" + rj.ID + ")"
		}
		fmt.Fprintf(w, "  %s: %s\n", where, rj.Reason)
	}
	if more := r.Rejected - len(r.Rejections); more > 0 {
		fmt.Fprintf(w, "  and %d more\n", more)
	}
}

// feedRun runs one feed now, whatever its schedule, and records the run as
// the server would.
func feedRun(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "feed run", &db)
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: hail feed run NAME")
	}
	st, err := db.openBulk(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	s := &feed.Scheduler{Runner: &feed.Runner{Store: st}, Logger: slog.New(slog.DiscardHandler)}
	run, err := s.Run(ctx, fs.Arg(0))
	if hail.ErrorCode(err) == hail.ECONFLICT {
		return fmt.Errorf("feed %q is being run by a server right now; try again when it is done", fs.Arg(0))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%d read, %d added, %d duplicate, %d rejected, %d revoked in %s\n", run.Read, run.Added,
		run.Duplicates, run.Rejected, run.Revoked, run.Ended.Sub(run.Started).Round(time.Millisecond))
	if run.NewVersions > 0 {
		fmt.Fprintf(env.stdout, "%d of those added are new versions of objects the collection held\n", run.NewVersions)
	}
	printRejections(env.stdout, run)
	if run.NotChanged {
		fmt.Fprintln(env.stdout, "the source says the list has not changed since the last run")
	}
	if run.Error != "" {
		return errors.New(strings.TrimSuffix(run.Error, "."))
	}
	return nil
}

// feedRemove deletes a feed and its run records; what it added stays.
func feedRemove(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "feed rm", &db)
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: hail feed rm NAME")
	}
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.DeleteFeed(ctx, fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "removed feed %q; what it added stays in its collection\n", fs.Arg(0))
	return nil
}

// feedTick is how often a server looks for due feeds.
const feedTick = time.Minute

// serveFeedBatch is the transaction size of feeds run by `hail serve`,
// smaller than `hail feed run`'s: there a feed shares the writer with the
// server's clients, who wait for one batch at most, and the process's
// memory with everything else. A TAXII feed of 82,860 objects took the
// server's peak RSS to 207 MiB in batches of 20,000 and 176–186 MiB in
// batches of 2,000, for 3.4–3.8 s against 3.8–4.2 s.
const serveFeedBatch = 2000

// startFeeds runs the feed scheduler of `hail serve` until the returned
// stop is called, which waits for a run under way to record itself, so
// that the store can be closed after it. With on false it does nothing.
func startFeeds(ctx context.Context, st store.Store, logger *slog.Logger, on bool) (stop func()) {
	if !on {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	s := &feed.Scheduler{Runner: &feed.Runner{Store: st, BatchSize: serveFeedBatch}, Logger: logger}
	go func() {
		defer close(done)
		s.Serve(ctx, feedTick)
	}()
	return func() {
		cancel()
		<-done
	}
}
