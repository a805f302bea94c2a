package server

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"hail"
	"hail/stix/pattern"
	"hail/store"
	"hail/taxii"
)

// The IOC API is a plain JSON API beside TAXII for consumers that want
// values rather than STIX: SIEM playbooks, firewalls, scripts. It reads the
// store's IOC index with the same keys and read rights as TAXII.
const (
	iocPrefix = "/api/"
	// restMediaType is the Content-Type of the IOC API's JSON responses,
	// errors included.
	restMediaType = "application/json"
)

// maxLookupBody bounds the body of a lookup: MaxLookup values of a few
// kilobytes each (long URLs) fit.
const maxLookupBody = 4 << 20

// isREST reports whether r is a request to the IOC API rather than TAXII.
func isREST(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, iocPrefix) }

// handleIOCsGet lists one page of a collection's IOCs, oldest first, with a
// cursor for the next page.
func (s *Server) handleIOCsGet(w http.ResponseWriter, r *http.Request) {
	q, err := s.parseIOCQuery(r.URL.RawQuery, true)
	if err != nil {
		s.error(w, r, err)
		return
	}
	c, err := s.iocCollection(r, q.Collection)
	if err != nil {
		s.error(w, r, err)
		return
	}
	q.Now = s.cfg.Now()
	page, err := s.store.IOCs(r.Context(), c.ID, q.IOCFilter)
	if err != nil {
		s.error(w, r, err)
		return
	}
	buf := make([]byte, 0, 512*len(page.IOCs)+64)
	buf = append(buf, `{"data":[`...)
	for i, ioc := range page.IOCs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendIOC(buf, ioc)
	}
	buf = append(buf, `],"more":`...)
	buf = strconv.AppendBool(buf, page.More)
	buf = append(buf, `,"next_cursor":`...)
	if n := len(page.IOCs); page.More && n > 0 {
		buf = appendString(buf, formatIOCCursor(page.IOCs[n-1].Cursor(), q.Carry))
	} else {
		buf = append(buf, "null"...)
	}
	buf = append(buf, "}\n"...)
	info(r.Context()).objects = len(page.IOCs)
	writeREST(w, buf)
}

// handleIOCsLookupGet looks up the values of the repeated value parameter.
func (s *Server) handleIOCsLookupGet(w http.ResponseWriter, r *http.Request) {
	s.lookup(w, r, r.URL.Query()[iocParamValue])
}

// handleIOCsLookupPost looks up the values of a {"values": […]} body.
func (s *Server) handleIOCsLookupPost(w http.ResponseWriter, r *http.Request) {
	values, err := readLookupBody(w, r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.lookup(w, r, values)
}

// readLookupBody reads the values of a POST lookup, at most maxLookupBody
// bytes of JSON.
func readLookupBody(w http.ResponseWriter, r *http.Request) ([]string, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxLookupBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, hail.Errorf(hail.ETOOLARGE, "The request body is larger than %d bytes.", maxLookupBody)
	}
	if err != nil {
		return nil, hail.Errorf(hail.EINVALID, "The request body could not be read.")
	}
	return decodeLookupBody(body)
}

// decodeLookupBody reads the values of a lookup body, {"values": […]}.
// Errors are hail.EINVALID.
func decodeLookupBody(body []byte) ([]string, error) {
	var req struct {
		Values []string `json:"values"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, hail.Errorf(hail.EINVALID, `The body must be a JSON object such as {"values": ["203.0.113.7", "evil.example"]}.`)
	}
	return req.Values, nil
}

// lookup answers each value with the IOCs that match it: the same value
// once normalised as at ingest (pattern.Detect undoes defanging and folds
// case), and, for an address, the CIDR blocks that hold it. A value that is
// no recognisable IOC gets no matches and an error note; it does not fail
// the request.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request, values []string) {
	q, err := s.parseIOCQuery(r.URL.RawQuery, false)
	switch {
	case err != nil:
	case len(values) == 0:
		err = hail.Errorf(hail.EINVALID, "Give at least one value to look up: ?value=… (repeatable), or POST {\"values\": […]}.")
	case len(values) > store.MaxLookup:
		err = hail.Errorf(hail.ETOOLARGE, "At most %d values can be looked up at once; the request has %d.", store.MaxLookup, len(values))
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	c, err := s.iocCollection(r, q.Collection)
	if err != nil {
		s.error(w, r, err)
		return
	}
	queries := make([]store.IOCValue, len(values))
	var distinct []store.IOCValue
	for i, v := range values {
		typ, norm, ok := pattern.Detect(v)
		if !ok {
			continue
		}
		queries[i] = store.IOCValue{Type: typ, Value: norm}
		if !slices.Contains(distinct, queries[i]) {
			distinct = append(distinct, queries[i])
		}
	}
	var matches []store.IOCMatch
	if len(distinct) > 0 {
		q.Now = s.cfg.Now()
		if matches, err = s.store.LookupIOCs(r.Context(), c.ID, distinct, q.IOCFilter); err != nil {
			s.error(w, r, err)
			return
		}
	}
	info(r.Context()).objects = len(matches)
	writeREST(w, appendLookup(nil, values, queries, matches))
}

// appendLookup encodes the lookup answer: per value, in request order, the
// matches of its normalised form.
func appendLookup(buf []byte, values []string, queries []store.IOCValue, matches []store.IOCMatch) []byte {
	byQuery := make(map[store.IOCValue][]store.IOC, len(matches))
	for _, m := range matches {
		byQuery[m.Query] = append(byQuery[m.Query], m.IOC)
	}
	buf = append(buf, `{"data":[`...)
	for i, v := range values {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"value":`...)
		buf = appendString(buf, v)
		q := queries[i]
		if q.Type == "" {
			buf = append(buf, `,"matches":[],"error":"Not a recognisable IOC (an IP address, CIDR block, domain, URL, e-mail address, MD5/SHA-1/SHA-256/SHA-512 hash or CVE id)."}`...)
			continue
		}
		buf = append(buf, `,"type":`...)
		buf = appendString(buf, q.Type)
		buf = append(buf, `,"normalized":`...)
		buf = appendString(buf, q.Value)
		buf = append(buf, `,"matches":[`...)
		for j, ioc := range byQuery[q] {
			if j > 0 {
				buf = append(buf, ',')
			}
			buf = appendIOC(buf, ioc)
		}
		buf = append(buf, "]}"...)
	}
	return append(buf, "]}\n"...)
}

// iocCollection loads the collection an IOC request names, if the
// requester may read it. As in TAXII, a collection the key may not read
// answers exactly like a missing one, and an anonymous request for anything
// but a public collection gets 401.
func (s *Server) iocCollection(r *http.Request, name string) (store.Collection, error) {
	c, err := s.findCollection(r.Context(), name)
	if err != nil && hail.ErrorCode(err) != hail.ENOTFOUND {
		return c, err
	}
	k := requestKey(r.Context())
	switch {
	case err == nil && canRead(k, c):
		return c, nil
	case k == nil:
		return c, errUnauthenticated
	}
	return c, hail.Errorf(hail.ENOTFOUND, "Collection %q not found.", truncate(name, 128))
}

// findCollection finds a collection by id or alias: "root/alias" in that
// API root, else in the default API root first and then the others by
// name. Ids are unique across API roots; an alias is only within one.
func (s *Server) findCollection(ctx context.Context, name string) (store.Collection, error) {
	if root, alias, ok := strings.Cut(name, "/"); ok {
		return s.store.Collection(ctx, root, alias)
	}
	roots, err := s.store.APIRoots(ctx)
	if err != nil {
		return store.Collection{}, err
	}
	slices.SortStableFunc(roots, func(a, b store.APIRoot) int {
		return cmp.Compare(boolRank(a.Default), boolRank(b.Default))
	})
	for _, root := range roots {
		c, err := s.store.Collection(ctx, root.Name, name)
		if hail.ErrorCode(err) != hail.ENOTFOUND {
			return c, err
		}
	}
	return store.Collection{}, hail.Errorf(hail.ENOTFOUND, "Collection %q not found.", truncate(name, 128))
}

// boolRank orders true before false.
func boolRank(b bool) int {
	if b {
		return 0
	}
	return 1
}

// writeREST writes a 200 IOC API JSON response.
func writeREST(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", restMediaType)
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// appendIOC appends one IOC as the API's JSON item. Every key is always
// present, so that consumers with a fixed schema (Logic Apps' Parse JSON)
// accept every item: confidence and timestamps are null when the indicator
// lacks them, other strings empty, labels an empty list.
func appendIOC(b []byte, i store.IOC) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, i.ID)
	b = append(b, `,"type":`...)
	b = appendString(b, i.Type)
	b = append(b, `,"value":`...)
	b = appendString(b, i.Value)
	b = append(b, `,"confidence":`...)
	if i.Confidence != nil {
		b = strconv.AppendInt(b, int64(*i.Confidence), 10)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"threat_type":`...)
	b = appendString(b, i.ThreatType)
	b = append(b, `,"labels":[`...)
	for j, l := range i.Labels {
		if j > 0 {
			b = append(b, ',')
		}
		b = appendString(b, l)
	}
	b = append(b, `],"tlp":`...)
	b = appendString(b, i.TLP)
	b = append(b, `,"valid_from":`...)
	b = appendTime(b, i.ValidFrom)
	b = append(b, `,"valid_until":`...)
	b = appendTime(b, i.ValidUntil)
	b = append(b, `,"revoked":`...)
	b = strconv.AppendBool(b, i.Revoked)
	b = append(b, `,"name":`...)
	b = appendString(b, i.Name)
	b = append(b, `,"description":`...)
	b = appendString(b, i.Description)
	b = append(b, `,"source":`...)
	b = appendString(b, i.Source)
	b = append(b, `,"created_by":`...)
	b = appendString(b, i.CreatedBy)
	b = append(b, `,"indicator_id":`...)
	b = appendString(b, i.IndicatorID)
	b = append(b, `,"created":`...)
	b = appendOptString(b, i.Created)
	b = append(b, `,"modified":`...)
	b = appendOptString(b, i.Modified)
	b = append(b, `,"date_added":`...)
	b = appendTime(b, i.DateAdded)
	return append(b, '}')
}

// appendTime appends t as a TAXII timestamp string, or null when zero.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, "null"...)
	}
	return appendString(b, taxii.FormatTimestamp(t))
}

// appendOptString appends s as a JSON string, or null when empty.
func appendOptString(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendString(b, s)
}
