package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"hail"
	"hail/store"
	"hail/taxii"
)

// errAdminOnly answers a non-admin key on the admin endpoints of the API.
var errAdminOnly = hail.Errorf(hail.EFORBIDDEN, "This endpoint needs an admin key.")

// requireAdmin returns nil when the request carries an admin key.
func requireAdmin(r *http.Request) error {
	k := requestKey(r.Context())
	switch {
	case k == nil:
		return errUnauthenticated
	case !k.Admin:
		return errAdminOnly
	}
	return nil
}

// feedJSON is one feed as the feed API shows it: never its secrets.
type feedJSON struct {
	Name            string `json:"name"`
	Kind            string `json:"kind"`
	URL             string `json:"url"`
	Collection      string `json:"collection"`
	TAXIICollection string `json:"taxii_collection,omitempty"`
	Auth            string `json:"auth"` // "token", "basic" or "none"
	Every           string `json:"every"`
	EverySeconds    int64  `json:"every_seconds"`
	Snapshot        bool   `json:"snapshot"`
	AllAttributes   bool   `json:"all_attributes"` // misp feeds
	AllVersions     bool   `json:"all_versions"`
	Insecure        bool   `json:"insecure"` // any TLS certificate of the source is accepted
	// ClientCertificate says whether the feed presents one; its key is
	// never shown.
	ClientCertificate bool         `json:"client_certificate"`
	Source            string       `json:"source,omitempty"`
	NextRun           *string      `json:"next_run"`
	Mark              feedMarkJSON `json:"mark"`
	LastRun           *feedRunJSON `json:"last_run"`
	// Runs are the latest runs, newest first, when ?runs=N asks for them.
	Runs []feedRunJSON `json:"runs,omitempty"`
}

type feedMarkJSON struct {
	AddedAfter   *string `json:"added_after"`
	ETag         string  `json:"etag,omitempty"`
	LastModified string  `json:"last_modified,omitempty"`
}

type feedRunJSON struct {
	Started     string `json:"started"`
	Ended       string `json:"ended"`
	Read        int    `json:"read"`
	Added       int    `json:"added"`
	NewVersions int    `json:"new_versions"` // of Added
	Duplicates  int    `json:"duplicates"`
	Rejected    int    `json:"rejected"`
	Revoked     int    `json:"revoked"`
	NotModified bool   `json:"not_modified"`
	Error       string `json:"error"`
	// Rejections are the first rejected objects or lines, with why.
	Rejections []store.FeedRejection `json:"rejections"`
}

// maxFeedRuns bounds ?runs=N of GET /api/v1/feeds/ and /api/v1/feeds/{name}/.
const maxFeedRuns = 100

// feedRead checks that a read of the feeds comes with an admin key and
// returns its ?runs=N; false once it has answered with the error.
func (s *Server) feedRead(w http.ResponseWriter, r *http.Request) (int, bool) {
	err := requireAdmin(r)
	runs := 0
	if err == nil {
		runs, err = feedRunsParam(r)
	}
	if err != nil {
		s.error(w, r, err)
		return 0, false
	}
	return runs, true
}

// feedRunsParam reads ?runs=N, how many of a feed's latest runs to show.
// Errors are EINVALID.
func feedRunsParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("runs")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > maxFeedRuns {
		return 0, hail.Errorf(hail.EINVALID, "Parameter runs=%q: want 0 to %d.", truncate(v, 32), maxFeedRuns)
	}
	return n, nil
}

// handleFeedsGet lists the feeds with their high-water marks and last runs,
// and with ?runs=N their N latest runs, for admin keys.
func (s *Server) handleFeedsGet(w http.ResponseWriter, r *http.Request) {
	runs, ok := s.feedRead(w, r)
	if !ok {
		return
	}
	feeds, err := s.store.Feeds(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	out := struct {
		Data []feedJSON `json:"data"`
	}{Data: make([]feedJSON, 0, len(feeds))}
	for _, f := range feeds {
		v := feedView(f)
		err := s.addRuns(r.Context(), &v, runs)
		if hail.ErrorCode(err) == hail.ENOTFOUND {
			continue // deleted meanwhile
		} else if err != nil {
			s.error(w, r, err)
			return
		}
		out.Data = append(out.Data, v)
	}
	body, err := json.Marshal(out)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeREST(w, body)
}

// addRuns adds the n latest runs of the feed to v, none when n is 0.
// Returns ENOTFOUND if the feed is gone.
func (s *Server) addRuns(ctx context.Context, v *feedJSON, n int) error {
	if n == 0 {
		return nil
	}
	list, err := s.store.FeedRuns(ctx, v.Name, n)
	if err != nil {
		return err
	}
	for _, run := range list {
		v.Runs = append(v.Runs, runView(run))
	}
	return nil
}

// handleFeedGet shows one feed, with ?runs=N its N latest runs.
func (s *Server) handleFeedGet(w http.ResponseWriter, r *http.Request) {
	runs, ok := s.feedRead(w, r)
	if !ok {
		return
	}
	f, err := s.store.Feed(r.Context(), r.PathValue("name"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := feedView(f)
	if err := s.addRuns(r.Context(), &v, runs); err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// handleFeedDelete deletes a feed and its runs; what it stored stays.
func (s *Server) handleFeedDelete(w http.ResponseWriter, r *http.Request) {
	if err := requireAdmin(r); err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.store.DeleteFeed(r.Context(), r.PathValue("name")); err != nil {
		s.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleFeedRun makes a feed due now and answers 202 with it without
// waiting for the run: the scheduler of any server sharing the store
// claims it at its next tick, so that one replica runs it.
func (s *Server) handleFeedRun(w http.ResponseWriter, r *http.Request) {
	if err := requireAdmin(r); err != nil {
		s.error(w, r, err)
		return
	}
	f, err := s.store.UpdateFeed(r.Context(), r.PathValue("name"), store.FeedUpdate{RunNow: true})
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, feedView(f))
}

// feedView is what the API shows of f.
func feedView(f store.Feed) feedJSON {
	v := feedJSON{
		Name: f.Name, Kind: f.Kind, URL: redactURL(f.URL), Collection: f.CollectionID,
		TAXIICollection: f.TAXIICollection, Auth: "none", Every: f.Every.String(),
		EverySeconds: int64(f.Every / time.Second), Snapshot: f.List.Snapshot, Source: f.List.Source,
		AllAttributes: f.List.AllAttributes,
		AllVersions:   f.AllVersions, Insecure: f.Insecure, ClientCertificate: f.ClientCert != "",
		NextRun: optTime(f.NextRun),
		Mark:    feedMarkJSON{AddedAfter: optTime(f.Mark.AddedAfter), ETag: f.Mark.ETag, LastModified: f.Mark.LastModified},
	}
	switch {
	case f.Token != "":
		v.Auth = "token"
	case f.User != "" || f.Password != "":
		v.Auth = "basic"
	}
	if !f.LastRun.Started.IsZero() {
		r := runView(f.LastRun)
		v.LastRun = &r
	}
	return v
}

// runView is what the API shows of a run.
func runView(r store.FeedRun) feedRunJSON {
	v := feedRunJSON{
		Started: taxii.FormatTimestamp(r.Started), Ended: taxii.FormatTimestamp(r.Ended),
		Read: r.Read, Added: r.Added, NewVersions: r.NewVersions, Duplicates: r.Duplicates, Rejected: r.Rejected, Revoked: r.Revoked,
		NotModified: r.NotChanged, Error: r.Error, Rejections: r.Rejections,
	}
	if v.Rejections == nil {
		v.Rejections = []store.FeedRejection{}
	}
	return v
}

// optTime formats t, or gives nil (JSON null) for the zero time.
func optTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := taxii.FormatTimestamp(t)
	return &s
}

// redactURL drops a password written into a feed's URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
