package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hail"
	"hail/taxii"
)

// script is a test server that answers the n-th request with steps[n]
// (the last step repeats) and records what it received.
type script struct {
	srv   *httptest.Server
	mu    sync.Mutex
	steps []http.HandlerFunc
	reqs  []*http.Request
	bodys [][]byte
}

func newScript(t *testing.T, steps ...http.HandlerFunc) *script {
	t.Helper()
	s := &script{steps: steps}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		n := len(s.reqs)
		s.reqs = append(s.reqs, r.Clone(context.Background()))
		s.bodys = append(s.bodys, body)
		s.mu.Unlock()
		s.steps[min(n, len(s.steps)-1)](w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *script) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// client returns a client of the script's server whose waits are recorded
// in *waits instead of spent.
func (s *script) client(t *testing.T, waits *[]time.Duration, opts ...Option) *Client {
	t.Helper()
	opts = append([]Option{WithBackoff(100*time.Millisecond, time.Second)}, opts...)
	c, err := New(s.srv.URL+"/taxii2/api/", opts...)
	if err != nil {
		t.Fatal(err)
	}
	c.sleep = func(ctx context.Context, d time.Duration) error {
		*waits = append(*waits, d)
		return ctx.Err()
	}
	return c
}

// status answers with an error status, a TAXII error body and headers
// given as name, value pairs.
func status(code int, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", taxii.MediaType)
		w.WriteHeader(code)
		io.WriteString(w, `{"title":"Status `+strconv.Itoa(code)+`.","http_status":"`+strconv.Itoa(code)+`"}`)
	}
}

// envelope answers 200 with a TAXII envelope body.
func envelope(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", taxii.MediaType)
		io.WriteString(w, body)
	}
}

const oneObject = `{"more":false,"objects":[{"type":"indicator","id":"indicator--00000001-0000-4000-8000-000000000001"}]}`

func TestRetryAfterSeconds(t *testing.T) {
	s := newScript(t, status(429, "Retry-After", "3"), envelope(oneObject))
	var waits []time.Duration
	p, err := s.client(t, &waits).Objects(context.Background(), "c", Filter{})
	if err != nil || len(p.Objects) != 1 {
		t.Fatalf("Objects = %d objects, %v; want 1 after a retry", len(p.Objects), err)
	}
	if want := []time.Duration{3 * time.Second}; !equalDurations(waits, want) || s.count() != 2 {
		t.Errorf("waits %v over %d requests, want %v over 2", waits, s.count(), want)
	}
}

func TestRetryAfterDate(t *testing.T) {
	at := time.Now().Add(2 * time.Minute).UTC().Format(http.TimeFormat)
	s := newScript(t, status(503, "Retry-After", at), envelope(oneObject))
	var waits []time.Duration
	if _, err := s.client(t, &waits).Objects(context.Background(), "c", Filter{}); err != nil {
		t.Fatal(err)
	}
	// The date has a resolution of a second; the wait is what remains of it.
	if len(waits) != 1 || waits[0] <= time.Minute || waits[0] > 2*time.Minute {
		t.Errorf("waits %v, want one of about 2m (Retry-After %s)", waits, at)
	}
}

func TestBackoffWithoutRetryAfter(t *testing.T) {
	s := newScript(t, status(502), status(504), envelope(oneObject))
	var waits []time.Duration
	if _, err := s.client(t, &waits).Objects(context.Background(), "c", Filter{}); err != nil {
		t.Fatal(err)
	}
	if len(waits) != 2 || waits[0] < 50*time.Millisecond || waits[0] > 100*time.Millisecond ||
		waits[1] < 100*time.Millisecond || waits[1] > 200*time.Millisecond {
		t.Errorf("waits %v, want one in [50ms,100ms] then one in [100ms,200ms]", waits)
	}
}

func TestRetriesExhausted(t *testing.T) {
	s := newScript(t, status(503))
	var waits []time.Duration
	_, err := s.client(t, &waits).Objects(context.Background(), "c", Filter{})
	if hail.ErrorCode(err) != hail.EUNAVAILABLE || hail.ErrorMessage(err) != "Status 503." {
		t.Errorf("err = %v, want %s with the server's title", err, hail.EUNAVAILABLE)
	}
	if s.count() != 1+DefaultRetries || len(waits) != DefaultRetries {
		t.Errorf("%d requests and %d waits, want %d and %d", s.count(), len(waits), 1+DefaultRetries, DefaultRetries)
	}
	s2 := newScript(t, status(503))
	waits = nil
	if _, err := s2.client(t, &waits, WithRetries(0)).Objects(context.Background(), "c", Filter{}); err == nil || s2.count() != 1 {
		t.Errorf("WithRetries(0): %v after %d requests, want an error after 1", err, s2.count())
	}
}

func TestRetryAfterTooLong(t *testing.T) {
	s := newScript(t, status(429, "Retry-After", "3600"), envelope(oneObject))
	var waits []time.Duration
	_, err := s.client(t, &waits).Objects(context.Background(), "c", Filter{})
	if hail.ErrorCode(err) != hail.ETOOMANY || s.count() != 1 || len(waits) != 0 {
		t.Errorf("err %v after %d requests, %d waits; want %s at once", err, s.count(), len(waits), hail.ETOOMANY)
	}
}

func TestRetryAfterBeyondDeadline(t *testing.T) {
	s := newScript(t, status(429, "Retry-After", "60"), envelope(oneObject))
	var waits []time.Duration
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := s.client(t, &waits).Objects(ctx, "c", Filter{})
	if hail.ErrorCode(err) != hail.ETOOMANY || s.count() != 1 || len(waits) != 0 {
		t.Errorf("err %v after %d requests, %d waits; want %s at once", err, s.count(), len(waits), hail.ETOOMANY)
	}
}

func TestNoRetryOnClientErrors(t *testing.T) {
	for _, code := range []int{400, 401, 403, 404, 409, 413, 422, 500} {
		s := newScript(t, status(code), envelope(oneObject))
		var waits []time.Duration
		if _, err := s.client(t, &waits).Objects(context.Background(), "c", Filter{}); err == nil || s.count() != 1 {
			t.Errorf("status %d: %v after %d requests, want an error after 1", code, err, s.count())
		}
	}
}

func TestPostRetriedWithSameBody(t *testing.T) {
	ok := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", taxii.MediaType)
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"id":"s1","status":"complete","total_count":1,"success_count":1,"failure_count":0,"pending_count":0}`)
	}
	s := newScript(t, status(503), ok)
	var waits []time.Duration
	st, err := s.client(t, &waits).AddObjects(context.Background(), "c", []json.RawMessage{json.RawMessage(`{"a":1}`)})
	if err != nil || st.ID != "s1" || st.SuccessCount != 1 {
		t.Fatalf("AddObjects = %+v, %v", st, err)
	}
	want := `{"objects":[{"a":1}]}`
	for i, b := range s.bodys {
		if string(b) != want {
			t.Errorf("request %d body %q, want %q", i, b, want)
		}
		if ct := s.reqs[i].Header.Get("Content-Type"); ct != taxii.MediaType {
			t.Errorf("request %d Content-Type %q, want %q", i, ct, taxii.MediaType)
		}
	}
	if len(s.bodys) != 2 {
		t.Errorf("%d requests, want 2", len(s.bodys))
	}
}

func TestNetworkErrorsRetried(t *testing.T) {
	hangUp := func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}
	truncated := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", taxii.MediaType)
		w.Header().Set("Content-Length", "1000")
		io.WriteString(w, `{"more":false,"objects":[{"type":"indic`)
	}
	s := newScript(t, hangUp, truncated, envelope(oneObject))
	var waits []time.Duration
	p, err := s.client(t, &waits).Objects(context.Background(), "c", Filter{})
	if err != nil || len(p.Objects) != 1 || s.count() != 3 {
		t.Errorf("Objects = %d objects, %v after %d requests; want 1 object after 3", len(p.Objects), err, s.count())
	}
}

func TestMalformedBodyNotRetried(t *testing.T) {
	s := newScript(t, envelope(`{"more":false,"objects":[}`), envelope(oneObject))
	var waits []time.Duration
	_, err := s.client(t, &waits).Objects(context.Background(), "c", Filter{})
	if err == nil || s.count() != 1 {
		t.Errorf("%v after %d requests, want an error after 1", err, s.count())
	}
}

func TestCanceledWhileWaiting(t *testing.T) {
	s := newScript(t, status(503), envelope(oneObject))
	ctx, cancel := context.WithCancel(context.Background())
	var waits []time.Duration
	c := s.client(t, &waits)
	c.sleep = func(ctx context.Context, d time.Duration) error {
		cancel()
		return ctx.Err()
	}
	_, err := c.Objects(ctx, "c", Filter{})
	if !errors.Is(err, context.Canceled) || hail.ErrorCode(err) != hail.EUNAVAILABLE || s.count() != 1 {
		t.Errorf("err %v after %d requests, want the 503 and context.Canceled after 1", err, s.count())
	}
}

func TestContentTypeChecked(t *testing.T) {
	html := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<html>Sign in</html>")
	}
	s := newScript(t, html)
	var waits []time.Duration
	_, err := s.client(t, &waits).APIRoot(context.Background())
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("text/html")) || s.count() != 1 {
		t.Errorf("err %v after %d requests, want one naming text/html", err, s.count())
	}
	for header, want := range map[string]string{
		taxii.MediaType:                                 "2.1",
		"application/taxii+json; version=2.1":           "2.1",
		"application/taxii+json":                        "2.1",
		"application/json; charset=utf-8":               "2.1",
		"application/vnd.oasis.taxii+json; version=2.0": "2.0",
		"application/vnd.oasis.stix+json; version=2.0":  "2.0",
		"application/vnd.oasis.stix+json":               "2.0",
		"application/taxii+json;version=2.0":            "",
		"application/vnd.oasis.taxii+json; version=2.1": "",
		"application/stix+json;version=2.1":             "",
		"":                                              "",
		"text/html":                                     "",
	} {
		got := ""
		if is20, err := checkContentType(header); err == nil {
			got = map[bool]string{false: "2.1", true: "2.0"}[is20]
		}
		if got != want {
			t.Errorf("checkContentType(%q) read as %q, want %q", header, got, want)
		}
	}
}

func TestWaitStatusPolls(t *testing.T) {
	st := func(state string) http.HandlerFunc {
		return envelope(`{"id":"s1","status":"` + state + `","total_count":1,"success_count":0,"failure_count":0,"pending_count":1}`)
	}
	s := newScript(t, st("pending"), st("pending"), st("complete"))
	var waits []time.Duration
	got, err := s.client(t, &waits).WaitStatus(context.Background(), "s1", 7*time.Millisecond)
	if err != nil || got.Status != taxii.StatusComplete {
		t.Errorf("WaitStatus = %+v, %v; want complete", got, err)
	}
	if want := []time.Duration{7 * time.Millisecond, 7 * time.Millisecond}; !equalDurations(waits, want) {
		t.Errorf("waits %v, want %v", waits, want)
	}
	if p := s.reqs[0].URL.Path; p != "/taxii2/api/status/s1/" {
		t.Errorf("status path %q, want /taxii2/api/status/s1/", p)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{" 5 ", 5 * time.Second, true},
		{"99999999999999999999999", maxDuration, true},
		{"Thu, 01 May 2025 12:00:30 GMT", 30 * time.Second, true},
		{"Thursday, 01-May-25 12:01:00 GMT", time.Minute, true}, // RFC 850
		{"Thu May  1 12:00:10 2025", 10 * time.Second, true},    // asctime
		{"Thu, 01 May 2025 11:00:00 GMT", 0, true},              // past
		{"", 0, false},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
	} {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	const lo, hi = 100 * time.Millisecond, 2 * time.Second
	for attempt := range 100 {
		want := min(lo<<min(attempt, 20), hi)
		if d := backoff(attempt, lo, hi); d < want/2 || d > want {
			t.Errorf("backoff(%d) = %v, want in [%v, %v]", attempt, d, want/2, want)
		}
	}
}

func TestErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		code   string
		msg    string
	}{
		{400, `{"title":"Bad filter.","description":"The request is malformed.","http_status":"400"}`, hail.EINVALID, "Bad filter. The request is malformed."},
		{401, `{"title":"Authentication required"}`, hail.EUNAUTHENTICATED, "Authentication required"},
		{403, `{"title":"No"}`, hail.EFORBIDDEN, "No"},
		{404, `{"title":"Gone.","description":"Gone."}`, hail.ENOTFOUND, "Gone."},
		{409, `{"description":"Conflict here."}`, hail.ECONFLICT, "Conflict here."},
		{413, `{"title":"Too big"}`, hail.ETOOLARGE, "Too big"},
		{422, `{"title":"Unprocessable","description":"Not an envelope."}`, hail.EUNPROCESSABLE, "Unprocessable. Not an envelope."},
		{429, `{"title":"Slow down."}`, hail.ETOOMANY, "Slow down."},
		{503, `{"title":"Down."}`, hail.EUNAVAILABLE, "Down."},
		{500, `{"title":"Internal error."}`, hail.EINTERNAL, "Internal error."},
		{502, `<html>Bad gateway</html>`, hail.EINTERNAL, "The server answered 502 Bad Gateway."},
		{404, `<html>Not here</html>`, hail.ENOTFOUND, "The server answered 404 Not Found."},
		{405, ``, hail.EINVALID, "The server answered 405 Method Not Allowed."},
		{500, "KeyError: 'limit'\nTraceback (most recent call last):\n", hail.EINTERNAL,
			"The server answered 500 Internal Server Error. It said: KeyError: 'limit'"},
		{500, "\x1b[2Jgone\r", hail.EINTERNAL, "The server answered 500 Internal Server Error. It said:  [2Jgone"},
		{503, strings.Repeat("x", 300), hail.EUNAVAILABLE, "The server answered 503 Service Unavailable. It said: " +
			strings.Repeat("x", 200) + "…"},
		{418, `{"title":""}`, hail.EINVALID, "The server answered 418 I'm a teapot."},
	} {
		s := newScript(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tc.status)
			io.WriteString(w, tc.body)
		})
		var waits []time.Duration
		_, err := s.client(t, &waits, WithRetries(0)).Collections(context.Background())
		var he *hail.Error
		if !errors.As(err, &he) || he.Code != tc.code || he.Message != tc.msg {
			t.Errorf("status %d body %s: %#v, want code %q message %q", tc.status, tc.body, err, tc.code, tc.msg)
		}
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
