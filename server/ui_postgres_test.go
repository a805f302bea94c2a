package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"hail/bootstrap"
	"hail/server"
	"hail/store/postgres"
	"hail/store/postgres/pgtest"
)

// TestUIOnPostgres walks the dashboard of a first-start PostgreSQL store
// (the API root, its filter collections, the admin key): what a POSTed
// indicator makes visible in its collection, in the ips filter collection
// and in a lookup.
func TestUIOnPostgres(t *testing.T) {
	dsn := pgtest.Schema(t)
	ctx := context.Background()
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	res, err := bootstrap.Ensure(ctx, db, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Config{DashboardCountWait: time.Minute}, db, nil))
	t.Cleanup(srv.Close)
	e := &env{srv: srv, keys: map[string]string{"admin": res.AdminKey}}
	e.seedThroughServer(t, "default", strings.Replace(indicator(9, "2024-01-01T00:00:00.000Z"), `"IOC 9"`, `"Relay 9"`, 1))

	b := newBrowser(t, e)
	b.signIn(t, "admin")
	p := b.get(t, "/ui/")
	p.must(t, http.StatusOK, "Default collection", "IP indicators", "<h1>Feeds</h1>")
	if !strings.Contains(between(p.body, "IP indicators", "</tr>"), `<td class="num">1</td>`) {
		t.Errorf("the ips collection does not count the indicator:\n%s", between(p.body, "IP indicators", "</tr>"))
	}
	var ips string // the id, from the row's link
	for _, row := range strings.Split(p.body, "<tr>") {
		if strings.Contains(row, "IP indicators") {
			ips = between(row, `href="/ui/collections/api/`, `/"`)
		}
	}
	b.get(t, "/ui/collections/api/"+ips+"/").must(t, http.StatusOK, "Relay 9", "indicator--"+uuidN(9))
	b.get(t, "/ui/collections/api/"+ips+"/objects/indicator--"+uuidN(9)+"/").must(t, http.StatusOK, "Relay 9", "203.0.113.9")
	b.get(t, "/ui/lookup?"+url.Values{"q": {"203.0.113[.]9"}}.Encode()).must(t, http.StatusOK, "Relay 9")
	b.get(t, "/ui/keys").must(t, http.StatusOK, "admin")
}
