package storecopy_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"hail"
	"hail/bootstrap"
	"hail/ingest"
	"hail/stix"
	"hail/store"
	"hail/store/postgres"
	"hail/store/postgres/pgtest"
	"hail/store/sqlite"
	"hail/storecopy"
)

// openSQLite opens a new SQLite store in a temporary directory.
func openSQLite(tb testing.TB) store.Store {
	tb.Helper()
	db, err := sqlite.Open(filepath.Join(tb.TempDir(), "hail.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// openPostgres opens a new PostgreSQL store in a schema of its own.
func openPostgres(tb testing.TB) store.Store {
	tb.Helper()
	db, err := postgres.Open(context.Background(), pgtest.Schema(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// targets are the stores a copy is tested into.
var targets = []struct {
	name string
	open func(testing.TB) store.Store
}{
	{"sqlite", openSQLite},
	{"postgres", openPostgres},
}

func mustParse(tb testing.TB, s string) stix.Object {
	tb.Helper()
	o, err := stix.Parse([]byte(s))
	if err != nil {
		tb.Fatalf("parse %s: %v", s, err)
	}
	return o
}

// indicator returns version modified of indicator n, naming an address.
func indicator(tb testing.TB, n int, modified string) stix.Object {
	tb.Helper()
	return mustParse(tb, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-1111-4222-8333-444455556666",`+
		`"created":"2024-01-01T00:00:00.000Z","modified":%q,"pattern":"[ipv4-addr:value = '198.51.100.%d']",`+
		`"pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","created_by_ref":"identity--7c3b6b5e-2f0b-4f7a-9d1e-0a8b2c4d6e8f",`+
		`"x_note":"kept  as sent"}`, n, modified, n%256))
}

const acme = `{"type":"identity","spec_version":"2.1","id":"identity--7c3b6b5e-2f0b-4f7a-9d1e-0a8b2c4d6e8f",` +
	`"created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","name":"ACME","identity_class":"organization"}`

// fill prepares src as `hail serve` would and adds n indicators, each in
// two versions, an identity, a plan, a revoked key on that plan, a status,
// two feeds (one with two recorded runs) and a webhook part way through
// its deliveries. It returns the id of the default collection.
func fill(tb testing.TB, src store.Store, n int) string {
	tb.Helper()
	ctx := context.Background()
	if _, err := bootstrap.Ensure(ctx, src, time.Now()); err != nil {
		tb.Fatal(err)
	}
	def, err := src.Collection(ctx, bootstrap.APIRootName, bootstrap.DefaultAlias)
	if err != nil {
		tb.Fatal(err)
	}
	objs := []stix.Object{mustParse(tb, acme)}
	for i := 0; i < n; i++ {
		objs = append(objs, indicator(tb, i, "2024-01-01T00:00:00.000Z"))
	}
	for i := 0; i < n; i += 2 {
		objs = append(objs, indicator(tb, i, "2024-02-01T00:00:00.000Z"))
	}
	for len(objs) > 0 {
		k := min(len(objs), 7)
		if _, err := src.AddObjects(ctx, def.ID, objs[:k]); err != nil {
			tb.Fatal(err)
		}
		objs = objs[k:]
	}
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	if err := src.CreatePlan(ctx, store.Plan{Name: "free", Rate: 4, Period: time.Hour, APIs: []string{store.APIREST},
		MaxPage: 100, MinPollInterval: 15 * time.Minute, Created: t0}); err != nil {
		tb.Fatal(err)
	}
	if err := src.CreateKey(ctx, store.Key{ID: "3f1c7d2e-8a4b-4c6d-9e0f-1a2b3c4d5e6f", Name: "reader", Hash: []byte("0123456789abcdef0123456789abcdef"),
		Read: []string{def.ID}, Created: time.Now(), Revoked: time.Now(), Plan: "free"}); err != nil {
		tb.Fatal(err)
	}
	for _, f := range []store.Feed{
		{Name: "peer", Kind: store.FeedTAXII21, URL: "https://peer.example/taxii2/api/", CollectionID: def.ID,
			TAXIICollection: "intel", User: "u", Password: "p", Every: time.Hour, AllVersions: true, Created: t0},
		{Name: "list", Kind: store.FeedText, URL: "https://lists.example/ips.txt", CollectionID: def.ID, Every: 24 * time.Hour,
			List: store.FeedList{Source: "Lists", TTL: 720 * time.Hour}, Created: t0},
	} {
		if err := src.CreateFeed(ctx, f); err != nil {
			tb.Fatal(err)
		}
	}
	mark := store.FeedMark{AddedAfter: t0.Add(-time.Minute)}
	for i, r := range []store.FeedRun{
		{Started: t0, Ended: t0.Add(time.Second), Read: 3, Added: 2, Rejected: 1,
			Rejections: []store.FeedRejection{{Where: "object 3", ID: "indicator--bad", Reason: "No pattern."}}},
		{Started: t0.Add(time.Hour), Ended: t0.Add(time.Hour + time.Second), Error: "source down"},
	} {
		if err := src.FinishFeedRun(ctx, "peer", r, mark, t0.Add(time.Duration(i+2)*time.Hour)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := src.CreateWebhook(ctx, store.Webhook{ID: "5f4e3d2c-1b0a-4c9d-8e7f-6a5b4c3d2e1f", CollectionID: def.ID,
		URL: "https://siem.example/hook", Secret: "s3cret", BatchSize: 50, MaxWait: 5 * time.Second, Created: t0,
		State: store.WebhookState{Cursor: t0.Add(-time.Hour), Failures: 2, FailingSince: t0, LastError: "503"}}); err != nil {
		tb.Fatal(err)
	}
	for i, a := range []store.WebhookAttempt{
		{Delivery: "d1", Time: t0, Objects: 5, Status: 200, Latency: 30 * time.Millisecond},
		{Delivery: "d2", Time: t0.Add(time.Minute), Objects: 5, Status: 503, Latency: 40 * time.Millisecond, Error: "503"},
	} {
		if err := src.RecordWebhookAttempt(ctx, "5f4e3d2c-1b0a-4c9d-8e7f-6a5b4c3d2e1f", "", a, nil); err != nil {
			tb.Fatalf("attempt %d: %v", i, err)
		}
	}
	if err := src.CreateStatus(ctx, store.Status{ID: "9b2f3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d", APIRoot: bootstrap.APIRootName,
		RequestTimestamp: time.Now(), Status: "complete", Total: 1,
		Successes: []store.StatusDetail{{ID: "indicator--00000000-1111-4222-8333-444455556666", Version: "2024-01-01T00:00:00.000Z"}}}); err != nil {
		tb.Fatal(err)
	}
	return def.ID
}

// dump is what a client can see of a store, with times as strings so
// that reflect.DeepEqual compares instants.
type dump struct {
	Roots    []string
	Colls    []string
	Keys     []string
	Statuses []string
	Plans    []string
	Feeds    []string
	Webhooks []string
	Entries  map[string][]string
	IOCs     map[string][]string
}

func dumpStore(tb testing.TB, s store.Store) dump {
	tb.Helper()
	ctx := context.Background()
	d := dump{Entries: map[string][]string{}, IOCs: map[string][]string{}}
	roots, err := s.APIRoots(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range roots {
		d.Roots = append(d.Roots, fmt.Sprintf("%s %q %d %v %s", r.Name, r.Title, r.MaxContentLength, r.Default, r.Created.UTC()))
		colls, err := s.Collections(ctx, r.Name)
		if err != nil {
			tb.Fatal(err)
		}
		for _, c := range colls {
			d.Colls = append(d.Colls, fmt.Sprintf("%s %s %s %s %v %s %s %s", c.ID, c.APIRoot, c.Alias, c.Title, c.Public, c.Kind, c.Filter, c.Created.UTC()))
			p, err := s.Objects(ctx, c.ID, store.Filter{Versions: []string{"all"}, SpecVersions: []string{"2.1"}})
			if err != nil {
				tb.Fatal(err)
			}
			for _, e := range p.Entries {
				d.Entries[c.ID] = append(d.Entries[c.ID], fmt.Sprintf("%s %s %s", e.DateAdded.UTC().Format(time.RFC3339Nano), e.Object.ID, e.Object.Raw))
			}
			ip, err := s.IOCs(ctx, c.ID, store.IOCFilter{IncludeExpired: true, IncludeRevoked: true})
			if err != nil {
				tb.Fatal(err)
			}
			for _, i := range ip.IOCs {
				d.IOCs[c.ID] = append(d.IOCs[c.ID], fmt.Sprintf("%s %s %s %s %s", i.DateAdded.UTC().Format(time.RFC3339Nano), i.Type, i.Value, i.IndicatorID, i.Source))
			}
		}
	}
	keys, err := s.Keys(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	for _, k := range keys {
		d.Keys = append(d.Keys, fmt.Sprintf("%s %s %x %v %v %v %s %s %s", k.ID, k.Name, k.Hash, k.Admin, k.Read, k.Write, k.Created.UTC(), k.Revoked.UTC(), k.Plan))
	}
	plans, err := s.Plans(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	for _, p := range plans {
		p.Created = p.Created.UTC()
		d.Plans = append(d.Plans, fmt.Sprintf("%+v", p))
	}
	feeds, err := s.Feeds(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range feeds {
		runs, err := s.FeedRuns(ctx, f.Name, 0)
		if err != nil {
			tb.Fatal(err)
		}
		for _, r := range runs {
			d.Feeds = append(d.Feeds, fmt.Sprintf("%s run %s %s %d %d %d %q %+v", f.Name, r.Started.UTC(), r.Ended.UTC(), r.Read, r.Added,
				r.Rejected, r.Error, r.Rejections))
		}
		f.Created, f.NextRun, f.Mark.AddedAfter = f.Created.UTC(), f.NextRun.UTC(), f.Mark.AddedAfter.UTC()
		f.LastRun = store.FeedRun{}
		d.Feeds = append(d.Feeds, fmt.Sprintf("%+v", f))
	}
	hooks, err := s.Webhooks(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	for _, w := range hooks {
		d.Webhooks = append(d.Webhooks, fmt.Sprintf("%s %s %s %s %d %s %s cursor %s failures %d since %s %q", w.ID, w.CollectionID, w.URL,
			w.Secret, w.BatchSize, w.MaxWait, w.Created.UTC(), w.State.Cursor.UTC(), w.State.Failures, w.State.FailingSince.UTC(), w.State.LastError))
		log, err := s.WebhookAttempts(ctx, w.ID, 0)
		if err != nil {
			tb.Fatal(err)
		}
		for _, a := range log {
			d.Webhooks = append(d.Webhooks, fmt.Sprintf("%s attempt %s %s %d %d %s %q", w.ID, a.Delivery, a.Time.UTC(), a.Objects, a.Status, a.Latency, a.Error))
		}
	}
	st, err := s.(store.Copier).StatusesAfter(ctx, "", 0)
	if err != nil {
		tb.Fatal(err)
	}
	for _, x := range st {
		d.Statuses = append(d.Statuses, fmt.Sprintf("%+v", x))
	}
	return d
}

// compare reports every part of got that differs from want.
func compare(t *testing.T, got, want dump) {
	t.Helper()
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := 0; i < gv.NumField(); i++ {
		if g, w := gv.Field(i).Interface(), wv.Field(i).Interface(); !reflect.DeepEqual(g, w) {
			t.Errorf("%s differ:\n got %v\nwant %v", gv.Type().Field(i).Name, g, w)
		}
	}
}

func TestCopy(t *testing.T) {
	for _, tc := range targets {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			src := openSQLite(t)
			def := fill(t, src, 20)
			dst := tc.open(t)
			var progress []storecopy.Progress
			res, err := storecopy.Copy(ctx, src, dst, storecopy.Options{Batch: 8, Progress: func(p storecopy.Progress) {
				progress = append(progress, p)
			}})
			if err != nil {
				t.Fatalf("Copy: %v", err)
			}
			compare(t, dumpStore(t, dst), dumpStore(t, src))
			want := storecopy.Result{APIRoots: 1, Collections: len(bootstrap.Collections), Keys: 2, Statuses: 1, Plans: 1, Feeds: 2, Webhooks: 1}
			if res.APIRoots != want.APIRoots || res.Collections != want.Collections || res.Keys != want.Keys || res.Statuses != want.Statuses ||
				res.Plans != want.Plans || res.Feeds != want.Feeds || res.Webhooks != want.Webhooks {
				t.Errorf("Result: %d roots, %d collections, %d keys, %d statuses, %d plans, %d feeds, %d webhooks; want %+v",
					res.APIRoots, res.Collections, res.Keys, res.Statuses, res.Plans, res.Feeds, res.Webhooks, want)
			}
			var versions int64
			for _, c := range res.Counts {
				versions += c.Stats.Versions
			}
			if len(res.Counts) != len(bootstrap.Collections) || res.Written != versions || versions == 0 {
				t.Errorf("Result: %d counts, %d written, %d versions counted; want %d counts and written = counted > 0",
					len(res.Counts), res.Written, versions, len(bootstrap.Collections))
			}
			if len(progress) == 0 || progress[len(progress)-1].Written != res.Written {
				t.Errorf("progress %+v, want calls ending at %d written", progress, res.Written)
			}
			// The target's clock is past the copied entries.
			last := res.Counts[0].Stats.LastDateAdded
			r, err := dst.AddObjects(ctx, def, []stix.Object{indicator(t, 99, "2024-01-01T00:00:00.000Z")})
			if err != nil || !r[0].DateAdded.After(last) {
				t.Errorf("AddObjects after the copy: %+v, %v; want a date_added after %v", r, err, last)
			}
		})
	}
}

// errStop ends a copy part way.
var errStop = errors.New("stop")

func TestCopyResume(t *testing.T) {
	for _, tc := range targets {
		t.Run(tc.name, func(t *testing.T) {
			src := openSQLite(t)
			fill(t, src, 20)
			dst := tc.open(t)
			ctx, cancel := context.WithCancelCause(context.Background())
			calls := 0
			first, err := storecopy.Copy(ctx, src, dst, storecopy.Options{Batch: 4, Progress: func(storecopy.Progress) {
				if calls++; calls == 3 {
					cancel(errStop)
				}
			}})
			if err == nil {
				t.Fatalf("Copy with a cancelled context succeeded")
			}
			if first.Written == 0 {
				t.Fatalf("the interrupted copy wrote nothing; the test needs it to stop part way")
			}
			second, err := storecopy.Copy(context.Background(), src, dst, storecopy.Options{Batch: 4})
			if err != nil {
				t.Fatalf("resumed Copy: %v", err)
			}
			compare(t, dumpStore(t, dst), dumpStore(t, src))
			var versions int64
			for _, c := range second.Counts {
				versions += c.Stats.Versions
			}
			if first.Written+second.Written != versions {
				t.Errorf("written %d then %d, want %d in all: a resumed copy writes each version once", first.Written, second.Written, versions)
			}
			if second.APIRoots != 0 || second.Collections != 0 || second.Keys != 0 || second.Statuses != 0 ||
				second.Plans != 0 || second.Feeds != 0 || second.Webhooks != 0 {
				t.Errorf("resumed copy created %+v again", second)
			}
			again, err := storecopy.Copy(context.Background(), src, dst, storecopy.Options{})
			if err != nil || again.Written != 0 {
				t.Errorf("third Copy: %d written, %v; want 0, nil", again.Written, err)
			}
		})
	}
}

func TestCopyIntoAnotherStore(t *testing.T) {
	src := openSQLite(t)
	fill(t, src, 2)
	dst := openSQLite(t)
	// A target prepared on its own has the same aliases under other ids.
	if _, err := bootstrap.Ensure(context.Background(), dst, time.Now()); err != nil {
		t.Fatal(err)
	}
	_, err := storecopy.Copy(context.Background(), src, dst, storecopy.Options{})
	if code := hail.ErrorCode(err); code != hail.ECONFLICT {
		t.Errorf("Copy into a store prepared apart: %v (code %q), want %q", err, code, hail.ECONFLICT)
	}
}

func TestCopyCountsDiffer(t *testing.T) {
	ctx := context.Background()
	src := openSQLite(t)
	def := fill(t, src, 2)
	// A spec_version the copy does not read is left behind, and said so.
	odd := mustParse(t, `{"type":"note","spec_version":"2.2","id":"note--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",`+
		`"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","content":"x","object_refs":["identity--7c3b6b5e-2f0b-4f7a-9d1e-0a8b2c4d6e8f"]}`)
	if _, err := src.AddObjects(ctx, def, []stix.Object{odd}); err != nil {
		t.Fatal(err)
	}
	_, err := storecopy.Copy(ctx, src, openSQLite(t), storecopy.Options{})
	if err == nil || !strings.Contains(err.Error(), "collection "+def+" (default): source 4 objects, 5 versions") {
		t.Errorf("Copy leaving a version behind: %v; want an error naming collection %s and its source counts", err, def)
	}
}

// TestCopyRealBundle copies a store holding MITRE ATT&CK for Mobile, real
// objects with custom properties, into PostgreSQL, and checks that every
// version comes back byte for byte with its date_added.
func TestCopyRealBundle(t *testing.T) {
	path := filepath.Join("..", "..", "shared", "data", "mobile-attack-17.1.json")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("shared test data %s not present (../shared beside the repository): %v", path, err)
	}
	defer f.Close()
	ctx := context.Background()
	src := openSQLite(t)
	if _, err := bootstrap.Ensure(ctx, src, time.Now()); err != nil {
		t.Fatal(err)
	}
	def, err := src.Collection(ctx, bootstrap.APIRootName, bootstrap.DefaultAlias)
	if err != nil {
		t.Fatal(err)
	}
	im := &ingest.Importer{Store: src, CollectionID: def.ID, BatchSize: 500}
	if sum, err := im.ImportSTIX(ctx, f); err != nil || sum.Added == 0 {
		t.Fatalf("import %s: %+v, %v", path, sum, err)
	}
	dst := openPostgres(t)
	res, err := storecopy.Copy(ctx, src, dst, storecopy.Options{Batch: 1000})
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	compare(t, dumpStore(t, dst), dumpStore(t, src))
	t.Logf("copied %d versions", res.Written)
}

// TestCopyCarriesPrunesDue deletes an object from the source before the
// copy: its filter collections still hold what only that object named, so
// the target's API root must be due a prune too.
func TestCopyCarriesPrunesDue(t *testing.T) {
	for _, tc := range targets {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			src := openSQLite(t)
			def := fill(t, src, 5)
			page, err := src.Objects(ctx, def, store.Filter{Types: []string{"indicator"}, Limit: 1})
			if err != nil || len(page.Entries) == 0 {
				t.Fatalf("no indicator to delete: %v", err)
			}
			if err := src.DeleteObject(ctx, def, page.Entries[0].Object.ID, store.Filter{}); err != nil {
				t.Fatal(err)
			}
			dst := tc.open(t)
			if _, err := storecopy.Copy(ctx, src, dst, storecopy.Options{}); err != nil {
				t.Fatalf("Copy: %v", err)
			}
			due, err := dst.PrunesDue(ctx)
			if err != nil || due[bootstrap.APIRootName] == 0 {
				t.Errorf("target's prunes due = %v, %v; want %s due as in the source", due, err, bootstrap.APIRootName)
			}
		})
	}
}
