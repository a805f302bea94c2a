// Package client is a TAXII 2.1 client: it reads discovery, API root,
// collection, manifest, object and version resources from any TAXII 2.1
// server, adds objects and follows their status, and pages through a
// collection with Walk. It reads TAXII 2.0 servers too (see WithTAXII20):
// their resources, and their collections' objects as bundles paged by the
// Range header.
//
// A Client is bound to one API root URL. Requests send Accept:
// application/taxii+json;version=2.1 and the chosen credentials (HTTP Basic
// or a bearer token); a response must come back as application/taxii+json
// (or plain application/json, which some servers send), else it is refused
// as not TAXII: an HTML login page at a wrong URL, for instance.
// Requests that fail with 429, 502, 503 or 504, or on a network error, are
// retried with capped exponential backoff and jitter, honouring the
// server's Retry-After. Every request is safe to repeat: TAXII adds an
// object version at most once, so even Add Objects is retried.
//
// # Errors
//
// A TAXII error response becomes a *hail.Error whose code comes from the
// HTTP status, the inverse of the table in server/error.go, so that
// hail.ErrorCode(err) reads the same on both sides of the wire:
//   - hail.EINVALID: 400 and any other 4xx not listed here.
//   - hail.EUNAUTHENTICATED: 401, no or wrong credentials.
//   - hail.EFORBIDDEN: 403, the credentials lack the right.
//   - hail.ENOTFOUND: 404.
//   - hail.ECONFLICT: 409.
//   - hail.ETOOLARGE: 413, a request body above max_content_length.
//   - hail.EUNPROCESSABLE: 422.
//   - hail.ETOOMANY: 429, after the retries.
//   - hail.EUNAVAILABLE: 503, after the retries.
//   - hail.EINTERNAL: any other 5xx.
//
// The message is the error resource's title, followed by its description;
// for a body that is not one, the status, with the first line of a
// plain-text body (what a Python server's traceback says, for instance).
// Failures that are not TAXII errors (network, TLS, a response that is not
// TAXII JSON) are ordinary errors, which hail.ErrorCode reports as
// hail.EINTERNAL.
package client
