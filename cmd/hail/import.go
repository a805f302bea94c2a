package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"hail/bootstrap"
	"hail/feed"
	"hail/ingest"
)

func runImport(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "import", &db)
	coll := fs.String("collection", bootstrap.DefaultAlias, "collection alias or id to import into")
	root := fs.String("api-root", bootstrap.APIRootName, "API root of the collection")
	format := fs.String("format", "", "stix, misp, txt, csv or json-list (default: from the file name and content)")
	dryRun := fs.Bool("dry-run", false, "validate only; store nothing")
	batch := fs.Int("batch", ingest.DefaultBatch, "objects per transaction")
	var opt ingest.ListOptions
	fs.StringVar(&opt.Source, "source", "", "IOC lists: producer name, the identity the indicators are created by (MISP: instead of the event's organisation)")
	fs.IntVar(&opt.Confidence, "confidence", 0, "IOC lists and MISP: STIX confidence 1-100")
	fs.StringVar(&opt.TLP, "tlp", "", "IOC lists: clear, green, amber, amber+strict or red (MISP: instead of the events' tlp: tags)")
	labels := fs.String("labels", "", "IOC lists and MISP: comma-separated labels")
	fs.StringVar(&opt.IndicatorType, "indicator-type", "", `IOC lists and MISP: indicator_types value (default "malicious-activity")`)
	spanVar(fs, &opt.TTL, "ttl", 0, "IOC lists and MISP: validity, sets valid_until (e.g. 30d or 720h)")
	columns := fs.String("columns", "", "IOC lists: CSV columns holding indicators, by name or 1-based number")
	allAttributes := fs.Bool("all-attributes", false, "MISP: also the attributes whose to_ids is false, which MISP marks as context")
	snapshot := fs.Bool("snapshot", false, "IOC lists: the list is the source's complete list; revoke the source's indicators it no longer names (needs --source)")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("usage: hail import [--collection ALIAS|ID] FILE|- [FILE ...]")
	}
	if *snapshot && fs.NArg() > 1 {
		return errors.New("--snapshot takes one list: the source's complete list")
	}
	// Mistakes in the command are reported before a store is opened, or
	// made on a new machine.
	if _, err := formatFlag(*format); err != nil {
		return err
	}
	for _, arg := range fs.Args() {
		if _, err := os.Stat(arg); arg != "-" && err != nil {
			return err
		}
	}
	opt.Labels = splitList(*labels)
	opt.Columns = splitList(*columns)

	st, err := db.openImport(ctx)
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
	run := importRun{env: env, im: &ingest.Importer{Store: st, CollectionID: c.ID, BatchSize: *batch, DryRun: *dryRun},
		alias: c.Alias, format: *format, opt: opt, allAttributes: *allAttributes, snapshot: *snapshot,
		several: fs.NArg() > 1}
	failed := 0
	for _, arg := range fs.Args() {
		if err := run.file(ctx, arg); err != nil {
			if !run.several {
				return err
			}
			// One bad file does not stop the others.
			fmt.Fprintf(env.stderr, "hail import %s: %v\n", arg, err)
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files failed", failed, fs.NArg())
	}
	return nil
}

// importRun imports files into one collection with one set of options.
type importRun struct {
	env                              *environ
	im                               *ingest.Importer
	alias, format                    string
	opt                              ingest.ListOptions
	allAttributes, snapshot, several bool
}

// file imports one file (or standard input for "-") and prints its
// summary, headed by its name when the run has several.
func (r *importRun) file(ctx context.Context, arg string) error {
	env := r.env
	in, name, err := openInput(env, arg)
	if err != nil {
		return err
	}
	defer in.Close()
	counted := &countingReader{r: in}
	u, err := ingest.Unpack(counted, "", 0) // a local file: its owner's to size
	if err != nil {
		return err
	}
	defer u.Close()
	input := bufio.NewReaderSize(u, 64<<10)
	kind, err := inputKind(r.format, u.InnerName(name), input)
	if err != nil {
		return err
	}
	if r.allAttributes && kind != ingest.FormatMISP && !r.several {
		return errors.New("--all-attributes is for MISP event exports")
	}
	if r.snapshot && (kind == feed.FormatSTIX || kind == ingest.FormatMISP || r.opt.Source == "") {
		return errors.New("--snapshot needs an IOC list (txt or csv) and its --source")
	}
	if r.several {
		fmt.Fprintf(env.stdout, "%s:\n", arg)
	}
	im, opt := r.im, r.opt
	im.Progress = nil
	start := time.Now()
	if isTerminal(env.stderr) {
		total := inputSize(in)
		if u.Compression == ingest.CompressionZip {
			total = 0 // read whole before the first object: no estimate to give
		}
		im.Progress = func(s ingest.Summary) {
			fmt.Fprintf(env.stderr, "\r%s   ", progressLine(s, counted.n.Load(), total, time.Since(start)))
		}
	}
	sum, revoked, err := feed.Import(ctx, im, input, kind, ingest.MISPOptions{ListOptions: opt, AllAttributes: r.allAttributes}, r.snapshot)
	if im.Progress != nil {
		fmt.Fprintln(env.stderr)
	}
	printSummary(env, sum, r.alias, time.Since(start), im.DryRun)
	if r.snapshot {
		fmt.Fprintf(env.stdout, "%d indicators of %q revoked: the list no longer names them\n", revoked, opt.Source)
	}
	if sum.Revoked > 0 {
		fmt.Fprintf(env.stdout, "%d indicators revoked: their attributes are deleted or no longer for detection\n", sum.Revoked)
	}
	return err
}

func printSummary(env *environ, s ingest.Summary, coll string, took time.Duration, dryRun bool) {
	fmt.Fprintf(env.stdout, "%d read, %d added, %d duplicate, %d rejected into %q in %s\n",
		s.Read, s.Added, s.Duplicates, s.Rejected, coll, took.Round(time.Millisecond))
	if s.NewVersions > 0 {
		fmt.Fprintf(env.stdout, "%d of those added are new versions of objects the collection held\n", s.NewVersions)
	}
	if dryRun {
		fmt.Fprintln(env.stdout, "dry run: validated only, nothing was stored")
	}
	if s.Converted > 0 {
		fmt.Fprintf(env.stdout, "%d STIX 2.0 objects converted to 2.1\n", s.Converted)
	}
	for _, r := range s.Rejections {
		id := ""
		if r.ID != "" {
			id = " " + r.ID
		}
		fmt.Fprintf(env.stdout, "rejected %s%s: %s\n", r.Where, id, r.Reason)
	}
	if s.Rejected > len(s.Rejections) {
		fmt.Fprintf(env.stdout, "... and %d more rejections\n", s.Rejected-len(s.Rejections))
	}
}

// openInput opens FILE, or standard input for "-".
func openInput(env *environ, arg string) (io.ReadCloser, string, error) {
	if arg == "-" {
		return io.NopCloser(env.stdin), "", nil
	}
	f, err := os.Open(arg)
	if err != nil {
		return nil, "", err
	}
	return f, arg, nil
}

// inputSize is the size of a regular file's input, 0 for standard input,
// a pipe or anything else whose size is not known in advance.
func inputSize(in io.Reader) int64 {
	f, ok := in.(*os.File)
	if !ok {
		return 0
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return 0
	}
	return fi.Size()
}

// inputKind decides between a STIX import, a MISP export and an IOC list:
// by --format when given, else by the file's name and the first bytes of
// input (feed.Detect).
func inputKind(format, name string, input *bufio.Reader) (string, error) {
	f, err := formatFlag(format)
	if err != nil || f != "" {
		return f, err
	}
	return feed.Detect(input, name)
}

// formatFlag is the format --format names, "" for none.
func formatFlag(format string) (string, error) {
	f, ok := feed.ParseFormat(format)
	if !ok {
		return "", fmt.Errorf("--format %q: want stix, misp, txt, csv or json-list", format)
	}
	return f, nil
}

// isTerminal reports whether w is a character device, where a progress line
// that rewrites itself is welcome.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
