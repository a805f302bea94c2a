package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"hail"
	"hail/limit"
	"hail/stix"
	"hail/store"
)

// planTTL is how long a replica serves a plan from memory: a change made
// with `hail plan` reaches every replica within it.
const planTTL = 10 * time.Second

// planState is a Server's share of plan enforcement: a short-lived cache of
// plans and the activity recorder.
type planState struct {
	mu    sync.Mutex
	plans map[string]cachedPlan
	ids   map[string]cachedID // "root/alias" or IOC API name → collection id
	rec   *limit.Recorder
}

type cachedID struct {
	id      string
	fetched time.Time
}

type cachedPlan struct {
	plan    store.Plan
	err     error
	fetched time.Time
}

// ActivityFlush is how long a replica holds activity before writing it.
const ActivityFlush = 5 * time.Second

func newPlanState(s *Server) *planState {
	return &planState{
		plans: map[string]cachedPlan{},
		ids:   map[string]cachedID{},
		rec: &limit.Recorder{
			// A closure, not the method value: tests build servers without a store.
			Write: func(ctx context.Context, a []store.Activity) error { return s.store.RecordActivity(ctx, a) },
			Every: ActivityFlush,
			OnError: func(err error) {
				s.logger.Error("record activity", "err", err)
			},
		},
	}
}

// plan returns the named plan, from the cache while it is fresh. Errors
// other than ENOTFOUND are not cached.
func (s *Server) plan(r *http.Request, name string) (store.Plan, error) {
	if name == "" {
		return store.Plan{Name: store.UnrestrictedPlan}, nil
	}
	now := time.Now()
	ps := s.plans
	ps.mu.Lock()
	c, ok := ps.plans[name]
	ps.mu.Unlock()
	if ok && now.Sub(c.fetched) < planTTL {
		return c.plan, c.err
	}
	p, err := s.store.Plan(r.Context(), name)
	if err != nil && hail.ErrorCode(err) != hail.ENOTFOUND {
		return p, err
	}
	ps.mu.Lock()
	ps.plans[name] = cachedPlan{p, err, now}
	ps.mu.Unlock()
	return p, err
}

// requestAPI names the API a request is for (store.APITAXII, APIREST,
// APIStream), or "" for endpoints no plan governs (the admin API). The
// dashboard's pages count as the API they show, so that it opens no way
// round a plan: a collection's objects as TAXII, its live stream as the
// stream, lookups as the IOC API.
func requestAPI(r *http.Request) string {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, uiPrefix+"collections/"):
		if strings.HasSuffix(strings.TrimSuffix(p, "/"), "/stream") {
			return store.APIStream
		}
		return store.APITAXII
	case strings.HasPrefix(p, uiPrefix+"lookup"):
		return store.APIREST
	case strings.HasPrefix(p, "/taxii2/"):
		if strings.HasSuffix(strings.TrimSuffix(p, "/"), "/stream") && strings.Contains(p, "/collections/") {
			return store.APIStream
		}
		return store.APITAXII
	case strings.HasPrefix(p, "/api/v1/iocs"):
		return store.APIREST
	}
	return ""
}

// requestCollection returns the collection a request names (by id or
// alias, as given), or "".
func requestCollection(r *http.Request) string {
	p := r.URL.Path
	if strings.HasPrefix(p, "/api/v1/iocs") {
		return r.URL.Query().Get(iocParamCollection)
	}
	// /taxii2/{root}/collections/{id}/...
	parts := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 5)
	if len(parts) >= 4 && parts[0] == "taxii2" && parts[2] == "collections" {
		return parts[3]
	}
	return ""
}

// collectionID returns the id of the collection a request names, so that
// polls by alias and by id share one poll interval and one activity row.
// A name that resolves to nothing the key may see is returned as given.
// Aliases are resolved through a cache kept planTTL.
func (s *Server) collectionID(r *http.Request) string {
	name := requestCollection(r)
	if name == "" || stix.ValidUUIDv4(name) {
		return name
	}
	cacheKey := name
	rest := strings.HasPrefix(r.URL.Path, "/api/")
	if !rest {
		cacheKey = strings.SplitN(strings.TrimPrefix(r.URL.Path, "/taxii2/"), "/", 2)[0] + "/" + name
	}
	now := time.Now()
	ps := s.plans
	ps.mu.Lock()
	c, ok := ps.ids[cacheKey]
	ps.mu.Unlock()
	if ok && now.Sub(c.fetched) < planTTL {
		return c.id
	}
	var col store.Collection
	var err error
	if rest {
		col, err = s.findCollection(r.Context(), name)
	} else {
		root, alias, _ := strings.Cut(cacheKey, "/")
		col, err = s.store.Collection(r.Context(), root, alias)
	}
	if err != nil {
		return name
	}
	ps.mu.Lock()
	if len(ps.ids) >= maxCachedIDs {
		clear(ps.ids)
	}
	ps.ids[cacheKey] = cachedID{col.ID, now}
	ps.mu.Unlock()
	return col.ID
}

// maxCachedIDs bounds the alias cache, which request paths fill.
const maxCachedIDs = 10000

// isPoll reports whether r, whose query is q, starts a walk of a
// collection's objects or manifest: a GET of either without a next token.
// The pages of one walk carry next and are not polls.
func isPoll(r *http.Request, q url.Values) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := strings.TrimSuffix(r.URL.Path, "/")
	if strings.HasPrefix(p, "/taxii2/") {
		if !strings.HasSuffix(p, "/objects") && !strings.HasSuffix(p, "/manifest") {
			return false
		}
	} else if p != "/api/v1/iocs" && p != "/api/v1/iocs/export" {
		return false
	}
	return !q.Has(paramNext)
}

// enforcePlan holds requests made with a key to the key's expiry, source
// ranges and plan; requests without a key pass. It runs after
// authenticate.
func (s *Server) enforcePlan(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := requestKey(r.Context())
		if k == nil {
			next.ServeHTTP(w, r)
			return
		}
		now := s.cfg.Now()
		if err := s.keyUsable(r, k, now); err != nil {
			s.error(w, r, err)
			return
		}
		if k.Plan == "" {
			next.ServeHTTP(w, r)
			return
		}
		p, err := s.plan(r, k.Plan)
		if hail.ErrorCode(err) == hail.ENOTFOUND {
			err = hail.Errorf(hail.EFORBIDDEN, "The API key's plan %q does not exist; ask the operator to set another.", k.Plan)
		}
		if err == nil {
			err = s.admit(r, k, p, now)
		}
		if err != nil {
			if _, ok := err.(*tooMany); ok {
				s.cfg.Metrics.Throttled(p.Name)
			}
			retryAfter(w, err)
			s.error(w, r, err)
			return
		}
		if p.MaxPage > 0 {
			r = capPage(r, p.MaxPage)
		}
		next.ServeHTTP(w, r)
	})
}

// keyUsable refuses a key that has expired or is used from an address it
// may not come from.
func (s *Server) keyUsable(r *http.Request, k *store.Key, now time.Time) error {
	if !k.Expires.IsZero() && !now.Before(k.Expires) {
		return hail.Errorf(hail.EUNAUTHENTICATED, "The API key expired at %s.", k.Expires.UTC().Format(time.RFC3339))
	}
	if !limit.AllowedFrom(k.AllowIPs, r.RemoteAddr) {
		return hail.Errorf(hail.EFORBIDDEN, "The API key may not be used from this address.")
	}
	return nil
}

// tooMany is a refusal for a limit, with the wait for Retry-After.
type tooMany struct {
	err  *hail.Error
	wait time.Duration
}

func (e *tooMany) Error() string { return e.err.Error() }
func (e *tooMany) Unwrap() error { return e.err }

// admit checks a request against plan p: its API, its rate and, for a
// poll, the poll interval.
func (s *Server) admit(r *http.Request, k *store.Key, p store.Plan, now time.Time) error {
	if api := requestAPI(r); api != "" && !p.Allows(api) {
		return hail.Errorf(hail.EFORBIDDEN, "The %q plan does not include the %s API.", p.Name, apiName(api))
	}
	if p.Rate > 0 && p.Period > 0 {
		interval, burst := limit.GCRA(p.Rate, p.Period, p.Burst)
		wait, err := s.store.TakeToken(r.Context(), "rate/"+url.QueryEscape(k.Name), now, interval, burst)
		if err != nil {
			return fmt.Errorf("rate limit: %w", err)
		}
		if wait > 0 {
			return &tooMany{hail.Errorf(hail.ETOOMANY, "The %q plan allows %s; retry in %d s.",
				p.Name, limit.FormatRate(p.Rate, p.Period), limit.RetryAfter(wait)), wait}
		}
	}
	if p.MinPollInterval > 0 && isPoll(r, r.URL.Query()) {
		c := s.collectionID(r)
		wait, err := s.store.TakeToken(r.Context(), "poll/"+url.QueryEscape(k.Name)+"/"+url.QueryEscape(c), now, p.MinPollInterval, 1)
		if err != nil {
			return fmt.Errorf("poll interval: %w", err)
		}
		if wait > 0 {
			return &tooMany{hail.Errorf(hail.ETOOMANY, "The %q plan allows one poll of a collection every %s; retry in %d s.",
				p.Name, p.MinPollInterval, limit.RetryAfter(wait)), wait}
		}
	}
	return nil
}

func apiName(api string) string {
	switch api {
	case store.APITAXII:
		return "TAXII"
	case store.APIREST:
		return "IOC REST"
	}
	return api
}

// capPage returns r with its limit parameter no larger than max, set to
// max when absent, so that both TAXII and the IOC API serve at most max
// per page. An explicit limit also overrides one a next token carries.
func capPage(r *http.Request, max int) *http.Request {
	q := r.URL.Query()
	if n, err := strconv.Atoi(q.Get(paramLimit)); err == nil && n > 0 && n <= max {
		return r
	}
	q.Set(paramLimit, strconv.Itoa(max))
	u := *r.URL
	u.RawQuery = q.Encode()
	r2 := r.Clone(r.Context())
	r2.URL = &u
	return r2
}

// retryAfter sets Retry-After for a limit refusal (RFC 9110 §10.2.3).
func retryAfter(w http.ResponseWriter, err error) {
	if tm, ok := err.(*tooMany); ok {
		w.Header().Set("Retry-After", strconv.Itoa(limit.RetryAfter(tm.wait)))
	}
}
