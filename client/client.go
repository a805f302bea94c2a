package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"hail"
)

// Defaults applied by New.
const (
	DefaultRetries    = 4
	DefaultMinBackoff = 500 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
	// DefaultMaxRetryAfter is the longest Retry-After the client waits for;
	// a server asking for more gets its error returned instead.
	DefaultMaxRetryAfter = 5 * time.Minute
	// DefaultTimeout bounds one attempt: connecting, sending, and reading
	// the whole response body.
	DefaultTimeout = 2 * time.Minute
)

// DefaultUserAgent is the User-Agent sent unless WithUserAgent sets another
// (TAXII 2.1 §3.2: clients SHOULD send one).
const DefaultUserAgent = "hail/" + hail.Version

// Client talks to one TAXII 2.1 API root, or to a TAXII 2.0 one for
// reading (see WithTAXII20). It is safe for concurrent use.
type Client struct {
	root      *url.URL // the API root, ending in "/"
	hc        *http.Client
	userAgent string
	authz     string // the Authorization header; "" for none

	// v20 is set once the client speaks TAXII 2.0 to the server: from the
	// start with WithTAXII20 (fixedVersion), else once the server shows
	// it speaks only that.
	v20          atomic.Bool
	fixedVersion bool

	retries       int
	minBackoff    time.Duration
	maxBackoff    time.Duration
	maxRetryAfter time.Duration
	timeout       time.Duration

	tls *tls.Config // set by the TLS options, applied to the transport by New

	// sleep waits between attempts; tests replace it to see the waits
	// without spending them.
	sleep func(ctx context.Context, d time.Duration) error
}

// Option configures a Client.
type Option func(*Client) error

// WithHTTPClient makes the client send its requests with hc. Its Timeout,
// if any, applies on top of the per-attempt timeout. TLS options clone
// hc's transport, which must then be an *http.Transport.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("client: nil HTTP client")
		}
		c.hc = hc
		return nil
	}
}

// WithBasicAuth sends HTTP Basic credentials, the scheme TAXII 2.1 §1.6.9
// asks every client to implement. hail reads its API key as the password
// with any user name.
func WithBasicAuth(user, password string) Option {
	return func(c *Client) error {
		c.authz = "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
		return nil
	}
}

// WithToken sends Authorization: Bearer token.
func WithToken(token string) Option {
	return func(c *Client) error {
		if token == "" {
			return errors.New("client: empty token")
		}
		c.authz = "Bearer " + token
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		c.userAgent = ua
		return nil
	}
}

// WithTLSConfig sets the TLS configuration of the transport. It replaces
// what WithInsecureSkipVerify or WithRootCAs set before it.
func WithTLSConfig(cfg *tls.Config) Option {
	return func(c *Client) error {
		if cfg == nil {
			return errors.New("client: nil TLS config")
		}
		c.tls = cfg.Clone()
		return nil
	}
}

// WithInsecureSkipVerify accepts any server certificate. It is for test
// servers with self-signed certificates; TAXII 2.1 §7.1 requires clients
// to verify certificates otherwise.
func WithInsecureSkipVerify() Option {
	return func(c *Client) error {
		c.tlsConfig().InsecureSkipVerify = true
		return nil
	}
}

// WithRootCAs verifies server certificates against pool instead of the
// system roots.
func WithRootCAs(pool *x509.CertPool) Option {
	return func(c *Client) error {
		c.tlsConfig().RootCAs = pool
		return nil
	}
}

// WithClientCertificate presents cert to servers that ask for a client
// certificate (mutual TLS).
func WithClientCertificate(cert tls.Certificate) Option {
	return func(c *Client) error {
		cfg := c.tlsConfig()
		cfg.Certificates = append(cfg.Certificates, cert)
		return nil
	}
}

// WithRetries sets how many times a failed request is retried (0: never).
func WithRetries(n int) Option {
	return func(c *Client) error {
		if n < 0 {
			return fmt.Errorf("client: negative retries %d", n)
		}
		c.retries = n
		return nil
	}
}

// WithBackoff sets the wait before the first retry and the cap of the
// doubling waits after it.
func WithBackoff(min, max time.Duration) Option {
	return func(c *Client) error {
		if min <= 0 || max < min {
			return fmt.Errorf("client: backoff %v..%v: want 0 < min <= max", min, max)
		}
		c.minBackoff, c.maxBackoff = min, max
		return nil
	}
}

// WithMaxRetryAfter sets the longest Retry-After the client waits for.
func WithMaxRetryAfter(d time.Duration) Option {
	return func(c *Client) error {
		c.maxRetryAfter = d
		return nil
	}
}

// WithTimeout bounds each attempt, from connecting to reading the last byte
// of the response; 0 removes the bound.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d < 0 {
			return fmt.Errorf("client: negative timeout %v", d)
		}
		c.timeout = d
		return nil
	}
}

func (c *Client) tlsConfig() *tls.Config {
	if c.tls == nil {
		c.tls = &tls.Config{MinVersion: tls.VersionTLS12} // TAXII 2.1 §7.1
	}
	return c.tls
}

// New returns a client for the API root at apiRootURL, an absolute http or
// https URL such as "https://taxii.example.org/taxii2/api/".
func New(apiRootURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(apiRootURL)
	if err != nil {
		return nil, fmt.Errorf("client: API root URL %q: %w", apiRootURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: API root URL %q is not an absolute http or https URL", apiRootURL)
	}
	// TAXII 2.1 §3.1: every endpoint URL ends in "/". Relative resolution
	// against the root needs the slash too.
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	u.RawQuery, u.Fragment = "", ""
	c := &Client{
		root:          u,
		userAgent:     DefaultUserAgent,
		retries:       DefaultRetries,
		minBackoff:    DefaultMinBackoff,
		maxBackoff:    DefaultMaxBackoff,
		maxRetryAfter: DefaultMaxRetryAfter,
		timeout:       DefaultTimeout,
		sleep:         sleepContext,
	}
	for _, opt := range opts {
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	if c.hc == nil {
		c.hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if c.tls != nil {
		t, ok := c.hc.Transport.(*http.Transport)
		if c.hc.Transport == nil {
			t, ok = http.DefaultTransport.(*http.Transport), true
		}
		if !ok {
			return nil, fmt.Errorf("client: TLS options need an *http.Transport, the HTTP client has %T", c.hc.Transport)
		}
		t = t.Clone()
		t.TLSClientConfig = c.tls
		hc := *c.hc
		hc.Transport = t
		c.hc = &hc
	}
	return c, nil
}

// URL returns the API root URL the client talks to.
func (c *Client) URL() string { return c.root.String() }

// endpoint resolves the path segments below the API root, escaping each
// one, and appends the trailing slash TAXII 2.1 §3.1 asks for.
func (c *Client) endpoint(segments ...string) *url.URL {
	u := *c.root
	var p, raw strings.Builder
	p.WriteString(u.Path)
	raw.WriteString(u.EscapedPath())
	for _, s := range segments {
		p.WriteString(s)
		p.WriteByte('/')
		raw.WriteString(url.PathEscape(s))
		raw.WriteByte('/')
	}
	u.Path, u.RawPath = p.String(), raw.String()
	return &u
}
