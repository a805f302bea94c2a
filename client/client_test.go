package client_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"hail"
	"hail/client"
	"hail/taxii"
)

var ctx = context.Background()

func TestRoundTrip(t *testing.T) {
	e := newHail(t, false, nil)
	c := e.client(t)

	d, err := c.Discover(ctx, "")
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	if d.Default != e.root || !slices.Contains(d.APIRoots, e.root) {
		t.Errorf("discovery = %+v, want default and api_roots to hold %s", d, e.root)
	}
	// The discovery URL may also be given, relative or absolute.
	if d2, err := c.Discover(ctx, e.srv.URL+"/taxii2/"); err != nil || !reflect.DeepEqual(d2, d) {
		t.Errorf("Discover(absolute) = %+v, %v; want %+v", d2, err, d)
	}

	root, err := c.APIRoot(ctx)
	if err != nil {
		t.Fatalf("APIRoot: %v", err)
	}
	if root.Title == "" || !slices.Contains(root.Versions, taxii.MediaType) || root.MaxContentLength <= 0 {
		t.Errorf("API root = %+v", root)
	}

	cols, err := c.Collections(ctx)
	if err != nil {
		t.Fatalf("Collections: %v", err)
	}
	// A fresh store also holds the filter collections bootstrap makes; the
	// ones this test made must be listed, in creation order.
	want := []string{e.defID, e.readID, e.openID}
	var got []string
	for _, col := range cols {
		if slices.Contains(want, col.ID) {
			got = append(got, col.ID)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("collection ids = %v, want %v", got, want)
	}
	for _, idOrAlias := range []string{e.defID, "default"} {
		col, err := c.Collection(ctx, idOrAlias)
		if err != nil || col.ID != e.defID || col.Alias != "default" || !col.CanRead || !col.CanWrite {
			t.Errorf("Collection(%q) = %+v, %v", idOrAlias, col, err)
		}
	}

	sent := []json.RawMessage{indicator(1), indicator(2), indicator(3)}
	st, err := c.AddObjects(ctx, e.defID, sent)
	if err != nil {
		t.Fatalf("AddObjects: %v", err)
	}
	if st.ID == "" || st.TotalCount != 3 || st.SuccessCount != 3 || st.FailureCount != 0 {
		t.Errorf("add status = %+v, want 3 successes", st)
	}
	done, err := c.WaitStatus(ctx, st.ID, time.Millisecond)
	if err != nil || done.Status != taxii.StatusComplete || done.ID != st.ID || done.SuccessCount != 3 {
		t.Errorf("WaitStatus = %+v, %v; want complete with 3 successes", done, err)
	}

	page, err := c.Objects(ctx, e.defID, client.Filter{})
	if err != nil {
		t.Fatalf("Objects: %v", err)
	}
	if page.More || page.Next != "" || len(page.Objects) != 3 {
		t.Errorf("page: more %v next %q, %d objects; want 3 and no more", page.More, page.Next, len(page.Objects))
	}
	for i := range min(len(page.Objects), len(sent)) {
		if !bytes.Equal(page.Objects[i], sent[i]) {
			t.Errorf("object %d came back as\n%s\nwant\n%s", i, page.Objects[i], sent[i])
		}
	}
	if page.DateAddedFirst.IsZero() || !page.DateAddedLast.After(page.DateAddedFirst) {
		t.Errorf("date added first %v last %v, want both, first before last", page.DateAddedFirst, page.DateAddedLast)
	}

	m, err := c.Manifest(ctx, e.defID, client.Filter{Limit: 2})
	if err != nil || !m.More || len(m.Objects) != 2 || m.Objects[0].ID != "indicator--"+uuidN(1) {
		t.Errorf("Manifest(limit 2) = %+v, %v", m, err)
	}

	oid := "indicator--" + uuidN(2)
	one, err := c.Object(ctx, e.defID, oid, client.Filter{})
	if err != nil || len(one.Objects) != 1 || !bytes.Equal(one.Objects[0], sent[1]) {
		t.Errorf("Object(%s) = %+v, %v", oid, one, err)
	}
	vs, err := c.Versions(ctx, e.defID, oid, client.Filter{})
	if err != nil || !reflect.DeepEqual(vs.Versions, []string{"2024-01-01T00:00:00.000Z"}) {
		t.Errorf("Versions = %+v, %v", vs, err)
	}
	if err := c.DeleteObject(ctx, e.defID, oid, client.Filter{}); err != nil {
		t.Errorf("DeleteObject: %v", err)
	}
	if _, err := c.Object(ctx, e.defID, oid, client.Filter{}); hail.ErrorCode(err) != hail.ENOTFOUND {
		t.Errorf("Object after delete: %v, want code %s", err, hail.ENOTFOUND)
	}
	if err := c.DeleteObject(ctx, e.defID, oid, client.Filter{}); hail.ErrorCode(err) != hail.ENOTFOUND {
		t.Errorf("second DeleteObject: %v, want code %s", err, hail.ENOTFOUND)
	}
}

func TestFilterIsSent(t *testing.T) {
	e := newHail(t, false, nil)
	c := e.client(t)
	e.seed(t, e.defID, 1, 5)
	after := time.Date(2020, 1, 2, 3, 4, 5, 6000, time.UTC)
	f := client.Filter{AddedAfter: after, Limit: 2, IDs: []string{"indicator--" + uuidN(2), "indicator--" + uuidN(4)},
		Types: []string{"indicator"}, Versions: []string{"last"}, SpecVersions: []string{"2.1"}}
	p, err := c.Objects(ctx, e.defID, f)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(t, p.Objects), []string{"indicator--" + uuidN(2), "indicator--" + uuidN(4)}; !reflect.DeepEqual(got, want) {
		t.Errorf("ids = %v, want %v", got, want)
	}
	q := e.lastRequest().URL.Query()
	for k, want := range map[string]string{
		"added_after": "2020-01-02T03:04:05.000006Z", "limit": "2", "match[type]": "indicator",
		"match[id]": "indicator--" + uuidN(2) + ",indicator--" + uuidN(4), "match[version]": "last", "match[spec_version]": "2.1",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("query %s = %q, want %q", k, got, want)
		}
	}
	h := e.lastRequest().Header
	if got := h.Get("Accept"); got != taxii.MediaType {
		t.Errorf("Accept = %q, want %q", got, taxii.MediaType)
	}
	if got := h.Get("User-Agent"); got != client.DefaultUserAgent {
		t.Errorf("User-Agent = %q, want %q", got, client.DefaultUserAgent)
	}
}

func TestAddObjectsReportsFailures(t *testing.T) {
	e := newHail(t, false, nil)
	c := e.client(t)
	bad := json.RawMessage(`{"type":"indicator","spec_version":"2.1","id":"indicator--` + uuidN(9) + `"}`)
	st, err := c.AddObjects(ctx, "default", []json.RawMessage{indicator(1), bad})
	if err != nil {
		t.Fatal(err)
	}
	if st.TotalCount != 2 || st.SuccessCount != 1 || st.FailureCount != 1 || len(st.Failures) != 1 ||
		st.Failures[0].ID != "indicator--"+uuidN(9) || st.Failures[0].Message == "" {
		t.Errorf("status = %+v, want 1 success and 1 failure with a message", st)
	}
	// Adding the same again succeeds: TAXII 2.1 §5.5 reports no error for a
	// duplicate, which is also why retrying a POST is safe.
	st, err = c.AddObjects(ctx, "default", []json.RawMessage{indicator(1)})
	if err != nil || st.SuccessCount != 1 {
		t.Errorf("adding a duplicate: %+v, %v", st, err)
	}
	got, err := c.Status(ctx, st.ID)
	if err != nil || got.ID != st.ID || got.SuccessCount != 1 {
		t.Errorf("Status(%s) = %+v, %v", st.ID, got, err)
	}
	if _, err := c.AddObjects(ctx, "default", nil); err == nil {
		t.Error("AddObjects with no objects succeeded")
	}
}

func TestServerErrorCodes(t *testing.T) {
	e := newHail(t, false, nil)
	small, err := client.New(e.srv.URL+"/taxii2/small", client.WithToken(e.keys["admin"]))
	if err != nil {
		t.Fatal(err)
	}
	big := make([]json.RawMessage, 20)
	for i := range big {
		big[i] = indicator(i + 1)
	}
	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"unknown collection", func() error {
			_, err := e.client(t).Collection(ctx, "nosuch")
			return err
		}, hail.ENOTFOUND},
		{"no credentials", func() error {
			c, _ := client.New(e.root)
			_, err := c.Collection(ctx, "default")
			return err
		}, hail.EUNAUTHENTICATED},
		{"wrong key", func() error {
			_, err := e.client(t, client.WithToken("hail_wrong")).Collections(ctx)
			return err
		}, hail.EUNAUTHENTICATED},
		{"reader writes", func() error {
			_, err := e.client(t, client.WithToken(e.keys["reader"])).AddObjects(ctx, e.readID, big[:1])
			return err
		}, hail.EFORBIDDEN},
		{"bad filter", func() error {
			_, err := e.client(t).Objects(ctx, e.defID, client.Filter{Types: []string{"Not A Type"}})
			return err
		}, hail.EINVALID},
		{"too large", func() error {
			_, err := small.AddObjects(ctx, "tiny", big)
			return err
		}, hail.ETOOLARGE},
		{"not an envelope", func() error {
			_, err := e.client(t).AddObjects(ctx, e.defID, []json.RawMessage{json.RawMessage(`1],"objects":2,"x":[3`)})
			return err
		}, hail.EUNPROCESSABLE},
	} {
		err := tc.call()
		if got := hail.ErrorCode(err); got != tc.want {
			t.Errorf("%s: code %q (%v), want %q", tc.name, got, err, tc.want)
		}
		if hail.ErrorMessage(err) == "" || hail.ErrorMessage(err) == "Internal error." {
			t.Errorf("%s: message %q, want the server's", tc.name, hail.ErrorMessage(err))
		}
	}
	_, err = e.client(t).Collection(ctx, "nosuch")
	if msg := hail.ErrorMessage(err); !strings.Contains(msg, "nosuch") || !strings.Contains(msg, "The resource does not exist") {
		t.Errorf("message %q, want the server's title and description", msg)
	}
}

func TestAuthVariants(t *testing.T) {
	e := newHail(t, false, nil)
	for _, tc := range []struct {
		name  string
		opts  []client.Option
		coll  string
		want  string
		authz string // prefix of the Authorization header sent
	}{
		{"basic, key as password", []client.Option{client.WithBasicAuth("apikey", e.keys["reader"])}, "feed", "", "Basic "},
		{"basic, key as user", []client.Option{client.WithBasicAuth(e.keys["reader"], "")}, "feed", "", "Basic "},
		{"bearer", []client.Option{client.WithToken(e.keys["reader"])}, "feed", "", "Bearer "},
		{"anonymous, public collection", nil, "open", "", ""},
		{"anonymous, private collection", nil, "feed", hail.EUNAUTHENTICATED, ""},
		{"key without the right", []client.Option{client.WithToken(e.keys["nobody"])}, "feed", hail.ENOTFOUND, "Bearer "},
	} {
		c, err := client.New(e.root, tc.opts...)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Objects(ctx, tc.coll, client.Filter{})
		if got := hail.ErrorCode(err); got != tc.want {
			t.Errorf("%s: code %q (%v), want %q", tc.name, got, err, tc.want)
		}
		if got := e.lastRequest().Header.Get("Authorization"); !strings.HasPrefix(got, tc.authz) || (tc.authz == "") != (got == "") {
			t.Errorf("%s: Authorization %q, want prefix %q", tc.name, got, tc.authz)
		}
	}
}

func TestUserAgent(t *testing.T) {
	e := newHail(t, false, nil)
	if _, err := e.client(t, client.WithUserAgent("puller/1.0")).APIRoot(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.lastRequest().Header.Get("User-Agent"); got != "puller/1.0" {
		t.Errorf("User-Agent = %q, want puller/1.0", got)
	}
}

func TestTLS(t *testing.T) {
	e := newHail(t, true, nil)
	if _, err := e.client(t, client.WithRetries(0)).APIRoot(ctx); err == nil {
		t.Error("a self-signed certificate was accepted without options")
	}
	if _, err := e.client(t, client.WithInsecureSkipVerify()).APIRoot(ctx); err != nil {
		t.Errorf("WithInsecureSkipVerify: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(e.srv.Certificate())
	if _, err := e.client(t, client.WithRootCAs(pool)).APIRoot(ctx); err != nil {
		t.Errorf("WithRootCAs: %v", err)
	}
	if _, err := e.client(t, client.WithHTTPClient(e.srv.Client())).APIRoot(ctx); err != nil {
		t.Errorf("WithHTTPClient(the server's client): %v", err)
	}
}

func TestNewRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "taxii.example.org/api/", "ftp://x/api/", "http://", "http://[::1"} {
		if _, err := client.New(u); err == nil {
			t.Errorf("New(%q) succeeded", u)
		}
	}
	c, err := client.New("https://taxii.example.org/taxii2/api?x=1")
	if err != nil || c.URL() != "https://taxii.example.org/taxii2/api/" {
		t.Errorf("New = %v, %v; want URL with a trailing slash and no query", c.URL(), err)
	}
}
