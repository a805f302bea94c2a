package server

// A collection's page and an object's page. Each reads the store through the
// same rules as the TAXII handlers: a collection the key may not read answers
// as a missing one, and a visitor without a key reads only public ones.

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"time"

	"hail"
	"hail/stix"
	"hail/store"
	"hail/taxii"
)

// uiPageSize is how many objects a collection page lists.
const uiPageSize = 50

// uiCollectionLink is the dashboard page of c.
func uiCollectionLink(c store.Collection) string {
	return uiPrefix + "collections/" + url.PathEscape(c.APIRoot) + "/" + url.PathEscape(c.ID) + "/"
}

// uiObjectLink is the dashboard page of object id in c.
func uiObjectLink(c store.Collection, id string) string {
	return uiCollectionLink(c) + "objects/" + url.PathEscape(id) + "/"
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
