package client

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"hail/taxii"
)

// TAXII 2.0 media types (TAXII 2.0 §1.4.8), for servers that predate 2.1.
const (
	mediaType20     = "application/vnd.oasis.taxii+json; version=2.0"
	stixMediaType20 = "application/vnd.oasis.stix+json; version=2.0"
)

// WithTAXII20 makes the client speak TAXII 2.0 from its first request. Without
// it the client asks in TAXII 2.1 and changes to 2.0 for good when a server
// answers with a 2.0 media type, or refuses the 2.1 one with 406 or 415;
// this option is for 2.0 servers that answer a 2.1 request otherwise.
func WithTAXII20() Option {
	return func(c *Client) error {
		c.v20.Store(true)
		c.fixedVersion = true
		return nil
	}
}

// TAXII20 reports whether the client speaks TAXII 2.0 to the server.
func (c *Client) TAXII20() bool { return c.v20.Load() }

// versionRefused wraps a 406 or 415 answer to a TAXII 2.1 request, which do
// then sends again in TAXII 2.0.
type versionRefused struct{ err error }

func (e *versionRefused) Error() string { return e.err.Error() }
func (e *versionRefused) Unwrap() error { return e.err }

// refusesVersion reports whether a response with status refuses the TAXII
// 2.1 media type of a client that may still change to 2.0.
func (c *Client) refusesVersion(status int) bool {
	return (status == http.StatusNotAcceptable || status == http.StatusUnsupportedMediaType) &&
		!c.fixedVersion && !c.v20.Load()
}

// accept is the Accept header of a request: of a list of objects when
// objects is set.
func (c *Client) accept(objects bool) string {
	switch {
	case !c.v20.Load():
		return taxii.MediaType
	case objects:
		return stixMediaType20
	}
	return mediaType20
}

// objects20 is what a TAXII 2.0 objects request asks for: the filters 2.0
// has (added_after and match[id|type|version]; paging is by the Range
// header, so a limit and a next offset become one), as query and header.
func (f Filter) objects20() (string, http.Header) {
	v := url.Values{}
	if !f.AddedAfter.IsZero() {
		v.Set("added_after", taxii.FormatTimestamp(f.AddedAfter))
	}
	for _, m := range []struct {
		name   string
		values []string
	}{{"id", f.IDs}, {"type", f.Types}, {"version", f.Versions}} {
		if len(m.values) > 0 {
			v.Set("match["+m.name+"]", strings.Join(m.values, ","))
		}
	}
	h := http.Header{}
	if f.Limit > 0 {
		from, _ := strconv.Atoi(f.Next) // the offset a previous page gave as its next
		h.Set("Range", "items "+strconv.Itoa(max(from, 0))+"-"+strconv.Itoa(max(from, 0)+f.Limit-1))
	}
	return v.Encode(), h
}

// contentRange reads a TAXII 2.0 Content-Range header, "items 0-99/250":
// the first and last items of the page and the total, -1 when the server
// gives "*".
func contentRange(v string) (first, last, total int, err error) {
	bad := errors.New("Content-Range " + strconv.Quote(v) + " is not \"items first-last/total\"")
	rest, ok := strings.CutPrefix(strings.TrimSpace(v), "items")
	if !ok {
		return 0, 0, 0, bad
	}
	span, all, ok := strings.Cut(strings.TrimLeft(rest, " ="), "/")
	if !ok {
		return 0, 0, 0, bad
	}
	a, b, ok := strings.Cut(span, "-")
	if !ok {
		return 0, 0, 0, bad
	}
	if first, err = strconv.Atoi(strings.TrimSpace(a)); err != nil || first < 0 {
		return 0, 0, 0, bad
	}
	if last, err = strconv.Atoi(strings.TrimSpace(b)); err != nil || last < first {
		return 0, 0, 0, bad
	}
	if all = strings.TrimSpace(all); all == "*" {
		return first, last, -1, nil
	}
	if total, err = strconv.Atoi(all); err != nil || total <= last {
		return 0, 0, 0, bad
	}
	return first, last, total, nil
}

// pageRange sets p.More and p.Next from a TAXII 2.0 response: a 206 with a
// Content-Range says where the page ends, and the next page starts after
// it; a page without one is the whole of what the filters select.
func pageRange(resp *http.Response, limit int, p *Page) error {
	v := resp.Header.Get("Content-Range")
	if v == "" {
		return nil
	}
	_, last, total, err := contentRange(v)
	if err != nil {
		return err
	}
	if total < 0 {
		p.More = limit > 0 && len(p.Objects) >= limit
	} else {
		p.More = last+1 < total
	}
	if p.More {
		p.Next = strconv.Itoa(last + 1)
	}
	return nil
}
