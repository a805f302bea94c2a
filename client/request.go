package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"time"

	"hail/taxii"
)

// request is one TAXII request, kept whole so that it can be sent again.
type request struct {
	method string
	url    *url.URL
	body   []byte // sent with the TAXII Content-Type when not nil
}

// decoder reads a successful response. It runs inside the attempt, so that
// a connection lost while reading the body is retried like one lost before.
type decoder func(*http.Response) error

// do sends r and hands the successful response to decode (nil when the body
// does not matter), retrying transient failures.
func (c *Client) do(ctx context.Context, r request, decode decoder) error {
	for attempt := 0; ; attempt++ {
		retry, after, err := c.attempt(ctx, r, decode)
		if err == nil {
			return nil
		}
		if !retry || attempt >= c.retries || ctx.Err() != nil {
			return err
		}
		wait := after
		if wait < 0 {
			wait = backoff(attempt, c.minBackoff, c.maxBackoff)
		} else if wait > c.maxRetryAfter {
			return err // the server asks for longer than the caller would wait
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return err // the answer would come too late anyway
		}
		if serr := c.sleep(ctx, wait); serr != nil {
			return errors.Join(err, serr)
		}
	}
}

// attempt sends r once. retry tells whether the failure is transient;
// after is the server's Retry-After, or negative when it gave none.
func (c *Client) attempt(ctx context.Context, r request, decode decoder) (retry bool, after time.Duration, err error) {
	parent := ctx
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url.String(), body)
	if err != nil {
		return false, -1, err
	}
	// TAXII 2.1 §1.6.8: clients ask for the TAXII media type with its version.
	req.Header.Set("Accept", taxii.MediaType)
	if r.body != nil {
		req.Header.Set("Content-Type", taxii.MediaType)
	}
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if c.authz != "" {
		req.Header.Set("Authorization", c.authz)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// A network failure, or this attempt's own timeout; not the caller's
		// cancellation.
		return parent.Err() == nil, -1, err
	}
	defer func() {
		// Drain a little so the connection can be reused.
		io.CopyN(io.Discard, resp.Body, 4<<10)
		resp.Body.Close()
	}()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		herr := responseError(resp)
		switch resp.StatusCode {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			after := time.Duration(-1)
			if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
				after = d
			}
			return true, after, herr
		}
		return false, -1, herr
	}
	if decode == nil {
		return false, -1, nil
	}
	if err := checkContentType(resp.Header.Get("Content-Type")); err != nil {
		return false, -1, fmt.Errorf("%s %s: %w", r.method, r.url.Redacted(), err)
	}
	if err := decode(resp); err != nil {
		return parent.Err() == nil && transient(err), -1, fmt.Errorf("%s %s: read response: %w", r.method, r.url.Redacted(), err)
	}
	return false, -1, nil
}

// transient reports whether a failure reading a body is the connection's
// (worth a retry) rather than the content's.
func transient(err error) bool {
	var ne net.Error
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne)
}

// checkContentType accepts the TAXII 2.1 media type (TAXII 2.1 §1.6.8),
// without a version too, and plain application/json, which some servers
// send for the same JSON. Anything else, typically an HTML login or error
// page, means the URL is not a TAXII endpoint.
func checkContentType(header string) error {
	if header == "" {
		return errors.New("the response has no Content-Type; want " + taxii.MediaType)
	}
	typ, params, err := mime.ParseMediaType(header)
	if err == nil {
		switch typ {
		case "application/taxii+json":
			if v, ok := params["version"]; !ok || v == "2.1" {
				return nil
			}
		case "application/json":
			return nil
		}
	}
	return fmt.Errorf("the response is %q, not %s: is the URL a TAXII 2.1 API root?", header, taxii.MediaType)
}
