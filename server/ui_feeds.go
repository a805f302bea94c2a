package server

// The admin pages of a feed (its runs, Run now) and of a webhook (its
// attempts, pause and resume).

import (
	"net/http"
	"net/url"
	"strings"

	"hail/store"
)

// uiFeedView is the view of a feed's page.
type uiFeedView struct {
	uiFeed
	Auth, TAXIICollection string
	Mark                  store.FeedMark
	Runs                  []store.FeedRun
	RunLink               string
	Queued                bool
}

// uiFeedRuns is how many runs a feed's page lists.
const uiFeedRuns = 20

// uiFeedPage shows one feed: where it reads, its mark, and its latest runs
// with what each rejected and why.
func (s *Server) uiFeedPage(w http.ResponseWriter, r *http.Request) {
	if !s.uiAdmin(w, r) {
		return
	}
	ctx := r.Context()
	f, err := s.store.Feed(ctx, r.PathValue("name"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	runs, err := s.store.FeedRuns(ctx, f.Name, uiFeedRuns)
	if err != nil {
		s.error(w, r, err)
		return
	}
	name, err := s.collectionName(ctx, f.CollectionID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := uiFeedView{uiFeed: newUIFeed(f, name), Auth: "none", TAXIICollection: f.TAXIICollection, Mark: f.Mark, Runs: runs,
		RunLink: uiFeedLink(f.Name) + "run", Queued: r.URL.Query().Has("queued")}
	switch {
	case f.Token != "":
		v.Auth = "token"
	case f.User != "" || f.Password != "":
		v.Auth = "user and password"
	}
	s.render(w, r, http.StatusOK, "feed", f.Name, "collections", v)
}

// uiFeedRun makes a feed due at once; the scheduler of any server runs it
// within a few seconds, as POST /api/v1/feeds/{name}/run does.
func (s *Server) uiFeedRun(w http.ResponseWriter, r *http.Request) {
	if !s.uiAdmin(w, r) {
		return
	}
	f, err := s.store.UpdateFeed(r.Context(), r.PathValue("name"), store.FeedUpdate{RunNow: true})
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.logger.InfoContext(r.Context(), "dashboard: feed run requested", "feed", f.Name, "key", requestKey(r.Context()).Name)
	http.Redirect(w, r, uiFeedLink(f.Name)+"?queued", http.StatusSeeOther)
}

// uiFeedLink is the dashboard page of feed name.
func uiFeedLink(name string) string { return uiPrefix + "feeds/" + url.PathEscape(name) + "/" }

// uiWebhookView is the view of a webhook's page.
type uiWebhookView struct {
	uiWebhook
	BatchSize int
	MaxWait   string
	Attempts  []store.WebhookAttempt
}

// uiWebhookAttempts is how many attempts a webhook's page lists.
const uiWebhookAttempts = 30

// uiWebhookPage shows one webhook: where its deliveries stand and its
// latest attempts, with pause and resume.
func (s *Server) uiWebhookPage(w http.ResponseWriter, r *http.Request) {
	if !s.uiAdmin(w, r) {
		return
	}
	ctx := r.Context()
	h, err := s.store.Webhook(ctx, r.PathValue("wid"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	attempts, err := s.store.WebhookAttempts(ctx, h.ID, uiWebhookAttempts)
	if err != nil {
		s.error(w, r, err)
		return
	}
	name, err := s.collectionName(ctx, h.CollectionID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := uiWebhookView{uiWebhook: newUIWebhook(h, name), BatchSize: h.BatchSize, MaxWait: h.MaxWait.String(), Attempts: attempts}
	s.render(w, r, http.StatusOK, "webhook", "Webhook", "collections", v)
}

// uiWebhookPause pauses (or, on .../resume, resumes) a webhook, as the
// admin API's pause and resume do.
func (s *Server) uiWebhookPause(w http.ResponseWriter, r *http.Request) {
	if !s.uiAdmin(w, r) {
		return
	}
	pause := strings.HasSuffix(r.URL.Path, "/pause")
	reason := ""
	if pause {
		reason = "paused by " + requestKey(r.Context()).Name + " in the dashboard"
	}
	id := r.PathValue("wid")
	if err := s.store.SetWebhookPaused(r.Context(), id, pause, reason); err != nil {
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, uiWebhookLink(id), http.StatusSeeOther)
}

// uiWebhookLink is the dashboard page of webhook id.
func uiWebhookLink(id string) string { return uiPrefix + "webhooks/" + url.PathEscape(id) + "/" }
