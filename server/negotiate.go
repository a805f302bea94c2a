package server

import (
	"mime"
	"net/http"
	"strconv"
	"strings"

	"hail/taxii"
)

// negotiate sets the Content-Type of every response, errors included, to
// exactly application/taxii+json;version=2.1 (TAXII 2.1 §3.1; taxii2-client
// compares its tokens with those of its Accept header), and answers 406 when
// the Accept header admits nothing hail sends. The IOC API is no TAXII: it
// answers in JSON, or in the text its export format names, whatever the
// Accept header says.
func (s *Server) negotiate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if isREST(r) {
			w.Header().Set("Content-Type", restMediaType)
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", taxii.MediaType)
		if !acceptable(strings.Join(r.Header.Values("Accept"), ",")) && !isStream(r) && !isMetrics(r) {
			s.error(w, r, errNotAcceptable)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// acceptable reports whether an Accept header value admits TAXII 2.1 JSON.
// TAXII 2.1 §3.1 asks clients for application/taxii+json;version=2.1, but
// real clients send no Accept, */*, application/json or the type without a
// version, so all of those are served. Only a list that admits nothing of
// TAXII 2.1 (another TAXII version, the TAXII 2.0 vnd.oasis types, text/html)
// is refused. Parameters and q-values follow RFC 9110 §12.5.1; q=0 excludes.
func acceptable(header string) bool {
	if strings.TrimSpace(header) == "" {
		return true
	}
	empty := true
	for item := range strings.SplitSeq(header, ",") {
		typ, params, _ := strings.Cut(item, ";")
		typ = strings.ToLower(strings.TrimSpace(typ))
		if typ == "" {
			continue
		}
		empty = false
		version, q := "", 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(p, "=")
			k = strings.ToLower(strings.TrimSpace(k))
			v = strings.Trim(strings.TrimSpace(v), `"`)
			switch k {
			case "version":
				version = v
			case "q":
				f, err := strconv.ParseFloat(v, 64)
				if err != nil || f < 0 || f > 1 {
					f = 1
				}
				q = f
			}
		}
		if q > 0 && acceptableType(typ, version) {
			return true
		}
	}
	return empty
}

// acceptableType reports whether a media range with that version parameter
// covers what hail sends.
func acceptableType(typ, version string) bool {
	switch typ {
	case "*/*", "application/*", "application/json":
		return true
	case "application/taxii+json", "application/stix+json":
		// No version means "the latest the server supports" (TAXII 2.1 §1.6.8).
		return version == "" || version == "2.1"
	}
	return false
}

// acceptableContentType reports whether a POST body of this Content-Type is
// read: application/taxii+json without a version or at 2.1 (TAXII 2.1 §5.5),
// and, leniently, application/json; a charset, if any, must be UTF-8.
func acceptableContentType(header string) bool {
	typ, params, err := mime.ParseMediaType(header)
	if err != nil {
		return false
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return false
	}
	switch typ {
	case "application/taxii+json":
		v, ok := params["version"]
		return !ok || v == "2.1"
	case "application/json":
		return true
	}
	return false
}
