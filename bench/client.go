package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"hail/taxii"
)

// requestTimeout bounds every request of the harness.
const requestTimeout = 2 * time.Minute

// client sends TAXII requests to one server over keep-alive connections.
type client struct {
	http *http.Client
	key  string // API key, sent as a bearer token
}

// newClient returns a client that keeps up to conns connections open, so
// that concurrent pollers each reuse their own connection.
func newClient(conns int, key string) *client {
	tr := &http.Transport{
		Proxy:               nil, // loopback only: never through an HTTP_PROXY
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     time.Minute,
		// The body is measured as the server sends it.
		DisableCompression: true,
	}
	return &client{http: &http.Client{Transport: tr, Timeout: requestTimeout}, key: key}
}

// close closes the idle connections.
func (c *client) close() { c.http.CloseIdleConnections() }

// response is what the harness keeps of a response.
type response struct {
	status int
	header http.Header
}

// do sends a request and reads the whole body into buf, which is reset
// first.
func (c *client) do(ctx context.Context, method, url string, body []byte, buf *bytes.Buffer) (response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Accept", taxii.MediaType)
	if body != nil {
		req.Header.Set("Content-Type", taxii.MediaType)
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return response{}, fmt.Errorf("%s %s: read body: %w", method, url, err)
	}
	return response{status: resp.StatusCode, header: resp.Header}, nil
}

// get sends a GET and requires a 200.
func (c *client) get(ctx context.Context, url string, buf *bytes.Buffer) (response, error) {
	resp, err := c.do(ctx, http.MethodGet, url, nil, buf)
	if err == nil && resp.status != http.StatusOK {
		err = statusError(http.MethodGet, url, resp.status, buf.Bytes())
	}
	return resp, err
}

// statusError describes an unexpected response.
func statusError(method, url string, status int, body []byte) error {
	if len(body) > 300 {
		body = body[:300]
	}
	return fmt.Errorf("%s %s: status %d: %s", method, url, status, body)
}
