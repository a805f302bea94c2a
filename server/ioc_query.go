package server

import (
	"encoding/base64"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"hail"
	"hail/stix/pattern"
	"hail/store"
	"hail/taxii"
)

// Query parameters of the IOC API.
const (
	iocParamType           = "type"
	iocParamCollection     = "collection"
	iocParamSince          = "since"
	iocParamMinConfidence  = "min_confidence"
	iocParamIncludeExpired = "include_expired"
	iocParamIncludeRevoked = "include_revoked"
	iocParamLimit          = "limit"
	iocParamCursor         = "cursor"
	iocParamFormat         = "format"
	iocParamValue          = "value"
)

// iocCarried are the parameters a cursor repeats, so that a client that
// sends only the cursor on later pages keeps its filters.
var iocCarried = []string{
	iocParamType, iocParamCollection, iocParamSince, iocParamMinConfidence,
	iocParamIncludeExpired, iocParamIncludeRevoked, iocParamLimit,
}

// iocSingle are the parameters that may be given once only; type may be
// repeated and value is a list.
var iocSingle = []string{
	iocParamCollection, iocParamSince, iocParamMinConfidence, iocParamIncludeExpired,
	iocParamIncludeRevoked, iocParamLimit, iocParamCursor, iocParamFormat,
}

// defaultIOCCollection is the collection the IOC API reads when the request
// names none: the aggregate of everything, by its conventional alias.
const defaultIOCCollection = "all"

// iocTypes are the IOC types a type parameter may name: the observable
// types of stix/pattern, cve among them.
var iocTypes = []string{
	pattern.TypeIPv4, pattern.TypeIPv6, pattern.TypeCIDR, pattern.TypeDomain, pattern.TypeURL,
	pattern.TypeEmail, pattern.TypeMD5, pattern.TypeSHA1, pattern.TypeSHA256, pattern.TypeSHA512,
	pattern.TypeSSDEEP, pattern.TypeTLSH, pattern.TypeX509MD5, pattern.TypeX509SHA1,
	pattern.TypeX509SHA256, pattern.TypeRegistryKey, pattern.TypeMutex, pattern.TypeASN, pattern.TypeCVE,
}

// iocTypeGroups are shorthands for the type sets blocklists are made of: a
// firewall takes addresses and blocks together, an EDR every file hash.
var iocTypeGroups = map[string][]string{
	"ip":   {pattern.TypeIPv4, pattern.TypeIPv6, pattern.TypeCIDR},
	"hash": {pattern.TypeMD5, pattern.TypeSHA1, pattern.TypeSHA256, pattern.TypeSHA512},
}

// iocQuery is a parsed IOC API query string.
type iocQuery struct {
	store.IOCFilter
	// Collection names the collection read: an id or alias looked up in
	// the default API root first, or "root/alias".
	Collection string
	// Carry holds the carried parameters in effect, for the next cursor.
	Carry url.Values
}

// parseIOCQuery parses an IOC API query string. A cursor is honoured only
// when withCursor is set. Errors are hail.EINVALID and name the parameter.
//
// A cursor is not trusted: it supplies a position and filter values, which
// are validated here exactly like the client's own, and access is checked
// on every request. Parameters the request gives take precedence over the
// cursor's.
func (s *Server) parseIOCQuery(rawQuery string, withCursor bool) (iocQuery, error) {
	vals, err := url.ParseQuery(rawQuery)
	if err != nil {
		return iocQuery{}, hail.Errorf(hail.EINVALID, "The query string is malformed.")
	}
	for _, p := range iocSingle {
		if len(vals[p]) > 1 {
			return iocQuery{}, hail.Errorf(hail.EINVALID, "Parameter %q is given more than once.", p)
		}
	}
	q := iocQuery{Collection: defaultIOCCollection, Carry: url.Values{}}
	q.Limit = s.cfg.DefaultLimit
	if tok := vals.Get(iocParamCursor); tok != "" && withCursor {
		after, carried, err := parseIOCCursor(tok)
		if err != nil {
			return iocQuery{}, hail.Errorf(hail.EINVALID, "Parameter \"cursor\" is not a cursor this server issued.")
		}
		for p, v := range carried {
			if !vals.Has(p) {
				vals[p] = v
			}
		}
		q.After = after
	}
	for _, p := range iocCarried {
		if !vals.Has(p) {
			continue
		}
		v, err := q.set(p, vals[p], s.cfg.MaxLimit)
		if err != nil {
			return iocQuery{}, err
		}
		if v != "" {
			q.Carry.Set(p, v)
		}
	}
	return q, nil
}

// set parses the values of one carried parameter into q and returns the
// value a cursor carries for it ("" for none).
func (q *iocQuery) set(param string, vs []string, maxLimit int) (string, error) {
	v := strings.TrimSpace(vs[0])
	var err error
	switch param {
	case iocParamType:
		q.Types, err = parseIOCTypes(vs)
		return strings.Join(q.Types, ","), err
	case iocParamCollection:
		if v == "" {
			return "", hail.Errorf(hail.EINVALID, "Parameter \"collection\" is empty; give a collection id or alias.")
		}
		q.Collection = v
	case iocParamSince:
		if v == "" {
			return "", nil
		}
		q.Since, err = parseSince(v)
	case iocParamMinConfidence:
		n, convErr := strconv.Atoi(v)
		if convErr != nil || n < 0 || n > 100 {
			return "", hail.Errorf(hail.EINVALID, "Parameter \"min_confidence\" must be an integer from 0 to 100, not %q.", v)
		}
		q.MinConfidence = &n
	case iocParamIncludeExpired:
		q.IncludeExpired, err = parseFlag(param, v)
		return strconv.FormatBool(q.IncludeExpired), err
	case iocParamIncludeRevoked:
		q.IncludeRevoked, err = parseFlag(param, v)
		return strconv.FormatBool(q.IncludeRevoked), err
	case iocParamLimit:
		q.Limit, err = parseLimit(v, maxLimit)
	}
	return v, err
}

// parseIOCTypes reads the type parameter: repeated, comma-separated or
// both, case-insensitive, with the shorthands of iocTypeGroups. Empty items
// are ignored, so "type=" keeps every type.
func parseIOCTypes(vs []string) ([]string, error) {
	var out []string
	add := func(t string) {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	for _, v := range vs {
		for item := range strings.SplitSeq(v, ",") {
			t := strings.ToLower(strings.TrimSpace(item))
			switch {
			case t == "":
			case slices.Contains(iocTypes, t):
				add(t)
			case iocTypeGroups[t] != nil:
				for _, g := range iocTypeGroups[t] {
					add(g)
				}
			default:
				return nil, hail.Errorf(hail.EINVALID, "Parameter \"type\" value %q is not an IOC type; use %s, or ip or hash.",
					truncate(item, 64), strings.Join(iocTypes, ", "))
			}
		}
	}
	return out, nil
}

// parseSince reads since: a timestamp as TAXII writes them (RFC 3339), or a
// bare date, read as its first instant in UTC.
func parseSince(v string) (time.Time, error) {
	if t, err := taxii.ParseTimestamp(v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, hail.Errorf(hail.EINVALID, "Parameter \"since\" is not a timestamp such as 2025-05-01T00:00:00Z or a date such as 2025-05-01: %q.", truncate(v, 64))
}

// parseFlag reads a boolean parameter. A parameter given without a value
// ("?include_expired") is true.
func parseFlag(param, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, hail.Errorf(hail.EINVALID, "Parameter %q must be true or false, not %q.", param, truncate(v, 64))
}

// truncate shortens s for quoting in an error message, so that a hostile
// parameter does not make a huge response.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// A cursor is the base64url encoding of a query string that holds the
// position after the last row of the page ("after", a TAXII timestamp, and
// "ordinal") and the carried parameters in effect. It holds no state on the
// server, never expires and works on any replica.

// formatIOCCursor returns the cursor for the position after c.
func formatIOCCursor(c store.IOCCursor, carry url.Values) string {
	v := url.Values{}
	for p, x := range carry {
		v[p] = x
	}
	v.Set("after", taxii.FormatTimestamp(c.DateAdded))
	v.Set("ordinal", strconv.Itoa(c.Ordinal))
	return base64.RawURLEncoding.EncodeToString([]byte(v.Encode()))
}

var errBadCursor = errors.New("malformed cursor")

// parseIOCCursor reads a cursor.
func parseIOCCursor(tok string) (store.IOCCursor, url.Values, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(tok, "="))
	if err != nil {
		return store.IOCCursor{}, nil, errBadCursor
	}
	vals, err := url.ParseQuery(string(b))
	if err != nil {
		return store.IOCCursor{}, nil, errBadCursor
	}
	after, err := taxii.ParseTimestamp(vals.Get("after"))
	if err != nil || len(vals["after"]) != 1 {
		return store.IOCCursor{}, nil, errBadCursor
	}
	ord, err := strconv.Atoi(vals.Get("ordinal"))
	if err != nil || ord < 0 || len(vals["ordinal"]) != 1 {
		return store.IOCCursor{}, nil, errBadCursor
	}
	delete(vals, "after")
	delete(vals, "ordinal")
	for p, v := range vals {
		if !slices.Contains(iocCarried, p) || len(v) != 1 {
			return store.IOCCursor{}, nil, errBadCursor
		}
	}
	return store.IOCCursor{DateAdded: after, Ordinal: ord}, vals, nil
}
