package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"hail"
	"hail/internal/pkitest"
	"hail/server"
	"hail/store"
	"hail/taxii"
)

func TestFeedsGet(t *testing.T) {
	e := newEnv(t, server.Config{}, false)
	ctx := context.Background()
	for _, f := range []store.Feed{
		{Name: "peer", Kind: store.FeedTAXII21, URL: "https://taxii.example/api/", CollectionID: collDrop,
			TAXIICollection: "remote", Token: "secret-token", Every: time.Hour},
		{Name: "list", Kind: store.FeedText, URL: "https://me:hunter2@lists.example/l.txt", CollectionID: collDrop,
			Every: 24 * time.Hour, List: store.FeedList{Source: "Lists", Snapshot: true}},
	} {
		if err := e.db.CreateFeed(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	run := store.FeedRun{Started: t0, Ended: t0.Add(2 * time.Second), Read: 6, Added: 4, NewVersions: 2, Duplicates: 1, Rejected: 1,
		Rejections: []store.FeedRejection{{Where: "object 6", ID: "indicator--bad", Reason: "No pattern."}}}
	if err := e.db.FinishFeedRun(ctx, "peer", run, store.FeedMark{AddedAfter: t0.Add(-time.Minute)}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	r := e.rest(t, http.MethodGet, "/api/v1/feeds", "admin", nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var got struct{ Data []map[string]any }
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Data) != 2 {
		t.Fatalf("feeds %s, want 2", r.body)
	}
	list, peer := got.Data[0], got.Data[1]
	for k, want := range map[string]any{"name": "list", "kind": "txt", "url": "https://me:xxxxx@lists.example/l.txt",
		"auth": "none", "every": "24h0m0s", "snapshot": true, "source": "Lists", "next_run": nil, "last_run": nil} {
		if !reflect.DeepEqual(list[k], want) {
			t.Errorf("list feed %s = %v, want %v", k, list[k], want)
		}
	}
	wantRun := map[string]any{"started": "2025-06-01T12:00:00.000000Z", "ended": "2025-06-01T12:00:02.000000Z", "read": 6.0,
		"added": 4.0, "new_versions": 2.0, "duplicates": 1.0, "rejected": 1.0, "revoked": 0.0, "not_modified": false, "error": "",
		"rejections": []any{map[string]any{"where": "object 6", "id": "indicator--bad", "reason": "No pattern."}}}
	for k, want := range map[string]any{"auth": "token", "every_seconds": 3600.0, "collection": collDrop,
		"taxii_collection": "remote", "next_run": "2025-06-01T13:00:00.000000Z",
		"mark": map[string]any{"added_after": "2025-06-01T11:59:00.000000Z"}, "last_run": wantRun} {
		if !reflect.DeepEqual(peer[k], want) {
			t.Errorf("peer feed %s = %#v, want %#v", k, peer[k], want)
		}
	}
	if body := string(r.body); strings.Contains(body, "secret-token") || strings.Contains(body, "hunter2") {
		t.Errorf("feeds listing shows a secret: %s", body)
	}

	// ?runs=N adds the latest runs, newest first.
	second := store.FeedRun{Started: t0.Add(time.Hour), Ended: t0.Add(time.Hour + time.Second), Error: "source down"}
	if err := e.db.FinishFeedRun(ctx, "peer", second, store.FeedMark{}, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	r = e.rest(t, http.MethodGet, "/api/v1/feeds?runs=5", "admin", nil)
	var withRuns struct {
		Data []struct {
			Name string
			Runs []struct {
				Started, Error string
				Rejections     []any
			}
		}
	}
	if err := json.Unmarshal(r.body, &withRuns); err != nil || len(withRuns.Data) != 2 {
		t.Fatalf("feeds with runs %s: %v", r.body, err)
	}
	if got := withRuns.Data[1].Runs; len(got) != 2 || got[0].Error != "source down" || got[1].Started != "2025-06-01T12:00:00.000000Z" ||
		got[0].Rejections == nil || len(got[0].Rejections) != 0 || len(got[1].Rejections) != 1 {
		t.Errorf("runs of peer %+v, want the failed run with an empty list of rejections, then the first with its one", got)
	}
	if got := withRuns.Data[0].Runs; len(got) != 0 {
		t.Errorf("runs of list %+v, want none", got)
	}
	if r := e.rest(t, http.MethodGet, "/api/v1/feeds?runs=1000", "admin", nil); r.status != http.StatusBadRequest {
		t.Errorf("runs=1000: status %d, want 400", r.status)
	}

	for key, want := range map[string]int{"": 401, "reader": 403} {
		if r := e.rest(t, http.MethodGet, "/api/v1/feeds/", key, nil); r.status != want {
			t.Errorf("GET /api/v1/feeds/ with key %q: %d, want %d", key, r.status, want)
		}
	}
}

// feedJSON is a feed as the feed API shows it, for tests that compare
// fields.
type feedJSON struct {
	Name              string
	Kind              string
	URL               string
	Collection        string
	TAXIICollection   string `json:"taxii_collection"`
	Auth              string
	Every             string
	AllVersions       bool `json:"all_versions"`
	Insecure          bool
	ClientCertificate bool `json:"client_certificate"`
	Source            string
	Snapshot          bool
	NextRun           *string `json:"next_run"`
	Mark              struct {
		AddedAfter *string `json:"added_after"`
	}
	Runs []struct{ Started, Error string }
}

// feedBody decodes a feed answer.
func feedBody(t *testing.T, r *response) feedJSON {
	t.Helper()
	var f feedJSON
	r.json(t, &f)
	return f
}

// storedFeed reads a feed from the store.
func (e *env) storedFeed(t *testing.T, name string) store.Feed {
	t.Helper()
	f, err := e.db.Feed(context.Background(), name)
	if err != nil {
		t.Fatalf("feed %q: %v", name, err)
	}
	return f
}

// jsonString quotes s as a JSON string.
func jsonString(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFeedCreate(t *testing.T) {
	e := newEnv(t, server.Config{}, false)
	ca := pkitest.NewCA(t)
	cert, key := ca.Client(t, "hail")
	secrets := []string{"peer-token-s3cret", "list-pa55word", key}
	var answers []*response

	r := e.rest(t, http.MethodPost, "/api/v1/feeds/", "admin", strings.NewReader(`{"name":"peer","kind":"taxii21",
		"url":"https://peer.example/taxii2/api/","collection":"drop","taxii_collection":"remote","token":"peer-token-s3cret",
		"every":"15m","all_versions":true,"ca":`+jsonString(t, ca.PEM())+`,"client_cert":`+jsonString(t, cert)+`,
		"client_key":`+jsonString(t, key)+`}`))
	answers = append(answers, r)
	if r.status != http.StatusCreated {
		t.Fatalf("create peer: %d %s", r.status, r.body)
	}
	got := feedBody(t, r)
	want := feedJSON{Name: "peer", Kind: "taxii21", URL: "https://peer.example/taxii2/api/", Collection: collDrop,
		TAXIICollection: "remote", Auth: "token", Every: "15m0s", AllVersions: true, ClientCertificate: true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("created peer %+v, want %+v", got, want)
	}
	f := e.storedFeed(t, "peer")
	if f.Token != "peer-token-s3cret" || f.CA != ca.PEM() || f.ClientCert != cert || f.ClientKey != key ||
		f.Every != 15*time.Minute || f.CollectionID != collDrop || !f.AllVersions || f.User != "" || !f.NextRun.IsZero() {
		t.Errorf("stored peer %+v", f)
	}

	// An IOC list feed by "root/alias", with basic auth, list options and
	// the default period.
	r = e.rest(t, http.MethodPost, "/api/v1/feeds", "admin", strings.NewReader(`{"name":"list","kind":"csv",
		"url":"https://lists.example/ips.csv","collection":"api/rw","user":"me","password":"list-pa55word","insecure":true,
		"list":{"source":"Example CERT","tlp":"green","confidence":80,"ttl":"30d","labels":["c2"],"columns":["ip"],"snapshot":true}}`))
	answers = append(answers, r)
	if r.status != http.StatusCreated {
		t.Fatalf("create list: %d %s", r.status, r.body)
	}
	if got := feedBody(t, r); got.Auth != "basic" || got.Every != "1h0m0s" || got.Collection != collRW || !got.Insecure ||
		!got.Snapshot || got.Source != "Example CERT" {
		t.Errorf("created list %+v", got)
	}
	f = e.storedFeed(t, "list")
	wantList := store.FeedList{Source: "Example CERT", TLP: "green", Confidence: 80, TTL: 720 * time.Hour,
		Labels: []string{"c2"}, Columns: []string{"ip"}, Snapshot: true}
	if !reflect.DeepEqual(f.List, wantList) || f.User != "me" || f.Password != "list-pa55word" || f.Every != time.Hour || !f.Insecure {
		t.Errorf("stored list %+v, want list options %+v", f, wantList)
	}

	r = e.rest(t, http.MethodGet, "/api/v1/feeds/", "admin", nil)
	answers = append(answers, r)
	var listing struct{ Data []feedJSON }
	r.json(t, &listing)
	if len(listing.Data) != 2 || listing.Data[0].Name != "list" || listing.Data[1].Name != "peer" {
		t.Errorf("listing %s, want list and peer", r.body)
	}
	for _, name := range []string{"peer", "list"} {
		answers = append(answers, e.rest(t, http.MethodGet, "/api/v1/feeds/"+name+"/", "admin", nil))
	}
	for _, r := range answers {
		for _, s := range secrets {
			if strings.Contains(string(r.body), s) {
				t.Errorf("an answer shows the secret %.20q…: %s", s, r.body)
			}
		}
	}
}

func TestFeedCreateRefused(t *testing.T) {
	e := newEnv(t, server.Config{}, false)
	ctx := context.Background()
	if err := e.db.CreateCollection(ctx, store.Collection{ID: "88888888-8888-4888-8888-888888888888",
		APIRoot: "api", Alias: "ips", Title: "IPs", Kind: store.KindFilter, Filter: `{"observables":["ipv4"]}`}); err != nil {
		t.Fatal(err)
	}
	const ok = `{"name":"taken","kind":"txt","url":"https://lists.example/l.txt","collection":"drop"}`
	if r := e.rest(t, http.MethodPost, "/api/v1/feeds/", "admin", strings.NewReader(ok)); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	body := func(fields string) string {
		return `{"kind":"txt","url":"https://lists.example/l.txt","collection":"drop",` + fields + `}`
	}
	tests := []struct {
		name, key, body string
		want            int
		wantMessage     string // in the error message, when not ""
	}{
		{"bad kind", "admin", `{"name":"x","kind":"rss","url":"https://l.example/","collection":"drop"}`, 400, `"rss"`},
		{"no name", "admin", body(`"every":"1h"`), 400, "name"},
		{"taken name", "admin", body(`"name":"taken"`), 409, `"taken"`},
		{"unknown collection", "admin", `{"name":"x","kind":"txt","url":"https://l.example/","collection":"nope"}`, 404, `"nope"`},
		{"no collection", "admin", `{"name":"x","kind":"txt","url":"https://l.example/"}`, 400, `"collection"`},
		{"filter collection", "admin", `{"name":"x","kind":"txt","url":"https://l.example/","collection":"ips"}`, 422, "filter collection"},
		{"no url", "admin", `{"name":"x","kind":"txt","collection":"drop"}`, 400, "URL"},
		{"taxii without remote collection", "admin", `{"name":"x","kind":"taxii21","url":"https://p.example/api/","collection":"drop"}`, 400, "remote collection"},
		{"token and password", "admin", body(`"name":"x","token":"t","password":"p"`), 400, "token"},
		{"bad every", "admin", body(`"name":"x","every":"hourly"`), 400, `"every"`},
		{"every too short", "admin", body(`"name":"x","every":"10s"`), 400, "least"},
		{"bad ttl", "admin", body(`"name":"x","list":{"ttl":"a month"}`), 400, "ttl"},
		{"name with a slash", "admin", body(`"name":"a/b"`), 400, "Feed name"},
		{"name with a space", "admin", body(`"name":"my feed"`), 400, "Feed name"},
		{"unknown TLP", "admin", body(`"name":"x","list":{"tlp":"purple"}`), 400, `"purple"`},
		{"confidence over 100", "admin", body(`"name":"x","list":{"confidence":101}`), 400, "0–100"},
		{"bad CA", "admin", body(`"name":"x","ca":"not PEM"`), 400, "CA"},
		{"cert without key", "admin", body(`"name":"x","client_cert":"x"`), 400, "key"},
		{"unknown field", "admin", body(`"name":"x","evry":"2h"`), 400, `"evry"`},
		{"unknown list field", "admin", body(`"name":"x","list":{"sauce":"me"}`), 400, `"sauce"`},
		{"wrong type", "admin", body(`"name":"x","all_versions":"yes"`), 400, "all_versions"},
		{"malformed JSON", "admin", `{"name":"x",`, 400, ""},
		{"not an object", "admin", `["x"]`, 400, ""},
		{"two objects", "admin", body(`"name":"x"`) + `{}`, 400, ""},
		{"empty body", "admin", ``, 400, ""},
		{"reader key", "reader", body(`"name":"x"`), 403, ""},
		{"writer key", "writer", body(`"name":"x"`), 403, ""},
		{"no key", "", body(`"name":"x"`), 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.rest(t, http.MethodPost, "/api/v1/feeds/", tt.key, strings.NewReader(tt.body))
			if r.status != tt.want {
				t.Fatalf("status %d %s, want %d", r.status, r.body, tt.want)
			}
			var msg struct{ Error struct{ Message string } }
			json.Unmarshal(r.body, &msg)
			if !strings.Contains(msg.Error.Message, tt.wantMessage) {
				t.Errorf("message %q, want it to name %s", msg.Error.Message, tt.wantMessage)
			}
		})
	}
	// A refused create leaves nothing behind.
	feeds, err := e.db.Feeds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(feeds) != 1 || feeds[0].Name != "taken" || feeds[0].Kind != store.FeedText {
		t.Errorf("stored feeds %+v, want only the first \"taken\"", feeds)
	}
}

// seedFeed stores a TAXII feed with a token, a mark, two runs and its
// next run at next.
func (e *env) seedFeed(t *testing.T, name string, next time.Time) {
	t.Helper()
	ctx := context.Background()
	if err := e.db.CreateFeed(ctx, store.Feed{Name: name, Kind: store.FeedTAXII21, URL: "https://peer.example/api/",
		CollectionID: collDrop, TAXIICollection: "remote", Token: "old-token", Every: time.Hour}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 4, 1, 12, 0, 0, 0, time.UTC)
	for i, errText := range []string{"source down", ""} {
		started := t0.Add(time.Duration(i) * time.Hour)
		run := store.FeedRun{Started: started, Ended: started.Add(time.Second), Error: errText}
		if err := e.db.FinishFeedRun(ctx, name, run, store.FeedMark{AddedAfter: t0.Add(-time.Minute)}, next); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFeedGet(t *testing.T) {
	e := newEnv(t, server.Config{}, false)
	next := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	e.seedFeed(t, "peer", next)

	r := e.rest(t, http.MethodGet, "/api/v1/feeds/peer", "admin", nil)
	if r.status != http.StatusOK {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	got := feedBody(t, r)
	if got.Name != "peer" || got.Auth != "token" || got.NextRun == nil || *got.NextRun != "2030-01-01T00:00:00.000000Z" ||
		got.Mark.AddedAfter == nil || *got.Mark.AddedAfter != "2025-04-01T11:59:00.000000Z" || len(got.Runs) != 0 {
		t.Errorf("get peer %s", r.body)
	}
	if strings.Contains(string(r.body), "old-token") {
		t.Errorf("get shows the token: %s", r.body)
	}
	got = feedBody(t, e.rest(t, http.MethodGet, "/api/v1/feeds/peer/?runs=1", "admin", nil))
	if len(got.Runs) != 1 || got.Runs[0].Started != "2025-04-01T13:00:00.000000Z" || got.Runs[0].Error != "" {
		t.Errorf("runs=1: %+v, want the latest, successful run", got.Runs)
	}
	for _, tt := range []struct {
		path, key string
		want      int
	}{
		{"/api/v1/feeds/peer?runs=many", "admin", 400},
		{"/api/v1/feeds/nope", "admin", 404},
		{"/api/v1/feeds/nope?runs=3", "admin", 404},
		{"/api/v1/feeds/peer", "reader", 403},
		{"/api/v1/feeds/peer", "", 401},
	} {
		if r := e.rest(t, http.MethodGet, tt.path, tt.key, nil); r.status != tt.want {
			t.Errorf("GET %s with key %q: %d %s, want %d", tt.path, tt.key, r.status, r.body, tt.want)
		}
	}
}

func TestFeedPatch(t *testing.T) {
	e := newEnv(t, server.Config{}, false)
	next := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	e.seedFeed(t, "peer", next)
	before := e.storedFeed(t, "peer")

	r := e.rest(t, http.MethodPatch, "/api/v1/feeds/peer/", "admin", strings.NewReader(
		`{"url":"https://new.example/api/","every":"1d","insecure":true}`))
	if r.status != http.StatusOK {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	if got := feedBody(t, r); got.URL != "https://new.example/api/" || got.Every != "24h0m0s" || !got.Insecure ||
		got.Auth != "token" || got.TAXIICollection != "remote" {
		t.Errorf("patched %s", r.body)
	}
	f := e.storedFeed(t, "peer")
	if f.URL != "https://new.example/api/" || f.Every != 24*time.Hour || !f.Insecure {
		t.Errorf("stored after patch %+v, want the new URL, period and insecure", f)
	}
	if f.Token != "old-token" || f.TAXIICollection != "remote" || f.Mark != before.Mark || !f.NextRun.Equal(next) ||
		!reflect.DeepEqual(f.LastRun, before.LastRun) {
		t.Errorf("patch changed what it did not name: %+v, was %+v", f, before)
	}

	// Basic credentials replace the token.
	r = e.rest(t, http.MethodPatch, "/api/v1/feeds/peer", "admin", strings.NewReader(`{"user":"me","password":"new-pa55"}`))
	if got := feedBody(t, r); r.status != http.StatusOK || got.Auth != "basic" || strings.Contains(string(r.body), "new-pa55") {
		t.Errorf("patch to basic: %d %s", r.status, r.body)
	}
	if f := e.storedFeed(t, "peer"); f.User != "me" || f.Password != "new-pa55" || f.Token != "" {
		t.Errorf("stored credentials user %q password %q token %q, want me, new-pa55 and no token", f.User, f.Password, f.Token)
	}

	// And a token replaces them.
	r = e.rest(t, http.MethodPatch, "/api/v1/feeds/peer", "admin", strings.NewReader(`{"token":"new-token"}`))
	if got := feedBody(t, r); r.status != http.StatusOK || got.Auth != "token" || strings.Contains(string(r.body), "new-token") {
		t.Errorf("patch to a token: %d %s", r.status, r.body)
	}
	if f := e.storedFeed(t, "peer"); f.User != "" || f.Password != "" || f.Token != "new-token" {
		t.Errorf("stored credentials user %q password %q token %q, want only the token new-token", f.User, f.Password, f.Token)
	}

	r = e.rest(t, http.MethodPatch, "/api/v1/feeds/peer", "admin", strings.NewReader(`{"reset_mark":true}`))
	if got := feedBody(t, r); r.status != http.StatusOK || got.Mark.AddedAfter != nil {
		t.Errorf("reset_mark: %d %s, want no added_after", r.status, r.body)
	}
	if f := e.storedFeed(t, "peer"); !f.Mark.AddedAfter.IsZero() || f.URL != "https://new.example/api/" {
		t.Errorf("stored after reset_mark: mark %+v, URL %q", f.Mark, f.URL)
	}
	runs, err := e.db.FeedRuns(context.Background(), "peer", 0)
	if err != nil || len(runs) != 2 {
		t.Errorf("runs after the changes: %d, %v; want both kept", len(runs), err)
	}

	kept := e.storedFeed(t, "peer")
	for _, tt := range []struct {
		name, path, key, body string
		want                  int
	}{
		{"bad duration", "/api/v1/feeds/peer", "admin", `{"every":"soon","url":"https://other.example/"}`, 400},
		{"too short", "/api/v1/feeds/peer", "admin", `{"every":"1s"}`, 400},
		{"token and user", "/api/v1/feeds/peer", "admin", `{"token":"t","user":"u"}`, 400},
		{"unknown field", "/api/v1/feeds/peer", "admin", `{"evry":"2h"}`, 400},
		{"nothing", "/api/v1/feeds/peer", "admin", `{}`, 400},
		{"only nulls", "/api/v1/feeds/peer", "admin", `{"url":null}`, 400},
		{"malformed", "/api/v1/feeds/peer", "admin", `{"every":`, 400},
		{"wrong type", "/api/v1/feeds/peer", "admin", `{"insecure":"no"}`, 400},
		{"kind is not changed", "/api/v1/feeds/peer", "admin", `{"kind":"txt"}`, 400},
		{"missing", "/api/v1/feeds/nope", "admin", `{"every":"2h"}`, 404},
		{"reader", "/api/v1/feeds/peer", "reader", `{"every":"2h"}`, 403},
		{"no key", "/api/v1/feeds/peer", "", `{"every":"2h"}`, 401},
	} {
		if r := e.rest(t, http.MethodPatch, tt.path, tt.key, strings.NewReader(tt.body)); r.status != tt.want {
			t.Errorf("%s: PATCH %s %s: %d %s, want %d", tt.name, tt.path, tt.body, r.status, r.body, tt.want)
		}
	}
	if f := e.storedFeed(t, "peer"); !reflect.DeepEqual(f, kept) {
		t.Errorf("refused patches changed the feed: %+v, was %+v", f, kept)
	}
}

func TestFeedDelete(t *testing.T) {
	e := newEnv(t, server.Config{}, false)
	e.seedFeed(t, "peer", time.Time{})
	for key, want := range map[string]int{"": 401, "writer": 403} {
		if r := e.rest(t, http.MethodDelete, "/api/v1/feeds/peer", key, nil); r.status != want {
			t.Errorf("DELETE with key %q: %d, want %d", key, r.status, want)
		}
	}
	e.storedFeed(t, "peer")
	r := e.rest(t, http.MethodDelete, "/api/v1/feeds/peer/", "admin", nil)
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Errorf("delete: %d %q, want 204 and no body", r.status, r.body)
	}
	if _, err := e.db.Feed(context.Background(), "peer"); hail.ErrorCode(err) != hail.ENOTFOUND {
		t.Errorf("stored feed after delete: %v, want not found", err)
	}
	if r := e.rest(t, http.MethodGet, "/api/v1/feeds/peer", "admin", nil); r.status != http.StatusNotFound {
		t.Errorf("get after delete: %d, want 404", r.status)
	}
	if r := e.rest(t, http.MethodDelete, "/api/v1/feeds/peer", "admin", nil); r.status != http.StatusNotFound {
		t.Errorf("delete again: %d, want 404", r.status)
	}
}

func TestFeedRunNow(t *testing.T) {
	e := newEnv(t, server.Config{}, false)
	ctx := context.Background()
	next := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	e.seedFeed(t, "peer", next)
	now := e.db.Now()
	if _, err := e.db.ClaimFeed(ctx, "peer", now, now.Add(time.Minute), true); hail.ErrorCode(err) != hail.ECONFLICT {
		t.Fatalf("claim of a feed due in 2030: %v, want a conflict", err)
	}
	for key, want := range map[string]int{"": 401, "reader": 403} {
		if r := e.rest(t, http.MethodPost, "/api/v1/feeds/peer/run", key, nil); r.status != want {
			t.Errorf("run with key %q: %d, want %d", key, r.status, want)
		}
	}
	if f := e.storedFeed(t, "peer"); !f.NextRun.Equal(next) {
		t.Errorf("refused runs moved next_run to %v", f.NextRun)
	}

	before := e.db.Now()
	r := e.rest(t, http.MethodPost, "/api/v1/feeds/peer/run/", "admin", nil)
	after := e.db.Now()
	if r.status != http.StatusAccepted {
		t.Fatalf("run: %d %s", r.status, r.body)
	}
	f := e.storedFeed(t, "peer")
	if !f.NextRun.After(before) || f.NextRun.After(after) {
		t.Errorf("next_run after run %v, want between %v and %v (it was %v)", f.NextRun, before, after, next)
	}
	if got := feedBody(t, r); got.NextRun == nil || *got.NextRun != taxii.FormatTimestamp(f.NextRun) {
		t.Errorf("run answered next_run %v, want %s", got.NextRun, taxii.FormatTimestamp(f.NextRun))
	}
	if f.Token != "old-token" || f.Mark.AddedAfter.IsZero() || f.Every != time.Hour {
		t.Errorf("run changed the feed's settings or mark: %+v", f)
	}
	// The scheduler of any replica now claims it as due.
	if _, err := e.db.ClaimFeed(ctx, "peer", after, after.Add(time.Minute), true); err != nil {
		t.Errorf("claim after run: %v, want the feed due", err)
	}
	// While that run holds it, another request is refused: the run's end
	// sets the next run.
	if r := e.rest(t, http.MethodPost, "/api/v1/feeds/peer/run", "admin", nil); r.status != http.StatusConflict ||
		!strings.Contains(string(r.body), "being run now") {
		t.Errorf("run during a run: %d %s, want 409", r.status, r.body)
	}
	if r := e.rest(t, http.MethodPost, "/api/v1/feeds/nope/run", "admin", nil); r.status != http.StatusNotFound {
		t.Errorf("run of a missing feed: %d, want 404", r.status)
	}
}
