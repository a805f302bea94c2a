package server

import (
	"net/http"
	"net/url"
	"strings"

	"hail/store"
	"hail/taxii"
)

// handleDiscoveryGet serves the discovery resource (TAXII 2.1 §4.1). With a
// key it lists every API root; without one only those holding a public
// collection, and it answers 401 when there is none, so that a client with
// no key is challenged for one.
func (s *Server) handleDiscoveryGet(w http.ResponseWriter, r *http.Request) {
	roots, err := s.store.APIRoots(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	if requestKey(r.Context()) == nil {
		if roots, err = s.publicRoots(r, roots); err != nil {
			s.error(w, r, err)
			return
		}
		if len(roots) == 0 {
			s.error(w, r, errUnauthenticated)
			return
		}
	}
	d := taxii.Discovery{Title: s.cfg.Title, Description: s.cfg.Description, Contact: s.cfg.Contact}
	base := s.baseURL(r)
	for _, root := range roots {
		u := base + "/taxii2/" + url.PathEscape(root.Name) + "/"
		d.APIRoots = append(d.APIRoots, u)
		if root.Default {
			d.Default = u
		}
	}
	writeJSON(w, http.StatusOK, d)
}

// publicRoots returns the roots that hold a public collection.
func (s *Server) publicRoots(r *http.Request, roots []store.APIRoot) ([]store.APIRoot, error) {
	var out []store.APIRoot
	for _, root := range roots {
		cols, err := s.store.Collections(r.Context(), root.Name)
		if err != nil {
			return nil, err
		}
		for _, c := range cols {
			if c.Public {
				out = append(out, root)
				break
			}
		}
	}
	return out, nil
}

// baseURL is the scheme and host clients reach the server at: Config.PublicURL,
// else what a reverse proxy says in X-Forwarded-Proto and X-Forwarded-Host,
// else the request's own. Discovery must give absolute URLs that work from
// the client's side of the proxy (interop §3, requirement 1).
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := strings.ToLower(firstValue(r.Header.Get("X-Forwarded-Proto"))); p == "http" || p == "https" {
		scheme = p
	}
	host := r.Host
	if h := firstValue(r.Header.Get("X-Forwarded-Host")); validHost(h) {
		host = h
	}
	return scheme + "://" + host
}

// firstValue returns the first element of a comma-separated header value, as
// a chain of proxies appends to it.
func firstValue(v string) string {
	first, _, _ := strings.Cut(v, ",")
	return strings.TrimSpace(first)
}

// validHost reports whether h can stand as the host of a URL as is, so that
// a forged header cannot turn the API root URLs into something else.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, c := range []byte(h) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`/\?#@"<>{}|^`+"`", c) >= 0 {
			return false
		}
	}
	return true
}
