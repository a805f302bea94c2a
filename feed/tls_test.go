package feed_test

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"

	"hail/internal/pkitest"
	"hail/server"
	"hail/store"
)

// tlsServer starts h over TLS; the handshakes the test means to fail are
// not logged.
func tlsServer(h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	return srv
}

// TestFeedPrivateCA runs a list feed and a TAXII feed from sources over
// TLS with certificates no system root signs: refused without the feed's
// CA, fetched with it.
func TestFeedPrivateCA(t *testing.T) {
	ls := &listServer{}
	ls.set("203.0.113.1\n203.0.113.2\n", `"v1"`)
	lists := tlsServer(ls)
	defer lists.Close()
	src := newSource(t)
	src.add(t, 0, 3)
	peer := tlsServer(server.New(server.Config{}, src.st, nil))
	defer peer.Close()

	local := openStore(t, localColl, "local")
	for _, f := range []store.Feed{
		{Name: "list", Kind: store.FeedText, URL: lists.URL + "/list", List: store.FeedList{Source: "Example"}},
		{Name: "list-ca", Kind: store.FeedText, URL: lists.URL + "/list", List: store.FeedList{Source: "Example"}, CA: pkitest.ServerPEM(lists)},
		{Name: "peer", Kind: store.FeedTAXII21, URL: peer.URL + "/taxii2/api/", TAXIICollection: "intel", Token: src.key},
		{Name: "peer-ca", Kind: store.FeedTAXII21, URL: peer.URL + "/taxii2/api/", TAXIICollection: "intel", Token: src.key,
			CA: pkitest.ServerPEM(peer)},
	} {
		mustCreate(t, local, f)
	}
	s, _ := scheduler(local)
	runDue(t, s, "list", "list-ca", "peer", "peer-ca")
	checkLastRun(t, local, "list", counts{}, "certificate")
	checkLastRun(t, local, "peer", counts{}, "certificate")
	checkLastRun(t, local, "list-ca", counts{Read: 2, Added: 2}, "")
	checkLastRun(t, local, "peer-ca", counts{Read: 3, Added: 3}, "")
}

// TestFeedClientCertificate runs a list feed and a TAXII feed from sources
// that ask for a client certificate: refused without one, or with one
// their CA does not sign; fetched with the feed's certificate and key.
func TestFeedClientCertificate(t *testing.T) {
	ca := pkitest.NewCA(t)
	ls := &listServer{}
	ls.set("203.0.113.1\n203.0.113.2\n", `"v1"`)
	lists := ca.Server(t, ls)
	src := newSource(t)
	src.add(t, 0, 3)
	peer := ca.Server(t, server.New(server.Config{}, src.st, nil))
	cert, key := ca.Client(t, "hail feeds")
	otherCert, otherKey := pkitest.NewCA(t).Client(t, "stranger")

	local := openStore(t, localColl, "local")
	list := store.Feed{Kind: store.FeedText, URL: lists.URL + "/list", List: store.FeedList{Source: "Example"}, CA: pkitest.ServerPEM(lists)}
	taxii := store.Feed{Kind: store.FeedTAXII21, URL: peer.URL + "/taxii2/api/", TAXIICollection: "intel", Token: src.key,
		CA: pkitest.ServerPEM(peer)}
	for name, f := range map[string]store.Feed{"list": list, "peer": taxii} {
		f.Name = name
		mustCreate(t, local, f)
		f.Name, f.ClientCert, f.ClientKey = name+"-cert", cert, key
		mustCreate(t, local, f)
		f.Name, f.ClientCert, f.ClientKey = name+"-stranger", otherCert, otherKey
		mustCreate(t, local, f)
	}
	s, _ := scheduler(local)
	runDue(t, s, "list", "list-cert", "list-stranger", "peer", "peer-cert", "peer-stranger")
	for _, name := range []string{"list", "list-stranger", "peer", "peer-stranger"} {
		checkLastRun(t, local, name, counts{}, "certificate")
	}
	checkLastRun(t, local, "list-cert", counts{Read: 2, Added: 2}, "")
	checkLastRun(t, local, "peer-cert", counts{Read: 3, Added: 3}, "")
}
