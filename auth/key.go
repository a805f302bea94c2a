// Package auth makes API keys and reads them from requests. Keys are random
// 160-bit secrets shown once; the store keeps only their SHA-256 hash. A fast
// hash is right here because keys are high-entropy: a password KDF on every
// request would cap the whole server's request rate.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
)

// KeyPrefix starts every key hail makes, so that secret scanners and humans
// can recognise one.
const KeyPrefix = "hail_"

// NewKey returns a new random key and its hash.
func NewKey() (key string, hash []byte) {
	b := make([]byte, 20) // 160 bits
	if _, err := rand.Read(b); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	key = KeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	return key, Hash(key)
}

// Hash returns the SHA-256 hash of key, the form in which keys are stored.
func Hash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// Equal compares two hashes in constant time.
func Equal(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// Credentials returns the candidate keys a request carries, most likely
// first. Real TAXII clients put the key in different places, so all of these
// are read (scheme names are case-insensitive; MISP sends "basic"):
//   - Authorization: Basic with the key as password and any or no username
//     (Microsoft Sentinel's "apikey" / blank username),
//   - Authorization: Basic with the key as username and any or no password,
//   - Authorization: Bearer KEY, and Token KEY (taxii2-client's TokenAuth).
//
// It returns nil when the request has no usable Authorization header.
func Credentials(r *http.Request) []string {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	scheme, rest, ok := strings.Cut(h, " ")
	if !ok {
		return nil
	}
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(scheme) {
	case "bearer", "token":
		if rest == "" {
			return nil
		}
		return []string{rest}
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return nil
		}
		user, pass, _ := strings.Cut(string(raw), ":")
		var out []string
		if pass != "" {
			out = append(out, pass)
		}
		if user != "" && user != pass {
			out = append(out, user)
		}
		return out
	}
	return nil
}
