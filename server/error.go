package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"hail"
	"hail/taxii"
)

// codes maps each hail error code to its HTTP status and the description
// sent beside the message. It is the only such table in hail's HTTP layer.
var codes = map[string]struct {
	status      int
	description string
}{
	hail.EINVALID:         {http.StatusBadRequest, "The request is malformed."},
	hail.EUNAUTHENTICATED: {http.StatusUnauthorized, "Send an API key: HTTP Basic with the key as password (any user name), or Authorization: Bearer KEY."},
	hail.EFORBIDDEN:       {http.StatusForbidden, "The API key does not grant this right."},
	hail.ENOTFOUND:        {http.StatusNotFound, "The resource does not exist, or the API key may not see it."},
	hail.ECONFLICT:        {http.StatusConflict, "The request conflicts with the current state of the resource."},
	hail.ETOOLARGE:        {http.StatusRequestEntityTooLarge, "The request body is larger than the API root's max_content_length."},
	hail.EUNPROCESSABLE:   {http.StatusUnprocessableEntity, "The request is well-formed but cannot be processed."},
	hail.ETOOMANY:         {http.StatusTooManyRequests, "Too many requests; retry later."},
	hail.EUNAVAILABLE:     {http.StatusServiceUnavailable, "The server cannot serve the request right now; retry later."},
	hail.EINTERNAL:        {http.StatusInternalServerError, "The server failed; the failure is logged."},
}

// transportError is a failure of HTTP itself (405, 406, 415) rather than of
// the request's meaning, so it has its own status and no hail code.
type transportError struct {
	status  int
	message string
}

func (e *transportError) Error() string { return e.message }

// Errors every handler may return.
var (
	errNoEndpoint       = hail.Errorf(hail.ENOTFOUND, "No TAXII endpoint at this path.")
	errNoRESTEndpoint   = hail.Errorf(hail.ENOTFOUND, "No IOC API endpoint at this path.")
	errMethodNotAllowed = &transportError{http.StatusMethodNotAllowed, "The endpoint does not support this method."}
	errNotAcceptable    = &transportError{http.StatusNotAcceptable, "The Accept header admits no media type this server sends; use " + taxii.MediaType + "."}
	errUnsupportedType  = &transportError{http.StatusUnsupportedMediaType, "The Content-Type must be " + taxii.MediaType + "."}
	errUnauthenticated  = hail.Errorf(hail.EUNAUTHENTICATED, "Authentication required.")
	errBadCredentials   = hail.Errorf(hail.EUNAUTHENTICATED, "The API key is not valid.")
)

// error writes err as a TAXII error resource (TAXII 2.1 §3.6.1), or on the
// IOC API as {"error": {"code", "message"}}. Internal errors are logged
// here, once, and reach the client only as "Internal error.".
func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	rest := isREST(r)
	var te *transportError
	if errors.As(err, &te) {
		if isUI(r) && s.ui != nil {
			s.uiFail(w, r, te.status, "", te.message)
			return
		}
		if rest {
			writeRESTError(w, te.status, strings.ReplaceAll(strings.ToLower(http.StatusText(te.status)), " ", "_"), te.message)
			return
		}
		writeError(w, te.status, te.message, "", "")
		return
	}
	code := hail.ErrorCode(err)
	c, ok := codes[code]
	if !ok {
		code, c = hail.EINTERNAL, codes[hail.EINTERNAL]
	}
	if code == hail.EINTERNAL {
		if errors.Is(err, context.Canceled) || errors.Is(r.Context().Err(), context.Canceled) {
			s.logger.DebugContext(r.Context(), "request canceled", "method", r.Method, "path", r.URL.Path, "err", err)
		} else {
			s.logger.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		}
	}
	if isUI(r) && s.ui != nil {
		message := hail.ErrorMessage(err)
		if code == hail.EINTERNAL {
			message = "Internal error; the failure is logged."
		}
		s.uiFail(w, r, c.status, code, message)
		return
	}
	if rest {
		if code == hail.EUNAUTHENTICATED {
			// RFC 6750 §3: the IOC API takes API keys as bearer tokens.
			w.Header()["WWW-Authenticate"] = []string{`Bearer realm="hail"`}
		}
		if errors.Is(err, errNoEndpoint) {
			err = errNoRESTEndpoint
		}
		writeRESTError(w, c.status, code, hail.ErrorMessage(err))
		return
	}
	if code == hail.EUNAUTHENTICATED {
		// TAXII 2.1 §1.6.9: a 401 carries at least one challenge. Basic is
		// what Sentinel and taxii2-client answer; Bearer is for API clients.
		// Spelt as in RFC 9110 rather than canonicalised ("Www-").
		w.Header()["WWW-Authenticate"] = []string{`Basic realm="hail", charset="UTF-8"`, `Bearer realm="hail"`}
	}
	writeError(w, c.status, hail.ErrorMessage(err), c.description, code)
}

// writeError writes the error resource. TAXII 2.1 §3.6.1: http_status is a
// string equal to the response status.
func writeError(w http.ResponseWriter, status int, title, description, code string) {
	body, _ := json.Marshal(taxii.Error{
		Title:       title,
		Description: description,
		ErrorCode:   code,
		HTTPStatus:  strconv.Itoa(status),
	})
	w.WriteHeader(status)
	w.Write(body)
}

// writeRESTError writes an IOC API error: {"error": {"code", "message"}},
// the code one of hail's codes or, for transport failures, the status
// text in snake case ("method_not_allowed").
func writeRESTError(w http.ResponseWriter, status int, code, message string) {
	body, _ := json.Marshal(map[string]map[string]string{"error": {"code": code, "message": message}})
	w.Header().Set("Content-Type", restMediaType)
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}
