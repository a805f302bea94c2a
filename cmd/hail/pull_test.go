package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hail"
	"hail/bootstrap"
	"hail/internal/pkitest"
	"hail/internal/taxii20test"
	"hail/server"
	"hail/stix"
	"hail/store"
	"hail/store/sqlite"
)

// remoteColl is the id of the collection the remote test server serves.
const remoteColl = "8a1c2e34-5b6d-4e7f-8a9b-0c1d2e3f4a5b"

// remote is a hail server over its own SQLite store, the far side of a pull.
type remote struct {
	db  *sqlite.DB
	url string // API root URL
	key string // admin key
}

// newRemote starts a remote hail server with collection "src".
func newRemote(t testing.TB) *remote {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "remote.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	res, err := bootstrap.Ensure(context.Background(), db, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateCollection(context.Background(), store.Collection{ID: remoteColl, APIRoot: bootstrap.APIRootName,
		Alias: "src", Title: "Source feed"}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Config{}, db, nil))
	t.Cleanup(srv.Close)
	return &remote{db: db, url: srv.URL + "/taxii2/api/", key: res.AdminKey}
}

// add stores raw objects in the remote collection as they are, without
// validation, as a server with laxer rules than hail's would hold them.
func (r *remote) add(t testing.TB, raws ...[]byte) []string {
	t.Helper()
	var objs []stix.Object
	var ids []string
	for _, raw := range raws {
		o, err := stix.Parse(raw)
		if err != nil {
			t.Fatalf("parse %s: %v", raw, err)
		}
		objs = append(objs, o)
		ids = append(ids, o.ID)
	}
	for len(objs) > 0 {
		n := min(len(objs), 1000)
		if _, err := r.db.AddObjects(context.Background(), remoteColl, objs[:n]); err != nil {
			t.Fatal(err)
		}
		objs = objs[n:]
	}
	return ids
}

// pull runs `hail pull` with args after the common ones and returns its
// stdout and stderr.
func pull(t testing.TB, getenv func(string) string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), append([]string{"pull"}, args...), getenv, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

// summaryValue reads one line of pull's summary.
func summaryValue(t *testing.T, out, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + name + `:\s+(\S+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Errorf("no %q in the summary:\n%s", name, out)
		return ""
	}
	return m[1]
}

// localIDs returns the ids of every version in a local collection, oldest
// date_added first.
func localIDs(t *testing.T, db, alias string) []string {
	t.Helper()
	st, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	c, err := st.Collection(ctx, bootstrap.APIRootName, alias)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	f := store.Filter{Versions: []string{"all"}, SpecVersions: []string{"2.0", "2.1"}}
	for {
		p, err := st.Objects(ctx, c.ID, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Entries {
			ids = append(ids, e.Object.ID)
		}
		if !p.More {
			return ids
		}
		f.AddedAfter = p.Entries[len(p.Entries)-1].DateAdded
	}
}

// pullIndicator returns a valid STIX 2.1 indicator numbered n.
func pullIndicator(n int) []byte {
	return fmt.Appendf(nil, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-0000-4000-8000-%012x",`+
		`"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"IOC %d",`+
		`"pattern":"[ipv4-addr:value = '203.0.113.%d']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`, n, n, n, n%256)
}

func TestPullMirrorsACollection(t *testing.T) {
	r := newRemote(t)
	var want []string
	for i := 1; i <= 30; i++ {
		want = append(want, r.add(t, pullIndicator(i))...)
	}
	// Parses, but lacks what STIX 2.1 requires of an indicator.
	bad := `indicator--0000ffff-0000-4000-8000-00000000ffff`
	r.add(t, []byte(`{"type":"indicator","spec_version":"2.1","id":"`+bad+`","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z"}`))
	want = append(want, r.add(t, pullIndicator(31))...)

	db := filepath.Join(t.TempDir(), "local.db")
	args := []string{"--db", db, "--url", r.url, "--taxii-collection", "src", "--token", r.key, "--limit", "7", "--batch", "5"}
	out, errOut, err := pull(t, noenv, args...)
	if err != nil {
		t.Fatalf("pull: %v\n%s\n%s", err, out, errOut)
	}
	for name, v := range map[string]string{"fetched": "32", "added": "31", "duplicates": "0", "rejected": "1"} {
		if got := summaryValue(t, out, name); got != v {
			t.Errorf("%s = %s, want %s\n%s", name, got, v, out)
		}
	}
	if !strings.Contains(errOut, "rejected "+bad+": ") {
		t.Errorf("stderr does not list the rejected object %s with a reason:\n%s", bad, errOut)
	}
	if got := localIDs(t, db, "default"); !reflect.DeepEqual(got, want) {
		t.Errorf("local ids = %v\nwant %v", got, want)
	}
	mark := summaryValue(t, out, "high-water")
	if _, err := time.Parse(time.RFC3339Nano, mark); err != nil {
		t.Errorf("high-water %q is not a timestamp", mark)
	}

	// Again: everything is a duplicate, and nothing new is stored.
	out, errOut, err = pull(t, noenv, args...)
	if err != nil {
		t.Fatalf("second pull: %v\n%s", err, errOut)
	}
	for name, v := range map[string]string{"fetched": "32", "added": "0", "duplicates": "31", "rejected": "1"} {
		if got := summaryValue(t, out, name); got != v {
			t.Errorf("second pull: %s = %s, want %s", name, got, v)
		}
	}
	if got := localIDs(t, db, "default"); len(got) != len(want) {
		t.Errorf("after the second pull the collection holds %d versions, want %d", len(got), len(want))
	}

	// From the high-water mark, only what the remote added since.
	newer := r.add(t, pullIndicator(40), pullIndicator(41))
	out, errOut, err = pull(t, noenv, append(args, "--added-after", mark)...)
	if err != nil {
		t.Fatalf("pull --added-after: %v\n%s", err, errOut)
	}
	if f, a := summaryValue(t, out, "fetched"), summaryValue(t, out, "added"); f != "2" || a != "2" {
		t.Errorf("pull --added-after %s: fetched %s, added %s; want 2 and 2", mark, f, a)
	}
	if got := localIDs(t, db, "default"); !reflect.DeepEqual(got[len(got)-2:], newer) {
		t.Errorf("last local ids = %v, want %v", got[len(got)-2:], newer)
	}
}

func TestPullCredentials(t *testing.T) {
	r := newRemote(t)
	want := r.add(t, pullIndicator(1), pullIndicator(2))
	db := filepath.Join(t.TempDir(), "local.db")
	base := []string{"--db", db, "--url", r.url, "--taxii-collection", remoteColl}

	// Basic, with the key as password.
	if out, errOut, err := pull(t, noenv, append(base, "--user", "apikey", "--password", r.key)...); err != nil ||
		summaryValue(t, out, "added") != "2" {
		t.Errorf("pull with Basic: %v\n%s%s", err, out, errOut)
	}
	// A token from the environment.
	getenv := func(k string) string {
		if k == envPullToken {
			return r.key
		}
		return ""
	}
	if out, errOut, err := pull(t, getenv, base...); err != nil || summaryValue(t, out, "duplicates") != "2" {
		t.Errorf("pull with %s: %v\n%s%s", envPullToken, err, out, errOut)
	}
	if got := localIDs(t, db, "default"); !reflect.DeepEqual(got, want) {
		t.Errorf("local ids = %v, want %v", got, want)
	}

	_, _, err := pull(t, noenv, append(base, "--token", "hail_not_a_key")...)
	if hail.ErrorCode(err) != hail.EUNAUTHENTICATED || !strings.Contains(hail.ErrorMessage(err), r.url) {
		t.Errorf("pull with a wrong key: %v, want %s naming %s", err, hail.EUNAUTHENTICATED, r.url)
	}
	if _, _, err := pull(t, noenv, append(base, "--token", r.key, "--password", "x")...); err == nil {
		t.Error("pull with both --token and --password succeeded")
	}
}

func TestPullErrors(t *testing.T) {
	r := newRemote(t)
	db := filepath.Join(t.TempDir(), "local.db")
	for _, tc := range []struct {
		name string
		args []string
		want string // in the error
	}{
		{"no url", []string{"--taxii-collection", "src"}, "usage"},
		{"no remote collection", []string{"--url", r.url}, "usage"},
		{"unknown remote collection", []string{"--url", r.url, "--taxii-collection", "nosuch"}, "lists no collection \"nosuch\""},
		{"unknown local collection", []string{"--url", r.url, "--taxii-collection", "src", "--collection", "nosuch"}, "no collection \"nosuch\""},
		{"bad added-after", []string{"--url", r.url, "--taxii-collection", "src", "--added-after", "yesterday"}, "--added-after"},
		{"not an API root", []string{"--url", "ftp://example.org/", "--taxii-collection", "src"}, "http"},
	} {
		_, _, err := pull(t, noenv, append([]string{"--db", db, "--token", r.key}, tc.args...)...)
		if err == nil || !strings.Contains(message(err), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

func TestPullRealBundle(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "data", "mobile-attack-17.1.json")
	body, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("real data not available (%v); it lives in ../shared/data beside the repository", err)
	}
	var bundle struct{ Objects []json.RawMessage }
	if err := json.Unmarshal(body, &bundle); err != nil {
		t.Fatal(err)
	}
	r := newRemote(t)
	var raws [][]byte
	for _, o := range bundle.Objects {
		raws = append(raws, o)
	}
	r.add(t, raws...)
	db := filepath.Join(t.TempDir(), "local.db")
	out, errOut, err := pull(t, noenv, "--db", db, "--url", r.url, "--taxii-collection", "src", "--token", r.key)
	if err != nil {
		t.Fatalf("pull: %v\n%s", err, errOut)
	}
	fetched := summaryValue(t, out, "fetched")
	if want := fmt.Sprint(len(bundle.Objects)); fetched != want {
		t.Errorf("fetched %s, want %s", fetched, want)
	}
	// Every object the local store accepted is there, once per version.
	got := localIDs(t, db, "default")
	if added := summaryValue(t, out, "added"); added != fmt.Sprint(len(got)) {
		t.Errorf("added %s, but the collection holds %d versions", added, len(got))
	}
	rejected := strings.Count(errOut, "\nrejected ") + boolInt(strings.HasPrefix(errOut, "rejected "))
	if summaryValue(t, out, "rejected") != fmt.Sprint(rejected) && rejected < maxListedRejections {
		t.Errorf("summary says %s rejected, stderr lists %d:\n%s", summaryValue(t, out, "rejected"), rejected, errOut)
	}
	for _, o := range bundle.Objects {
		var h struct{ ID string }
		json.Unmarshal(o, &h)
		if !slices.Contains(got, h.ID) && !strings.Contains(errOut, "rejected "+h.ID+":") {
			t.Errorf("%s is neither in the local collection nor listed as rejected", h.ID)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// BenchmarkPull pulls 10,000 indicators from a hail server into a new
// SQLite store: fetching, parsing, validating and storing.
func BenchmarkPull(b *testing.B) {
	r := newRemote(b)
	const total = 10000
	raws := make([][]byte, total)
	for i := range raws {
		raws[i] = pullIndicator(i + 1)
	}
	r.add(b, raws...)
	dir := b.TempDir()
	n := 0
	for b.Loop() {
		n++
		db := filepath.Join(dir, fmt.Sprintf("local%d.db", n))
		out, errOut, err := pull(b, noenv, "--db", db, "--url", r.url, "--taxii-collection", "src", "--token", r.key)
		if err != nil || !strings.Contains(out, fmt.Sprintf("added:        %d\n", total)) {
			b.Fatalf("pull: %v\n%s%s", err, out, errOut)
		}
	}
	b.ReportMetric(float64(n*total)/b.Elapsed().Seconds(), "objects/s")
}

// TestPullStoppedMidWayResumes stops the remote part way through a pull
// whose transactions span pages: what was fetched before the stop is
// stored, the mark it prints to go on from is just before the last of it,
// and a pull from the mark completes the mirror, in order, with nothing
// stored twice.
func TestPullStoppedMidWayResumes(t *testing.T) {
	r := newRemote(t)
	var want []string
	for i := 1; i <= 60; i++ {
		want = append(want, r.add(t, pullIndicator(i))...)
	}
	h := server.New(server.Config{}, r.db, nil)
	var pages atomic.Int32
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasSuffix(req.URL.Path, "/objects/") && pages.Add(1) > 3 {
			w.Header().Set("Content-Type", "application/taxii+json;version=2.1")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"title":"Stopped for the test.","http_status":"403"}`))
			return
		}
		h.ServeHTTP(w, req)
	}))
	defer failing.Close()

	db := filepath.Join(t.TempDir(), "local.db")
	args := []string{"--db", db, "--taxii-collection", "src", "--token", r.key, "--limit", "10", "--batch", "15"}
	out, errOut, err := pull(t, noenv, append(args, "--url", failing.URL+"/taxii2/api/")...)
	if err == nil {
		t.Fatalf("pull from a remote that stops: no error\n%s", out)
	}
	if a := summaryValue(t, out, "added"); a != "30" {
		t.Errorf("stopped pull added %s, want the 30 fetched\n%s", a, out)
	}
	if got := localIDs(t, db, "default"); !reflect.DeepEqual(got, want[:30]) {
		t.Errorf("stopped pull stored %d versions, want the first 30", len(got))
	}
	m := regexp.MustCompile(`--added-after (\S+) to go on`).FindStringSubmatch(errOut)
	if m == nil {
		t.Fatalf("no mark to go on from:\n%s", errOut)
	}
	out, errOut, err = pull(t, noenv, append(args, "--url", r.url, "--added-after", m[1])...)
	if err != nil {
		t.Fatalf("pull from the mark: %v\n%s", err, errOut)
	}
	// The mark is just before the last stored object's date_added, since
	// a remote may hold more objects added at that instant: that one is
	// read again, and recognised.
	if f, a, d := summaryValue(t, out, "fetched"), summaryValue(t, out, "added"), summaryValue(t, out, "duplicates"); f != "31" || a != "30" || d != "1" {
		t.Errorf("pull from the mark: fetched %s, added %s, %s duplicates; want 31, 30 and 1", f, a, d)
	}
	if got := localIDs(t, db, "default"); !reflect.DeepEqual(got, want) {
		t.Errorf("after resuming the local collection holds %d versions, want the %d in order", len(got), len(want))
	}
}

// TestPullLogSparing: with stderr a log rather than a terminal, a pull of
// several pages that ends within progressLogEvery writes its header and no
// line per page, and its summary still goes to stdout.
func TestPullLogSparing(t *testing.T) {
	r := newRemote(t)
	for i := 1; i <= 60; i++ {
		r.add(t, pullIndicator(i))
	}
	db := filepath.Join(t.TempDir(), "local.db")
	out, errOut, err := pull(t, noenv, "--db", db, "--url", r.url, "--taxii-collection", "src", "--token", r.key, "--limit", "10")
	if err != nil {
		t.Fatalf("pull: %v\n%s", err, errOut)
	}
	if a := summaryValue(t, out, "added"); a != "60" {
		t.Errorf("added %s, want 60", a)
	}
	if n := strings.Count(errOut, " fetched, "); n != 0 {
		t.Errorf("a pull of 6 pages wrote %d progress lines to a log, want none within %v:\n%s", n, progressLogEvery, errOut)
	}
	if !strings.Contains(errOut, "pulling \"Source feed\"") {
		t.Errorf("stderr lacks the header:\n%s", errOut)
	}
}

// TestPullClientCertificate: a pull from a server that asks for a client
// certificate fails without one and mirrors with --cert and --key; a
// certificate without its key is refused before anything is fetched.
func TestPullClientCertificate(t *testing.T) {
	r := newRemote(t)
	r.add(t, pullIndicator(1), pullIndicator(2))
	ca := pkitest.NewCA(t)
	srv := ca.Server(t, server.New(server.Config{}, r.db, nil))
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cert, key := ca.Client(t, "puller")
	certFile, keyFile, caFile := write("c.pem", cert), write("k.pem", key), write("ca.pem", pkitest.ServerPEM(srv))
	args := []string{"--url", srv.URL + "/taxii2/api/", "--taxii-collection", "src", "--token", r.key, "--ca", caFile}

	if _, errOut, err := pull(t, noenv, append(args, "--db", filepath.Join(dir, "a.db"))...); err == nil {
		t.Errorf("pull without a client certificate succeeded\n%s", errOut)
	}
	if _, _, err := pull(t, noenv, append(args, "--db", filepath.Join(dir, "b.db"), "--cert", certFile)...); err == nil ||
		!strings.Contains(err.Error(), "--cert and --key") {
		t.Errorf("pull with --cert alone: %v, want the two asked for together", err)
	}
	out, errOut, err := pull(t, noenv, append(args, "--db", filepath.Join(dir, "c.db"), "--cert", certFile, "--key", keyFile)...)
	if err != nil || summaryValue(t, out, "added") != "2" {
		t.Errorf("pull with the client certificate: %v\n%s%s", err, out, errOut)
	}
}

// TestPullAllVersions: by default a pull mirrors the latest version of
// each object, as a TAXII poll reads them; --all-versions mirrors every
// version, oldest first.
func TestPullAllVersions(t *testing.T) {
	r := newRemote(t)
	v1 := pullIndicator(1)
	v2 := bytes.Replace(v1, []byte(`"modified":"2024-01-01T00:00:00.000Z"`), []byte(`"modified":"2024-02-01T00:00:00.000Z"`), 1)
	r.add(t, v1, pullIndicator(2))
	r.add(t, v2)
	for _, tc := range []struct {
		flags []string
		want  int
	}{{nil, 2}, {[]string{"--all-versions"}, 3}} {
		db := filepath.Join(t.TempDir(), "local.db")
		out, errOut, err := pull(t, noenv, append([]string{"--db", db, "--url", r.url, "--taxii-collection", "src", "--token", r.key}, tc.flags...)...)
		if err != nil {
			t.Fatalf("pull %v: %v\n%s", tc.flags, err, errOut)
		}
		if got := localIDs(t, db, "default"); len(got) != tc.want || summaryValue(t, out, "added") != strconv.Itoa(tc.want) {
			t.Errorf("pull %v stored %d versions (%v), want %d\n%s", tc.flags, len(got), got, tc.want, out)
		}
	}
}

// TestPullTAXII20 mirrors a TAXII 2.0 server's collection: the client
// changes to 2.0 when the server refuses 2.1, pages by Range, and the STIX
// 2.0 objects are stored converted to 2.1.
func TestPullTAXII20(t *testing.T) {
	srv := taxii20test.Start(t)
	var want []string
	for n := 0; n < 12; n++ {
		srv.Add(t, taxii20test.Indicator(n))
		want = append(want, fmt.Sprintf("indicator--%08x-1111-4222-8333-444444444444", n))
	}
	db := filepath.Join(t.TempDir(), "local.db")
	args := []string{"--db", db, "--url", srv.URL, "--taxii-collection", taxii20test.CollectionID, "--limit", "5"}
	out, errOut, err := pull(t, noenv, args...)
	if err != nil {
		t.Fatalf("pull: %v\n%s\n%s", err, out, errOut)
	}
	for name, v := range map[string]string{"fetched": "12", "added": "12", "rejected": "0"} {
		if got := summaryValue(t, out, name); got != v {
			t.Errorf("%s = %s, want %s\n%s", name, got, v, out)
		}
	}
	if !strings.Contains(errOut, "TAXII 2.0") {
		t.Errorf("stderr does not say the server speaks TAXII 2.0:\n%s", errOut)
	}
	if want := []string{"items 0-4", "items 5-9", "items 10-14"}; !slices.Equal(srv.Ranges(), want) {
		t.Errorf("ranges asked %q, want %q", srv.Ranges(), want)
	}
	if got := localIDs(t, db, "default"); !reflect.DeepEqual(got, want) {
		t.Errorf("local ids = %v\nwant %v", got, want)
	}
	st, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := st.Collection(context.Background(), bootstrap.APIRootName, "default")
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.Objects(context.Background(), c.ID, store.Filter{IDs: want[:1]})
	if err != nil || len(p.Entries) != 1 || p.Entries[0].Object.SpecVersion != "2.1" ||
		!strings.Contains(string(p.Entries[0].Object.Raw), `"indicator_types":["malicious-activity"]`) {
		t.Errorf("stored %+v, %v; want the indicator as STIX 2.1, its labels as indicator_types", p.Entries, err)
	}

	// From the high-water mark, only what the server added since.
	srv.Add(t, taxii20test.Indicator(12))
	out, errOut, err = pull(t, noenv, append(args, "--added-after", summaryValue(t, out, "high-water"))...)
	if err != nil {
		t.Fatalf("pull --added-after: %v\n%s", err, errOut)
	}
	if f, a := summaryValue(t, out, "fetched"), summaryValue(t, out, "added"); f != "1" || a != "1" {
		t.Errorf("pull --added-after: fetched %s, added %s; want 1 and 1", f, a)
	}
}

// TestPullFromDiscoveryURL: given the discovery URL where the API root
// belongs, the pull reads from the discovery's default API root, and says
// so.
func TestPullFromDiscoveryURL(t *testing.T) {
	r := newRemote(t)
	want := r.add(t, pullIndicator(1), pullIndicator(2))
	db := filepath.Join(t.TempDir(), "local.db")
	discovery := strings.TrimSuffix(r.url, "api/")
	out, errOut, err := pull(t, noenv, "--db", db, "--url", discovery, "--taxii-collection", "src", "--token", r.key)
	if err != nil {
		t.Fatalf("pull: %v\n%s\n%s", err, out, errOut)
	}
	if !strings.Contains(errOut, discovery+" is a discovery URL: pulling from its API root "+r.url) {
		t.Errorf("stderr does not say the discovery URL was followed:\n%s", errOut)
	}
	if got := localIDs(t, db, "default"); !reflect.DeepEqual(got, want) {
		t.Errorf("local ids = %v, want %v", got, want)
	}
}
