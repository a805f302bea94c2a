package server

import (
	"net/http"
	"strings"
	"time"
)

// isMetrics reports whether r asks for the Prometheus metrics, which are
// plain text in the exposition format, not TAXII, whatever Accept says.
func isMetrics(r *http.Request) bool {
	return r.URL.Path == "/metrics" || r.URL.Path == "/metrics/"
}

// handleMetrics serves the metrics to admin keys: the route names
// collections and the sizes reveal how much each one holds. Without
// Config.Metrics there is nothing to serve.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Metrics == nil {
		s.notFound(w, r)
		return
	}
	if err := requireAdmin(r); err != nil {
		s.error(w, r, err)
		return
	}
	s.cfg.Metrics.Handler().ServeHTTP(w, r)
}

// observe records an answered request in the metrics. A request refused
// before routing (401, 406, 429) gets the route it would have had.
func (s *Server) observe(r *http.Request, status int, ri *requestInfo, d time.Duration) {
	m := s.cfg.Metrics
	if m == nil {
		return
	}
	pattern := ri.route
	if pattern == "" && s.mux != nil {
		rr := r
		if p := cleanPath(r.URL.Path); p != r.URL.Path {
			u := *r.URL
			u.Path, u.RawPath = p, ""
			rr = r.WithContext(r.Context())
			rr.URL = &u
		}
		_, pattern = s.mux.Handler(rr)
	}
	route := routeLabel(pattern)
	m.Request(route, status, d)
	m.ObjectsServed(route, ri.objects)
	m.ObjectsIngested(ri.ingested)
}

// routeLabel names a route by its registered pattern, the same whether the
// request had the trailing slash or not: "GET /taxii2/{root}/".
func routeLabel(pattern string) string {
	p := strings.TrimSuffix(pattern, "{$}")
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}
