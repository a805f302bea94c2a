package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"hail"
	"hail/client"
	"hail/taxii"
)

// TestFindCollectionsFromDiscovery gives the client hail's discovery URL
// where the API root belongs: the collections are those of the default
// API root, and the client returned is that root's, with the credentials.
func TestFindCollectionsFromDiscovery(t *testing.T) {
	e := newHail(t, false, nil)
	discovery := strings.TrimSuffix(e.root, "api/")
	c, err := client.New(discovery, client.WithBasicAuth("apikey", e.keys["admin"]))
	if err != nil {
		t.Fatal(err)
	}
	got, cols, err := c.FindCollections(context.Background())
	if err != nil {
		t.Fatalf("FindCollections: %v", err)
	}
	if got.URL() != e.root || !hasCollection(cols, e.defID) {
		t.Errorf("FindCollections: client for %s with %d collections, want %s with %s", got.URL(), len(cols), e.root, e.defID)
	}
	if _, err := got.Objects(context.Background(), e.defID, client.Filter{}); err != nil {
		t.Errorf("Objects through the discovered root: %v", err)
	}

	// At an API root it lists its own.
	got, cols, err = e.client(t).FindCollections(context.Background())
	if err != nil || got.URL() != e.root || !hasCollection(cols, e.defID) {
		t.Errorf("FindCollections at the API root: %s, %d collections, %v", got.URL(), len(cols), err)
	}
}

// TestFindCollectionsOtherHost: a discovery resource whose default API
// root is on another host is not followed with the credentials; the 404
// of the URL as an API root stands.
func TestFindCollectionsOtherHost(t *testing.T) {
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		w.Header().Set("Content-Type", taxii.MediaType)
		if r.URL.Path == "/taxii2/" {
			w.Write([]byte(`{"title":"Elsewhere","default":"https://other.example/taxii2/api/","api_roots":["https://other.example/taxii2/api/"]}`))
			return
		}
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"title":"Not found"}`))
	}))
	defer srv.Close()
	c, err := client.New(srv.URL+"/taxii2/", client.WithToken("secret"))
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := c.FindCollections(context.Background())
	if hail.ErrorCode(err) != hail.ENOTFOUND || got != c {
		t.Errorf("FindCollections = %s, %v; want the 404 of the given URL", got.URL(), err)
	}
	if strings.Join(paths, " ") != "/taxii2/collections/ /taxii2/" {
		t.Errorf("requests %q, want the collections then the discovery, nothing elsewhere", paths)
	}
}

func hasCollection(cols []taxii.Collection, id string) bool {
	for _, c := range cols {
		if c.ID == id {
			return true
		}
	}
	return false
}

// TestFindCollectionsUpgrade: a discovery resource served over http whose
// default API root is the same host over https is followed.
func TestFindCollectionsUpgrade(t *testing.T) {
	e := newHail(t, true, nil) // the API root over TLS
	tlsRoot := e.root
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", taxii.MediaType)
		if r.URL.Path == "/taxii2/" {
			// The TLS server's port: the same host name, another scheme.
			w.Write([]byte(`{"title":"Plain","default":"` + tlsRoot + `"}`))
			return
		}
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"title":"Not found"}`))
	}))
	defer plain.Close()
	c, err := client.New(plain.URL+"/taxii2/", client.WithBasicAuth("apikey", e.keys["admin"]), client.WithHTTPClient(e.srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	got, cols, err := c.FindCollections(context.Background())
	if err != nil || got.URL() != tlsRoot || !hasCollection(cols, e.defID) {
		t.Errorf("FindCollections = %s, %d collections, %v; want %s", got.URL(), len(cols), err, tlsRoot)
	}
}
