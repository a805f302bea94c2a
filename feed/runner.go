package feed

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"hail"
	"hail/client"
	"hail/ingest"
	"hail/store"
)

// DefaultTimeout bounds one run of a feed unless Runner.Timeout says
// otherwise: a source that stalls must not hold the feed's lease forever.
const DefaultTimeout = 30 * time.Minute

// Runner runs one feed at a time into the store. The zero value, with
// Store set, is usable.
type Runner struct {
	Store store.Store
	// HTTPClient fetches HTTP feeds and carries TAXII requests; nil means
	// a client of Go's default transport.
	HTTPClient *http.Client
	// ClientOptions are added to the TAXII client's options (retries,
	// back-off).
	ClientOptions []client.Option
	// Timeout bounds a run (DefaultTimeout when 0).
	Timeout time.Duration
	// Now is the clock of run records and new versions (time.Now when nil).
	Now func() time.Time
	// BatchSize is the number of objects per transaction (ingest's default
	// when 0).
	BatchSize int
	// MaxSize bounds an HTTP feed's content per fetch, decompressed
	// (DefaultMaxSize when 0).
	MaxSize int64
}

// DefaultMaxSize is Runner's default bound on an HTTP feed's content: far
// above the largest public lists (abuse.ch's full URLhaus export is a few
// hundred MB unpacked), far below what a gzip bomb of a few MB unpacks to.
const DefaultMaxSize = 4 << 30

func (r *Runner) now() time.Time {
	if r.Now == nil {
		return time.Now().UTC()
	}
	return r.Now().UTC()
}

func (r *Runner) httpClient() *http.Client {
	if r.HTTPClient == nil {
		return &http.Client{}
	}
	return r.HTTPClient
}

// Run runs f once from its mark and returns the run record and the mark to
// start from next time. A failed run has Error set and a mark that covers
// what it did store: for TAXII, just before the mark of the pages added
// before the failure, since the remote may hold more objects added at that
// instant (taxii.JustBefore); for an HTTP feed, the previous mark, since a
// list is stored whole or not at all as far as its validators go.
func (r *Runner) Run(ctx context.Context, f store.Feed) (store.FeedRun, store.FeedMark) {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	run := store.FeedRun{Started: r.now()}
	im := &ingest.Importer{Store: r.Store, CollectionID: f.CollectionID, BatchSize: r.BatchSize}
	var mark store.FeedMark
	var err error
	if f.Kind == store.FeedTAXII21 {
		mark, err = r.runTAXII(ctx, f, im, &run)
	} else {
		mark, err = r.runHTTP(ctx, f, im, &run)
	}
	if err != nil {
		// A hail error's message (from the remote, when it answered
		// one), else the error itself, such as a network failure.
		var he *hail.Error
		if errors.As(err, &he) {
			run.Error = he.Message
		} else {
			run.Error = err.Error()
		}
	}
	run.Ended = r.now()
	return run, mark
}

// count adds an import summary to a run.
func count(run *store.FeedRun, s ingest.Summary) {
	run.Read += s.Read
	run.Added += s.Added
	run.NewVersions += s.NewVersions
	run.Duplicates += s.Duplicates
	run.Rejected += s.Rejected
	run.Revoked += s.Revoked
	for _, r := range s.Rejections {
		if len(run.Rejections) == store.MaxRunRejections {
			break
		}
		run.Rejections = append(run.Rejections, store.FeedRejection{Where: r.Where, ID: r.ID, Reason: r.Reason})
	}
}

// runTAXII walks the remote collection from the feed's added_after mark
// and adds what it reads as `hail pull` does (ingest.Puller): checked (and
// converted from STIX 2.0) as files are, in transactions that span pages,
// each stored while the next pages are fetched.
func (r *Runner) runTAXII(ctx context.Context, f store.Feed, im *ingest.Importer, run *store.FeedRun) (store.FeedMark, error) {
	mark := f.Mark
	opts := []client.Option{client.WithHTTPClient(r.httpClient()), client.WithUserAgent("hail-feed/" + hail.Version)}
	switch {
	case f.Token != "":
		opts = append(opts, client.WithToken(f.Token))
	case f.User != "" || f.Password != "":
		opts = append(opts, client.WithBasicAuth(f.User, f.Password))
	}
	if f.Insecure {
		opts = append(opts, client.WithInsecureSkipVerify())
	}
	pool, err := f.RootCAs()
	if err != nil {
		return mark, err
	}
	if pool != nil {
		opts = append(opts, client.WithRootCAs(pool))
	}
	cert, err := f.Certificate()
	if err != nil {
		return mark, err
	}
	if cert != nil {
		opts = append(opts, client.WithClientCertificate(*cert))
	}
	cl, err := client.New(f.URL, append(opts, r.ClientOptions...)...)
	if err != nil {
		return mark, err
	}
	cl, collID, err := remoteCollection(ctx, cl, f.TAXIICollection)
	if err != nil {
		return mark, err
	}
	pl := &ingest.Puller{Store: im.Store, CollectionID: im.CollectionID, BatchSize: im.BatchSize}
	pl.Resume(f.Mark.AddedAfter)
	filter := client.Filter{AddedAfter: f.Mark.AddedAfter}
	if f.AllVersions {
		filter.Versions = []string{"all"}
	}
	last, err := cl.WalkAhead(ctx, collID, filter, func(p client.Page) error {
		return pl.Add(ctx, p.Objects, p.DateAddedLast)
	})
	// What the walk accepted is stored whatever stopped it; the mark is
	// then the walk's, unless storing failed: then it is what was stored.
	if ferr := pl.Finish(ctx); ferr != nil && err == nil {
		err = ferr
	}
	if pl.Failed() != nil {
		last = pl.Stored()
	}
	count(run, pl.Summary())
	mark.AddedAfter = last
	if err != nil {
		return mark, fmt.Errorf("%s: %w", cl.URL(), err)
	}
	return mark, nil
}

// remoteCollection returns the id of the remote collection named by id or
// alias: the collection the server lists with that id, else with that
// alias, else the name as given, which hail and some servers also accept;
// and the client of the API root that lists it: cl's, or the default one
// of the discovery resource at cl's URL (client.FindCollections).
func remoteCollection(ctx context.Context, cl *client.Client, idOrAlias string) (*client.Client, string, error) {
	cl, cols, err := cl.FindCollections(ctx)
	if err != nil && hail.ErrorCode(err) != hail.ENOTFOUND {
		return cl, "", fmt.Errorf("%s: %w", cl.URL(), err)
	}
	for _, c := range cols {
		if c.ID == idOrAlias {
			return cl, c.ID, nil
		}
	}
	for _, c := range cols {
		if c.Alias == idOrAlias {
			return cl, c.ID, nil
		}
	}
	return cl, idOrAlias, nil
}

// runHTTP fetches a STIX bundle, IOC list or MISP event with the
// validators of the last fetch (RFC 9110 §13.1.1, §13.1.3), and imports it
// unless the source answers 304 Not Modified. A misp feed whose URL names
// a MISP feed, its directory or manifest.json, is read as the feed
// (runMISPFeed).
func (r *Runner) runHTTP(ctx context.Context, f store.Feed, im *ingest.Importer, run *store.FeedRun) (store.FeedMark, error) {
	if f.Kind == store.FeedMISP {
		if manifest, ok := mispFeedURL(f.URL); ok {
			return r.runMISPFeed(ctx, f, im, run, manifest)
		}
	}
	body, err := r.fetch(ctx, f, f.URL, f.Mark)
	if err != nil || body == nil {
		run.NotChanged = err == nil
		return f.Mark, err
	}
	defer body.Close()
	format := f.Kind // the list kinds and FeedMISP are ingest's format names
	if f.Kind == store.FeedSTIXBundle {
		format = FormatSTIX
	}
	input := bufio.NewReaderSize(body, 64<<10)
	if format == ingest.FormatText {
		// A txt feed that serves CSV (abuse.ch's exports, whose
		// download is named csv.txt) is read as CSV: as plain lines
		// every row would be rejected.
		head, err := input.Peek(DetectHead)
		if err != nil && err != io.EOF {
			return f.Mark, err // the source failed, or the run's time ran out
		}
		if ingest.SniffCSV(head) {
			format = ingest.FormatCSV
		}
	}
	s, revoked, err := Import(ctx, im, input, format, mispOptions(f, r.now), f.List.Snapshot)
	run.Revoked += revoked
	count(run, s)
	if err != nil {
		return f.Mark, err
	}
	return store.FeedMark{ETag: body.header.Get("ETag"), LastModified: body.header.Get("Last-Modified")}, nil
}

// fetched is a source's answer with its compression taken off.
type fetched struct {
	*ingest.Unpacked
	header http.Header
	body   io.Closer
}

func (b *fetched) Close() error {
	err := b.Unpacked.Close()
	if cerr := b.body.Close(); err == nil {
		err = cerr
	}
	return err
}

// fetch gets url as get does, and takes off a gzip or zip compression:
// many lists are published so (abuse.ch's full exports), under a
// Content-Type that says so or not. It returns nil, and no error, when the
// source answers 304 Not Modified.
func (r *Runner) fetch(ctx context.Context, f store.Feed, url string, mark store.FeedMark) (*fetched, error) {
	resp, err := r.get(ctx, f, url, mark)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusNotModified {
		resp.Body.Close()
		return nil, nil
	}
	max := r.MaxSize
	if max <= 0 {
		max = DefaultMaxSize
	}
	body, err := ingest.Unpack(resp.Body, "", max)
	if err != nil {
		resp.Body.Close()
		return nil, err
	}
	return &fetched{Unpacked: body, header: resp.Header, body: resp.Body}, nil
}

// get fetches url for f, with f's credentials and TLS settings and, from
// mark, the validators of the last fetch. It returns a response of 200 or
// 304 Not Modified, whose body the caller closes, or an error for any
// other status.
func (r *Runner) get(ctx context.Context, f store.Feed, url string, mark store.FeedMark) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, hail.Errorf(hail.EINVALID, "Feed URL %q: %v", url, err)
	}
	req.Header.Set("User-Agent", "hail-feed/"+hail.Version)
	if mark.ETag != "" {
		req.Header.Set("If-None-Match", mark.ETag)
	}
	if mark.LastModified != "" {
		req.Header.Set("If-Modified-Since", mark.LastModified)
	}
	switch {
	case f.Token != "":
		req.Header.Set("Authorization", "Bearer "+f.Token)
	case f.User != "" || f.Password != "":
		req.SetBasicAuth(f.User, f.Password)
	}
	hc, err := tlsClient(r.httpClient(), f)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotModified {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		return nil, &statusError{url: url, status: resp.Status, code: resp.StatusCode}
	}
	return resp, nil
}

// statusError is a source's answer other than 200 or 304.
type statusError struct {
	url, status string
	code        int
}

func (e *statusError) Error() string { return fmt.Sprintf("%s answered %s", e.url, e.status) }

// mispOptions are the ingest options of an IOC list or MISP feed.
func mispOptions(f store.Feed, now func() time.Time) ingest.MISPOptions {
	return ingest.MISPOptions{ListOptions: listOptions(f, now), AllAttributes: f.List.AllAttributes}
}

// listOptions are the ingest options of an IOC list feed.
func listOptions(f store.Feed, now func() time.Time) ingest.ListOptions {
	return ingest.ListOptions{
		Source: f.List.Source, TLP: f.List.TLP, Confidence: f.List.Confidence, TTL: f.List.TTL,
		Labels: f.List.Labels, Columns: f.List.Columns, Format: f.Kind, Now: now,
	}
}

// tlsClient returns hc, or a copy of it with f's TLS settings: any
// certificate accepted (Insecure), or verified against f's CA, and f's
// client certificate.
func tlsClient(hc *http.Client, f store.Feed) (*http.Client, error) {
	pool, err := f.RootCAs()
	if err != nil {
		return hc, err
	}
	cert, err := f.Certificate()
	if err != nil || (!f.Insecure && pool == nil && cert == nil) {
		return hc, err
	}
	c := *hc
	var t *http.Transport
	if base, ok := hc.Transport.(*http.Transport); ok {
		t = base.Clone()
	} else {
		t = http.DefaultTransport.(*http.Transport).Clone()
	}
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{}
	}
	if pool != nil {
		t.TLSClientConfig.RootCAs = pool
	}
	if f.Insecure {
		t.TLSClientConfig.InsecureSkipVerify = true // asked for by the feed's Insecure flag
	}
	if cert != nil {
		t.TLSClientConfig.Certificates = []tls.Certificate{*cert}
	}
	c.Transport = t
	return &c, nil
}

// Check validates f as a new feed: its settings (store.Feed.Validate), its
// name, and what an IOC list feed states in its indicators, which a run
// would otherwise refuse line by line. Feeds stored before these rules
// keep working: only new ones are checked.
func Check(f store.Feed) error {
	if err := f.Validate(); err != nil {
		return err
	}
	if !validName(f.Name) {
		return hail.Errorf(hail.EINVALID, "Feed name %q: use up to 64 letters, digits, '.', '_' or '-', so that it fits a URL path and a command line.", f.Name)
	}
	if err := listOptions(f, nil).Check(); err != nil {
		return hail.Errorf(hail.EINVALID, "Feed %q: %s", f.Name, hail.ErrorMessage(err))
	}
	return nil
}

// validName reports whether a new feed's name is 1 to 64 ASCII letters,
// digits, '.', '_' or '-', not starting with '.' or '-': a path segment of
// /api/v1/feeds/{name}/ and an argument of hail feed run.
func validName(name string) bool {
	if name == "" || len(name) > 64 || name[0] == '.' || name[0] == '-' {
		return false
	}
	for _, c := range []byte(name) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}
