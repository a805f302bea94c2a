package server

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"hail/taxii"
)

func TestRecoverPanics(t *testing.T) {
	var log bytes.Buffer
	s := New(Config{}, nil, slog.New(slog.NewJSONHandler(&log, nil)))
	h := s.logRequests(s.recoverPanics(s.negotiate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/late" {
			w.WriteHeader(http.StatusOK)
			w.Write([]byte("partial"))
		}
		panic("boom")
	}))))

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/early", nil))
	if w.Code != 500 || w.Header().Get("Content-Type") != taxii.MediaType || !strings.Contains(w.Body.String(), `"http_status":"500"`) {
		t.Errorf("panic before writing: %d %q %s, want a TAXII 500", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	if !strings.Contains(log.String(), `"panic":"boom"`) || !strings.Contains(log.String(), `"status":500`) {
		t.Errorf("log %s lacks the panic or the 500", log.String())
	}

	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/late", nil))
	if w.Code != 200 || w.Body.String() != "partial" {
		t.Errorf("panic after writing: %d %s, want the response left as it was", w.Code, w.Body)
	}

	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler passed on", v)
		}
	}()
	s.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })).
		ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
}
