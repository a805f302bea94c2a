package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"hail"
	"hail/limit"
	"hail/store"
)

func runPlan(ctx context.Context, env *environ, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: hail plan add|list|set|rm")
	}
	switch args[0] {
	case "add":
		return planAdd(ctx, env, args[1:])
	case "list", "ls":
		return planList(ctx, env, args[1:])
	case "set":
		return planSet(ctx, env, args[1:])
	case "rm", "remove":
		return planRemove(ctx, env, args[1:])
	}
	return fmt.Errorf("unknown plan command %q (want add, list, set or rm)", args[0])
}

// parseNamed parses args that may give the NAME operand before or after
// the flags ("plan add pro --rate 60/min" or "plan add --rate 60/min pro").
func parseNamed(fs *flag.FlagSet, env *environ, args []string, usage string) (string, error) {
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := parse(fs, env, args); err != nil {
		return "", err
	}
	if name == "" && fs.NArg() == 1 {
		name = fs.Arg(0)
	} else if fs.NArg() > 0 || name == "" {
		return "", errors.New("usage: " + usage)
	}
	return name, nil
}

var knownAPIs = []string{store.APITAXII, store.APIREST, store.APIStream}

// planLimits are the flags of a plan's limits, shared by plan add and set.
type planLimits struct {
	fs             *flag.FlagSet
	rate, apis     *string
	burst, maxPage *int
	minPoll        *time.Duration
}

func newPlanLimits(fs *flag.FlagSet) planLimits {
	return planLimits{fs: fs,
		rate:    fs.String("rate", "", "requests per period, such as 60/min, 1000/h or 5/10s; empty for no limit"),
		burst:   fs.Int("burst", 0, "requests admitted at once (default: the rate's count)"),
		apis:    fs.String("apis", "", "APIs granted, comma-separated: taxii, rest, stream (default: all)"),
		maxPage: fs.Int("max-page", 0, "largest page of objects or IOCs served (default: the server's)"),
		minPoll: fs.Duration("min-poll-interval", 0, "shortest time between two polls of one collection, such as 15m"),
	}
}

// apply sets in p the limits given on the command line (all of them when
// every is true, as for a new plan) and checks them; it reports whether
// any was given.
func (l planLimits) apply(p *store.Plan, every bool) (bool, error) {
	given := map[string]bool{}
	l.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	if every || given["rate"] {
		if p.Rate, p.Period, err = limit.ParseRate(*l.rate); err != nil {
			return false, fmt.Errorf("--rate: %s", message(err))
		}
	}
	if every || given["burst"] {
		p.Burst = *l.burst
	}
	if every || given["max-page"] {
		p.MaxPage = *l.maxPage
	}
	if every || given["min-poll-interval"] {
		p.MinPollInterval = *l.minPoll
	}
	if p.Burst < 0 || p.MaxPage < 0 || p.MinPollInterval < 0 {
		return false, errors.New("--burst, --max-page and --min-poll-interval may not be negative")
	}
	if every || given["apis"] {
		p.APIs = nil
		for _, a := range splitList(*l.apis) {
			if !slices.Contains(knownAPIs, a) {
				return false, fmt.Errorf("--apis: unknown API %q (want taxii, rest or stream)", a)
			}
			p.APIs = append(p.APIs, a)
		}
	}
	return given["rate"] || given["burst"] || given["max-page"] || given["min-poll-interval"] || given["apis"], nil
}

func planAdd(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "plan add", &db)
	limits := newPlanLimits(fs)
	name, err := parseNamed(fs, env, args, "hail plan add NAME [--rate 60/min] [--burst N] [--apis taxii,rest,stream] [--max-page N] [--min-poll-interval 15m]")
	if err != nil {
		return err
	}
	if name == store.UnrestrictedPlan {
		return fmt.Errorf("%q is the built-in plan; choose another name", name)
	}
	p := store.Plan{Name: name, Created: time.Now()}
	if _, err := limits.apply(&p, true); err != nil {
		return err
	}
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := ensure(ctx, env, st); err != nil {
		return err
	}
	if err := st.CreatePlan(ctx, p); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "created plan %q: %s\n", p.Name, describePlan(p))
	return nil
}

// planSet changes some of a plan's limits; the keys on it keep it.
func planSet(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "plan set", &db)
	limits := newPlanLimits(fs)
	name, err := parseNamed(fs, env, args, "hail plan set NAME [--rate 60/min] [--burst N] [--apis taxii,rest,stream] [--max-page N] [--min-poll-interval 15m]")
	if err != nil {
		return err
	}
	if name == store.UnrestrictedPlan {
		return fmt.Errorf("%q is the built-in plan, which has no limits to change", name)
	}
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	p, err := st.Plan(ctx, name)
	if err != nil {
		return err
	}
	if changed, err := limits.apply(&p, false); err != nil {
		return err
	} else if !changed {
		return errors.New("nothing to change: give --rate, --burst, --apis, --max-page or --min-poll-interval")
	}
	if err := st.UpdatePlan(ctx, p); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "plan %q: %s; a running server applies it within %s\n", p.Name, describePlan(p), "10s")
	return nil
}

// describePlan says what a plan allows, in one line.
func describePlan(p store.Plan) string {
	parts := []string{limit.FormatRate(p.Rate, p.Period)}
	if p.Rate > 0 {
		_, b := limit.GCRA(p.Rate, p.Period, p.Burst)
		parts[0] += fmt.Sprintf(" (burst %d)", b)
	}
	if len(p.APIs) == 0 {
		parts = append(parts, "every API")
	} else {
		parts = append(parts, "APIs "+strings.Join(p.APIs, ","))
	}
	if p.MaxPage > 0 {
		parts = append(parts, fmt.Sprintf("pages of at most %d", p.MaxPage))
	}
	if p.MinPollInterval > 0 {
		parts = append(parts, "one poll per collection every "+p.MinPollInterval.String())
	}
	return strings.Join(parts, ", ")
}

// planRow is one line of `hail plan list`.
type planRow struct {
	Name            string   `json:"name"`
	Rate            string   `json:"rate"`
	Burst           int      `json:"burst"`
	APIs            []string `json:"apis"`
	MaxPage         int      `json:"max_page"`
	MinPollInterval string   `json:"min_poll_interval"`
	Keys            int      `json:"keys"`
	BuiltIn         bool     `json:"built_in,omitempty"`
}

func planList(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "plan list", &db)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	plans, err := st.Plans(ctx)
	if err != nil {
		return err
	}
	keys, err := st.Keys(ctx)
	if err != nil {
		return err
	}
	onPlan := map[string]int{}
	for _, k := range keys {
		if k.Revoked.IsZero() {
			onPlan[k.Plan]++
		}
	}
	rows := []planRow{{Name: store.UnrestrictedPlan, Rate: "unlimited", APIs: knownAPIs, Keys: onPlan[""], BuiltIn: true}}
	for _, p := range plans {
		r := planRow{Name: p.Name, Rate: limit.FormatRate(p.Rate, p.Period), APIs: p.APIs, MaxPage: p.MaxPage, Keys: onPlan[p.Name]}
		if p.Rate > 0 {
			_, r.Burst = limit.GCRA(p.Rate, p.Period, p.Burst)
		}
		if len(r.APIs) == 0 {
			r.APIs = knownAPIs
		}
		if p.MinPollInterval > 0 {
			r.MinPollInterval = p.MinPollInterval.String()
		}
		rows = append(rows, r)
	}
	if *asJSON {
		return printJSON(env, rows)
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tRATE\tBURST\tAPIS\tMAX PAGE\tMIN POLL\tKEYS")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", r.Name, r.Rate, orDash(r.Burst), strings.Join(r.APIs, ","),
			orDash(r.MaxPage), cmpOr(r.MinPollInterval, "-"), r.Keys)
	}
	return tw.Flush()
}

func orDash(n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func planRemove(ctx context.Context, env *environ, args []string) error {
	var db dbFlags
	fs := newFlagSet(env, "plan rm", &db)
	name, err := parseNamed(fs, env, args, "hail plan rm NAME")
	if err != nil {
		return err
	}
	st, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.DeletePlan(ctx, name); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "removed plan %q\n", name)
	return nil
}

// resolvePlan checks that a plan named on the command line exists and
// returns the name a key stores: "" for the built-in plan.
func resolvePlan(ctx context.Context, st store.Store, name string) (string, error) {
	if name == "" || name == store.UnrestrictedPlan {
		return "", nil
	}
	if _, err := st.Plan(ctx, name); err != nil {
		return "", fmt.Errorf("--plan: %s (see hail plan list)", message(err))
	}
	return name, nil
}

// parseExpiry reads --expires: "never", an RFC 3339 time, a date
// (midnight UTC), or a span from now such as 720h, 90d or 2w.
func parseExpiry(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "never" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := hail.ParseDuration(s); err == nil && d > 0 {
		return now.Add(d).UTC().Truncate(time.Second), nil
	}
	return time.Time{}, fmt.Errorf("--expires %q: want never, a time such as 2026-01-31T00:00:00Z, a date, or a span such as 90d, 2w or 720h", s)
}
