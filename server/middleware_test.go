package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"hail"
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

func TestErrorLogging(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name   string
		ctx    context.Context
		err    error
		status int
		level  string // of the log line; "" for none
	}{
		{"client error", context.Background(), hail.Errorf(hail.EINVALID, "Bad."), 400, ""},
		{"internal", context.Background(), errors.New("disk on fire"), 500, "ERROR"},
		{"wrapped code", context.Background(), fmt.Errorf("open: %w", hail.Errorf(hail.EUNAVAILABLE, "Down.")), 503, ""},
		{"canceled", canceled, fmt.Errorf("query: %w", context.Canceled), 500, "DEBUG"},
		{"client gone", canceled, errors.New("sqlite: interrupted"), 500, "DEBUG"},
	}
	for _, tt := range tests {
		var log bytes.Buffer
		s := New(Config{}, nil, slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})))
		w := httptest.NewRecorder()
		s.error(w, httptest.NewRequest(http.MethodGet, "/x", nil).WithContext(tt.ctx), tt.err)
		if w.Code != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, w.Code, tt.status)
		}
		if tt.status == 500 && !strings.Contains(w.Body.String(), `"title":"Internal error."`) {
			t.Errorf("%s: body %s leaks more than \"Internal error.\"", tt.name, w.Body)
		}
		lines := strings.Count(log.String(), "\n")
		if tt.level == "" && lines != 0 || tt.level != "" && (lines != 1 || !strings.Contains(log.String(), `"level":"`+tt.level+`"`)) {
			t.Errorf("%s: log %q, want one %s line", tt.name, log.String(), tt.level)
		}
	}
}
