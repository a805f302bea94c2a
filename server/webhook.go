package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"hail"
	"hail/webhook"
)

// The admin webhook API: /api/v1/webhooks/ lists and creates, {wid}/ shows
// (with the delivery log) and deletes, {wid}/pause/, resume/ and test/ act.
// Only admin keys may use it: a webhook reads a whole collection and makes
// the server send requests.

// maxWebhookBody bounds the body of an admin request to the webhook or
// feed API: a feed's PEM certificates and key fit.
const maxWebhookBody = 64 << 10

// defaultWebhookSender checks and tests webhooks when Config.Webhooks is
// nil: no private addresses.
var defaultWebhookSender = webhook.NewSender(webhook.SenderOptions{})

// webhooks returns the sender of webhook checks and tests.
func (s *Server) webhooks() *webhook.Sender {
	if s.cfg.Webhooks != nil {
		return s.cfg.Webhooks
	}
	return defaultWebhookSender
}

// handleWebhooksGet lists every webhook, without secrets or logs.
func (s *Server) handleWebhooksGet(w http.ResponseWriter, r *http.Request) {
	if err := requireAdmin(r); err != nil {
		s.error(w, r, err)
		return
	}
	hooks, err := s.store.Webhooks(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	views := make([]webhook.View, 0, len(hooks))
	for _, h := range hooks {
		views = append(views, webhook.NewView(h, nil))
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": views})
}

// webhookRequest is the body of POST /api/v1/webhooks/.
type webhookRequest struct {
	Collection string  `json:"collection"` // id, alias, or "root/alias"
	URL        string  `json:"url"`
	Secret     string  `json:"secret"`
	Batch      int     `json:"batch"`
	MaxWait    *string `json:"max_wait"` // a Go duration, "5s"; webhook.DefaultMaxWait when absent
	FromStart  bool    `json:"from_start"`
}

// decodeWebhookRequest reads a create body into a spec, leaving the
// collection to resolve. Errors are EINVALID.
func decodeWebhookRequest(body []byte) (webhookRequest, webhook.Spec, error) {
	var req webhookRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return req, webhook.Spec{}, hail.Errorf(hail.EINVALID,
			`The body must be a JSON object such as {"collection": "all", "url": "https://…", "secret": "…"}.`)
	}
	if req.Collection == "" || req.URL == "" {
		return req, webhook.Spec{}, hail.Errorf(hail.EINVALID, `"collection" and "url" are required.`)
	}
	spec := webhook.Spec{URL: req.URL, Secret: req.Secret, Batch: req.Batch, MaxWait: webhook.DefaultMaxWait,
		FromStart: req.FromStart}
	if req.MaxWait != nil {
		d, err := time.ParseDuration(*req.MaxWait)
		if err != nil {
			return req, spec, hail.Errorf(hail.EINVALID, `"max_wait" must be a duration such as "5s".`)
		}
		spec.MaxWait = d
	}
	return req, spec, nil
}

// handleWebhooksPost creates a webhook and answers 201 with it, secret
// included: the only time it is shown.
func (s *Server) handleWebhooksPost(w http.ResponseWriter, r *http.Request) {
	body, ok := s.adminBody(w, r)
	if !ok {
		return
	}
	req, spec, err := decodeWebhookRequest(body)
	if err != nil {
		s.error(w, r, err)
		return
	}
	c, err := s.findCollection(r.Context(), req.Collection)
	if err != nil {
		s.error(w, r, err)
		return
	}
	spec.CollectionID = c.ID
	h, err := webhook.Create(r.Context(), s.store, s.webhooks(), spec)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := webhook.NewView(h, nil)
	v.Secret = h.Secret
	writeJSON(w, http.StatusCreated, v)
}

// handleWebhookGet shows one webhook with its delivery log, newest first.
func (s *Server) handleWebhookGet(w http.ResponseWriter, r *http.Request) {
	if err := requireAdmin(r); err != nil {
		s.error(w, r, err)
		return
	}
	s.writeWebhook(w, r, http.StatusOK)
}

// writeWebhook answers with the webhook of the path and its log.
func (s *Server) writeWebhook(w http.ResponseWriter, r *http.Request, status int) {
	id := r.PathValue("wid")
	h, err := s.store.Webhook(r.Context(), id)
	if err != nil {
		s.error(w, r, err)
		return
	}
	log, err := s.store.WebhookAttempts(r.Context(), id, 0)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, status, webhook.NewView(h, log))
}

// handleWebhookDelete deletes a webhook and its log.
func (s *Server) handleWebhookDelete(w http.ResponseWriter, r *http.Request) {
	if err := requireAdmin(r); err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.store.DeleteWebhook(r.Context(), r.PathValue("wid")); err != nil {
		s.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleWebhookPause pauses a webhook; the body may give {"reason": "…"}.
func (s *Server) handleWebhookPause(w http.ResponseWriter, r *http.Request) {
	body, ok := s.adminBody(w, r)
	if !ok {
		return
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if len(body) > 0 && json.Unmarshal(body, &req) != nil {
		s.error(w, r, hail.Errorf(hail.EINVALID, `The body must be empty or {"reason": "…"}.`))
		return
	}
	if req.Reason == "" {
		req.Reason = "paused by " + info(r.Context()).key
	}
	if err := s.store.SetWebhookPaused(r.Context(), r.PathValue("wid"), true, truncate(req.Reason, 500)); err != nil {
		s.error(w, r, err)
		return
	}
	s.writeWebhook(w, r, http.StatusOK)
}

// handleWebhookResume resumes a webhook, which is then tried at once.
func (s *Server) handleWebhookResume(w http.ResponseWriter, r *http.Request) {
	if err := requireAdmin(r); err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.store.SetWebhookPaused(r.Context(), r.PathValue("wid"), false, ""); err != nil {
		s.error(w, r, err)
		return
	}
	s.writeWebhook(w, r, http.StatusOK)
}

// handleWebhookTest sends a webhook a signed delivery with no objects and
// answers with the attempt, whatever the receiver said.
func (s *Server) handleWebhookTest(w http.ResponseWriter, r *http.Request) {
	if err := requireAdmin(r); err != nil {
		s.error(w, r, err)
		return
	}
	h, err := s.store.Webhook(r.Context(), r.PathValue("wid"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	a, err := webhook.Test(r.Context(), s.store, s.webhooks(), h)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, webhook.NewAttemptView(a))
}

// adminBody reads the body of an admin's request to the webhook or feed
// API; when the caller is not an admin or the body cannot be read, it has
// answered with the error and returns false.
func (s *Server) adminBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if err := requireAdmin(r); err != nil {
		s.error(w, r, err)
		return nil, false
	}
	body, err := readWebhookBody(w, r)
	if err != nil {
		s.error(w, r, err)
		return nil, false
	}
	return body, true
}

// readWebhookBody reads at most maxWebhookBody bytes of a request body.
func readWebhookBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, hail.Errorf(hail.ETOOLARGE, "The request body is larger than %d bytes.", maxWebhookBody)
	}
	if err != nil {
		return nil, hail.Errorf(hail.EINVALID, "The request body could not be read.")
	}
	return body, nil
}
