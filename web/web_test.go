package web

import (
	"bytes"
	"io/fs"
	"strings"
	"testing"
	"time"
)

func TestTemplatesParse(t *testing.T) {
	pages, err := Templates()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range Pages {
		if pages[p] == nil || pages[p].Lookup("content") == nil || pages[p].Lookup("layout.html") == nil {
			t.Errorf("page %s lacks its content or the layout", p)
		}
	}
	// The layout alone renders the page shell around a page's content.
	var b bytes.Buffer
	data := map[string]any{"Title": "T", "Server": "S", "Version": "v", "Nav": "", "Key": nil, "Now": time.Now(),
		"Data": map[string]any{"Message": "<b>x</b>"}}
	if err := pages["login"].ExecuteTemplate(&b, "layout.html", data); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "&lt;b&gt;x&lt;/b&gt;") || !strings.Contains(b.String(), `href="/ui/static/hail.css"`) {
		t.Errorf("login page:\n%s", b.String())
	}
}

func TestStatic(t *testing.T) {
	for _, name := range []string{"hail.css", "live.js"} {
		b, err := fs.ReadFile(Static(), name)
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestFuncs(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct{ got, want string }{
		{when(time.Time{}), "–"},
		{when(now), "2026-01-02 03:04:05Z"},
		{ago(now, now.Add(-90*time.Second)), "1 min ago"},
		{ago(now, now.Add(-3*time.Hour)), "3 h ago"},
		{ago(now, now.Add(-72*time.Hour)), "3 days ago"},
		{ago(now, now.Add(time.Hour)), "in 1 h"},
		{ago(now, now), "just now"},
		{ago(now, time.Time{}), ""},
		{indentJSON([]byte(`{"a":[1,2]}`)), "{\n  \"a\": [\n    1,\n    2\n  ]\n}"},
		{indentJSON([]byte(`not json`)), "not json"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
