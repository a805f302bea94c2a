package server

import (
	"net/http"

	"hail"
	"hail/store"
)

// feedPatch is the body of PATCH /api/v1/feeds/{name}/: what to change.
// An absent (or null) field is left as it is; "" clears a string.
type feedPatch struct {
	URL             *string `json:"url"`
	TAXIICollection *string `json:"taxii_collection"`
	User            *string `json:"user"`
	Password        *string `json:"password"`
	Token           *string `json:"token"`
	Every           *string `json:"every"` // a Go duration, "15m"
	AllVersions     *bool   `json:"all_versions"`
	Insecure        *bool   `json:"insecure"`
	CA              *string `json:"ca"`
	ClientCert      *string `json:"client_cert"`
	ClientKey       *string `json:"client_key"`
	ResetMark       bool    `json:"reset_mark"`
}

// decodeFeedPatch reads a change body (a token given replaces a user and
// password, see store.FeedUpdate). Errors are EINVALID.
func decodeFeedPatch(body []byte) (store.FeedUpdate, error) {
	var req feedPatch
	if err := decodeStrict(body, &req, `The body must be a JSON object such as {"token": "…"} or {"every": "15m"}.`); err != nil {
		return store.FeedUpdate{}, err
	}
	given := func(p *string) bool { return p != nil && *p != "" }
	if given(req.Token) && (given(req.User) || given(req.Password)) {
		return store.FeedUpdate{}, hail.Errorf(hail.EINVALID, `Give "token" or "user" and "password", not both.`)
	}
	u := store.FeedUpdate{URL: req.URL, TAXIICollection: req.TAXIICollection, User: req.User, Password: req.Password,
		Token: req.Token, AllVersions: req.AllVersions, Insecure: req.Insecure, CA: req.CA, ClientCert: req.ClientCert,
		ClientKey: req.ClientKey, ResetMark: req.ResetMark}
	if req.Every != nil {
		d, err := hail.ParseDuration(*req.Every)
		if err != nil {
			return u, hail.Errorf(hail.EINVALID, `"every" must be a duration such as "1h" or "1d".`)
		}
		u.Every = &d
	}
	if u == (store.FeedUpdate{}) {
		return u, hail.Errorf(hail.EINVALID, "Nothing to change: give url, taxii_collection, user, password, token, "+
			"every, all_versions, insecure, ca, client_cert, client_key or reset_mark.")
	}
	return u, nil
}

// handleFeedPatch changes a feed's address, credentials, certificates or
// schedule and answers with it, without its secrets. Its mark and runs
// stay, unless reset_mark starts it over.
func (s *Server) handleFeedPatch(w http.ResponseWriter, r *http.Request) {
	body, ok := s.adminBody(w, r)
	if !ok {
		return
	}
	u, err := decodeFeedPatch(body)
	if err != nil {
		s.error(w, r, err)
		return
	}
	f, err := s.store.UpdateFeed(r.Context(), r.PathValue("name"), u)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, feedView(f))
}
