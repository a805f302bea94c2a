package server

import (
	"bytes"
	"html/template"
	"net/http"
	"strings"
	"time"

	"hail"
	"hail/store"
	"hail/web"
)

// The dashboard (ui_pages.go) is served under /ui/ from the same listener
// and keys as TAXII. It has its own front door: HTML instead of TAXII
// negotiation, and a session cookie, since a browser cannot send a Bearer
// key from a page it navigates to.
const (
	uiPrefix = "/ui/"
	// uiCookie holds the API key the dashboard signed in with. The cookie
	// is the key itself, not a session of its own: revoking or expiring the
	// key ends every dashboard session at once, and there is no session
	// table to keep across replicas. It is HttpOnly (no script reads it),
	// SameSite=Strict and limited to /ui/, so it never authenticates a
	// TAXII or IOC API request.
	uiCookie    = "hail_ui"
	uiCookieAge = 12 * time.Hour
	// uiCSP lets the pages load only hail's own stylesheet and script, and
	// connect only to hail (the object stream).
	uiCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

// isUI reports whether r is for the dashboard.
func isUI(r *http.Request) bool {
	return r.URL.Path == "/ui" || strings.HasPrefix(r.URL.Path, uiPrefix)
}

// ui holds what the dashboard needs beyond the Server: its templates and the
// short-lived cache of collection counts.
type ui struct {
	pages  map[string]*template.Template
	static http.Handler
	stats  statsCache
}

// initUI parses the templates; they are embedded, so a failure is a bug
// that every test of the dashboard shows.
func (s *Server) initUI() http.Handler {
	pages, err := web.Templates()
	if err != nil {
		panic("server: dashboard templates: " + err.Error())
	}
	s.ui = &ui{
		pages:  pages,
		static: http.StripPrefix(uiPrefix+"static/", http.FileServerFS(web.Static())),
		stats:  newStatsCache(s.store, s.cfg.Now, s.cfg.DashboardCountWait, s.logger),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ui", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, uiPrefix, http.StatusSeeOther)
	})
	mux.HandleFunc("GET /ui/{$}", s.uiOverview)
	mux.HandleFunc("GET /ui/login", s.uiLoginForm)
	mux.HandleFunc("POST /ui/login", s.uiLogin)
	mux.HandleFunc("POST /ui/logout", s.uiLogout)
	mux.HandleFunc("GET /ui/static/", s.uiStatic)
	mux.HandleFunc("GET /ui/lookup", s.uiLookup)
	mux.HandleFunc("GET /ui/import", s.uiImport)
	mux.HandleFunc("POST /ui/import", s.uiImportPost)
	mux.HandleFunc("GET /ui/keys", s.uiKeys)
	mux.HandleFunc("GET /ui/keys/new", s.uiKeyNew)
	mux.HandleFunc("POST /ui/keys", s.uiKeyCreate)
	mux.HandleFunc("GET /ui/keys/{name}/revoke", s.uiKeyRevokeConfirm)
	mux.HandleFunc("POST /ui/keys/{name}/revoke", s.uiKeyRevoke)
	mux.HandleFunc("GET /ui/feeds/{name}/{$}", s.uiFeedPage)
	mux.HandleFunc("POST /ui/feeds/{name}/run", s.uiFeedRun)
	mux.HandleFunc("GET /ui/webhooks/{wid}/{$}", s.uiWebhookPage)
	mux.HandleFunc("POST /ui/webhooks/{wid}/pause", s.uiWebhookPause)
	mux.HandleFunc("POST /ui/webhooks/{wid}/resume", s.uiWebhookPause)
	mux.HandleFunc("GET /ui/collections/{root}/{id}/{$}", s.uiCollection)
	mux.HandleFunc("GET /ui/collections/{root}/{id}/objects/{oid}/{$}", s.uiObject)
	// The object stream of the collection page: the TAXII stream handler,
	// reached with the dashboard's cookie (same path values, same rights).
	mux.HandleFunc("GET /ui/collections/{root}/{id}/stream/{$}", s.handleStreamGet)
	mux.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		s.error(w, r, hail.Errorf(hail.ENOTFOUND, "No dashboard page at this path."))
	})
	// Forms are checked to come from the dashboard's own pages (Origin and
	// Sec-Fetch-Site, which every current browser sends): the stdlib's
	// token-free CSRF protection, so no token has to be kept per session.
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.error(w, r, hail.Errorf(hail.EFORBIDDEN, "The form was not sent from this dashboard's own page."))
	}))
	return s.uiHeaders(csrf.Handler(s.authenticate(cleanPaths(mux))))
}

// uiHeaders sets what every dashboard answer carries: HTML unless the
// handler says otherwise, the CSP, no caching of pages that show a key's
// data, no framing and no referrer leaving the server.
func (s *Server) uiHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", uiCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		if !strings.HasPrefix(r.URL.Path, uiPrefix+"static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// uiStatic serves the stylesheet and the script.
func (s *Server) uiStatic(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/") {
		s.error(w, r, hail.Errorf(hail.ENOTFOUND, "No dashboard page at this path.")) // no listing
		return
	}
	w.Header().Del("Content-Type") // the file server sets it from the name
	w.Header().Set("Cache-Control", "public, max-age=3600")
	s.ui.static.ServeHTTP(w, r)
}

// uiCookieKey returns the key the dashboard's cookie holds, "" for none.
func uiCookieKey(r *http.Request) string {
	if !isUI(r) {
		return ""
	}
	c, err := r.Cookie(uiCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

// setUICookie signs the browser in with key, or out when key is "". The
// cookie is Secure when clients reach hail over https, as baseURL tells:
// the public URL, or what the proxy says.
func (s *Server) setUICookie(w http.ResponseWriter, r *http.Request, key string) {
	c := &http.Cookie{
		Name:     uiCookie,
		Value:    key,
		Path:     uiPrefix,
		HttpOnly: true,
		Secure:   strings.HasPrefix(s.baseURL(r), "https://"),
		SameSite: http.SameSiteStrictMode,
	}
	if key == "" {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(uiCookieAge / time.Second)
	}
	http.SetCookie(w, c)
}

// uiPage is what the layout reads; Data is the page's own view.
type uiPage struct {
	Title   string
	Server  string
	Version string
	Nav     string
	Key     *store.Key
	Now     time.Time
	Data    any
}

// render writes page name with data. The page is rendered into a buffer
// first, so that a template failure becomes a clean 500 and not half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title, nav string, data any) {
	p := uiPage{
		Title: title, Server: s.cfg.Title, Version: hail.Version, Nav: nav,
		Key: requestKey(r.Context()), Now: s.cfg.Now(), Data: data,
	}
	var b bytes.Buffer
	if err := s.ui.pages[name].Execute(&b, p); err != nil {
		s.logger.ErrorContext(r.Context(), "render dashboard page", "page", name, "err", err)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(b.Bytes())
	}
}

// uiError is the view of the error page.
type uiError struct {
	Status     int
	StatusText string
	Message    string
}

// uiFail writes an error as a dashboard page: the login form for a missing
// or refused key (clearing a cookie that no longer works), else the error
// page. Called by Server.error, the one place that maps codes to statuses.
func (s *Server) uiFail(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	if code == hail.EUNAUTHENTICATED {
		if uiCookieKey(r) != "" {
			s.setUICookie(w, r, "")
		}
		// A refused key is no key: the layout must not show it signed in.
		r = r.WithContext(withoutKey(r.Context()))
		s.render(w, r, status, "login", "Sign in", "", uiLoginView{Message: message})
		return
	}
	s.render(w, r, status, "error", http.StatusText(status), "", uiError{Status: status, StatusText: http.StatusText(status), Message: message})
}

// uiLoginView is the view of the login page.
type uiLoginView struct{ Message string }

// uiLoginForm shows the login form, or goes to the collections when the
// browser is signed in already.
func (s *Server) uiLoginForm(w http.ResponseWriter, r *http.Request) {
	if requestKey(r.Context()) != nil {
		http.Redirect(w, r, uiPrefix, http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login", "Sign in", "", uiLoginView{})
}

// maxLoginForm bounds the login form's body: a key is 45 bytes.
const maxLoginForm = 4 << 10

// uiLogin checks the key of the login form exactly as a TAXII request's key
// is checked (validity, expiry, allowed addresses), then keeps it in the
// cookie.
func (s *Server) uiLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginForm)
	if err := r.ParseForm(); err != nil {
		s.error(w, r, hail.Errorf(hail.EINVALID, "The form could not be read."))
		return
	}
	key := strings.TrimSpace(r.PostForm.Get("key"))
	if key == "" {
		s.render(w, r, http.StatusBadRequest, "login", "Sign in", "", uiLoginView{Message: "Give an API key."})
		return
	}
	k, err := s.checkKey(r, key)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.logger.InfoContext(r.Context(), "dashboard sign-in", "key", k.Name, "remote", r.RemoteAddr)
	s.setUICookie(w, r, key)
	http.Redirect(w, r, uiPrefix, http.StatusSeeOther)
}

// uiLogout forgets the key.
func (s *Server) uiLogout(w http.ResponseWriter, r *http.Request) {
	s.setUICookie(w, r, "")
	http.Redirect(w, r, uiPrefix+"login", http.StatusSeeOther)
}

// uiKey returns the signed-in key, or sends the browser to the login page
// and returns nil.
func (s *Server) uiKey(w http.ResponseWriter, r *http.Request) *store.Key {
	k := requestKey(r.Context())
	if k == nil {
		http.Redirect(w, r, uiPrefix+"login", http.StatusSeeOther)
	}
	return k
}

// wantsHTML reports whether r's Accept header names HTML, as a browser's
// does and no TAXII client's.
func wantsHTML(r *http.Request) bool {
	return strings.Contains(strings.ToLower(strings.Join(r.Header.Values("Accept"), ",")), "text/html")
}
