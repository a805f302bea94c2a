package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"hail/taxii"
)

// getJSON reads the resource at u into v.
func (c *Client) getJSON(ctx context.Context, u *url.URL, v any) error {
	return c.do(ctx, request{method: http.MethodGet, url: u}, func(resp *http.Response) error {
		return json.NewDecoder(resp.Body).Decode(v)
	})
}

// Discover reads the discovery resource (TAXII 2.1 §4.1) at discoveryURL,
// with the client's credentials. An empty discoveryURL means /taxii2/ on
// the API root's host, where TAXII 2.1 §4.1 expects it.
func (c *Client) Discover(ctx context.Context, discoveryURL string) (taxii.Discovery, error) {
	u := &url.URL{Scheme: c.root.Scheme, Host: c.root.Host, Path: "/taxii2/"}
	if discoveryURL != "" {
		var err error
		if u, err = c.root.Parse(discoveryURL); err != nil {
			return taxii.Discovery{}, fmt.Errorf("client: discovery URL %q: %w", discoveryURL, err)
		}
	}
	var d taxii.Discovery
	err := c.getJSON(ctx, u, &d)
	return d, err
}

// APIRoot reads the API root resource (TAXII 2.1 §4.2).
func (c *Client) APIRoot(ctx context.Context) (taxii.APIRoot, error) {
	var r taxii.APIRoot
	err := c.getJSON(ctx, c.endpoint(), &r)
	return r, err
}

// Collections lists the collections of the API root the credentials may see
// (TAXII 2.1 §5.1).
func (c *Client) Collections(ctx context.Context) ([]taxii.Collection, error) {
	var cs taxii.Collections
	err := c.getJSON(ctx, c.endpoint("collections"), &cs)
	return cs.Collections, err
}

// Collection reads one collection (TAXII 2.1 §5.2). Returns ENOTFOUND if
// the server has no such collection, or hides it from the credentials.
func (c *Client) Collection(ctx context.Context, id string) (taxii.Collection, error) {
	var col taxii.Collection
	err := c.getJSON(ctx, c.endpoint("collections", id), &col)
	return col, err
}

// Status reads the status of an add request (TAXII 2.1 §4.3). Returns
// ENOTFOUND if the server no longer holds it.
func (c *Client) Status(ctx context.Context, id string) (taxii.Status, error) {
	var st taxii.Status
	err := c.getJSON(ctx, c.endpoint("status", id), &st)
	return st, err
}
