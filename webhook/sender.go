package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"hail"
	"hail/store"
)

// DefaultTimeout bounds one delivery attempt, connection included, when
// SenderOptions.Timeout is 0.
const DefaultTimeout = 10 * time.Second

// SenderOptions tune a Sender. The zero value is usable.
type SenderOptions struct {
	// AllowPrivate lets webhooks reach loopback, private and link-local
	// addresses: for receivers on the operator's own network. Off by
	// default, so that whoever may create a webhook cannot make the server
	// probe its network.
	AllowPrivate bool
	// Timeout bounds each attempt (DefaultTimeout when 0).
	Timeout time.Duration
	// Now is the clock of signature timestamps (time.Now when nil).
	Now func() time.Time
}

// Sender makes signed delivery requests. It is safe for concurrent use.
type Sender struct {
	opt    SenderOptions
	client *http.Client
}

// NewSender returns a Sender. Its requests use no proxy (a proxy would
// connect where the address checks cannot see) and follow no redirect (a
// redirect answers as a failed attempt).
func NewSender(opt SenderOptions) *Sender {
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer(opt.AllowPrivate),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   opt.Timeout,
		ResponseHeaderTimeout: opt.Timeout,
	}
	return &Sender{opt: opt, client: &http.Client{
		Transport:     tr,
		Timeout:       opt.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// CheckURL checks a webhook URL as CheckURL does, with the sender's
// AllowPrivate.
func (s *Sender) CheckURL(raw string) error { return CheckURL(raw, s.opt.AllowPrivate) }

// Result is the outcome of one attempt.
type Result struct {
	Status  int // HTTP status; 0 when no response came
	Latency time.Duration
	// RetryAfter is the wait the receiver asked for with Retry-After, 0
	// when it asked none.
	RetryAfter time.Duration
	// Err is nil for a 2xx response, otherwise why the attempt failed.
	Err error
}

// maxErrorBody is how much of a failed response's body the log keeps.
const maxErrorBody = 200

// Send posts body to w.URL, signed with w.Secret, as delivery id delivery.
func (s *Sender) Send(ctx context.Context, w store.Webhook, delivery string, body []byte) Result {
	start := time.Now()
	res := s.send(ctx, w, delivery, body)
	res.Latency = time.Since(start)
	return res
}

func (s *Sender) send(ctx context.Context, w store.Webhook, delivery string, body []byte) Result {
	if err := s.CheckURL(w.URL); err != nil {
		return Result{Err: errors.New(hail.ErrorMessage(err))}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return Result{Err: err}
	}
	ts := s.opt.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "hail/"+hail.Version)
	req.Header.Set(HeaderDelivery, delivery)
	req.Header.Set(HeaderWebhook, w.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(w.Secret, ts, body))
	resp, err := s.client.Do(req)
	if err != nil {
		return Result{Err: err}
	}
	defer resp.Body.Close()
	res := Result{Status: resp.StatusCode}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// Read what is small, so that the connection can be reused.
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return res
	}
	res.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), s.opt.Now())
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	msg := fmt.Sprintf("HTTP %d", resp.StatusCode)
	if t := strings.Join(strings.Fields(string(snippet)), " "); t != "" {
		msg += ": " + t
	}
	res.Err = errors.New(msg)
	return res
}

// ParseRetryAfter reads a Retry-After value (RFC 9110 §10.2.3): seconds, or
// an HTTP date taken relative to now. It returns 0 for an absent,
// malformed or past value.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		// Bounded so that the product cannot overflow.
		return time.Duration(min(secs, maxRetryAfter)) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	d := t.Sub(now)
	if d <= 0 {
		return 0
	}
	return min(d, time.Duration(maxRetryAfter)*time.Second)
}

// maxRetryAfter caps a Retry-After, in seconds (a week): a webhook that
// must wait longer is paused before then anyway.
const maxRetryAfter = 7 * 24 * 3600
