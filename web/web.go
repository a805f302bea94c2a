// Package web holds the dashboard's templates and static files, embedded in
// the binary so that hail stays one file with nothing to install. The pages
// are rendered on the server (package server, ui*.go); the only script is
// web/static/live.js, which appends objects as a collection's stream sends
// them. No third-party script is shipped, so the pages run under a strict
// Content-Security-Policy (script-src 'self').
package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"strings"
	"time"

	"hail/internal/digits"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Static returns the static files (stylesheet, script), served under
// /ui/static/.
func Static() fs.FS {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the directory is embedded above
	}
	return sub
}

// Pages are the dashboard's pages, each a template of its own file in
// templates/ with the layout around it.
var Pages = []string{"login", "overview", "collection", "object", "lookup", "keys", "keynew", "keyrevoke", "feed", "webhook", "import", "error"}

// Templates parses every page with the layout. It fails only if a template
// is broken, which a test catches.
func Templates() (map[string]*template.Template, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	pages := make(map[string]*template.Template, len(Pages))
	for _, p := range Pages {
		t, err := template.Must(layout.Clone()).ParseFS(templateFiles, "templates/"+p+".html")
		if err != nil {
			return nil, fmt.Errorf("page %s: %w", p, err)
		}
		pages[p] = t
	}
	return pages, nil
}

// funcs are the helpers templates call.
var funcs = template.FuncMap{
	"when":    when,
	"ago":     ago,
	"count":   digits.Grouped,
	"json":    indentJSON,
	"join":    strings.Join,
	"isoTime": func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
}

// when formats t for a table cell: UTC to the second, "–" when zero.
func when(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// ago tells how long before now t was, roughly: "3 min ago".
func ago(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "in " + span(-d)
	case d < time.Second:
		return "just now"
	}
	return span(d) + " ago"
}

func span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
}

// indentJSON lays out a stored object for reading; bytes that are not JSON
// (none should be stored) are shown as they are.
func indentJSON(raw []byte) string {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}
