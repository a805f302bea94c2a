package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"hail/auth"
	"hail/bootstrap"
	"hail/store"
)

func runKey(ctx context.Context, env *environ, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: hail key add|list|revoke")
	}
	switch args[0] {
	case "add":
		return keyAdd(ctx, env, args[1:])
	case "list", "ls":
		return keyList(ctx, env, args[1:])
	case "revoke", "rm":
		return keyRevoke(ctx, env, args[1:])
	}
	return fmt.Errorf("unknown key command %q (want add, list or revoke)", args[0])
}

func keyAdd(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "key add", &db)
	name := fs.String("name", "", "name of the key's holder, shown in logs (required)")
	read := fs.String("read", "", `collections it may read: aliases or ids, comma-separated; "*" for all`)
	write := fs.String("write", "", `collections it may add objects to; "*" for all`)
	admin := fs.Bool("admin", false, "every right on every collection")
	root := fs.String("api-root", bootstrap.APIRootName, "API root of the collections named")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if *name == "" {
		return errors.New("--name is required")
	}
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := ensure(ctx, env, st); err != nil {
		return err
	}
	readIDs, err := resolveCollections(ctx, st, *root, *read)
	if err != nil {
		return err
	}
	writeIDs, err := resolveCollections(ctx, st, *root, *write)
	if err != nil {
		return err
	}
	key, hash := auth.NewKey()
	k := store.Key{ID: uuid.NewString(), Name: *name, Hash: hash, Admin: *admin, Read: readIDs, Write: writeIDs, Created: time.Now()}
	if err := st.CreateKey(ctx, k); err != nil {
		return err
	}
	fmt.Fprintf(env.stderr, "created key %q; it is shown only this once:\n", k.Name)
	fmt.Fprintln(env.stdout, key)
	return nil
}

// keyRow is one line of `hail key list`.
type keyRow struct {
	Name    string     `json:"name"`
	Admin   bool       `json:"admin"`
	Read    []string   `json:"read"`
	Write   []string   `json:"write"`
	Created time.Time  `json:"created"`
	Revoked *time.Time `json:"revoked,omitempty"`
}

func keyList(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "key list", &db)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	keys, err := st.Keys(ctx)
	if err != nil {
		return err
	}
	names, err := collectionNames(ctx, st)
	if err != nil {
		return err
	}
	rows := []keyRow{}
	for _, k := range keys {
		r := keyRow{Name: k.Name, Admin: k.Admin, Read: named(k.Read, names), Write: named(k.Write, names), Created: k.Created}
		if !k.Revoked.IsZero() {
			t := k.Revoked
			r.Revoked = &t
		}
		rows = append(rows, r)
	}
	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tADMIN\tREAD\tWRITE\tCREATED\tSTATE")
	for _, r := range rows {
		state := "active"
		if r.Revoked != nil {
			state = "revoked " + r.Revoked.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%v\t%s\t%s\t%s\t%s\n", r.Name, r.Admin, strings.Join(r.Read, ","), strings.Join(r.Write, ","),
			r.Created.UTC().Format(time.RFC3339), state)
	}
	return tw.Flush()
}

func keyRevoke(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "key revoke", &db)
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: hail key revoke NAME")
	}
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.RevokeKey(ctx, fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "revoked key %q\n", fs.Arg(0))
	return nil
}

// collectionNames maps collection ids to "root/alias" (or the id when a
// collection has no alias) for display.
func collectionNames(ctx context.Context, st store.Store) (map[string]string, error) {
	names := map[string]string{store.AllCollections: store.AllCollections}
	roots, err := st.APIRoots(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range roots {
		cols, err := st.Collections(ctx, r.Name)
		if err != nil {
			return nil, err
		}
		for _, c := range cols {
			n := c.ID
			if c.Alias != "" {
				n = c.Alias
			}
			if len(roots) > 1 {
				n = r.Name + "/" + n
			}
			names[c.ID] = n
		}
	}
	return names, nil
}

func named(ids []string, names map[string]string) []string {
	out := []string{}
	for _, id := range ids {
		if n, ok := names[id]; ok {
			out = append(out, n)
		} else {
			out = append(out, id+" (removed)")
		}
	}
	return out
}

// splitList splits a comma list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
