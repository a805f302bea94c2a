package server_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"hail/auth"
	"hail/server"
	"hail/store"
)

// browser is a dashboard client: a cookie jar, redirects not followed so
// that tests see them, and Sec-Fetch-Site on forms as a browser sends it.
type browser struct {
	e *env
	c *http.Client
}

func newBrowser(t *testing.T, e *env) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &browser{e: e, c: c}
}

// htmlPage is what a test sees of a dashboard answer.
type htmlPage struct {
	status int
	header http.Header
	body   string
}

func (b *browser) send(t *testing.T, req *http.Request) htmlPage {
	t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return htmlPage{status: res.StatusCode, header: res.Header, body: string(body)}
}

func (b *browser) get(t *testing.T, path string) htmlPage {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	return b.send(t, req)
}

// post sends a form from the dashboard's own page.
func (b *browser) post(t *testing.T, path string, form url.Values, site string) htmlPage {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", site)
	return b.send(t, req)
}

// signIn signs the browser in with the named fixture key.
func (b *browser) signIn(t *testing.T, key string) {
	t.Helper()
	p := b.post(t, "/ui/login", url.Values{"key": {b.e.keys[key]}}, "same-origin")
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/ui/" {
		t.Fatalf("sign in as %s: status %d, Location %q; body %s", key, p.status, p.header.Get("Location"), p.body)
	}
}

func (p htmlPage) must(t *testing.T, status int, contains ...string) {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d, want %d; body %s", p.status, status, p.body)
	}
	for _, c := range contains {
		if !strings.Contains(p.body, c) {
			t.Errorf("page does not contain %q:\n%s", c, p.body)
		}
	}
}

func (p htmlPage) mustNot(t *testing.T, absent ...string) {
	t.Helper()
	for _, a := range absent {
		if strings.Contains(p.body, a) {
			t.Errorf("page contains %q, which it must not show:\n%s", a, p.body)
		}
	}
}

// uiEnv is a test server whose clock agrees with the store's, so that the
// dashboard's "added in the last day" sees what the fixture adds.
func uiEnv(t testing.TB, cfg server.Config) *env {
	t.Helper()
	var e *env
	if cfg.DashboardCountWait == 0 {
		cfg.DashboardCountWait = time.Minute // counts are always shown: a small store counts at once
	}
	cfg.Now = func() time.Time {
		if e == nil {
			return time.Now()
		}
		return e.db.Now().Add(time.Minute)
	}
	e = newEnv(t, cfg, false)
	return e
}

func TestUISignIn(t *testing.T) {
	e := uiEnv(t, server.Config{})
	b := newBrowser(t, e)

	p := b.get(t, "/ui/")
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/ui/login" {
		t.Fatalf("signed out: status %d, Location %q, want 303 to /ui/login", p.status, p.header.Get("Location"))
	}
	p = b.get(t, "/ui/login")
	p.must(t, http.StatusOK, `<form method="post" action="/ui/login">`, `type="password"`)
	for h, want := range map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Content-Security-Policy": "default-src 'none'; script-src 'self'",
		"X-Frame-Options":         "DENY",
		"Cache-Control":           "no-store",
	} {
		if got := p.header.Get(h); !strings.HasPrefix(got, want) {
			t.Errorf("%s %q, want %q", h, got, want)
		}
	}

	for _, tc := range []struct{ name, key, want string }{
		{"wrong key", "hail_notakey", "The API key is not valid."},
		{"revoked key", e.keys["revoked"], "The API key is not valid."},
	} {
		p = b.post(t, "/ui/login", url.Values{"key": {tc.key}}, "same-origin")
		p.must(t, http.StatusUnauthorized, tc.want, `action="/ui/login"`)
		if sc := p.header.Get("Set-Cookie"); strings.Contains(sc, "hail_") && !strings.Contains(sc, "Max-Age=0") {
			t.Errorf("%s: a cookie was set: %s", tc.name, sc)
		}
	}
	b.post(t, "/ui/login", url.Values{"key": {""}}, "same-origin").must(t, http.StatusBadRequest, "Give an API key.")

	p = b.post(t, "/ui/login", url.Values{"key": {e.keys["reader"]}}, "same-origin")
	if p.status != http.StatusSeeOther {
		t.Fatalf("sign in: status %d; body %s", p.status, p.body)
	}
	sc := p.header.Get("Set-Cookie")
	for _, want := range []string{"hail_ui=", "Path=/ui/", "HttpOnly", "SameSite=Strict", "Max-Age=43200"} {
		if !strings.Contains(sc, want) {
			t.Errorf("Set-Cookie %q lacks %q", sc, want)
		}
	}
	p = b.get(t, "/ui/")
	p.must(t, http.StatusOK, "Intel", collIntel, "Read-write", collRW, "reader", "Sign out")
	// Collections the key can neither read nor write are not there, nor an
	// API root where it sees none; admins' sections neither.
	p.mustNot(t, collSecret, collDrop, collHidden, "Hidden root", "Secret", "<h1>Feeds</h1>")
	b.get(t, "/ui/login").must(t, http.StatusSeeOther)

	p = b.post(t, "/ui/logout", nil, "same-origin")
	if p.status != http.StatusSeeOther || !strings.Contains(p.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("sign out: status %d, Set-Cookie %q", p.status, p.header.Get("Set-Cookie"))
	}
	if p = b.get(t, "/ui/"); p.status != http.StatusSeeOther {
		t.Fatalf("after sign-out: status %d, want 303 to the login page", p.status)
	}
}

func TestUIKeyChecks(t *testing.T) {
	e := uiEnv(t, server.Config{})
	ctx := context.Background()
	secret, hash := auth.NewKey()
	if err := e.db.CreateKey(ctx, store.Key{Name: "old", Hash: hash, Read: []string{collIntel}, Expires: e.db.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	local, lhash := auth.NewKey()
	if err := e.db.CreateKey(ctx, store.Key{Name: "elsewhere", Hash: lhash, Read: []string{collIntel}, AllowIPs: []string{"192.0.2.0/24"}}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, e)
	b.post(t, "/ui/login", url.Values{"key": {secret}}, "same-origin").must(t, http.StatusUnauthorized, "The API key expired at")
	b.post(t, "/ui/login", url.Values{"key": {local}}, "same-origin").must(t, http.StatusForbidden, "may not be used from this address")

	// A key revoked while signed in stops working at the next page, and
	// the cookie is cleared.
	b.signIn(t, "rw")
	b.get(t, "/ui/").must(t, http.StatusOK, "Read-write")
	if err := e.db.RevokeKey(ctx, "rw"); err != nil {
		t.Fatal(err)
	}
	p := b.get(t, "/ui/")
	p.must(t, http.StatusUnauthorized, "The API key is not valid.")
	p.mustNot(t, "Sign out")
	if !strings.Contains(p.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("the refused cookie is not cleared: Set-Cookie %q", p.header.Get("Set-Cookie"))
	}
}

func TestUICookieIsNoAPIKey(t *testing.T) {
	e := uiEnv(t, server.Config{})
	b := newBrowser(t, e)
	b.signIn(t, "reader")
	// The cookie is scoped to /ui/, but a client could send it anywhere:
	// TAXII and the IOC API must not take it as a key.
	for _, path := range []string{"/taxii2/api/collections/" + collIntel + "/objects/", "/api/v1/iocs?collection=intel"} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
		req.AddCookie(&http.Cookie{Name: "hail_ui", Value: e.keys["reader"]})
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s with the dashboard cookie: status %d, want 401", path, res.StatusCode)
		}
	}
}

func TestUICrossOriginForms(t *testing.T) {
	e := uiEnv(t, server.Config{})
	b := newBrowser(t, e)
	p := b.post(t, "/ui/login", url.Values{"key": {e.keys["admin"]}}, "cross-site")
	p.must(t, http.StatusForbidden, "not sent from this dashboard")
	if sc := p.header.Get("Set-Cookie"); sc != "" {
		t.Errorf("a cross-site login set a cookie: %s", sc)
	}
	b.signIn(t, "admin")
	b.post(t, "/ui/logout", nil, "cross-site").must(t, http.StatusForbidden)
	b.get(t, "/ui/").must(t, http.StatusOK, "Sign out") // still signed in
}

func TestUICollectionPage(t *testing.T) {
	e := uiEnv(t, server.Config{})
	var objs []string
	for i := 1; i <= 60; i++ {
		objs = append(objs, indicator(i, "2024-01-01T00:00:00.000Z"))
	}
	e.seed(t, collIntel, objs...)
	e.seed(t, collIntel, `{"type":"malware","spec_version":"2.1","id":"malware--`+uuidN(900)+`","created":"2024-01-01T00:00:00.000Z",`+
		`"modified":"2024-01-01T00:00:00.000Z","name":"<script>alert('x')</script>","is_family":true}`)
	e.seed(t, collSecret, malware(901))
	b := newBrowser(t, e)
	b.signIn(t, "reader")

	base := "/ui/collections/api/" + collIntel + "/"
	p := b.get(t, base)
	p.must(t, http.StatusOK, "Intel", "/taxii2/api/", collIntel, "objects 61, versions 61",
		"IOC 1", "indicator--"+uuidN(1), "Next 50")
	if n := strings.Count(p.body, `<td class="wrap">`); n != 50 {
		t.Errorf("first page lists %d objects, want 50", n)
	}
	p.mustNot(t, "IOC 51", `id="live"`)
	next := between(p.body, `<p class="pager"><a href="`, `"`)
	next = strings.ReplaceAll(next, "&amp;", "&")
	p = b.get(t, next)
	p.must(t, http.StatusOK, "IOC 51", "IOC 60", `id="live"`, `data-stream="`+base+`stream/"`)
	p.mustNot(t, "IOC 50<", "Next 50")
	// Object fields are text, never markup.
	p.must(t, http.StatusOK, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;")
	p.mustNot(t, "<script>alert(")

	p = b.get(t, base+"?type=malware&since=all")
	p.must(t, http.StatusOK, "malware--"+uuidN(900))
	p.mustNot(t, "indicator--"+uuidN(1))
	b.get(t, base+"?since=forever").must(t, http.StatusBadRequest, "since must be one of")
	b.get(t, base+"?type=Not_A_Type").must(t, http.StatusBadRequest, "is not a STIX type")
	// Another key's collection answers as a missing one, in the dashboard's
	// own error page.
	p = b.get(t, "/ui/collections/api/"+collSecret+"/")
	p.must(t, http.StatusNotFound, "404 Not Found")
	p.mustNot(t, "malware--"+uuidN(901), "Secret")
	b.get(t, "/ui/collections/api/"+collSecret+"/objects/malware--"+uuidN(901)+"/").must(t, http.StatusNotFound)
	b.get(t, "/ui/nothing-here").must(t, http.StatusNotFound, "No dashboard page at this path.")
	// Signed out, a collection that is not public asks for a key, and says
	// no more about it.
	p = newBrowser(t, e).get(t, base)
	p.must(t, http.StatusUnauthorized, `action="/ui/login"`)
	p.mustNot(t, "Intel", "IOC 1")
}

func TestUIObjectPage(t *testing.T) {
	e := uiEnv(t, server.Config{})
	e.seed(t, collIntel, indicator(7, "2024-01-01T00:00:00.000Z"))
	e.seed(t, collIntel, strings.Replace(indicator(7, "2024-02-01T00:00:00.000Z"), `"IOC 7"`, `"IOC 7, revised"`, 1))
	b := newBrowser(t, e)
	b.signIn(t, "reader")
	path := "/ui/collections/api/" + collIntel + "/objects/indicator--" + uuidN(7) + "/"
	p := b.get(t, path)
	p.must(t, http.StatusOK, "IOC 7, revised", "2024-01-01T00:00:00.000Z", "2024-02-01T00:00:00.000Z",
		"[ipv4-addr:value = &#39;203.0.113.7&#39;]", "ipv4", "203.0.113.7", "&#34;x_custom&#34;")
	if strings.Count(p.body, "shown below") != 1 {
		t.Errorf("want exactly one version marked as shown")
	}
	p = b.get(t, path+"?version=2024-01-01T00:00:00.000Z")
	p.must(t, http.StatusOK, "&#34;modified&#34;: &#34;2024-01-01T00:00:00.000Z&#34;")
	p.mustNot(t, "&#34;IOC 7, revised&#34;")
	b.get(t, path+"?version=2023-01-01T00:00:00.000Z").must(t, http.StatusNotFound, "has no version")
	b.get(t, "/ui/collections/api/"+collIntel+"/objects/indicator--"+uuidN(8)+"/").must(t, http.StatusNotFound)
	b.get(t, "/ui/collections/api/"+collIntel+"/objects/not-an-id/").must(t, http.StatusNotFound)
}

func TestUILookup(t *testing.T) {
	e := uiEnv(t, server.Config{})
	e.seed(t, collIntel, indicator(5, "2024-01-01T00:00:00.000Z"))
	e.seed(t, collSecret, indicator(6, "2024-01-01T00:00:00.000Z"))
	b := newBrowser(t, e)
	b.signIn(t, "reader")
	b.get(t, "/ui/lookup").must(t, http.StatusOK, `<textarea id="q" name="q"`, "Intel")
	q := url.Values{"q": {"203.0.113[.]5\n203.0.113.6\nnot an ioc\n"}, "collection": {collIntel}}
	p := b.get(t, "/ui/lookup?"+q.Encode())
	p.must(t, http.StatusOK, "203.0.113[.]5", "IOC 5", "indicator--"+uuidN(5), "no match", "not a recognisable IOC")
	// 203.0.113.6 is held only in a collection the key may not read.
	p.mustNot(t, "IOC 6", "Secret")
	q.Set("collection", collSecret)
	b.get(t, "/ui/lookup?"+q.Encode()).must(t, http.StatusNotFound)
	many := strings.Repeat("203.0.113.1\n", 101)
	b.get(t, "/ui/lookup?"+url.Values{"q": {many}}.Encode()).must(t, http.StatusBadRequest, "At most 100 values")
}

func TestUIAdminSections(t *testing.T) {
	e := uiEnv(t, server.Config{})
	ctx := context.Background()
	if err := e.db.CreateFeed(ctx, store.Feed{Name: "abuse-list", Kind: store.FeedText, CollectionID: collIntel,
		URL: "https://someone:pa55word@feeds.example/list.txt?apikey=SECRET123", Every: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.CreateWebhook(ctx, store.Webhook{ID: uuidN(77), CollectionID: collIntel, URL: "https://hooks.example/in?token=HOOKSECRET",
		Secret: "signing-secret", BatchSize: 100, MaxWait: time.Second}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, e)
	b.signIn(t, "admin")
	p := b.get(t, "/ui/")
	p.must(t, http.StatusOK, "<h1>Feeds</h1>", "abuse-list", "https://feeds.example/list.txt …", "api/intel",
		"<h1>Webhooks</h1>", uuidN(77), "https://hooks.example/in …", "Secret", "Hidden root")
	p.mustNot(t, "pa55word", "SECRET123", "HOOKSECRET", "signing-secret")

	r := newBrowser(t, e)
	r.signIn(t, "reader")
	r.get(t, "/ui/").mustNot(t, "abuse-list", uuidN(77))
}

func TestUIStream(t *testing.T) {
	e := uiEnv(t, server.Config{})
	res := e.seed(t, collIntel, indicator(3, "2024-01-01T00:00:00.000Z"))
	b := newBrowser(t, e)
	b.signIn(t, "reader")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	after := res[0].DateAdded.Add(-time.Microsecond).UTC().Format("2006-01-02T15:04:05.000000Z")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet,
		e.srv.URL+"/ui/collections/api/"+collIntel+"/stream/?after="+after, nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "data: ") {
			if !strings.Contains(line, "indicator--"+uuidN(3)) {
				t.Fatalf("first event %s, want the seeded indicator", line)
			}
			return
		}
	}
	t.Fatalf("the stream ended without an event: %v", sc.Err())
}

func TestUIRootAndOff(t *testing.T) {
	e := uiEnv(t, server.Config{})
	b := newBrowser(t, e)
	p := b.get(t, "/")
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/ui/" {
		t.Errorf("GET / from a browser: status %d, Location %q, want 303 to /ui/", p.status, p.header.Get("Location"))
	}
	// A TAXII client asking for / still gets TAXII's 404.
	e.get(t, "/", "").must404(t)
	p = b.get(t, "/ui/static/live.js")
	p.must(t, http.StatusOK, "EventSource", "textContent")
	if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("live.js Content-Type %q", ct)
	}
	b.get(t, "/ui/static/hail.css").must(t, http.StatusOK, "font")
	b.get(t, "/ui/static/").must(t, http.StatusNotFound)
	b.get(t, "/ui/static/nothing.js").must(t, http.StatusNotFound)

	off := uiEnv(t, server.Config{NoDashboard: true})
	off.get(t, "/ui/", "admin").must404(t)
	if r := off.do(t, http.MethodGet, "/", map[string]string{"Accept": "text/html"}, nil); r.status != http.StatusNotAcceptable && r.status != http.StatusNotFound {
		t.Errorf("dashboard off, GET / from a browser: status %d", r.status)
	}
}

func (r *response) must404(t *testing.T) {
	t.Helper()
	if r.status != http.StatusNotFound {
		t.Errorf("status %d, want 404; body %s", r.status, r.body)
	}
}

// between returns the text of s after the first start and before the next
// end, "" when start is absent.
func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, end)
	return v
}

// slowCounts is the real store with collection counts held back until
// release is closed, as a large collection's count takes seconds.
type slowCounts struct {
	store.Store
	release chan struct{}
}

func (s slowCounts) CollectionStats(ctx context.Context, id string) (store.CollectionStats, error) {
	<-s.release
	return s.Store.CollectionStats(ctx, id)
}

func TestUICountsDoNotHoldPages(t *testing.T) {
	e := uiEnv(t, server.Config{})
	e.seed(t, collIntel, indicator(1, "2024-01-01T00:00:00.000Z"))
	slow := slowCounts{Store: e.db, release: make(chan struct{})}
	released := false
	defer func() {
		if !released {
			close(slow.release)
		}
	}()
	h := server.New(server.Config{DashboardCountWait: time.Millisecond, Now: e.db.Now}, slow, nil)
	srv := httptest.NewServer(h)
	defer srv.Close()
	se := *e
	se.srv = srv
	b := newBrowser(t, &se)
	b.signIn(t, "reader")

	// Without counts the pages still answer, with what they can show.
	p := b.get(t, "/ui/")
	p.must(t, http.StatusOK, "Intel", `<td class="num">?</td>`)
	p = b.get(t, "/ui/collections/api/"+collIntel+"/?since=all")
	p.must(t, http.StatusOK, "IOC 1")
	p.mustNot(t, "objects 1, versions 1")

	close(slow.release)
	released = true
	deadline := time.Now().Add(time.Minute)
	for {
		p = b.get(t, "/ui/")
		if strings.Contains(p.body, `<td class="num">1</td>`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the counts never reached the overview:\n%s", p.body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestUIConsumers(t *testing.T) {
	e := uiEnv(t, server.Config{})
	e.seed(t, collIntel, indicator(1, "2024-01-01T00:00:00.000Z"))
	for range 3 {
		e.get(t, "/taxii2/api/collections/intel/objects/", "reader")
	}
	flush(t, e.srv)
	b := newBrowser(t, e)
	b.signIn(t, "admin")
	p := b.get(t, "/ui/keys")
	p.must(t, http.StatusOK, "<h1>Consumers", "reader", "reads api/intel, api/rw", "writes api/drop, api/rw",
		"reader polled api/intel 3 times in the last 24 h", "revoked", "no requests")
	if !strings.Contains(between(p.body, "<td>reader</td>", "</tr>"), `<td class="num">3</td>`) {
		t.Errorf("reader's row does not count its 3 polls:\n%s", between(p.body, "<td>reader</td>", "</tr>"))
	}
	// Dashboard views are not consumer activity.
	p.mustNot(t, "admin polled")

	r := newBrowser(t, e)
	r.signIn(t, "reader")
	r.get(t, "/ui/keys").must(t, http.StatusNotFound)
	r.get(t, "/ui/").mustNot(t, `href="/ui/keys"`)
}

func TestUIFeedPage(t *testing.T) {
	e := uiEnv(t, server.Config{})
	ctx := context.Background()
	if err := e.db.CreateFeed(ctx, store.Feed{Name: "abuse", Kind: store.FeedText, CollectionID: collIntel,
		URL: "https://u:pw@feeds.example/list.txt?key=SECRET", Password: "pw", User: "u", Every: time.Hour}); err != nil {
		t.Fatal(err)
	}
	started := e.db.Now()
	f, err := e.db.ClaimFeed(ctx, "abuse", started, started.Add(time.Minute), false)
	if err != nil {
		t.Fatal(err)
	}
	run := store.FeedRun{Started: started, Ended: started.Add(1500 * time.Millisecond), Read: 12, Added: 9, Duplicates: 1, Rejected: 2,
		Rejections: []store.FeedRejection{{Where: "line 4", Reason: "not a recognisable IOC"}}}
	if err := e.db.FinishFeedRun(ctx, f.Name, run, store.FeedMark{ETag: `"v1"`}, started.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, e)
	b.signIn(t, "admin")
	b.get(t, "/ui/").must(t, http.StatusOK, `href="/ui/feeds/abuse/"`)
	p := b.get(t, "/ui/feeds/abuse/")
	p.must(t, http.StatusOK, "abuse", "https://feeds.example/list.txt …", "user and password", "api/intel",
		"1.5s", `<td class="num">9</td>`, "line 4", "not a recognisable IOC", "ETag <code>&#34;v1&#34;</code>", "Run now")
	p.mustNot(t, "SECRET", "pw@")

	p = b.post(t, "/ui/feeds/abuse/run", nil, "same-origin")
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/ui/feeds/abuse/?queued" {
		t.Fatalf("run now: status %d, Location %q", p.status, p.header.Get("Location"))
	}
	got, err := e.db.Feed(ctx, "abuse")
	if err != nil {
		t.Fatal(err)
	}
	if !got.NextRun.IsZero() && got.NextRun.After(e.db.Now()) {
		t.Errorf("after Run now the feed is next due at %s, want now", got.NextRun)
	}
	b.get(t, "/ui/feeds/abuse/?queued").must(t, http.StatusOK, "The feed is due now")
	b.get(t, "/ui/feeds/nope/").must(t, http.StatusNotFound)
	b.post(t, "/ui/feeds/abuse/run", nil, "cross-site").must(t, http.StatusForbidden)

	r := newBrowser(t, e)
	r.signIn(t, "reader")
	r.get(t, "/ui/feeds/abuse/").must(t, http.StatusNotFound)
	r.post(t, "/ui/feeds/abuse/run", nil, "same-origin").must(t, http.StatusNotFound)
}

func TestUIWebhookPage(t *testing.T) {
	e := uiEnv(t, server.Config{})
	ctx := context.Background()
	id := uuidN(88)
	if err := e.db.CreateWebhook(ctx, store.Webhook{ID: id, CollectionID: collIntel, URL: "https://hooks.example/in?token=HOOKSECRET",
		Secret: "signing-secret", BatchSize: 50, MaxWait: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	now := e.db.Now()
	if ok, err := e.db.AcquireWebhookLease(ctx, id, "test", now, time.Minute); err != nil || !ok {
		t.Fatalf("lease: %v %v", ok, err)
	}
	if err := e.db.RecordWebhookAttempt(ctx, id, "test", store.WebhookAttempt{Delivery: "d-1", Time: now, Objects: 7, Status: 503,
		Latency: 120 * time.Millisecond, Error: "receiver answered 503"}, nil); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, e)
	b.signIn(t, "admin")
	b.get(t, "/ui/").must(t, http.StatusOK, `href="/ui/webhooks/`+id+`/"`)
	path := "/ui/webhooks/" + id + "/"
	p := b.get(t, path)
	p.must(t, http.StatusOK, "https://hooks.example/in …", "api/intel", "up to 50 objects", "d-1", `<td class="num">503</td>`,
		"receiver answered 503", "120ms", `action="`+path+`pause"`)
	p.mustNot(t, "HOOKSECRET", "signing-secret")

	if p = b.post(t, path+"pause", nil, "same-origin"); p.status != http.StatusSeeOther {
		t.Fatalf("pause: status %d", p.status)
	}
	h, err := e.db.Webhook(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !h.State.Paused || h.State.PausedReason != "paused by admin in the dashboard" {
		t.Errorf("after pause: paused %v, reason %q", h.State.Paused, h.State.PausedReason)
	}
	b.get(t, path).must(t, http.StatusOK, "paused: paused by admin in the dashboard", `action="`+path+`resume"`)
	b.post(t, path+"resume", nil, "same-origin")
	if h, _ = e.db.Webhook(ctx, id); h.State.Paused {
		t.Errorf("still paused after resume")
	}
	b.get(t, "/ui/webhooks/"+uuidN(89)+"/").must(t, http.StatusNotFound)

	r := newBrowser(t, e)
	r.signIn(t, "reader")
	r.get(t, path).must(t, http.StatusNotFound)
	r.post(t, path+"pause", nil, "same-origin").must(t, http.StatusNotFound)
	if h, _ = e.db.Webhook(ctx, id); h.State.Paused {
		t.Errorf("a reader paused the webhook")
	}
}

func TestUIKeyManagement(t *testing.T) {
	e := uiEnv(t, server.Config{})
	e.seed(t, collIntel, indicator(1, "2024-01-01T00:00:00.000Z"))
	b := newBrowser(t, e)
	b.signIn(t, "admin")
	b.get(t, "/ui/keys/new").must(t, http.StatusOK, `name="name"`, `value="`+collIntel+`"`)

	form := url.Values{"name": {"sentinel-prod"}, "read": {collIntel}, "expires_days": {"90"}}
	p := b.post(t, "/ui/keys", form, "same-origin")
	p.must(t, http.StatusCreated, "Key sentinel-prod made", "shown only now")
	secret := between(p.body, `<code class="copy secret" id="secret">`, "</code>")
	if !strings.HasPrefix(secret, auth.KeyPrefix) {
		t.Fatalf("no key on the page:\n%s", p.body)
	}
	// The key works for TAXII with exactly the rights given.
	if r := e.do(t, http.MethodGet, "/taxii2/api/collections/intel/objects/", map[string]string{"Authorization": basic("apikey", secret)}, nil); r.status != http.StatusOK {
		t.Errorf("new key reading intel: %d", r.status)
	}
	if r := e.do(t, http.MethodGet, "/taxii2/api/collections/secret/objects/", map[string]string{"Authorization": basic("apikey", secret)}, nil); r.status != http.StatusNotFound {
		t.Errorf("new key reading secret: %d, want 404", r.status)
	}
	keys, err := e.db.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.Name == "sentinel-prod" && (k.Admin || k.Expires.IsZero() || len(k.Write) != 0 || !auth.Equal(k.Hash, auth.Hash(secret))) {
			t.Errorf("stored key %+v", k)
		}
	}
	p = b.get(t, "/ui/keys")
	p.must(t, http.StatusOK, "sentinel-prod", "expires")
	p.mustNot(t, secret)

	for _, bad := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"name": {""}, "read": {collIntel}}, "Give the key a name"},
		{url.Values{"name": {"x"}}, "at least one right"},
		{url.Values{"name": {"x"}, "read": {uuidN(999)}}, "does not exist"},
		{url.Values{"name": {"x"}, "read": {collIntel}, "expires_days": {"soon"}}, "number of days"},
		{url.Values{"name": {"x"}, "read": {collIntel}, "plan": {"gold"}}, "plan chosen does not exist"},
	} {
		b.post(t, "/ui/keys", bad.form, "same-origin").must(t, http.StatusBadRequest, bad.want)
	}
	b.post(t, "/ui/keys", form, "same-origin").must(t, http.StatusConflict, "exists already")
	b.post(t, "/ui/keys", url.Values{"name": {"evil"}, "admin": {"on"}}, "cross-site").must(t, http.StatusForbidden)

	// Revoking asks first, then the key stops working.
	b.get(t, "/ui/keys/sentinel-prod/revoke").must(t, http.StatusOK, "Revoke sentinel-prod?", `action="/ui/keys/sentinel-prod/revoke"`)
	if p = b.post(t, "/ui/keys/sentinel-prod/revoke", nil, "same-origin"); p.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", p.status, p.body)
	}
	if r := e.do(t, http.MethodGet, "/taxii2/api/collections/intel/objects/", map[string]string{"Authorization": basic("apikey", secret)}, nil); r.status != http.StatusUnauthorized {
		t.Errorf("revoked key: %d, want 401", r.status)
	}
	b.get(t, "/ui/keys/sentinel-prod/revoke").must(t, http.StatusNotFound, "revoked already")
	b.post(t, "/ui/keys/nobody-such/revoke", nil, "same-origin").must(t, http.StatusNotFound)

	r := newBrowser(t, e)
	r.signIn(t, "reader")
	r.get(t, "/ui/keys/new").must(t, http.StatusNotFound)
	r.post(t, "/ui/keys", url.Values{"name": {"mine"}, "admin": {"on"}}, "same-origin").must(t, http.StatusNotFound)
	r.post(t, "/ui/keys/writer/revoke", nil, "same-origin").must(t, http.StatusNotFound)
	if r := e.get(t, "/taxii2/api/collections/drop/", "writer"); r.status != http.StatusOK {
		t.Errorf("a reader's revoke reached the writer key: %d", r.status)
	}
}

func TestUIPublicVisitor(t *testing.T) {
	e := uiEnv(t, server.Config{})
	e.seed(t, collOpen, indicator(4, "2024-01-01T00:00:00.000Z"))
	e.seed(t, collIntel, indicator(5, "2024-01-01T00:00:00.000Z"))
	v := newBrowser(t, e)
	if p := v.get(t, "/ui/"); p.status != http.StatusSeeOther {
		t.Fatalf("no public collection: status %d, want 303 to the login page", p.status)
	}
	public := true
	if _, err := e.db.UpdateCollection(context.Background(), collOpen, store.CollectionUpdate{Public: &public}); err != nil {
		t.Fatal(err)
	}
	p := v.get(t, "/ui/")
	p.must(t, http.StatusOK, "Open", collOpen, "Public collections", `href="/ui/login">Sign in`)
	p.mustNot(t, collIntel, "Sign out", "<h1>Feeds</h1>")
	v.get(t, "/ui/collections/api/"+collOpen+"/?since=all").must(t, http.StatusOK, "IOC 4", `id="live"`)
	v.get(t, "/ui/collections/api/"+collOpen+"/objects/indicator--"+uuidN(4)+"/").must(t, http.StatusOK, "203.0.113.4")
	p = v.get(t, "/ui/lookup?"+url.Values{"q": {"203.0.113.4\n203.0.113.5"}}.Encode())
	p.must(t, http.StatusOK, "IOC 4", "no match")
	p.mustNot(t, "IOC 5")
	v.get(t, "/ui/collections/api/"+collIntel+"/").must(t, http.StatusUnauthorized)
	v.get(t, "/ui/lookup?"+url.Values{"q": {"203.0.113.5"}, "collection": {collIntel}}.Encode()).must(t, http.StatusNotFound)
	v.get(t, "/ui/keys").must(t, http.StatusSeeOther)
}

// postMultipart sends a multipart form from the dashboard's page: fields
// in order, then an empty file input as a browser sends one, then text.
func (b *browser) postMultipart(t *testing.T, path string, fields [][2]string, site string) htmlPage {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range fields {
		if f[0] == "file" { // an empty file part, named f[1]
			if _, err := mw.CreateFormFile("file", f[1]); err != nil {
				t.Fatal(err)
			}
			continue
		}
		mw.WriteField(f[0], f[1])
	}
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, b.e.srv.URL+path, &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", site)
	return b.send(t, req)
}

func TestUIImport(t *testing.T) {
	e := uiEnv(t, server.Config{})
	b := newBrowser(t, e)
	b.signIn(t, "admin")
	p := b.get(t, "/ui/import")
	p.must(t, http.StatusOK, `enctype="multipart/form-data"`, `value="`+collDrop+`"`)
	p.mustNot(t, "(all)") // no filter collection in the fixture; explicit ones only are offered

	// Pasted text, with the empty file input a browser sends first.
	list := "# a list\n203.0.113.77\nhxxp://bad[.]example/x\nnot an ioc at all\n"
	form := [][2]string{{"collection", collDrop}, {"format", ""}, {"source", "Paste test"}, {"tlp", "amber"},
		{"confidence", "70"}, {"file", ""}, {"content", list}}
	p = b.postMultipart(t, "/ui/import", form, "same-origin")
	p.must(t, http.StatusOK, "Imported", "as txt: 2 added", "1 rejected", "line 4", `value="`+collDrop+`" selected`)
	res, err := e.db.Objects(context.Background(), collDrop, store.Filter{Types: []string{"indicator"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != 2 {
		t.Fatalf("drop holds %d indicators after the import, want 2", len(res.Entries))
	}
	if raw := string(res.Entries[0].Object.Raw); !strings.Contains(raw, `"confidence":70`) {
		t.Errorf("imported indicator lacks the form's confidence: %s", raw)
	}
	// The same list again adds nothing.
	b.postMultipart(t, "/ui/import", form, "same-origin").must(t, http.StatusOK, "0 added", "2 duplicates")

	b.postMultipart(t, "/ui/import", [][2]string{{"collection", collDrop}, {"confidence", "900"}, {"file", ""}, {"content", list}},
		"same-origin").must(t, http.StatusBadRequest, "confidence")
	b.postMultipart(t, "/ui/import", form, "cross-site").must(t, http.StatusForbidden)

	r := newBrowser(t, e)
	r.signIn(t, "writer")
	r.get(t, "/ui/import").must(t, http.StatusNotFound)
	r.postMultipart(t, "/ui/import", form, "same-origin").must(t, http.StatusNotFound)
}

// TestUIKeepsPlans signs in with a key whose plan grants TAXII only: the
// dashboard shows its collections' objects, but neither lookups (the IOC
// API's) nor the live stream, as the APIs themselves would refuse them.
func TestUIKeepsPlans(t *testing.T) {
	e := uiEnv(t, server.Config{})
	ctx := context.Background()
	e.seed(t, collIntel, indicator(1, "2024-01-01T00:00:00.000Z"))
	if err := e.db.CreatePlan(ctx, store.Plan{Name: "taxii-only", APIs: []string{store.APITAXII}}); err != nil {
		t.Fatal(err)
	}
	secret, hash := auth.NewKey()
	if err := e.db.CreateKey(ctx, store.Key{Name: "sentinel", Hash: hash, Read: []string{collIntel}, Plan: "taxii-only"}); err != nil {
		t.Fatal(err)
	}
	e.keys["sentinel"] = secret
	b := newBrowser(t, e)
	b.signIn(t, "sentinel")
	b.get(t, "/ui/").must(t, http.StatusOK, "Intel")
	b.get(t, "/ui/collections/api/"+collIntel+"/?since=all").must(t, http.StatusOK, "IOC 1")
	b.get(t, "/ui/lookup?"+url.Values{"q": {"203.0.113.1"}}.Encode()).must(t, http.StatusForbidden, "does not include the IOC REST API")
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/ui/collections/api/"+collIntel+"/stream/", nil)
	req.Header.Set("Accept", "text/event-stream")
	b.send(t, req).must(t, http.StatusForbidden, "does not include the stream API")
}

// TestUICookieSecure: the cookie is Secure where clients reach hail over
// https, by its public URL or a proxy's X-Forwarded-Proto, and not over
// plain http, where a browser would drop it.
func TestUICookieSecure(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    server.Config
		header string
		secure bool
	}{
		{"plain http", server.Config{}, "", false},
		{"proxy says https", server.Config{}, "https", true},
		{"public URL https", server.Config{PublicURL: "https://taxii.example.org"}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := uiEnv(t, tc.cfg)
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/ui/login", strings.NewReader(url.Values{"key": {e.keys["reader"]}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.header != "" {
				req.Header.Set("X-Forwarded-Proto", tc.header)
			}
			p := newBrowser(t, e).send(t, req)
			if p.status != http.StatusSeeOther {
				t.Fatalf("sign in: %d %s", p.status, p.body)
			}
			if got := strings.Contains(p.header.Get("Set-Cookie"), "Secure"); got != tc.secure {
				t.Errorf("Set-Cookie %q: Secure %v, want %v", p.header.Get("Set-Cookie"), got, tc.secure)
			}
		})
	}
}
