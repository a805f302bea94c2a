package client

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"hail"
	"hail/taxii"
)

// FindCollections lists the collections of the client's API root (as
// Collections does) and returns the client with them. When the URL is no
// API root (404) but a discovery resource, as users often give, the list
// is that of the discovery's default API root, or of its only one, and the
// client returned is one for that root, with the same settings.
func (c *Client) FindCollections(ctx context.Context) (*Client, []taxii.Collection, error) {
	cols, err := c.Collections(ctx)
	if hail.ErrorCode(err) != hail.ENOTFOUND {
		return c, cols, err
	}
	d, derr := c.discoveredRoot(ctx)
	if derr != nil {
		return c, cols, err // not a discovery resource either: the 404 stands
	}
	cols, err = d.Collections(ctx)
	return d, cols, err
}

// discoveredRoot reads the client's URL as a discovery resource (TAXII 2.1
// §4.1) and returns a client for the API root it names by default, or for
// its only one. An API root on another host, or reached over http from
// https, is refused: the credentials were given for this one.
func (c *Client) discoveredRoot(ctx context.Context) (*Client, error) {
	var d taxii.Discovery
	if err := c.getJSON(ctx, c.endpoint(), &d); err != nil {
		return nil, err
	}
	root := d.Default
	if root == "" && len(d.APIRoots) == 1 {
		root = d.APIRoots[0]
	}
	if root == "" {
		return nil, fmt.Errorf("%s is a discovery resource with %d API roots and no default", c.URL(), len(d.APIRoots))
	}
	u, err := c.root.Parse(root)
	if err != nil {
		return nil, fmt.Errorf("the discovery resource's API root %q: %w", root, err)
	}
	sameServer := u.Scheme == c.root.Scheme && strings.EqualFold(u.Host, c.root.Host)
	// From http to https on the same host name: the credentials are then
	// better kept, not sent elsewhere.
	upgrade := c.root.Scheme == "http" && u.Scheme == "https" && strings.EqualFold(u.Hostname(), c.root.Hostname())
	if !sameServer && !upgrade {
		return nil, fmt.Errorf("the discovery resource's API root %s is on another server", u.Redacted())
	}
	return c.withRoot(u)
}

// withRoot returns a client with c's settings for the API root at u.
func (c *Client) withRoot(u *url.URL) (*Client, error) {
	n, err := New(u.String(), WithHTTPClient(c.hc))
	if err != nil {
		return nil, err
	}
	n.userAgent, n.authz = c.userAgent, c.authz
	n.retries, n.minBackoff, n.maxBackoff, n.maxRetryAfter, n.timeout = c.retries, c.minBackoff, c.maxBackoff, c.maxRetryAfter, c.timeout
	n.tls, n.sleep, n.fixedVersion = c.tls, c.sleep, c.fixedVersion
	n.v20.Store(c.v20.Load())
	return n, nil
}
