package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hail/jsonscan"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"hail/taxii"
)

// Filter selects what a list request returns (TAXII 2.1 §3.4). Zero fields
// are not sent; values in a slice are ORed, fields ANDed.
type Filter struct {
	// AddedAfter asks for what was added after this instant (added_after).
	AddedAfter time.Time
	// Limit is the page size the client asks for; the server may send fewer.
	Limit int
	// Next continues from a previous page's Next.
	Next string
	// IDs, Types, Versions and SpecVersions are match[id], match[type],
	// match[version] ("first", "last", "all" or timestamps) and
	// match[spec_version].
	IDs, Types, Versions, SpecVersions []string
}

// query encodes f as a query string.
func (f Filter) query() string {
	v := url.Values{}
	if !f.AddedAfter.IsZero() {
		v.Set("added_after", taxii.FormatTimestamp(f.AddedAfter))
	}
	if f.Limit > 0 {
		v.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.Next != "" {
		v.Set("next", f.Next)
	}
	for _, m := range []struct {
		name   string
		values []string
	}{{"id", f.IDs}, {"type", f.Types}, {"version", f.Versions}, {"spec_version", f.SpecVersions}} {
		if len(m.values) > 0 {
			v.Set("match["+m.name+"]", strings.Join(m.values, ","))
		}
	}
	return v.Encode()
}

// Page is one envelope (TAXII 2.1 §3.7) with the X-TAXII-Date-Added-First
// and -Last headers that came with it (§3.2); they are zero when the server
// sent none, as for an empty page.
type Page struct {
	More bool
	Next string
	// Objects are exactly as the server sent them: slices of the page's
	// body, so that one kept for long keeps the whole body; copy it then.
	Objects        []json.RawMessage
	DateAddedFirst time.Time
	DateAddedLast  time.Time
}

// Objects reads one page of a collection's objects (TAXII 2.1 §5.4).
// Returns ENOTFOUND if there is no such collection.
func (c *Client) Objects(ctx context.Context, collectionID string, f Filter) (Page, error) {
	return c.page(ctx, c.endpoint("collections", collectionID, "objects"), f)
}

// Object reads the versions of one object that f.Versions selects, the
// latest by default (TAXII 2.1 §5.6). Returns ENOTFOUND if the collection
// does not hold it.
func (c *Client) Object(ctx context.Context, collectionID, objectID string, f Filter) (Page, error) {
	return c.page(ctx, c.endpoint("collections", collectionID, "objects", objectID), f)
}

// page reads an envelope and its headers.
// A TAXII 2.0 server sends a bundle, whose objects are read the same way,
// and pages by Range and Content-Range headers (see pageRange).
func (c *Client) page(ctx context.Context, u *url.URL, f Filter) (Page, error) {
	u20 := *u
	u.RawQuery = f.query()
	var h20 http.Header
	u20.RawQuery, h20 = f.objects20()
	var p Page
	err := c.do(ctx, request{method: http.MethodGet, url: u, objects: true, url20: &u20, header20: h20}, func(resp *http.Response) error {
		p = Page{
			DateAddedFirst: headerTime(resp.Header, "X-TAXII-Date-Added-First"),
			DateAddedLast:  headerTime(resp.Header, "X-TAXII-Date-Added-Last"),
		}
		if err := decodeEnvelope(resp.Body, resp.ContentLength, &p); err != nil {
			return err
		}
		if !c.v20.Load() && resp.StatusCode == http.StatusPartialContent && resp.Header.Get("Content-Range") != "" {
			// Only TAXII 2.0 pages by Content-Range: a server that
			// answers a 2.1 request so speaks 2.0, whatever its
			// Content-Type said.
			c.v20.Store(true)
		}
		if c.v20.Load() {
			return pageRange(resp, f.Limit, &p)
		}
		return nil
	})
	return p, err
}

// headerTime reads a timestamp header; zero when absent or unreadable.
// One without a zone, as a server printing naive Python datetimes sends,
// is read as UTC, the only zone TAXII timestamps have: refused, it would
// leave a walk by added_after with no mark to go on from.
func headerTime(h http.Header, name string) time.Time {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return time.Time{}
	}
	t, err := taxii.ParseTimestamp(v)
	if err != nil {
		if naive, nerr := time.Parse("2006-01-02T15:04:05.999999999", v); nerr == nil {
			return naive
		}
		return time.Time{}
	}
	return t
}

// errNotEnvelope is returned for a body that is JSON but not an envelope.
var errNotEnvelope = errors.New("the response is not a TAXII envelope")

// maxPageBody bounds the body of one page: far above what any server
// sends for the largest page TAXII servers allow, and a stop for one that
// never ends its body.
const maxPageBody = 1 << 30

// decodeEnvelope reads an envelope from r into p. The body is read whole
// and checked once; each object is then a slice of it, so that the body is
// never held twice and the objects are not copied. A body that is not one
// plain envelope (trailing bytes, a member of an unexpected type) goes
// through decodeEnvelopeStream, which says what is wrong.
func decodeEnvelope(r io.Reader, size int64, p *Page) error {
	body, err := readBody(r, size)
	if err != nil {
		return err
	}
	if len(body) > maxPageBody {
		return fmt.Errorf("the response is larger than %d MiB", maxPageBody>>20)
	}
	if jsonscan.Valid(body) && splitEnvelope(body, p) {
		return nil
	}
	*p = Page{DateAddedFirst: p.DateAddedFirst, DateAddedLast: p.DateAddedLast}
	return decodeEnvelopeStream(bytes.NewReader(body), p)
}

// readBody reads a body of at most maxPageBody+1 bytes. size is its
// Content-Length, or -1: a body of known length is read into a buffer of
// that length, rather than one grown by doubling, which left twice a
// page's bytes for the garbage collector.
func readBody(r io.Reader, size int64) ([]byte, error) {
	r = io.LimitReader(r, maxPageBody+1)
	if size < 0 || size > maxPageBody {
		return io.ReadAll(r)
	}
	var buf bytes.Buffer
	buf.Grow(int(size) + bytes.MinRead) // ReadFrom wants MinRead bytes free to see the end
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// splitEnvelope reads the valid JSON body into p, or reports false when
// it is not an envelope whose members have their expected types.
func splitEnvelope(body []byte, p *Page) bool {
	ok := true
	isObject := jsonscan.Members(body, func(name, v []byte) bool {
		switch string(name) {
		case "more":
			switch string(v) {
			case "true":
				p.More = true
			case "false":
				p.More = false
			case "null":
			default:
				ok = false
			}
		case "next":
			next, err := nextValue(v)
			p.Next, ok = next, err == nil
		case "objects":
			if string(v) != "null" {
				ok = jsonscan.Elements(v, func(elem []byte) bool {
					p.Objects = append(p.Objects, json.RawMessage(elem))
					return true
				})
			}
		}
		return ok
	})
	return isObject && ok
}

// decodeEnvelopeStream reads an envelope from r into p token by token.
// Unknown members are skipped, and so is anything after the envelope.
func decodeEnvelopeStream(r io.Reader, p *Page) error {
	dec := json.NewDecoder(r)
	if tok, err := dec.Token(); err != nil {
		return err
	} else if tok != json.Delim('{') {
		return errNotEnvelope
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case "more":
			err = dec.Decode(&p.More)
		case "next":
			p.Next, err = decodeNext(dec)
		case "objects":
			err = decodeObjects(dec, &p.Objects)
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return err
		}
	}
	_, err := dec.Token() // the closing '}'
	return err
}

// decodeNext reads next: opaque to clients (TAXII 2.1 §3.4), and sent back
// as it came, so a server that sends a number gets its digits back.
func decodeNext(dec *json.Decoder) (string, error) {
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return "", err
	}
	return nextValue(raw)
}

// nextValue reads the valid JSON value of next.
func nextValue(raw []byte) (string, error) {
	var s string
	switch {
	case string(raw) == "null":
		return "", nil
	case json.Unmarshal(raw, &s) == nil:
		return s, nil
	case len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9'):
		return string(raw), nil
	}
	return "", fmt.Errorf("%w: \"next\" is %s", errNotEnvelope, raw)
}

// decodeObjects reads the objects list, appending each object's bytes.
func decodeObjects(dec *json.Decoder, out *[]json.RawMessage) error {
	tok, err := dec.Token()
	if err != nil || tok == nil { // null: no objects
		return err
	}
	if tok != json.Delim('[') {
		return fmt.Errorf("%w: \"objects\" is not a list", errNotEnvelope)
	}
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		*out = append(*out, raw)
	}
	_, err = dec.Token() // the closing ']'
	return err
}

// Manifest reads one page of a collection's manifest (TAXII 2.1 §5.3).
// Returns ENOTFOUND if there is no such collection.
func (c *Client) Manifest(ctx context.Context, collectionID string, f Filter) (taxii.Manifest, error) {
	u := c.endpoint("collections", collectionID, "manifest")
	u.RawQuery = f.query()
	var m taxii.Manifest
	err := c.getJSON(ctx, u, &m)
	return m, err
}

// Versions reads one page of an object's versions (TAXII 2.1 §5.8).
// Returns ENOTFOUND if the collection does not hold the object.
func (c *Client) Versions(ctx context.Context, collectionID, objectID string, f Filter) (taxii.Versions, error) {
	u := c.endpoint("collections", collectionID, "objects", objectID, "versions")
	u.RawQuery = f.query()
	var v taxii.Versions
	err := c.getJSON(ctx, u, &v)
	return v, err
}

// DeleteObject deletes the versions of an object that f.Versions and
// f.SpecVersions select, every version when both are empty (TAXII 2.1
// §5.7); the other fields of f are not sent. Returns ENOTFOUND if nothing
// matched, EFORBIDDEN if the credentials may not delete.
func (c *Client) DeleteObject(ctx context.Context, collectionID, objectID string, f Filter) error {
	u := c.endpoint("collections", collectionID, "objects", objectID)
	u.RawQuery = Filter{Versions: f.Versions, SpecVersions: f.SpecVersions}.query()
	return c.do(ctx, request{method: http.MethodDelete, url: u}, nil)
}
