package server

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"hail"
	"hail/stix"
	"hail/stix/pattern"
	"hail/store"
	"hail/taxii"
)

// The dashboard's pages. Each reads the store through the same rules as the
// TAXII handlers: a collection the key may not read is absent, and asking
// for it by URL answers 404.

// uiPageSize is how many objects a collection page lists.
const uiPageSize = 50

// uiRoot is one API root on the overview.
type uiRoot struct {
	Name, Title, URL string
	Default          bool
	Collections      []uiCollectionRow
	StatsAge         string
}

// uiCollectionRow is one collection on the overview.
type uiCollectionRow struct {
	store.Collection
	Link       string
	FilterText string
	Counted    bool
	Stats      store.CollectionStats
	CanRead    bool
	CanWrite   bool
}

// uiOverview is the view of the overview page.
type uiOverview struct {
	Roots    []uiRoot
	Admin    bool
	Feeds    []uiFeed
	Webhooks []uiWebhook
}

// uiFeed is one feed on an admin's overview.
type uiFeed struct {
	Name, Kind, Source, Collection, Every, Error, Link string
	LastRun                                            store.FeedRun
	NextRun                                            time.Time
}

// uiWebhook is one webhook on an admin's overview.
type uiWebhook struct {
	ID, Receiver, Collection, Link string
	store.WebhookState
}

// uiOverview lists the collections the key may see, per API root, with
// their counts; an admin also sees the feeds and webhooks.
func (s *Server) uiOverview(w http.ResponseWriter, r *http.Request) {
	k := requestKey(r.Context()) // nil: a visitor, who sees the public collections
	ctx := r.Context()
	roots, err := s.store.APIRoots(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	slices.SortStableFunc(roots, func(a, b store.APIRoot) int { return cmp.Compare(boolRank(a.Default), boolRank(b.Default)) })
	admin := k != nil && k.Admin
	v := uiOverview{Admin: admin}
	names := map[string]string{} // collection id → "root/alias or title", for feeds and webhooks
	base := s.baseURL(r)
	for _, root := range roots {
		cols, err := s.store.Collections(ctx, root.Name)
		if err != nil {
			s.error(w, r, err)
			return
		}
		ur := uiRoot{Name: root.Name, Title: cmp.Or(root.Title, root.Name), URL: base + "/taxii2/" + root.Name + "/", Default: root.Default}
		for _, c := range cols {
			names[c.ID] = root.Name + "/" + cmp.Or(c.Alias, c.Title)
			if !canRead(k, c) && !canWrite(k, c) {
				continue
			}
			ur.Collections = append(ur.Collections, uiCollectionRow{Collection: c, Link: uiCollectionLink(c),
				FilterText: filterText(c), CanRead: canRead(k, c), CanWrite: canWrite(k, c)})
		}
		if len(ur.Collections) == 0 && !admin {
			continue // an API root the key sees nothing of is not shown
		}
		v.Roots = append(v.Roots, ur)
	}
	if k == nil && len(v.Roots) == 0 {
		http.Redirect(w, r, uiPrefix+"login", http.StatusSeeOther) // nothing public: sign in
		return
	}
	// Count every readable collection at once, waiting a little for counts
	// that are not at hand (statsCache).
	var ids []string
	for _, ur := range v.Roots {
		for _, row := range ur.Collections {
			if row.CanRead {
				ids = append(ids, row.ID)
			}
		}
	}
	counts := s.ui.stats.get(ctx, ids...)
	for i := range v.Roots {
		var oldest time.Time
		for j := range v.Roots[i].Collections {
			row := &v.Roots[i].Collections[j]
			if c, ok := counts[row.ID]; ok {
				row.Counted, row.Stats = true, c.stats
				if oldest.IsZero() || c.at.Before(oldest) {
					oldest = c.at
				}
			}
		}
		if !oldest.IsZero() && s.cfg.Now().Sub(oldest) >= time.Second {
			v.Roots[i].StatsAge = oldest.UTC().Format("15:04:05Z")
		}
	}
	if admin {
		if v.Feeds, err = s.uiFeeds(ctx, names); err == nil {
			v.Webhooks, err = s.uiWebhooks(ctx, names)
		}
		if err != nil {
			s.error(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "overview", "Collections", "collections", v)
}

// uiFeeds lists the feeds with their last runs. A source URL is shown
// without its user information or query, which may hold credentials.
func (s *Server) uiFeeds(ctx context.Context, names map[string]string) ([]uiFeed, error) {
	feeds, err := s.store.Feeds(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]uiFeed, 0, len(feeds))
	for _, f := range feeds {
		out = append(out, uiFeed{
			Name: f.Name, Kind: f.Kind, Source: displayURL(f.URL), Collection: cmp.Or(names[f.CollectionID], f.CollectionID),
			Every: f.Every.String(), Error: f.LastRun.Error, LastRun: f.LastRun, NextRun: f.NextRun, Link: uiFeedLink(f.Name),
		})
	}
	return out, nil
}

// uiWebhooks lists the webhooks with where their deliveries stand.
func (s *Server) uiWebhooks(ctx context.Context, names map[string]string) ([]uiWebhook, error) {
	hooks, err := s.store.Webhooks(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]uiWebhook, 0, len(hooks))
	for _, h := range hooks {
		out = append(out, uiWebhook{ID: h.ID, Receiver: displayURL(h.URL),
			Collection: cmp.Or(names[h.CollectionID], h.CollectionID), WebhookState: h.State, Link: uiWebhookLink(h.ID)})
	}
	return out, nil
}

// displayURL is u without user information or query, for pages that must
// not show secrets a URL may carry.
func displayURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unreadable URL)"
	}
	hidden := p.User != nil || p.RawQuery != ""
	p.User, p.RawQuery, p.Fragment = nil, "", ""
	if hidden {
		return p.String() + " …"
	}
	return p.String()
}

// filterText is a filter collection's filter as its owner wrote it.
func filterText(c store.Collection) string {
	if c.Kind != store.KindFilter {
		return ""
	}
	f, err := store.StoredFilter(c.ID, c.Kind, c.Filter)
	switch {
	case err != nil:
		return c.Filter
	case f.IsEmpty():
		return "every object"
	}
	return f.String()
}

// uiCollectionLink is the dashboard page of c.
func uiCollectionLink(c store.Collection) string {
	return uiPrefix + "collections/" + url.PathEscape(c.APIRoot) + "/" + url.PathEscape(c.ID) + "/"
}

// uiObjectLink is the dashboard page of object id in c.
func uiObjectLink(c store.Collection, id string) string {
	return uiCollectionLink(c) + "objects/" + url.PathEscape(id) + "/"
}

// uiChoice is one option of a select.
type uiChoice struct {
	Value, Label string
	Selected     bool
}

// uiSince are the periods a collection page lists objects added in.
var uiSince = []struct {
	value, label string
	d            time.Duration
}{
	{"1h", "in the last hour", time.Hour},
	{"24h", "in the last day", 24 * time.Hour},
	{"7d", "in the last 7 days", 7 * 24 * time.Hour},
	{"30d", "in the last 30 days", 30 * 24 * time.Hour},
	{"all", "ever", 0},
}

// uiCollectionView is the view of a collection page.
type uiCollectionView struct {
	store.Collection
	Link, RootURL, ObjectsURL, FilterText string
	Counted                               bool
	Stats                                 store.CollectionStats
	Type                                  string
	TypeChoices                           []string
	SinceChoices                          []uiChoice
	SinceLabel                            string
	Rows                                  []uiObjectRow
	Limit                                 int
	NextLink                              string
	// Live is set on the page that shows the newest objects: the stream
	// appends after LiveAfter.
	Live                  bool
	StreamLink, LiveAfter string
}

// uiObjectRow is one object version in a collection's table.
type uiObjectRow struct {
	DateAdded          time.Time
	Type, ID, Modified string
	Label              string
	Revoked            bool
	Link               string
}

// uiTypes are the types offered by a collection page's type filter.
var uiTypes = []string{
	"indicator", "vulnerability", "malware", "threat-actor", "intrusion-set", "campaign", "attack-pattern",
	"tool", "report", "identity", "marking-definition", "relationship", "sighting", "observed-data",
	"ipv4-addr", "ipv6-addr", "domain-name", "url", "file", "email-addr",
}

// uiCollection lists a collection's objects added in a period, oldest first
// as TAXII pages them, 50 at a time; the first page also follows the
// collection's stream.
func (s *Server) uiCollection(w http.ResponseWriter, r *http.Request) {
	c, err := s.readableCollection(r) // a visitor may read a public one; the others ask to sign in
	if err != nil {
		s.error(w, r, err)
		return
	}
	q := r.URL.Query()
	v := uiCollectionView{Collection: c, Link: uiCollectionLink(c), FilterText: filterText(c), Limit: uiPageSize}
	v.RootURL = s.baseURL(r) + "/taxii2/" + c.APIRoot + "/"
	v.ObjectsURL = v.RootURL + "collections/" + c.ID + "/objects/"
	if got, ok := s.ui.stats.get(r.Context(), c.ID)[c.ID]; ok {
		v.Counted, v.Stats = true, got.stats
	}

	f := store.Filter{Limit: uiPageSize + 1, HeadersOnly: false}
	if t := q.Get("type"); t != "" {
		if !stix.ValidType(t) {
			s.error(w, r, hail.Errorf(hail.EINVALID, "%q is not a STIX type.", truncate(t, 64)))
			return
		}
		v.Type, f.Types = t, []string{t}
	}
	v.TypeChoices = uiTypes
	if v.Type != "" && !slices.Contains(uiTypes, v.Type) {
		v.TypeChoices = append(slices.Clip(uiTypes), v.Type)
	}
	since := cmp.Or(q.Get("since"), "24h")
	found := false
	for _, p := range uiSince {
		sel := p.value == since
		found = found || sel
		v.SinceChoices = append(v.SinceChoices, uiChoice{Value: p.value, Label: p.label, Selected: sel})
		if sel {
			v.SinceLabel = p.label
			if p.d > 0 {
				f.AddedAfter = s.cfg.Now().Add(-p.d)
			}
		}
	}
	if !found {
		s.error(w, r, hail.Errorf(hail.EINVALID, "since must be one of 1h, 24h, 7d, 30d or all."))
		return
	}
	if a := q.Get("after"); a != "" {
		t, err := taxii.ParseTimestamp(a)
		if err != nil {
			s.error(w, r, hail.Errorf(hail.EINVALID, "after is not a timestamp: %q.", truncate(a, 64)))
			return
		}
		if t.After(f.AddedAfter) {
			f.AddedAfter = t
		}
	}
	page, err := s.store.Objects(r.Context(), c.ID, f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	entries := page.Entries
	more := page.More || len(entries) > uiPageSize
	if len(entries) > uiPageSize {
		entries = entries[:uiPageSize]
	}
	for _, e := range entries {
		v.Rows = append(v.Rows, uiObjectRow{
			DateAdded: e.DateAdded, Type: e.Object.Type, ID: e.Object.ID, Modified: e.Object.VersionString(),
			Label: objectLabel(e.Object), Revoked: e.Object.Revoked, Link: uiObjectLink(c, e.Object.ID),
		})
	}
	last := f.AddedAfter
	if n := len(entries); n > 0 {
		last = entries[n-1].DateAdded
	}
	if more {
		next := url.Values{"since": {since}, "after": {taxii.FormatTimestamp(last)}}
		if v.Type != "" {
			next.Set("type", v.Type)
		}
		v.NextLink = v.Link + "?" + next.Encode()
	} else {
		// The newest page: follow the stream from its last row, or from the
		// start of the period when it shows none (nothing was added since).
		// Only an empty collection shown since ever has no position; the
		// stream then starts at its newest entry, which is none.
		v.Live = true
		v.StreamLink = v.Link + "stream/"
		if !last.IsZero() {
			v.LiveAfter = taxii.FormatTimestamp(last)
		}
	}
	s.render(w, r, http.StatusOK, "collection", c.Title, "collections", v)
}

// objectLabel names an object for a table: its name, else an indicator's
// pattern, else an observable's value, else nothing (the id is beside it).
func objectLabel(o stix.Object) string {
	var p struct {
		Name    string `json:"name"`
		Pattern string `json:"pattern"`
		Value   string `json:"value"`
	}
	if json.Unmarshal(o.Raw, &p) != nil {
		return ""
	}
	return cmp.Or(p.Name, p.Pattern, p.Value)
}

// uiObjectView is the view of an object page.
type uiObjectView struct {
	CollectionTitle, CollectionLink string
	ID, Type, Label, Pattern        string
	Observables                     []store.IOCValue
	Versions                        []uiVersionRow
	Raw                             []byte
}

// uiVersionRow is one version on an object page.
type uiVersionRow struct {
	Modified, SpecVersion, Link string
	DateAdded                   time.Time
	Shown                       bool
}

// uiMaxVersions bounds the versions an object page lists.
const uiMaxVersions = 200

// uiObject shows one object: its versions in the collection and the JSON of
// the newest, or of the version ?version= names.
func (s *Server) uiObject(w http.ResponseWriter, r *http.Request) {
	c, err := s.readableCollection(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	oid := r.PathValue("oid")
	if !stix.ValidID(oid) {
		s.error(w, r, hail.Errorf(hail.ENOTFOUND, "No object %q in this collection.", truncate(oid, 128)))
		return
	}
	page, err := s.store.Objects(r.Context(), c.ID, store.Filter{IDs: []string{oid}, Versions: []string{"all"},
		SpecVersions: []string{"2.0", "2.1"}, Limit: uiMaxVersions})
	if err != nil {
		s.error(w, r, err)
		return
	}
	if len(page.Entries) == 0 {
		s.error(w, r, hail.Errorf(hail.ENOTFOUND, "No object %q in this collection.", truncate(oid, 128)))
		return
	}
	shown := len(page.Entries) - 1
	if want := r.URL.Query().Get("version"); want != "" {
		shown = -1
		for i, e := range page.Entries {
			if e.Object.VersionString() == want || taxii.FormatTimestamp(e.DateAdded) == want {
				shown = i
			}
		}
		if shown < 0 {
			s.error(w, r, hail.Errorf(hail.ENOTFOUND, "The object has no version %q in this collection.", truncate(want, 64)))
			return
		}
	}
	o := page.Entries[shown].Object
	v := uiObjectView{CollectionTitle: c.Title, CollectionLink: uiCollectionLink(c), ID: o.ID, Type: o.Type,
		Label: cmp.Or(objectLabel(o), o.ID), Raw: o.Raw}
	if o.Type == "indicator" {
		var p struct {
			Pattern string `json:"pattern"`
		}
		if json.Unmarshal(o.Raw, &p) == nil {
			v.Pattern = p.Pattern
		}
	}
	v.Observables = store.Inspect(o).Observables
	for i, e := range page.Entries {
		version := cmp.Or(e.Object.VersionString(), taxii.FormatTimestamp(e.DateAdded))
		v.Versions = append(v.Versions, uiVersionRow{
			Modified: version, SpecVersion: e.Object.SpecVersion, DateAdded: e.DateAdded, Shown: i == shown,
			Link: uiObjectLink(c, o.ID) + "?" + url.Values{"version": {version}}.Encode(),
		})
	}
	s.render(w, r, http.StatusOK, "object", v.Label, "collections", v)
}

// uiLookupView is the view of the lookup page.
type uiLookupView struct {
	Query       string
	Collections []uiChoice
	Message     string
	Results     []uiLookupResult
}

// uiLookupResult is what one looked-up value found.
type uiLookupResult struct {
	Value, Type, Normalized string
	Matches                 []uiMatch
}

// uiMatch is one IOC that answers a value.
type uiMatch struct {
	store.IOC
	Label, Link, Confidence string
	Expired                 bool
}

// uiMaxLookup bounds the values one lookup page takes.
const uiMaxLookup = 100

// uiLookup looks values up in a collection the key may read, as the IOC
// API's lookup does.
func (s *Server) uiLookup(w http.ResponseWriter, r *http.Request) {
	k := requestKey(r.Context())
	ctx := r.Context()
	q := r.URL.Query()
	v := uiLookupView{Query: q.Get("q")}
	want := q.Get("collection")
	readable, err := s.readableCollections(ctx, k)
	if err != nil {
		s.error(w, r, err)
		return
	}
	var chosen *store.Collection
	for i, c := range readable {
		sel := c.ID == want || want == "" && chosen == nil && c.Alias == "all"
		if sel {
			chosen = &readable[i]
		}
		label := c.APIRoot + " / " + c.Title
		if c.Alias != "" {
			label += " (" + c.Alias + ")"
		}
		v.Collections = append(v.Collections, uiChoice{Value: c.ID, Label: label, Selected: sel})
	}
	if chosen == nil && want == "" && len(readable) > 0 {
		chosen = &readable[0]
		v.Collections[0].Selected = true
	}
	if k == nil && len(readable) == 0 {
		http.Redirect(w, r, uiPrefix+"login", http.StatusSeeOther)
		return
	}
	if want != "" && chosen == nil {
		s.error(w, r, hail.Errorf(hail.ENOTFOUND, "Collection %q not found.", truncate(want, 128)))
		return
	}
	var values []string
	for line := range strings.Lines(v.Query) {
		if line = strings.TrimSpace(line); line != "" {
			values = append(values, line)
		}
	}
	switch {
	case len(values) == 0:
		s.render(w, r, http.StatusOK, "lookup", "Lookup", "lookup", v)
		return
	case chosen == nil:
		v.Message = "The key may read no collection to look values up in."
		s.render(w, r, http.StatusOK, "lookup", "Lookup", "lookup", v)
		return
	case len(values) > uiMaxLookup:
		v.Message = "At most " + strconv.Itoa(uiMaxLookup) + " values at once; the IOC API's POST /api/v1/iocs/lookup takes " +
			strconv.Itoa(store.MaxLookup) + "."
		s.render(w, r, http.StatusBadRequest, "lookup", "Lookup", "lookup", v)
		return
	}
	var distinct []store.IOCValue
	for _, val := range values {
		res := uiLookupResult{Value: val}
		if typ, norm, ok := pattern.Detect(val); ok {
			res.Type, res.Normalized = typ, norm
			if iv := (store.IOCValue{Type: typ, Value: norm}); !slices.Contains(distinct, iv) {
				distinct = append(distinct, iv)
			}
		}
		v.Results = append(v.Results, res)
	}
	now := s.cfg.Now()
	var matches []store.IOCMatch
	if len(distinct) > 0 {
		if matches, err = s.store.LookupIOCs(ctx, chosen.ID, distinct, store.IOCFilter{Now: now, IncludeExpired: true, IncludeRevoked: true}); err != nil {
			s.error(w, r, err)
			return
		}
	}
	for i, res := range v.Results {
		for _, m := range matches {
			if m.Query.Type != res.Type || m.Query.Value != res.Normalized {
				continue
			}
			um := uiMatch{IOC: m.IOC, Label: cmp.Or(m.IOC.Name, m.IOC.IndicatorID), Link: uiObjectLink(*chosen, m.IOC.IndicatorID),
				Expired: m.IOC.Expired(now)}
			if m.IOC.Confidence != nil {
				um.Confidence = strconv.Itoa(*m.IOC.Confidence)
			}
			v.Results[i].Matches = append(v.Results[i].Matches, um)
		}
	}
	s.render(w, r, http.StatusOK, "lookup", "Lookup", "lookup", v)
}

// readableCollections lists every collection k may read, default API root
// first.
func (s *Server) readableCollections(ctx context.Context, k *store.Key) ([]store.Collection, error) {
	roots, err := s.store.APIRoots(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(roots, func(a, b store.APIRoot) int { return cmp.Compare(boolRank(a.Default), boolRank(b.Default)) })
	var out []store.Collection
	for _, root := range roots {
		cols, err := s.store.Collections(ctx, root.Name)
		if err != nil {
			return nil, err
		}
		for _, c := range cols {
			if canRead(k, c) {
				out = append(out, c)
			}
		}
	}
	return out, nil
}
