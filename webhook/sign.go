// Package webhook pushes the new entries of collections to HTTP endpoints:
// signed JSON envelopes, delivered at least once and in date_added order
// per webhook, with retries and a log (see Worker), to URLs that cannot
// reach the server's own network unless the operator allows it (see
// CheckURL).
//
// # Verifying a delivery
//
// Each request carries:
//
//	X-Hail-Delivery:  the delivery id; a retry of a batch reuses it
//	X-Hail-Webhook:   the webhook id
//	X-Hail-Timestamp: Unix seconds when the attempt was signed
//	X-Hail-Signature: sha256=<hex HMAC-SHA256 with the secret over "<timestamp>.<body>">
//
// A receiver recomputes the HMAC over the timestamp header, a dot and the
// raw body, compares in constant time (Verify does all this), refuses
// timestamps far from its clock to stop replays, and drops delivery ids it
// has already processed.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Headers of a delivery.
const (
	HeaderDelivery  = "X-Hail-Delivery"
	HeaderWebhook   = "X-Hail-Webhook"
	HeaderTimestamp = "X-Hail-Timestamp"
	HeaderSignature = "X-Hail-Signature"
)

// signaturePrefix names the algorithm in HeaderSignature, so that another
// can be added beside it later.
const signaturePrefix = "sha256="

// Sign returns the HeaderSignature value for body sent at timestamp (Unix
// seconds, as in HeaderTimestamp).
func Sign(secret string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	var ts [20]byte
	mac.Write(strconv.AppendInt(ts[:0], timestamp, 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return signaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether signature (a HeaderSignature value) signs body at
// timestamp (a HeaderTimestamp value) with secret, and timestamp is within
// tolerance of now (any age when tolerance is 0).
func Verify(secret, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) bool {
	ts, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil {
		return false
	}
	if tolerance > 0 {
		if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
			return false
		}
	}
	return hmac.Equal([]byte(Sign(secret, ts, body)), []byte(strings.TrimSpace(signature)))
}
