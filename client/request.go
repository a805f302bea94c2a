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

	"hail"
	"hail/taxii"
)

// request is one TAXII request, kept whole so that it can be sent again.
type request struct {
	method string
	url    *url.URL
	body   []byte // sent with the TAXII Content-Type when not nil
	// objects marks a list of STIX objects, which TAXII 2.0 sends as a
	// bundle of its own media type; url20 and header20, when set, are what
	// to send instead of url to a TAXII 2.0 server.
	objects  bool
	url20    *url.URL
	header20 http.Header
}

// decoder reads a successful response. It runs inside the attempt, so that
// a connection lost while reading the body is retried like one lost before.
type decoder func(*http.Response) error

// do sends r and hands the successful response to decode (nil when the body
// does not matter), retrying transient failures.
func (c *Client) do(ctx context.Context, r request, decode decoder) error {
	for attempt := 0; ; attempt++ {
		retry, after, err := c.attempt(ctx, r, decode)
		var refused *versionRefused
		if errors.As(err, &refused) {
			// A server that refuses the TAXII 2.1 media type may speak
			// 2.0; if it refuses that too, the 2.1 answer stands.
			c.v20.Store(true)
			var again error
			if retry, after, again = c.attempt(ctx, r, decode); again == nil {
				return nil
			} else if herr, ok := errors.AsType[*hail.Error](again); ok && (herr.Code == codeForStatus(http.StatusNotAcceptable) ||
				herr.Code == codeForStatus(http.StatusUnsupportedMediaType)) {
				c.v20.Store(false)
				err = refused.err
			} else {
				err = again
			}
		}
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
	u := r.url
	v20 := c.v20.Load()
	if v20 && r.url20 != nil {
		u = r.url20
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return false, -1, err
	}
	if v20 {
		for k, vs := range r.header20 {
			req.Header[k] = vs
		}
	}
	// TAXII 2.1 §1.6.8: clients ask for the TAXII media type with its version.
	req.Header.Set("Accept", c.accept(r.objects))
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
		if c.refusesVersion(resp.StatusCode) && r.body == nil {
			return false, -1, &versionRefused{herr}
		}
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
	is20, err := checkContentType(resp.Header.Get("Content-Type"))
	if err != nil {
		return false, -1, fmt.Errorf("%s %s: %w", r.method, u.Redacted(), err)
	}
	if is20 && !v20 {
		// The server speaks TAXII 2.0: the body is read as such, and the
		// next requests are 2.0 ones.
		c.v20.Store(true)
	}
	if err := decode(resp); err != nil {
		return parent.Err() == nil && transient(err), -1, fmt.Errorf("%s %s: read response: %w", r.method, u.Redacted(), err)
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
// send for the same JSON; and the TAXII 2.0 media types (TAXII 2.0
// §1.4.8), which is20 reports. Anything else, typically an HTML login or
// error page, means the URL is not a TAXII endpoint.
func checkContentType(header string) (is20 bool, err error) {
	if header == "" {
		return false, errors.New("the response has no Content-Type; want " + taxii.MediaType)
	}
	typ, params, err := mime.ParseMediaType(header)
	if err == nil {
		v, versioned := params["version"]
		switch typ {
		case "application/taxii+json":
			if !versioned || v == "2.1" {
				return false, nil
			}
		case "application/vnd.oasis.taxii+json", "application/vnd.oasis.stix+json":
			if !versioned || v == "2.0" {
				return true, nil
			}
		case "application/json":
			return false, nil
		}
	}
	return false, fmt.Errorf("the response is %q, not %s: is the URL a TAXII 2.1 API root?", header, taxii.MediaType)
}
