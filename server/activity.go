package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"hail"
	"hail/limit"
	"hail/store"
	"hail/taxii"
)

// activityWindow is the span the "recent" counts of an activity report
// cover.
const activityWindow = 24 * time.Hour

// FlushActivity writes the activity the server holds in memory. Call it at
// shutdown; tests call it before reading activity.
func (s *Server) FlushActivity(ctx context.Context) error {
	return s.plans.rec.Flush(ctx)
}

// recordActivity counts a request made with a key in its key's activity.
func (s *Server) recordActivity(r *http.Request, sw *statusWriter, ri *requestInfo) {
	if ri.key == "" || isUI(r) {
		return // the record is of what consumers polled, not of dashboard views
	}
	q := r.URL.Query()
	e := limit.Event{
		Key:           ri.key,
		Collection:    s.collectionID(r),
		Time:          s.cfg.Now(),
		Poll:          sw.status < 400 && isPoll(r, q),
		Objects:       ri.objects,
		Bytes:         sw.bytes,
		Status:        sw.status,
		DateAddedLast: ri.lastAdded,
	}
	if v := q.Get(paramAddedAfter); v != "" {
		if t, err := taxii.ParseTimestamp(v); err == nil {
			e.AddedAfter = t
		}
	}
	s.plans.rec.Add(e)
}

// keyActivity is the body of GET /api/v1/keys/{name}/activity.
type keyActivity struct {
	Key             string               `json:"key"`
	Plan            string               `json:"plan"`
	MinPollInterval string               `json:"min_poll_interval,omitempty"`
	Stale           bool                 `json:"stale"`
	Collections     []collectionActivity `json:"collections"`
}

type collectionActivity struct {
	Collection        string           `json:"collection"` // its id; "" for none
	Summary           string           `json:"summary"`
	FirstRequest      string           `json:"first_request"`
	LastRequest       string           `json:"last_request"`
	Requests          int64            `json:"requests"`
	Polls             int64            `json:"polls"`
	LastPoll          string           `json:"last_poll,omitempty"`
	Objects           int64            `json:"objects"`
	Bytes             int64            `json:"bytes"`
	LastAddedAfter    string           `json:"last_added_after,omitempty"`
	LastDateAddedLast string           `json:"last_date_added_last,omitempty"`
	Errors            map[string]int64 `json:"errors"`
	Last24h           recentCounts     `json:"last_24h"`
}

type recentCounts struct {
	Requests int64 `json:"requests"`
	Polls    int64 `json:"polls"`
	Objects  int64 `json:"objects"`
}

// handleKeyActivityGet reports what a key did, per collection (admin keys
// only). Activity still held in memory by a replica is not included.
func (s *Server) handleKeyActivityGet(w http.ResponseWriter, r *http.Request) {
	if err := adminKeyOnly(r); err != nil {
		s.error(w, r, err)
		return
	}
	k, err := s.keyNamed(r, r.PathValue("name"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	now := s.cfg.Now()
	acts, err := s.store.Activity(r.Context(), k.Name, now.Add(-activityWindow))
	if err != nil {
		s.error(w, r, err)
		return
	}
	p, err := s.plan(r, k.Plan)
	if err != nil && hail.ErrorCode(err) != hail.ENOTFOUND {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", restMediaType)
	json.NewEncoder(w).Encode(reportActivity(k, p, acts, now))
}

// reportActivity builds the activity report of key k on plan p.
func reportActivity(k store.Key, p store.Plan, acts []store.Activity, now time.Time) keyActivity {
	out := keyActivity{Key: k.Name, Plan: p.Name, Stale: limit.Stale(acts, p, now), Collections: []collectionActivity{}}
	if k.Plan == "" {
		out.Plan = store.UnrestrictedPlan
	}
	if p.MinPollInterval > 0 {
		out.MinPollInterval = p.MinPollInterval.String()
	}
	for _, a := range acts {
		c := collectionActivity{
			Collection:        a.Collection,
			Summary:           limit.Describe(a, a.Collection, activityWindow),
			FirstRequest:      stamp(a.First),
			LastRequest:       stamp(a.Last),
			Requests:          a.Requests,
			Polls:             a.Polls,
			LastPoll:          stamp(a.LastPoll),
			Objects:           a.Objects,
			Bytes:             a.Bytes,
			LastAddedAfter:    stamp(a.LastAddedAfter),
			LastDateAddedLast: stamp(a.LastDateAddedLast),
			Errors:            map[string]int64{},
			Last24h:           recentCounts(a.Recent),
		}
		for status, n := range a.Errors {
			c.Errors[strconv.Itoa(status)] = n
		}
		out.Collections = append(out.Collections, c)
	}
	return out
}

// stamp formats a TAXII timestamp, "" for the zero time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return taxii.FormatTimestamp(t)
}

// adminKeyOnly refuses a request not made with an admin key.
func adminKeyOnly(r *http.Request) error {
	k := requestKey(r.Context())
	switch {
	case k == nil:
		return errUnauthenticated
	case !k.Admin:
		return hail.Errorf(hail.EFORBIDDEN, "This endpoint needs an admin key.")
	}
	return nil
}

// keyNamed returns the key of that name, revoked or not. Returns ENOTFOUND
// if there is none.
func (s *Server) keyNamed(r *http.Request, name string) (store.Key, error) {
	keys, err := s.store.Keys(r.Context())
	if err != nil {
		return store.Key{}, err
	}
	for _, k := range keys {
		if k.Name == name {
			return k, nil
		}
	}
	return store.Key{}, hail.Errorf(hail.ENOTFOUND, "No key named %q.", name)
}
