package server

// The lookup page: IOC values looked up in a collection the key may read,
// as the IOC API's lookup does.

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"hail"
	"hail/stix/pattern"
	"hail/store"
)

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
		v.Collections = append(v.Collections, uiChoice{Value: c.ID, Label: collectionLabel(c), Selected: sel})
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
