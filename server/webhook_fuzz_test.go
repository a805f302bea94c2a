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
