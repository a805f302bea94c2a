package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"hail"
	"hail/bootstrap"
	"hail/stix"
	"hail/store"
)

func runCollection(ctx context.Context, env *environ, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: hail collection add|list|set|rm|prune")
	}
	switch args[0] {
	case "add":
		return collectionAdd(ctx, env, args[1:])
	case "list", "ls":
		return collectionList(ctx, env, args[1:])
	case "set":
		return collectionSet(ctx, env, args[1:])
	case "rm", "remove", "delete":
		return collectionRemove(ctx, env, args[1:])
	case "prune":
		return collectionPrune(ctx, env, args[1:])
	}
	return fmt.Errorf("unknown collection command %q (want add, list, set, rm or prune)", args[0])
}

// collectionPrune prunes one filter collection, or every filter collection
// of the API root (store.Store.PruneCollection): what hail serve does a
// minute after deletions, for a server restarted meanwhile, or deletions
// made elsewhere.
func collectionPrune(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "collection prune", &db)
	root := fs.String("api-root", bootstrap.APIRootName, "API root")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return errors.New("usage: hail collection prune [ALIAS|ID]")
	}
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	var n int
	if fs.NArg() == 0 {
		n, err = store.PruneAPIRoot(ctx, st, *root)
	} else {
		var c store.Collection
		if c, err = st.Collection(ctx, *root, fs.Arg(0)); err == nil {
			n, err = st.PruneCollection(ctx, c.ID)
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "pruned %d identities and marking definitions that nothing left names\n", n)
	return nil
}

func collectionAdd(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "collection add", &db)
	alias := fs.String("alias", "", "short name, unique within the API root, usable in URLs")
	title := fs.String("title", "", "title shown to TAXII clients (required)")
	id := fs.String("id", "", "UUIDv4 to use as the id (default: a new one); keeps ids consumers already configured")
	desc := fs.String("description", "", "description")
	public := fs.Bool("public", false, "readable without an API key")
	root := fs.String("api-root", bootstrap.APIRootName, "API root")
	filter := fs.String("filter", "", "make a read-only collection of what matches this filter, as JSON "+
		`('{"observables":["ipv4"],"min_confidence":50}') or key=value pairs ('observables=ipv4,ipv6 max_tlp=green'); `+
		"keys: types, observables ("+strings.Join(store.IOCTypes(), ", ")+"), labels, indicator_types, "+
		"min_confidence, max_tlp (clear, green, amber, amber+strict, red), created_by, max_age (36h, 30d, 2w); "+
		`"{}" matches everything`)
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if *title == "" {
		*title = *alias
	}
	if *title == "" {
		return errors.New("--title or --alias is required")
	}
	if *id == "" {
		*id = uuid.NewString()
	} else if !stix.ValidUUIDv4(*id) {
		return fmt.Errorf("--id %q is not a UUIDv4 (TAXII 2.1 and Microsoft Sentinel require one)", *id)
	}
	if *alias != "" && stix.ValidUUID(*alias) {
		return fmt.Errorf("--alias %q looks like a UUID; an alias must not be mistaken for an id", *alias)
	}
	kind := store.KindExplicit
	if *filter != "" {
		kind = store.KindFilter
		if err := checkFilterFlag(*filter); err != nil {
			return err
		}
	}
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := ensure(ctx, env, st); err != nil {
		return err
	}
	c := store.Collection{ID: *id, APIRoot: *root, Alias: *alias, Title: *title, Description: *desc,
		Public: *public, Kind: kind, Filter: *filter, Created: time.Now()}
	// A filter collection is filled from what the API root holds before
	// CreateCollection returns.
	if err := st.CreateCollection(ctx, c); err != nil {
		return err
	}
	if kind == store.KindExplicit {
		fmt.Fprintf(env.stdout, "created collection %s (alias %q) in API root %q\n", c.ID, c.Alias, c.APIRoot)
		return nil
	}
	stats, err := st.CollectionStats(ctx, c.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "created filter collection %s (alias %q) in API root %q, holding %d objects\n",
		c.ID, c.Alias, c.APIRoot, stats.Objects)
	return nil
}

// checkFilterFlag parses --filter before the store is opened, so that a
// typo costs nothing.
func checkFilterFlag(filter string) error {
	if _, err := store.ParseCollectionFilter(filter); err != nil {
		return fmt.Errorf("--filter: %s", hail.ErrorMessage(err))
	}
	return nil
}

// collectionRow is one line of `hail collection list`.
type collectionRow struct {
	ID          string `json:"id"`
	APIRoot     string `json:"api_root"`
	Alias       string `json:"alias,omitempty"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Kind        string `json:"kind"`
	Filter      string `json:"filter,omitempty"`
	Public      bool   `json:"public"`
	Objects     int64  `json:"objects"`
	Versions    int64  `json:"versions"`
}

func collectionList(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "collection list", &db)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	roots, err := st.APIRoots(ctx)
	if err != nil {
		return err
	}
	rows := []collectionRow{}
	for _, r := range roots {
		cols, err := st.Collections(ctx, r.Name)
		if err != nil {
			return err
		}
		for _, c := range cols {
			stats, err := st.CollectionStats(ctx, c.ID)
			if err != nil {
				return err
			}
			kind := c.Kind
			if kind == "" {
				kind = store.KindExplicit
			}
			rows = append(rows, collectionRow{ID: c.ID, APIRoot: c.APIRoot, Alias: c.Alias, Title: c.Title,
				Description: c.Description, Kind: kind, Filter: c.Filter, Public: c.Public,
				Objects: stats.Objects, Versions: stats.Versions})
		}
	}
	if *asJSON {
		return printJSON(env, rows)
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tAPI ROOT\tALIAS\tTITLE\tKIND\tPUBLIC\tOBJECTS\tVERSIONS\tFILTER")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%v\t%d\t%d\t%s\n", r.ID, r.APIRoot, r.Alias, r.Title, r.Kind, r.Public,
			r.Objects, r.Versions, r.Filter)
	}
	return tw.Flush()
}

// collectionSet changes what `collection add` set, but the id and kind:
// only the flags given change.
func collectionSet(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "collection set", &db)
	root := fs.String("api-root", bootstrap.APIRootName, "API root")
	title := fs.String("title", "", "new title")
	desc := fs.String("description", "", "new description")
	alias := fs.String("alias", "", `new alias ("" removes it)`)
	public := fs.Bool("public", false, "readable without an API key (--public=false makes it private)")
	filter := fs.String("filter", "", "a filter collection's new filter, in the forms collection add takes; "+
		"what the collection holds is redone to match it")
	name, err := parseNamed(fs, env, args,
		"hail collection set ALIAS|ID [--title T] [--description D] [--alias A] [--public=true|false] [--filter F]")
	if err != nil {
		return err
	}
	var u store.CollectionUpdate
	refilter := false
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "filter":
			refilter = true
		case "title":
			u.Title = title
		case "description":
			u.Description = desc
		case "alias":
			u.Alias = alias
		case "public":
			u.Public = public
		}
	})
	if u == (store.CollectionUpdate{}) && !refilter {
		return errors.New("nothing to change: give --title, --description, --alias, --public or --filter")
	}
	if refilter {
		if err := checkFilterFlag(*filter); err != nil {
			return err
		}
	}
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	c, err := st.Collection(ctx, *root, name)
	if err != nil {
		return err
	}
	if refilter && c.Kind != store.KindFilter {
		return fmt.Errorf("--filter: collection %s is explicit; only a filter collection has a filter", c.ID)
	}
	if u != (store.CollectionUpdate{}) {
		if c, err = st.UpdateCollection(ctx, c.ID, u); err != nil {
			return err
		}
	}
	fmt.Fprintf(env.stdout, "collection %s: alias %q, title %q, public %v\n", c.ID, c.Alias, c.Title, c.Public)
	if !refilter {
		return nil
	}
	if err := st.RefilterCollection(ctx, c.ID, *filter); err != nil {
		return err
	}
	stats, err := st.CollectionStats(ctx, c.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "refiltered: it holds %d objects\n", stats.Objects)
	return nil
}

func collectionRemove(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "collection rm", &db)
	root := fs.String("api-root", bootstrap.APIRootName, "API root")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: hail collection rm ALIAS|ID")
	}
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	c, err := st.Collection(ctx, *root, fs.Arg(0))
	if err != nil {
		return err
	}
	if err := st.DeleteCollection(ctx, c.ID); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "removed collection %s (alias %q)\n", c.ID, c.Alias)
	if c.Kind != store.KindFilter {
		// Its versions left the root's filter collections; the creators
		// and markings only they named go too.
		n, err := store.PruneAPIRoot(ctx, st, c.APIRoot)
		if err != nil {
			return fmt.Errorf("prune the filter collections of API root %q: %w", c.APIRoot, err)
		}
		if n > 0 {
			fmt.Fprintf(env.stdout, "pruned %d identities and marking definitions that nothing left names from the filter collections\n", n)
		}
	}
	return nil
}

// resolveCollections turns a comma list of aliases or ids into collection
// ids; "*" stands for every collection, present and future.
func resolveCollections(ctx context.Context, st store.Store, root, list string) ([]string, error) {
	var ids []string
	for _, name := range splitList(list) {
		if name == store.AllCollections {
			ids = append(ids, store.AllCollections)
			continue
		}
		c, err := st.Collection(ctx, root, name)
		if hail.ErrorCode(err) == hail.ENOTFOUND {
			return nil, fmt.Errorf("no collection %q in API root %q", name, root)
		} else if err != nil {
			return nil, err
		}
		ids = append(ids, c.ID)
	}
	return ids, nil
}
