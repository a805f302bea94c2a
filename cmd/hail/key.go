package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"hail/auth"
	"hail/bootstrap"
	"hail/limit"
	"hail/store"
)

func runKey(ctx context.Context, env *environ, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: hail key add|list|set|show|revoke")
	}
	switch args[0] {
	case "add":
		return keyAdd(ctx, env, args[1:])
	case "list", "ls":
		return keyList(ctx, env, args[1:])
	case "revoke", "rm":
		return keyRevoke(ctx, env, args[1:])
	case "set":
		return keySet(ctx, env, args[1:])
	case "show":
		return keyShow(ctx, env, args[1:])
	}
	return fmt.Errorf("unknown key command %q (want add, list, set, show or revoke)", args[0])
}

func keyAdd(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "key add", &db)
	name := fs.String("name", "", "name of the key's holder, shown in logs (required)")
	read := fs.String("read", "", `collections it may read: aliases or ids, comma-separated; "*" for all`)
	write := fs.String("write", "", `collections it may add objects to; "*" for all`)
	admin := fs.Bool("admin", false, "every right on every collection")
	root := fs.String("api-root", bootstrap.APIRootName, "API root of the collections named")
	plan := fs.String("plan", "", "plan the key is on (hail plan list); default: the built-in unrestricted plan")
	expires := fs.String("expires", "", "when the key stops working: a time, a date, or a span such as 90d; default never")
	allowIP := fs.String("allow-ip", "", "addresses or CIDR blocks the key may be used from, comma-separated; default any")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if *name == "" {
		return errors.New("--name is required")
	}
	exp, err := parseExpiry(*expires, time.Now())
	if err != nil {
		return err
	}
	ips, err := limit.ParsePrefixes(splitList(*allowIP))
	if err != nil {
		return fmt.Errorf("--allow-ip: %s", message(err))
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
	planName, err := resolvePlan(ctx, st, *plan)
	if err != nil {
		return err
	}
	key, hash := auth.NewKey()
	k := store.Key{ID: uuid.NewString(), Name: *name, Hash: hash, Admin: *admin, Read: readIDs, Write: writeIDs, Created: time.Now(),
		Plan: planName, Expires: exp, AllowIPs: ips}
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
	// Plan, Expires and AllowIPs are the key's limits (hail plan).
	Plan     string     `json:"plan"`
	Expires  *time.Time `json:"expires,omitempty"`
	AllowIPs []string   `json:"allow_ips,omitempty"`
	// Stale is true for an unrevoked key whose plan expects polls and that
	// has not polled for longer than limit.StaleFactor of its intervals.
	Stale bool `json:"stale"`
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
	plans, err := planMap(ctx, st)
	if err != nil {
		return err
	}
	rows := []keyRow{}
	for _, k := range keys {
		r := keyRow{Name: k.Name, Admin: k.Admin, Read: named(k.Read, names), Write: named(k.Write, names), Created: k.Created,
			Plan: cmpOr(k.Plan, store.UnrestrictedPlan), AllowIPs: k.AllowIPs}
		if !k.Expires.IsZero() {
			t := k.Expires
			r.Expires = &t
		}
		if p, ok := plans[k.Plan]; ok && p.MinPollInterval > 0 && k.Revoked.IsZero() {
			acts, err := st.Activity(ctx, k.Name, time.Now())
			if err != nil {
				return err
			}
			r.Stale = limit.Stale(acts, p, time.Now())
		}
		if !k.Revoked.IsZero() {
			t := k.Revoked
			r.Revoked = &t
		}
		rows = append(rows, r)
	}
	if *asJSON {
		return printJSON(env, rows)
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tADMIN\tREAD\tWRITE\tPLAN\tCREATED\tSTATE")
	for _, r := range rows {
		state := "active"
		if r.Revoked != nil {
			state = "revoked " + r.Revoked.UTC().Format(time.RFC3339)
		} else if r.Expires != nil {
			state = "expires " + r.Expires.UTC().Format(time.RFC3339)
		}
		if r.Stale {
			state += ", stale"
		}
		fmt.Fprintf(tw, "%s\t%v\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Admin, strings.Join(r.Read, ","), strings.Join(r.Write, ","),
			r.Plan, r.Created.UTC().Format(time.RFC3339), state)
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

func keySet(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "key set", &db)
	plan := fs.String("plan", "", `plan to put the key on; "unrestricted" for the built-in plan`)
	expires := fs.String("expires", "", `when the key stops working: a time, a date, a span such as 90d, or "never"`)
	allowIP := fs.String("allow-ip", "", `addresses or CIDR blocks the key may be used from, comma-separated; "any" for all`)
	name, err := parseNamed(fs, env, args, "hail key set NAME [--plan PLAN] [--expires WHEN|never] [--allow-ip RANGES|any]")
	if err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if !given["plan"] && !given["expires"] && !given["allow-ip"] {
		return errors.New("nothing to set: give --plan, --expires or --allow-ip")
	}
	var u store.KeyUpdate
	if given["expires"] {
		t, err := parseExpiry(*expires, time.Now())
		if err != nil {
			return err
		}
		u.Expires = &t
	}
	if given["allow-ip"] {
		list := splitList(*allowIP)
		if len(list) == 1 && list[0] == "any" {
			list = nil
		}
		ips, err := limit.ParsePrefixes(list)
		if err != nil {
			return fmt.Errorf("--allow-ip: %s", message(err))
		}
		u.AllowIPs = &ips
	}
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if given["plan"] {
		p, err := resolvePlan(ctx, st, *plan)
		if err != nil {
			return err
		}
		u.Plan = &p
	}
	if err := st.UpdateKey(ctx, name, u); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "updated key %q\n", name)
	return nil
}

func keyShow(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "key show", &db)
	name, err := parseNamed(fs, env, args, "hail key show NAME")
	if err != nil {
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
	i := slices.IndexFunc(keys, func(k store.Key) bool { return k.Name == name })
	if i < 0 {
		return fmt.Errorf("no key named %q", name)
	}
	k, now := keys[i], time.Now()
	plan := store.Plan{Name: store.UnrestrictedPlan}
	if k.Plan != "" {
		if plan, err = st.Plan(ctx, k.Plan); err != nil {
			plan = store.Plan{Name: k.Plan + " (missing: requests are refused)"}
		}
	}
	acts, err := st.Activity(ctx, k.Name, now.Add(-24*time.Hour))
	if err != nil {
		return err
	}
	names, err := collectionNames(ctx, st)
	if err != nil {
		return err
	}
	w := env.stdout
	fmt.Fprintf(w, "key %s\n  plan:     %s: %s\n", k.Name, plan.Name, describePlan(plan))
	fmt.Fprintf(w, "  admin:    %v\n  read:     %s\n  write:    %s\n", k.Admin,
		strings.Join(named(k.Read, names), ","), strings.Join(named(k.Write, names), ","))
	state := "active"
	switch {
	case !k.Revoked.IsZero():
		state = "revoked " + k.Revoked.UTC().Format(time.RFC3339)
	case !k.Expires.IsZero() && !now.Before(k.Expires):
		state = "expired " + k.Expires.UTC().Format(time.RFC3339)
	case !k.Expires.IsZero():
		state = "active, expires " + k.Expires.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(w, "  state:    %s\n  from:     %s\n", state, cmpOr(strings.Join(k.AllowIPs, ","), "any address"))
	if plan.MinPollInterval > 0 {
		stale := "no"
		if limit.Stale(acts, plan, now) {
			stale = fmt.Sprintf("yes: no poll for longer than %d × %s", limit.StaleFactor, plan.MinPollInterval)
		}
		fmt.Fprintf(w, "  stale:    %s\n", stale)
	}
	if len(acts) == 0 {
		fmt.Fprintln(w, "\nno activity recorded")
		return nil
	}
	fmt.Fprintln(w)
	for _, a := range acts {
		if a.Polls > 0 {
			fmt.Fprintln(w, limit.Describe(a, displayName(a.Collection, names), 24*time.Hour))
		}
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COLLECTION\tREQUESTS\tPOLLS\tOBJECTS\tBYTES\tFIRST\tLAST\tLAST ADDED_AFTER\tLAST DATE_ADDED\tERRORS")
	for _, a := range acts {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", cmpOr(displayName(a.Collection, names), "-"),
			a.Requests, a.Polls, a.Objects, a.Bytes, when(a.First), when(a.Last), when(a.LastAddedAfter),
			when(a.LastDateAddedLast), errorCounts(a.Errors))
	}
	return tw.Flush()
}

// displayName shows a collection by alias when the activity names it by id.
func displayName(c string, names map[string]string) string {
	if n, ok := names[c]; ok {
		return n
	}
	return c
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// errorCounts writes error counts as "404×2 429×1", by status.
func errorCounts(m map[int]int64) string {
	if len(m) == 0 {
		return "-"
	}
	statuses := make([]int, 0, len(m))
	for s := range m {
		statuses = append(statuses, s)
	}
	slices.Sort(statuses)
	var parts []string
	for _, s := range statuses {
		parts = append(parts, fmt.Sprintf("%d×%d", s, m[s]))
	}
	return strings.Join(parts, " ")
}

// planMap returns the stored plans by name.
func planMap(ctx context.Context, st store.Store) (map[string]store.Plan, error) {
	ps, err := st.Plans(ctx)
	if err != nil {
		return nil, err
	}
	m := map[string]store.Plan{}
	for _, p := range ps {
		m[p.Name] = p
	}
	return m, nil
}
