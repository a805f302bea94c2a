package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"

	"hail/notify"
	"hail/store"
	"hail/webhook"
)

// BenchmarkStep measures one delivery of a 100-object batch from a SQLite
// store to a loopback receiver: the store read, the envelope, the
// signature, the request and the saved cursor and log.
func BenchmarkStep(b *testing.B) {
	st := openStore(b)
	const batches = 20
	for i := range batches {
		addObjects(b, st, notify.NewHub(), i*100, (i+1)*100)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	ctx := context.Background()
	cfg := fastConfig(nil)
	cfg.Holder = "bench"
	w := webhook.NewWorker(st, cfg)
	var id string
	sent := batches
	b.ReportAllocs()
	for b.Loop() {
		if sent == batches {
			// Every batch went out: a new webhook starts from the beginning.
			b.StopTimer()
			id, sent = uuid.NewString(), 0
			if err := st.CreateWebhook(ctx, store.Webhook{ID: id, CollectionID: testColl, URL: srv.URL, Secret: "s",
				BatchSize: 100}); err != nil {
				b.Fatal(err)
			}
			if ok, err := st.AcquireWebhookLease(ctx, id, "bench", time.Now(), time.Hour); !ok || err != nil {
				b.Fatal(ok, err)
			}
			b.StartTimer()
		}
		h, err := st.Webhook(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.Step(ctx, h); err != nil {
			b.Fatal(err)
		}
		sent++
	}
}
