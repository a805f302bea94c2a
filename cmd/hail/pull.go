package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"hail"
	"hail/bootstrap"
	"hail/client"
	"hail/ingest"
	"hail/store"
	"hail/taxii"
)

// Environment variables that carry pull's secrets, so that they need not
// appear on the command line, where other users can read them.
const (
	envPullPassword = "HAIL_PULL_PASSWORD"
	envPullToken    = "HAIL_PULL_TOKEN"
)

// maxListedRejections bounds the rejections pull lists; it counts them all.
const maxListedRejections = 100

func runPull(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "pull", &db)
	apiRoot := fs.String("url", "", "API root URL of the remote TAXII 2.1 server, such as https://host/taxii2/api/ (required)")
	remote := fs.String("taxii-collection", "", "remote collection id or alias (required)")
	coll := fs.String("collection", bootstrap.DefaultAlias, "local collection alias or id to add into")
	root := fs.String("api-root", bootstrap.APIRootName, "local API root of the collection")
	user := fs.String("user", "", "HTTP Basic user name")
	password := fs.String("password", "", "HTTP Basic password (env "+envPullPassword+")")
	token := fs.String("token", "", "API key sent as Authorization: Bearer (env "+envPullToken+")")
	addedAfter := fs.String("added-after", "", "pull only what the remote added after this timestamp: the high-water mark of the last pull")
	insecure := fs.Bool("insecure", false, "accept any TLS certificate (test servers only)")
	var tf tlsFiles
	tf.flags(fs, "")
	limit := fs.Int("limit", 0, "objects per page asked of the server (default: the server's choice)")
	batch := fs.Int("batch", ingest.DefaultBatch, "objects per transaction")
	allVersions := fs.Bool("all-versions", false, "mirror every version of the remote objects, not only the latest")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if *apiRoot == "" || *remote == "" || fs.NArg() != 0 {
		return errors.New("usage: hail pull --url API_ROOT_URL --taxii-collection ID|ALIAS [--collection ALIAS] [--token KEY | --user U --password P]")
	}
	var after time.Time
	if *addedAfter != "" {
		t, err := taxii.ParseTimestamp(*addedAfter)
		if err != nil {
			return fmt.Errorf("--added-after %q is not a timestamp such as 2025-05-01T00:00:00Z", *addedAfter)
		}
		after = t
	}
	opts, err := pullOptions(env, *user, *password, *token, *insecure, tf)
	if err != nil {
		return err
	}
	cl, err := client.New(*apiRoot, opts...)
	if err != nil {
		return err
	}

	st, err := db.openBulk(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := ensure(ctx, env, st); err != nil {
		return err
	}
	local, err := st.Collection(ctx, *root, *coll)
	if hail.ErrorCode(err) == hail.ENOTFOUND {
		return fmt.Errorf("no collection %q in API root %q; create it with: hail collection add --alias %s", *coll, *root, *coll)
	} else if err != nil {
		return err
	}
	if local.Kind == store.KindFilter {
		return fmt.Errorf("collection %q is a filter collection, which holds what matches its filter; pull into an explicit one", *coll)
	}
	given := cl.URL()
	cl, rc, err := remoteCollection(ctx, cl, *remote)
	if err != nil {
		return remoteError(cl, err)
	}
	if cl.URL() != given {
		fmt.Fprintf(env.stderr, "%s is a discovery URL: pulling from its API root %s\n", given, cl.URL())
	}
	name := local.Alias
	if name == "" {
		name = local.ID
	}
	fmt.Fprintf(env.stderr, "pulling %q (%s) from %s into %q\n", rc.Title, rc.ID, cl.URL(), name)

	p := &puller{env: env, progressLine: isTerminal(env.stderr),
		in: ingest.Puller{Store: st, CollectionID: local.ID, BatchSize: max(*batch, 1)}}
	p.in.Reject = p.reject
	p.in.Resume(after)
	start := time.Now()
	filter := client.Filter{AddedAfter: after, Limit: *limit}
	if *allVersions {
		filter.Versions = []string{"all"}
	}
	last, err := cl.WalkAhead(ctx, rc.ID, filter, func(page client.Page) error {
		if err := p.in.Add(ctx, page.Objects, page.DateAddedLast); err != nil {
			return err
		}
		p.progress(page.DateAddedLast, time.Since(start))
		return nil
	})
	// What was fetched and checked is stored whatever stopped the walk;
	// the high-water mark is then what the walk accepted, unless storing
	// failed: then it is what was stored.
	if ferr := p.in.Finish(ctx); ferr != nil && err == nil {
		err = ferr
	}
	if p.in.Failed() != nil {
		last = p.in.Stored()
	}
	if p.progressLine {
		fmt.Fprintln(env.stderr)
	}
	if cl.TAXII20() {
		fmt.Fprintln(env.stderr, "the server speaks TAXII 2.0: its STIX 2.0 objects were converted to 2.1")
	}
	p.summary(last, time.Since(start))
	if err != nil {
		resume := "run the same pull again to go on"
		if !last.IsZero() {
			resume = "run again with --added-after " + formatMark(last) + " to go on"
		}
		fmt.Fprintf(env.stderr, "pull stopped; what was added is kept: %s\n", resume)
		return remoteError(cl, err)
	}
	return nil
}

// remoteError names the remote server in an error that came from it,
// keeping its hail code so that the message reaches the user.
func remoteError(cl *client.Client, err error) error {
	if code := hail.ErrorCode(err); code != hail.EINTERNAL {
		return &hail.Error{Code: code, Message: cl.URL() + ": " + hail.ErrorMessage(err)}
	}
	return fmt.Errorf("%s: %w", cl.URL(), err)
}

// pullOptions turns the connection flags into client options. Flags win
// over the environment; Basic and bearer credentials exclude each other.
func pullOptions(env *environ, user, password, token string, insecure bool, tf tlsFiles) ([]client.Option, error) {
	if password == "" {
		password = env.getenv(envPullPassword)
	}
	if token == "" && user == "" && password == "" {
		token = env.getenv(envPullToken)
	}
	if token != "" && (user != "" || password != "") {
		return nil, errors.New("give --token or --user/--password, not both")
	}
	opts := []client.Option{client.WithUserAgent("hail-pull/" + hail.Version)}
	switch {
	case token != "":
		opts = append(opts, client.WithToken(token))
	case user != "" || password != "":
		opts = append(opts, client.WithBasicAuth(user, password))
	}
	if insecure {
		opts = append(opts, client.WithInsecureSkipVerify())
	}
	ca, cert, key, err := tf.read()
	if err != nil {
		return nil, err
	}
	if ca != "" {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM([]byte(ca))
		opts = append(opts, client.WithRootCAs(pool))
	}
	if cert != "" {
		pair, _ := tls.X509KeyPair([]byte(cert), []byte(key)) // checked by read
		opts = append(opts, client.WithClientCertificate(pair))
	}
	return opts, nil
}

// remoteCollection finds the remote collection named by id or alias among
// those the server lists, and asks for it directly when it is not listed:
// hail and some other servers also answer to an alias in the URL. It
// returns the client of the API root it found it in: cl's, or the default
// one of the discovery resource at cl's URL (client.FindCollections).
func remoteCollection(ctx context.Context, cl *client.Client, idOrAlias string) (*client.Client, taxii.Collection, error) {
	cl, cols, err := cl.FindCollections(ctx)
	if err != nil && hail.ErrorCode(err) != hail.ENOTFOUND {
		return cl, taxii.Collection{}, err
	}
	found := -1
	for i, c := range cols {
		if c.ID == idOrAlias {
			found = i
			break
		}
		if c.Alias == idOrAlias && found < 0 {
			found = i
		}
	}
	var c taxii.Collection
	if found >= 0 {
		c = cols[found]
	} else if c, err = cl.Collection(ctx, idOrAlias); hail.ErrorCode(err) == hail.ENOTFOUND {
		return cl, c, fmt.Errorf("the server lists no collection %q that these credentials can see%s", idOrAlias, listed(cols))
	} else if err != nil {
		return cl, c, err
	}
	if !c.CanRead {
		return cl, c, fmt.Errorf("the server's collection %q (%s) is not readable with these credentials", c.Title, c.ID)
	}
	return cl, c, nil
}

// listed names the collections a server offers, for an error message.
func listed(cols []taxii.Collection) string {
	if len(cols) == 0 {
		return ""
	}
	s := "; it lists"
	for i, c := range cols {
		if i > 0 {
			s += ","
		}
		s += " " + c.ID
		if c.Alias != "" {
			s += " (" + c.Alias + ")"
		}
	}
	return s
}

// puller reports a pull's progress: ingest.Puller does the work.
type puller struct {
	in           ingest.Puller
	env          *environ
	progressLine bool // rewrite one progress line (a terminal) rather than print one now and then
	listed       int  // rejections listed on stderr
	// logged is when the last progress line went to a log (stderr that
	// is not a terminal), which gets one every progressLogEvery.
	logged time.Duration
}

// progressLogEvery spaces the progress lines of a pull whose stderr is a
// log, such as a cron job's: a line per page would be a thousand lines for
// a million objects.
const progressLogEvery = 10 * time.Second

// reject lists the first rejected objects on stderr.
func (p *puller) reject(id, reason string) {
	p.listed++
	if id == "" {
		id = fmt.Sprintf("object %d (no id)", p.in.Summary().Read)
	}
	switch {
	case p.listed <= maxListedRejections:
		if p.progressLine {
			fmt.Fprintln(p.env.stderr)
		}
		fmt.Fprintf(p.env.stderr, "rejected %s: %s\n", id, reason)
	case p.listed == maxListedRejections+1:
		fmt.Fprintf(p.env.stderr, "more rejections are counted but not listed\n")
	}
}

// progress reports the totals: on a terminal after every page, in a log
// every progressLogEvery.
func (p *puller) progress(mark time.Time, took time.Duration) {
	if !p.progressLine {
		if took-p.logged < progressLogEvery {
			return
		}
		p.logged = took
	}
	s := p.in.Summary()
	line := fmt.Sprintf("%d fetched, %d added, %d duplicate, %d rejected (%.0f/s), up to %s",
		s.Read, s.Added, s.Duplicates, s.Rejected, float64(s.Read)/max(took.Seconds(), 1e-3), formatMark(mark))
	if p.progressLine {
		fmt.Fprintf(p.env.stderr, "\r%s   ", line)
	} else {
		fmt.Fprintln(p.env.stderr, line)
	}
}

// summary prints the totals and the high-water mark to stdout.
func (p *puller) summary(mark time.Time, took time.Duration) {
	s := p.in.Summary()
	fmt.Fprintf(p.env.stdout, "fetched:      %d\nadded:        %d\nnew versions: %d\nduplicates:   %d\nrejected:     %d\nhigh-water:   %s\ntook:         %s\n",
		s.Read, s.Added, s.NewVersions, s.Duplicates, s.Rejected, formatMark(mark), took.Round(time.Millisecond))
}

// formatMark formats a high-water mark, "none" before anything was pulled.
func formatMark(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return taxii.FormatTimestamp(t)
}
