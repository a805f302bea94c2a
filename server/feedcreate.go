package server

import (
	"net/http"
	"time"

	"hail"
	"hail/feed"
	"hail/store"
)

// defaultFeedEvery is the period of a feed created without "every".
const defaultFeedEvery = time.Hour

// feedRequest is the body of POST /api/v1/feeds/. Secrets and PEM
// certificates are given in the body, as hail feed add reads them from
// flags and files.
type feedRequest struct {
	Name            string          `json:"name"`
	Kind            string          `json:"kind"` // taxii21, stix-bundle, txt, csv or misp
	URL             string          `json:"url"`
	Collection      string          `json:"collection"` // local id, alias, or "root/alias"
	TAXIICollection string          `json:"taxii_collection"`
	User            string          `json:"user"`
	Password        string          `json:"password"`
	Token           string          `json:"token"`
	Every           *string         `json:"every"` // a duration, "15m" or "1d"; defaultFeedEvery when absent
	AllVersions     bool            `json:"all_versions"`
	Insecure        bool            `json:"insecure"`
	CA              string          `json:"ca"`
	ClientCert      string          `json:"client_cert"`
	ClientKey       string          `json:"client_key"`
	List            feedListRequest `json:"list"`
}

// feedListRequest is "list" of a feedRequest: what an IOC list feed states
// in the indicators it makes (store.FeedList).
type feedListRequest struct {
	Source     string   `json:"source"`
	TLP        string   `json:"tlp"`
	Confidence int      `json:"confidence"`
	TTL        string   `json:"ttl"` // a duration, "720h" or "30d"; "" for none
	Labels     []string `json:"labels"`
	Columns    []string `json:"columns"`
	Snapshot   bool     `json:"snapshot"`
	// AllAttributes: misp feeds take the attributes whose to_ids is false.
	AllAttributes bool `json:"all_attributes"`
}

// decodeFeedRequest reads a create body into a feed, leaving the
// collection named to resolve. The store validates the feed. Errors are
// EINVALID.
func decodeFeedRequest(body []byte) (collection string, f store.Feed, err error) {
	var req feedRequest
	if err := decodeStrict(body, &req, `The body must be a JSON object such as `+
		`{"name": "abuse", "kind": "txt", "url": "https://…", "collection": "ingest", "every": "1h"}.`); err != nil {
		return "", f, err
	}
	if req.Collection == "" {
		return "", f, hail.Errorf(hail.EINVALID, `"collection" is required: the local collection the feed adds to.`)
	}
	f = store.Feed{Name: req.Name, Kind: req.Kind, URL: req.URL, TAXIICollection: req.TAXIICollection,
		User: req.User, Password: req.Password, Token: req.Token, Every: defaultFeedEvery,
		AllVersions: req.AllVersions, Insecure: req.Insecure, CA: req.CA, ClientCert: req.ClientCert, ClientKey: req.ClientKey,
		List: store.FeedList{Source: req.List.Source, TLP: req.List.TLP, Confidence: req.List.Confidence,
			Labels: req.List.Labels, Columns: req.List.Columns, Snapshot: req.List.Snapshot,
			AllAttributes: req.List.AllAttributes}}
	if req.Every != nil {
		if f.Every, err = hail.ParseDuration(*req.Every); err != nil {
			return "", f, hail.Errorf(hail.EINVALID, `"every" must be a duration such as "1h" or "1d".`)
		}
	}
	if req.List.TTL != "" {
		if f.List.TTL, err = hail.ParseDuration(req.List.TTL); err != nil || f.List.TTL < 0 {
			return "", f, hail.Errorf(hail.EINVALID, `"list.ttl" must be a positive duration such as "30d" or "720h".`)
		}
	}
	return req.Collection, f, nil
}

// handleFeedsPost creates a feed and answers 201 with it as GET shows it,
// without its secrets. A running server runs it at its next tick.
func (s *Server) handleFeedsPost(w http.ResponseWriter, r *http.Request) {
	body, ok := s.adminBody(w, r)
	if !ok {
		return
	}
	coll, f, err := decodeFeedRequest(body)
	if err != nil {
		s.error(w, r, err)
		return
	}
	c, err := s.findCollection(r.Context(), coll)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if !c.Writable() {
		s.error(w, r, hail.Errorf(hail.EUNPROCESSABLE,
			"Collection %q is a filter collection, which holds what matches its filter; feed an explicit one.", truncate(coll, 128)))
		return
	}
	f.CollectionID = c.ID
	if err := feed.Check(f); err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.store.CreateFeed(r.Context(), f); err != nil {
		s.error(w, r, err)
		return
	}
	if f, err = s.store.Feed(r.Context(), f.Name); err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, feedView(f))
}
