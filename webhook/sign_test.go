package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"hail/stix"
	"hail/store"
	"hail/webhook"
)

// TestSignDocumented: the signature is what the README tells receivers to
// compute, with nothing but the standard library.
func TestSignDocumented(t *testing.T) {
	body := []byte(`{"objects":[]}`)
	mac := hmac.New(sha256.New, []byte("s3cret"))
	fmt.Fprintf(mac, "%d.%s", 1767225600, body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if got := webhook.Sign("s3cret", 1767225600, body); got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
	now := time.Unix(1767225600, 0)
	tests := []struct {
		secret, ts, sig string
		body            string
		now             time.Time
		ok              bool
	}{
		{"s3cret", "1767225600", want, string(body), now, true},
		{"s3cret", " 1767225600 ", want, string(body), now.Add(4 * time.Minute), true},
		{"wrong", "1767225600", want, string(body), now, false},
		{"s3cret", "1767225601", want, string(body), now, false},
		{"s3cret", "1767225600", want, string(body) + " ", now, false},
		{"s3cret", "1767225600", want, string(body), now.Add(6 * time.Minute), false}, // replayed late
		{"s3cret", "x", want, string(body), now, false},
		{"s3cret", "1767225600", want[7:], string(body), now, false},
	}
	for i, tt := range tests {
		if got := webhook.Verify(tt.secret, tt.ts, tt.sig, []byte(tt.body), tt.now, 5*time.Minute); got != tt.ok {
			t.Errorf("case %d: Verify = %v, want %v", i, got, tt.ok)
		}
	}
}

func FuzzVerify(f *testing.F) {
	f.Add("s3cret", int64(1767225600), []byte(`{"objects":[]}`))
	f.Fuzz(func(t *testing.T, secret string, ts int64, body []byte) {
		sig := webhook.Sign(secret, ts, body)
		if !webhook.Verify(secret, fmt.Sprint(ts), sig, body, time.Time{}, 0) {
			t.Errorf("Verify refuses its own signature (%q, %d, %q)", secret, ts, body)
		}
		if webhook.Verify(secret+"x", fmt.Sprint(ts), sig, body, time.Time{}, 0) {
			t.Errorf("Verify accepts another secret")
		}
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	f.Add("120")
	f.Add("Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add("-5")
	f.Add("99999999999999999999")
	now := time.Date(2015, 10, 21, 7, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if d := webhook.ParseRetryAfter(v, now); d < 0 || d > 7*24*time.Hour {
			t.Errorf("ParseRetryAfter(%q) = %v, out of [0, 1 week]", v, d)
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2015, 10, 21, 7, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"120": 2 * time.Minute, "": 0, "-3": 0, "soon": 0,
		"Wed, 21 Oct 2015 07:28:00 GMT": 28 * time.Minute,
		"Wed, 21 Oct 2015 06:28:00 GMT": 0,
		"99999999999":                   7 * 24 * time.Hour,
	} {
		if got := webhook.ParseRetryAfter(v, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

func benchEntries(b *testing.B, n int) []store.Entry {
	entries := make([]store.Entry, n)
	t0 := time.Now()
	for i := range entries {
		raw := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-8e2e-4cbf-938f-98ee46b3cd3f",`+
			`"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",`+
			`"pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`, i, i%256)
		entries[i] = store.Entry{Object: stix.Object{Raw: []byte(raw)}, DateAdded: t0.Add(time.Duration(i) * time.Microsecond)}
	}
	return entries
}

// BenchmarkDeliveryBody measures building and signing one 100-object
// delivery, what the worker does per batch besides the store read and the
// request.
func BenchmarkDeliveryBody(b *testing.B) {
	entries := benchEntries(b, 100)
	h := store.Webhook{ID: "0f5c2a9e-3b1d-4c6e-8a7f-1e2d3c4b5a60", CollectionID: "64993447-4d7e-4f70-b94d-d7f33742ee63"}
	buf := make([]byte, 0, 64<<10)
	b.ReportAllocs()
	for b.Loop() {
		id := webhook.DeliveryID(h.ID, entries[0].DateAdded, entries[99].DateAdded)
		buf = webhook.AppendEnvelope(buf[:0], id, h, entries, false, false)
		webhook.Sign("s3cret", 1767225600, buf)
	}
	b.SetBytes(int64(len(buf)))
}
