package server

import (
	"encoding/json"
	"net/http"
	"time"

	"hail"
	"hail/webhook"
)

// webhookPatch is the body of PATCH /api/v1/webhooks/{id}/: what to change.
type webhookPatch struct {
	URL       string  `json:"url"`
	Secret    string  `json:"secret"`
	NewSecret bool    `json:"new_secret"`
	Batch     int     `json:"batch"`
	MaxWait   *string `json:"max_wait"` // a Go duration, "5s"
}

// decodeWebhookPatch reads a change body. Errors are EINVALID.
func decodeWebhookPatch(body []byte) (webhook.Change, error) {
	var req webhookPatch
	if err := json.Unmarshal(body, &req); err != nil {
		return webhook.Change{}, hail.Errorf(hail.EINVALID,
			`The body must be a JSON object such as {"url": "https://…"} or {"new_secret": true}.`)
	}
	if req.Secret != "" && req.NewSecret {
		return webhook.Change{}, hail.Errorf(hail.EINVALID, `Give "secret" or "new_secret", not both.`)
	}
	c := webhook.Change{URL: req.URL, Secret: req.Secret, NewSecret: req.NewSecret, Batch: req.Batch}
	if req.MaxWait != nil {
		d, err := time.ParseDuration(*req.MaxWait)
		if err != nil {
			return c, hail.Errorf(hail.EINVALID, `"max_wait" must be a duration such as "5s".`)
		}
		c.MaxWait = &d
	}
	return c, nil
}

// handleWebhookPatch changes a webhook's URL, secret, batch size or wait
// and answers with it; the secret is in the answer when the change set
// one. Where its deliveries stand does not change.
func (s *Server) handleWebhookPatch(w http.ResponseWriter, r *http.Request) {
	body, ok := s.adminBody(w, r)
	if !ok {
		return
	}
	c, err := decodeWebhookPatch(body)
	if err != nil {
		s.error(w, r, err)
		return
	}
	h, err := webhook.Update(r.Context(), s.store, s.webhooks(), r.PathValue("wid"), c)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := webhook.NewView(h, nil)
	v.Secret = h.Secret
	writeJSON(w, http.StatusOK, v)
}
