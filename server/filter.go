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
	"hail/stix"
	"hail/store"
	"hail/taxii"
)

// Query parameters (TAXII 2.1 §3.4, §3.4.1).
const (
	paramAddedAfter  = "added_after"
	paramLimit       = "limit"
	paramNext        = "next"
	paramID          = "match[id]"
	paramType        = "match[type]"
	paramVersion     = "match[version]"
	paramSpecVersion = "match[spec_version]"
)

// The parameters each endpoint honours; others are ignored, as TAXII 2.1
// §3.4 allows for fields a server does not support.
var (
	// §5.3 manifest, §5.4 objects.
	collectionParams = []string{paramAddedAfter, paramLimit, paramNext, paramID, paramType, paramVersion, paramSpecVersion}
	// §5.6 object by id.
	objectParams = []string{paramAddedAfter, paramLimit, paramNext, paramVersion, paramSpecVersion}
	// §5.8 versions.
	versionsParams = []string{paramAddedAfter, paramLimit, paramNext, paramSpecVersion}
	// §5.7 delete.
	deleteParams = []string{paramVersion, paramSpecVersion}
)

// carriedParams are the parameters a next token repeats, so that a client
// that sends only next on later pages (the SOCRadar Azure function does)
// keeps its filters. added_after needs no carrying: the token's position is
// already past it.
var carriedParams = []string{paramLimit, paramID, paramType, paramVersion, paramSpecVersion}

// maxListValues bounds a comma-separated match[] list, so that one request
// cannot make the store build an arbitrarily large query.
const maxListValues = 1000

// query is a parsed query string.
type query struct {
	// Filter is what the store is asked; its AddedAfter is the position
	// reached: the later of added_after and the next token's position.
	store.Filter
	// Positioned is true when the request gave added_after or next, that is,
	// it asks for the rest of something rather than for the whole.
	Positioned bool
	// Carry holds the carried parameters in effect, for the next token.
	Carry url.Values
}

// parseQuery parses a query string for an endpoint that honours the
// parameters in allowed. Errors are hail.EINVALID and name the parameter
// (TAXII 2.1 §3.4: malformed parameters get 400).
//
// The next token is not trusted (TAXII 2.1 Appendix B): it only supplies a
// position, which the client could as well send as added_after, and filter
// values, which are validated here exactly like the client's own and can
// only narrow what the request may see. Parameters the request repeats take
// precedence over the token's.
func (s *Server) parseQuery(rawQuery string, allowed []string) (query, error) {
	vals, err := url.ParseQuery(rawQuery)
	if err != nil {
		return query{}, hail.Errorf(hail.EINVALID, "The query string is malformed.")
	}
	for _, p := range allowed {
		if len(vals[p]) > 1 {
			return query{}, hail.Errorf(hail.EINVALID, "Parameter %q is given more than once.", p)
		}
	}
	q := query{Carry: url.Values{}}
	q.Limit = s.cfg.DefaultLimit
	if tok := vals.Get(paramNext); tok != "" && slices.Contains(allowed, paramNext) {
		pos, carried, err := parseToken(tok)
		if err != nil {
			return query{}, hail.Errorf(hail.EINVALID, "Parameter \"next\" is not a token this server issued.")
		}
		for p, v := range carried {
			if !vals.Has(p) && slices.Contains(allowed, p) {
				vals[p] = v
			}
		}
		q.AddedAfter, q.Positioned = pos, true
	}
	if v := vals.Get(paramAddedAfter); v != "" && slices.Contains(allowed, paramAddedAfter) {
		t, err := parsePosition(v)
		if err != nil {
			return query{}, hail.Errorf(hail.EINVALID, "Parameter \"added_after\" is not a timestamp: %q.", v)
		}
		if t.After(q.AddedAfter) {
			q.AddedAfter = t
		}
		q.Positioned = true
	}
	for _, p := range carriedParams {
		if !vals.Has(p) || !slices.Contains(allowed, p) {
			continue
		}
		v := vals.Get(p)
		if err := q.set(p, v, s.cfg.MaxLimit); err != nil {
			return query{}, err
		}
		q.Carry.Set(p, v)
	}
	return q, nil
}

// set parses the value of one carried parameter into q.
func (q *query) set(param, v string, maxLimit int) error {
	if param == paramLimit {
		n, err := parseLimit(v, maxLimit)
		q.Limit = n
		return err
	}
	items, err := splitList(param, v)
	if err != nil {
		return err
	}
	switch param {
	case paramID:
		for _, id := range items {
			if !stix.ValidID(id) {
				return hail.Errorf(hail.EINVALID, "Parameter \"match[id]\" value %q is not a STIX id (type--UUID).", id)
			}
		}
		q.IDs = items
	case paramType:
		for _, t := range items {
			if !stix.ValidType(t) {
				return hail.Errorf(hail.EINVALID, "Parameter \"match[type]\" value %q is not a STIX type name.", t)
			}
		}
		q.Types = items
	case paramVersion:
		q.Versions, err = parseVersions(items)
	case paramSpecVersion:
		for _, sv := range items {
			if !validSpecVersion(sv) {
				return hail.Errorf(hail.EINVALID, "Parameter \"match[spec_version]\" value %q is not a version such as 2.1.", sv)
			}
		}
		q.SpecVersions = items
	}
	return err
}

// parseLimit parses limit: a positive integer (TAXII 2.1 §3.4), lowered to
// the server's maximum page; the envelope's "more" then tells the client to
// continue.
func parseLimit(v string, maxLimit int) (int, error) {
	n, err := strconv.Atoi(v)
	if errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(v, "-") {
		return maxLimit, nil
	}
	if err != nil || n <= 0 {
		return 0, hail.Errorf(hail.EINVALID, "Parameter \"limit\" must be a positive integer, not %q.", v)
	}
	return min(n, maxLimit), nil
}

// splitList splits a comma-separated match[] value (TAXII 2.1 §3.4: values
// are ORed) and drops repeated values.
func splitList(param, v string) ([]string, error) {
	items := strings.Split(v, ",")
	if len(items) > maxListValues {
		return nil, hail.Errorf(hail.EINVALID, "Parameter %q has more than %d values.", param, maxListValues)
	}
	out := items[:0]
	for _, it := range items {
		it = strings.TrimSpace(it)
		if it == "" {
			return nil, hail.Errorf(hail.EINVALID, "Parameter %q has an empty value.", param)
		}
		if !slices.Contains(out, it) {
			out = append(out, it)
		}
	}
	return out, nil
}

// parseVersions checks match[version] values (TAXII 2.1 §3.4.1): first,
// last, all, or timestamps, which are rewritten in one form so that the
// store compares instants.
func parseVersions(items []string) ([]string, error) {
	out := make([]string, 0, len(items))
	for _, it := range items {
		switch v := strings.ToLower(it); v {
		case "first", "last", "all":
			it = v
		default:
			t, err := taxii.ParseTimestamp(it)
			if err != nil {
				return nil, hail.Errorf(hail.EINVALID, "Parameter \"match[version]\" value %q is not first, last, all or a timestamp.", it)
			}
			it = t.Format(time.RFC3339Nano)
		}
		if !slices.Contains(out, it) {
			out = append(out, it)
		}
	}
	if len(out) > 1 && slices.Contains(out, "all") {
		return nil, hail.Errorf(hail.EINVALID, "Parameter \"match[version]\" value \"all\" cannot be combined with other values.")
	}
	return out, nil
}

// validSpecVersion reports whether s looks like a STIX spec_version: digits
// separated by dots.
func validSpecVersion(s string) bool {
	if len(s) > 16 || s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}

// A next token is the TAXII timestamp of the last date_added of the page it
// ends, followed, when the query had carried parameters, by "." and their
// base64url-encoded query string:
//
//	2025-05-02T11:20:00.000017Z
//	2025-05-02T11:20:00.000017Z.bWF0Y2glNUJ0eXBlJTVEPWluZGljYXRvcg
//
// It holds no state on the server, never expires and works on any replica.
// Because it starts with a timestamp, a client that wrongly sends it back
// as added_after still gets the right page (old XSOAR code did so).

// formatToken returns the next token for a page ending at pos.
func formatToken(pos time.Time, carry url.Values) string {
	t := taxii.FormatTimestamp(pos)
	if len(carry) == 0 {
		return t
	}
	return t + "." + base64.RawURLEncoding.EncodeToString([]byte(carry.Encode()))
}

// parseToken reads a next token.
func parseToken(tok string) (time.Time, url.Values, error) {
	ts, enc := splitToken(tok)
	pos, err := taxii.ParseTimestamp(ts)
	if err != nil || enc == "" {
		return pos, nil, err
	}
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return time.Time{}, nil, err
	}
	vals, err := url.ParseQuery(string(b))
	if err != nil {
		return time.Time{}, nil, err
	}
	for p, v := range vals {
		if !slices.Contains(carriedParams, p) || len(v) != 1 {
			return time.Time{}, nil, errors.New("unknown parameter in token")
		}
	}
	return pos, vals, nil
}

// parsePosition reads added_after: a timestamp, or a next token (whose
// filters are then ignored).
func parsePosition(v string) (time.Time, error) {
	ts, _ := splitToken(v)
	return taxii.ParseTimestamp(ts)
}

// splitToken splits a token at the "Z." that ends its timestamp; a
// timestamp's own "." is followed by digits, never preceded by "Z".
func splitToken(tok string) (ts, enc string) {
	if i := strings.Index(tok, "Z."); i >= 0 {
		return tok[:i+1], tok[i+2:]
	}
	return tok, ""
}
