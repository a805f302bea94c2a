package server

import (
	"testing"

	"hail"
	"hail/webhook"
)

// FuzzDecodeWebhookRequest: any body decodes or is refused with EINVALID,
// and what decodes names a collection and a URL.
func FuzzDecodeWebhookRequest(f *testing.F) {
	f.Add([]byte(`{"collection":"all","url":"https://hooks.example/x","secret":"s","batch":10,"max_wait":"1s"}`))
	f.Add([]byte(`{"collection":"all","url":"x","max_wait":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, spec, err := decodeWebhookRequest(body)
		if err != nil {
			if hail.ErrorCode(err) != hail.EINVALID {
				t.Errorf("decodeWebhookRequest(%q): code %s, want %s", body, hail.ErrorCode(err), hail.EINVALID)
			}
			return
		}
		if req.Collection == "" || spec.URL == "" {
			t.Errorf("decodeWebhookRequest(%q) = %+v, %+v without a collection or URL", body, req, spec)
		}
		if req.MaxWait == nil && spec.MaxWait != webhook.DefaultMaxWait {
			t.Errorf("decodeWebhookRequest(%q): max wait %v without one given", body, spec.MaxWait)
		}
	})
}

// FuzzDecodeWebhookPatch: any change body decodes or is refused with
// EINVALID, and what decodes never asks for a given and a new secret at
// once.
func FuzzDecodeWebhookPatch(f *testing.F) {
	f.Add([]byte(`{"url":"https://hooks.example/y","batch":5,"max_wait":"0s"}`))
	f.Add([]byte(`{"new_secret":true}`))
	f.Add([]byte(`{"secret":"s","new_secret":true}`))
	f.Add([]byte(`{"max_wait":7}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := decodeWebhookPatch(body)
		if err != nil {
			if hail.ErrorCode(err) != hail.EINVALID {
				t.Errorf("decodeWebhookPatch(%q): code %s, want %s", body, hail.ErrorCode(err), hail.EINVALID)
			}
			return
		}
		if c.Secret != "" && c.NewSecret {
			t.Errorf("decodeWebhookPatch(%q) = %+v: a secret and a new one", body, c)
		}
	})
}
