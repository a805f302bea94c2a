package server

import (
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"hail/metrics"
	"hail/notify"
	"hail/store"
	"hail/webhook"
)

// Defaults applied by New to the zero fields of Config.
const (
	DefaultMaxContentLength = 100 << 20 // 100 MiB
	DefaultLimit            = 1000
	DefaultStatusRetention  = 24 * time.Hour
	// DefaultDashboardCountWait keeps a dashboard page quick while a large
	// collection is counted.
	DefaultDashboardCountWait = 300 * time.Millisecond
)

// Config tunes a Server. The zero value is usable.
type Config struct {
	// MaxContentLength is the largest request body, in bytes, for an API root
	// that does not set its own (DefaultMaxContentLength when 0).
	MaxContentLength int64
	// MaxImportSize is the largest body POST /api/v1/import reads, in
	// bytes (DefaultMaxImportSize when 0).
	MaxImportSize int64
	// DefaultLimit is the page size when a request gives no limit
	// (DefaultLimit when 0); MaxLimit the largest page served, whatever the
	// request asks (store.MaxLimit when 0 or above it).
	DefaultLimit int
	MaxLimit     int
	// StrictEmpty answers empty pages as TAXII 2.1 §3.7 says, with the
	// "objects" key omitted ({"more":false}). By default an empty list is
	// sent ({"more":false,"objects":[]}), because some clients fail on a
	// missing key.
	StrictEmpty bool
	// Title, Description and Contact fill the discovery resource.
	Title       string
	Description string
	Contact     string
	// PublicURL is the absolute base URL clients reach the server at, such as
	// "https://taxii.example.org", used to build the API root URLs of the
	// discovery resource. When empty they are built from the request,
	// honouring X-Forwarded-Proto and X-Forwarded-Host.
	PublicURL string
	// StatusRetention is how long status resources are kept
	// (DefaultStatusRetention when 0; TAXII 2.1 §4.3 asks for at least 24 h).
	StatusRetention time.Duration
	// Now is the clock of request timestamps (time.Now when nil).
	Now func() time.Time
	// Webhooks checks webhook URLs and sends test deliveries of the admin
	// webhook API (server/webhook.go); when nil, private addresses are refused.
	Webhooks *webhook.Sender
	// Notifier wakes streams when objects are committed (server/stream.go).
	// When nil, the server makes a notify.Hub, which hears only its own
	// writes; streams find others' within Stream.Poll.
	Notifier notify.Notifier
	// Stream tunes the stream endpoint.
	Stream StreamConfig
	// NoDashboard leaves out the web dashboard served under /ui/.
	NoDashboard bool
	// DashboardCountWait is how long a dashboard page waits for collection
	// counts it does not have before it is shown without them
	// (DefaultDashboardCountWait when 0); the counts go on in the
	// background and the next page shows them.
	DashboardCountWait time.Duration
	// Metrics records requests, objects and throttling, and is served to
	// admin keys at GET /metrics (server/metrics.go). Nil records nothing.
	Metrics *metrics.Metrics
}

// Server serves TAXII 2.1 from a store. It is an http.Handler.
type Server struct {
	cfg     Config
	store   store.Store
	logger  *slog.Logger
	handler http.Handler
	// lastPurge is when old statuses were last deleted (Unix seconds).
	lastPurge atomic.Int64
	// plans enforces key plans and records activity (plan.go).
	plans *planState
	// reads shares the store reads of streams at the same position.
	reads readGroup
	// mux names the route of a request refused before routing (metrics.go).
	mux *http.ServeMux
	// ui is the dashboard (ui.go); nil when Config.NoDashboard is set.
	ui *ui
}

// New returns a Server that serves st. A nil logger discards the log.
func New(cfg Config, st store.Store, logger *slog.Logger) *Server {
	if cfg.MaxContentLength <= 0 {
		cfg.MaxContentLength = DefaultMaxContentLength
	}
	if cfg.MaxLimit <= 0 || cfg.MaxLimit > store.MaxLimit {
		cfg.MaxLimit = store.MaxLimit
	}
	if cfg.DefaultLimit <= 0 {
		cfg.DefaultLimit = DefaultLimit
	}
	cfg.DefaultLimit = min(cfg.DefaultLimit, cfg.MaxLimit)
	if cfg.StatusRetention <= 0 {
		cfg.StatusRetention = DefaultStatusRetention
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DashboardCountWait <= 0 {
		cfg.DashboardCountWait = DefaultDashboardCountWait
	}
	if cfg.Title == "" {
		cfg.Title = "hail"
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, store: st, logger: logger}
	s.plans = newPlanState(s)
	s.initStream()
	api := s.negotiate(s.authenticate(s.routes()))
	if cfg.NoDashboard {
		s.handler = s.logRequests(s.recoverPanics(api))
	} else {
		dashboard := s.initUI()
		s.handler = s.logRequests(s.recoverPanics(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case isUI(r):
				dashboard.ServeHTTP(w, r)
			case r.URL.Path == "/" && r.Method == http.MethodGet && wantsHTML(r):
				// A browser pointed at the server's address.
				http.Redirect(w, r, uiPrefix, http.StatusSeeOther)
			default:
				api.ServeHTTP(w, r)
			}
		})))
	}
	return s
}

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// routes registers every TAXII endpoint (TAXII 2.1 §4, §5) and the IOC
// API. Each path is served with and without its trailing slash and never
// redirected: some clients omit the slash, and a redirect can lose the
// Authorization header or a POST body. A method the path does not support
// gets a 405.
func (s *Server) routes() http.Handler {
	const (
		root       = "/taxii2/{root}/"
		collection = root + "collections/{id}/"
		object     = collection + "objects/{oid}/"
	)
	routes := []struct {
		method, path string
		handle       http.HandlerFunc
	}{
		{"GET", "/taxii2/", s.handleDiscoveryGet},
		{"GET", root, s.handleAPIRootGet},
		{"GET", root + "status/{sid}/", s.handleStatusGet},
		{"GET", root + "collections/", s.handleCollectionsGet},
		{"GET", collection, s.handleCollectionGet},
		{"GET", collection + "manifest/", s.handleManifestGet},
		{"GET", collection + "objects/", s.handleObjectsGet},
		{"POST", collection + "objects/", s.handleObjectsPost},
		{"GET", object, s.handleObjectGet},
		{"DELETE", object, s.handleObjectDelete},
		{"GET", object + "versions/", s.handleVersionsGet},
		{"GET", collection + "stream/", s.handleStreamGet}, // hail extension (server/stream.go)
		// The IOC API (server/ioc.go), not TAXII.
		{"GET", "/api/v1/iocs/", s.handleIOCsGet},
		{"GET", "/api/v1/iocs/lookup/", s.handleIOCsLookupGet},
		{"POST", "/api/v1/iocs/lookup/", s.handleIOCsLookupPost},
		{"GET", "/api/v1/iocs/export/", s.handleIOCsExport},
		// Admin webhook API (server/webhook.go).
		{"GET", "/api/v1/webhooks/", s.handleWebhooksGet},
		{"POST", "/api/v1/webhooks/", s.handleWebhooksPost},
		{"GET", "/api/v1/webhooks/{wid}/", s.handleWebhookGet},
		{"DELETE", "/api/v1/webhooks/{wid}/", s.handleWebhookDelete},
		{"PATCH", "/api/v1/webhooks/{wid}/", s.handleWebhookPatch},
		{"POST", "/api/v1/webhooks/{wid}/pause/", s.handleWebhookPause},
		{"POST", "/api/v1/webhooks/{wid}/resume/", s.handleWebhookResume},
		{"POST", "/api/v1/webhooks/{wid}/test/", s.handleWebhookTest},
		// Admin key activity (server/activity.go).
		{"GET", "/api/v1/keys/{name}/activity/", s.handleKeyActivityGet},
		// Admin feed and import API (server/feed*.go, server/import.go).
		{"GET", "/api/v1/feeds/", s.handleFeedsGet},
		{"POST", "/api/v1/feeds/", s.handleFeedsPost},
		{"GET", "/api/v1/feeds/{name}/", s.handleFeedGet},
		{"PATCH", "/api/v1/feeds/{name}/", s.handleFeedPatch},
		{"DELETE", "/api/v1/feeds/{name}/", s.handleFeedDelete},
		{"POST", "/api/v1/feeds/{name}/run/", s.handleFeedRun},
		{"POST", "/api/v1/import/", s.handleImportPost},
		// Prometheus metrics for admin keys (server/metrics.go).
		{"GET", "/metrics/", s.handleMetrics},
	}
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	var paths []string
	for _, rt := range routes {
		if allowed[rt.path] == nil {
			paths = append(paths, rt.path)
		}
		allowed[rt.path] = append(allowed[rt.path], rt.method)
		mux.HandleFunc(rt.method+" "+rt.path+"{$}", rt.handle)
		mux.HandleFunc(rt.method+" "+strings.TrimSuffix(rt.path, "/"), rt.handle)
	}
	for _, p := range paths {
		h := s.methodNotAllowed(allowed[p])
		mux.HandleFunc(p+"{$}", h)
		mux.HandleFunc(strings.TrimSuffix(p, "/"), h)
	}
	mux.HandleFunc("/", s.notFound)
	s.mux = mux
	return cleanPaths(mux)
}

// cleanPaths serves a path with empty, "." or ".." segments (a client that
// joins "…/api/" and "/collections/") at its clean form, where ServeMux
// would answer with a redirect.
func cleanPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := cleanPath(r.URL.Path); p != r.URL.Path {
			u := *r.URL
			u.Path, u.RawPath = p, ""
			r = r.WithContext(r.Context())
			r.URL = &u
		}
		next.ServeHTTP(w, r)
		info(r.Context()).route = r.Pattern // set by the ServeMux on r
	})
}

// cleanPath is path.Clean keeping a trailing slash.
func cleanPath(p string) string {
	if p == "" || p[0] != '/' {
		return p
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// methodNotAllowed answers a method a path does not support.
func (s *Server) methodNotAllowed(methods []string) http.HandlerFunc {
	if slices.Contains(methods, "GET") {
		methods = append(slices.Clip(methods), "HEAD") // ServeMux serves HEAD with GET
	}
	allow := strings.Join(methods, ", ")
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		s.error(w, r, errMethodNotAllowed)
	}
}

// notFound answers a path that is no TAXII endpoint.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.error(w, r, errNoEndpoint)
}
