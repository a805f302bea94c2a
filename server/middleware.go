package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"hail"
	"hail/auth"
	"hail/store"
	"hail/taxii"
)

type contextKey int

const (
	keyContextKey contextKey = iota
	infoContextKey
)

// requestInfo is what handlers tell the request log: which key asked, and
// how many objects went back. Microsoft Sentinel shows its users nothing
// about a poll (interop §2.3), so this log is how an operator diagnoses one.
type requestInfo struct {
	key       string
	objects   int
	lastAdded time.Time
	// route is the ServeMux pattern that served the request, and ingested
	// the new object versions it stored; both for the metrics.
	route    string
	ingested int
}

// info returns the request's log record; a dummy outside logRequests.
func info(ctx context.Context) *requestInfo {
	if ri, ok := ctx.Value(infoContextKey).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{}
}

// requestKey returns the API key the request authenticated with, or nil for
// an anonymous request.
func requestKey(ctx context.Context) *store.Key {
	k, _ := ctx.Value(keyContextKey).(*store.Key)
	return k
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests writes one log line per request. The key is logged by name,
// never the secret.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &requestInfo{}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), infoContextKey, ri)))
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		s.recordActivity(r, sw, ri)
		d := time.Since(start)
		s.observe(r, sw.status, ri, d) // metrics.go
		// Sized for every attribute, so that adding the last one does not
		// copy the slice: this runs for every request.
		var buf [11]slog.Attr
		attrs := append(buf[:0],
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("query", r.URL.RawQuery),
			slog.Int("status", sw.status),
			slog.Int64("bytes", sw.bytes),
			slog.Duration("duration", d),
			slog.String("key", ri.key),
			slog.String("user_agent", r.UserAgent()),
			slog.String("accept", r.Header.Get("Accept")),
			slog.Int("objects", ri.objects),
		)
		if !ri.lastAdded.IsZero() {
			attrs = append(attrs, slog.String("date_added_last", taxii.FormatTimestamp(ri.lastAdded)))
		}
		s.logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	})
}

// recoverPanics turns a panic into a logged 500, so that one bad request
// never takes the server down or leaves the client without an answer.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v) // net/http's own way to abort a response
			}
			s.logger.ErrorContext(r.Context(), "panic", "method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if sw, ok := w.(*statusWriter); ok && sw.status != 0 {
				return // the response has started; nothing sensible can be added
			}
			if isREST(r) {
				writeRESTError(w, http.StatusInternalServerError, hail.EINTERNAL, "Internal error.")
				return
			}
			writeError(w, http.StatusInternalServerError, "Internal error.",
				codes[hail.EINTERNAL].description, hail.EINTERNAL)
		}()
		next.ServeHTTP(w, r)
	})
}

// authenticate finds the API key a request carries (auth.Credentials lists
// the places clients put it; the dashboard's cookie is one more on /ui/) and
// stores it in the context. A request without credentials goes on
// anonymously: handlers decide what it may see. Wrong credentials are
// refused with 401 at once, so that a mistyped key is reported as such
// rather than as a missing collection.
func (s *Server) authenticate(next http.Handler) http.Handler {
	next = s.enforcePlan(next) // plan.go
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		creds := auth.Credentials(r)
		if len(creds) == 0 && r.Header.Get("Authorization") == "" {
			if c := uiCookieKey(r); c != "" {
				creds = []string{c}
			}
		}
		if len(creds) == 0 {
			if r.Header.Get("Authorization") != "" {
				s.error(w, r, errBadCredentials)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		for _, c := range creds {
			k, err := s.lookupKey(r.Context(), c)
			if err != nil {
				s.error(w, r, err)
				return
			}
			if k == nil {
				continue
			}
			info(r.Context()).key = k.Name
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyContextKey, k)))
			return
		}
		s.error(w, r, errBadCredentials)
	})
}

// lookupKey returns the valid, unrevoked key whose secret is cred, or nil
// when there is none.
func (s *Server) lookupKey(ctx context.Context, cred string) (*store.Key, error) {
	h := auth.Hash(cred)
	k, err := s.store.KeyByHash(ctx, h)
	if hail.ErrorCode(err) == hail.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up key: %w", err)
	}
	if !auth.Equal(k.Hash, h) || !k.Revoked.IsZero() {
		return nil, nil
	}
	return &k, nil
}

// checkKey returns the key whose secret is cred if a request from r may use
// it now, as authenticate and enforcePlan would decide; the dashboard's
// login asks before it keeps the key in a cookie.
func (s *Server) checkKey(r *http.Request, cred string) (*store.Key, error) {
	k, err := s.lookupKey(r.Context(), cred)
	if err != nil {
		return nil, err
	}
	if k == nil {
		return nil, errBadCredentials
	}
	if err := s.keyUsable(r, k, s.cfg.Now()); err != nil {
		return nil, err
	}
	return k, nil
}

// withoutKey returns ctx with no key in it.
func withoutKey(ctx context.Context) context.Context {
	return context.WithValue(ctx, keyContextKey, (*store.Key)(nil))
}
