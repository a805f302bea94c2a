package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"hail/server"
)

// TestUIInBrowser drives the dashboard in headless Chromium through
// ChromeDriver (the W3C WebDriver protocol, plain JSON over HTTP): sign-in
// through the form, the stylesheet and script admitted by the CSP, and an
// object POSTed over TAXII appearing on an open collection page through
// live.js and the stream. .ci/run installs Debian's chromium and
// chromium-driver; elsewhere the test is skipped when they are missing.
func TestUIInBrowser(t *testing.T) {
	chromium, driver := "/usr/bin/chromium", "/usr/bin/chromedriver"
	for _, p := range []string{chromium, driver} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%s is not installed (Debian packages chromium and chromium-driver): %v", p, err)
		}
	}
	e := uiEnv(t, server.Config{})
	e.seed(t, collIntel, indicator(1, "2024-01-01T00:00:00.000Z"))
	wd := startWebDriver(t, driver, chromium)

	wd.navigate(t, e.srv.URL+"/ui/")
	if u := wd.currentURL(t); !strings.HasSuffix(u, "/ui/login") {
		t.Fatalf("signed out, /ui/ led to %s, want the login page", u)
	}
	wd.typeInto(t, "#key", e.keys["reader"])
	wd.click(t, "section.login button[type=submit]")
	wd.waitFor(t, "the collections after sign-in", `return location.pathname === "/ui/" && document.body.innerText.includes("Intel")`)
	if got := wd.script(t, `return getComputedStyle(document.querySelector("header")).display`); got != "flex" {
		t.Errorf("header display %v: the stylesheet did not apply", got)
	}

	wd.navigate(t, e.srv.URL+"/ui/collections/api/"+collIntel+"/")
	if n := wd.script(t, `return document.querySelectorAll("#objects tbody tr").length`); n != float64(1) {
		t.Fatalf("collection page lists %v objects, want 1", n)
	}
	// Wait until the page's stream is open, so that the POST below is a
	// live event and not part of the page.
	wd.waitFor(t, "the stream to open", `return document.querySelector("#live.open") !== null`)
	evil := `<img src=x id=evil>`
	obj := strings.Replace(indicator(2, "2024-01-01T00:00:00.000Z"), `"IOC 2"`, fmt.Sprintf("%q", "IOC 2 "+evil), 1)
	// An object of another collection first: it must not reach this page.
	e.seedThroughServer(t, collRW, indicator(3, "2024-01-01T00:00:00.000Z"))
	e.seedThroughServer(t, collIntel, obj)
	wd.waitFor(t, "the new object on the page", `return document.querySelectorAll("#objects tr.new").length === 1`)
	row := wd.script(t, `return document.querySelector("#objects tr.new").innerText`)
	if s, _ := row.(string); !strings.Contains(s, "IOC 2 "+evil) || !strings.Contains(s, "indicator--"+uuidN(2)) {
		t.Errorf("live row %q, want the object's name as text and its id", row)
	}
	if n := wd.script(t, `return document.querySelectorAll("#evil").length`); n != float64(0) {
		t.Errorf("an object's name became markup on the page")
	}
	if n := wd.script(t, `return document.querySelectorAll("#objects tbody tr").length`); n != float64(2) {
		t.Errorf("page lists %v objects after the POST, want 2 (objects of other collections must not appear)", n)
	}
	for _, entry := range wd.browserLog(t) {
		if strings.Contains(entry, "Content Security Policy") || strings.Contains(entry, "Uncaught") {
			t.Errorf("browser console: %s", entry)
		}
	}
}

// seedThroughServer POSTs objects with the admin key, so that the server
// notifies the collection's streams at once.
func (e *env) seedThroughServer(t *testing.T, collection string, objs ...string) {
	t.Helper()
	r := e.do(t, http.MethodPost, "/taxii2/api/collections/"+collection+"/objects/",
		map[string]string{"Authorization": basic("apikey", e.keys["admin"]), "Content-Type": "application/taxii+json;version=2.1"},
		strings.NewReader(envelope(objs...)))
	if r.status != http.StatusAccepted {
		t.Fatalf("POST to %s: %d %s", collection, r.status, r.body)
	}
}

// webDriver is one ChromeDriver session.
type webDriver struct {
	base    string // http://127.0.0.1:PORT/session/ID
	timeout time.Duration
}

// startWebDriver runs chromedriver on a free loopback port and opens a
// headless session, both ended with the test.
func startWebDriver(t *testing.T, driver, chromium string) *webDriver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(driver, fmt.Sprintf("--port=%d", port), "--allowed-ips=127.0.0.1")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	root := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(root + "/status")
		if err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("chromedriver did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{
			"binary": chromium,
			// The flags the machine notes give for a closed network, run as root.
			"args": []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
				"--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir()},
		},
		"goog:loggingPrefs": map[string]string{"browser": "ALL"},
	}}}
	var created struct {
		SessionID string `json:"sessionId"`
	}
	if err := wdCall(http.MethodPost, root+"/session", caps, &created); err != nil || created.SessionID == "" {
		t.Fatalf("new session: %v\n%s", err, logs.String())
	}
	wd := &webDriver{base: root + "/session/" + created.SessionID, timeout: time.Minute}
	t.Cleanup(func() { wdCall(http.MethodDelete, wd.base, nil, nil) })
	return wd
}

// wdCall sends one WebDriver command and decodes its "value" into out.
func wdCall(method, url string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var env struct {
		Value json.RawMessage `json:"value"`
	}
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("%s %s: %d %s", method, url, res.StatusCode, raw)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d %s", method, url, res.StatusCode, env.Value)
	}
	if out != nil {
		return json.Unmarshal(env.Value, out)
	}
	return nil
}

func (wd *webDriver) do(t *testing.T, method, path string, in, out any) {
	t.Helper()
	if err := wdCall(method, wd.base+path, in, out); err != nil {
		t.Fatal(err)
	}
}

func (wd *webDriver) navigate(t *testing.T, url string) {
	t.Helper()
	wd.do(t, http.MethodPost, "/url", map[string]string{"url": url}, nil)
}

func (wd *webDriver) currentURL(t *testing.T) string {
	t.Helper()
	var u string
	wd.do(t, http.MethodGet, "/url", nil, &u)
	return u
}

// element finds the element a CSS selector names.
func (wd *webDriver) element(t *testing.T, css string) string {
	t.Helper()
	var el map[string]string
	wd.do(t, http.MethodPost, "/element", map[string]string{"using": "css selector", "value": css}, &el)
	for _, id := range el { // the key is the protocol's fixed element identifier
		return id
	}
	t.Fatalf("no element %s", css)
	return ""
}

func (wd *webDriver) typeInto(t *testing.T, css, text string) {
	t.Helper()
	wd.do(t, http.MethodPost, "/element/"+wd.element(t, css)+"/value", map[string]string{"text": text}, nil)
}

func (wd *webDriver) click(t *testing.T, css string) {
	t.Helper()
	wd.do(t, http.MethodPost, "/element/"+wd.element(t, css)+"/click", map[string]any{}, nil)
}

// script runs JavaScript in the page and returns what it returns.
func (wd *webDriver) script(t *testing.T, js string) any {
	t.Helper()
	var v any
	wd.do(t, http.MethodPost, "/execute/sync", map[string]any{"script": js, "args": []any{}}, &v)
	return v
}

// waitFor polls js until it returns true. The wait is generous: this is
// not a timing assertion, only a bound on a page that never gets there.
func (wd *webDriver) waitFor(t *testing.T, what, js string) {
	t.Helper()
	deadline := time.Now().Add(wd.timeout)
	for {
		var v any
		err := wdCall(http.MethodPost, wd.base+"/execute/sync", map[string]any{"script": js, "args": []any{}}, &v)
		if err == nil && v == true {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s (last error %v); page: %v", wd.timeout, what, err,
				wd.script(t, `return document.body ? document.body.innerText : ""`))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// browserLog returns the console messages since the last call.
func (wd *webDriver) browserLog(t *testing.T) []string {
	t.Helper()
	var entries []struct {
		Level   string `json:"level"`
		Message string `json:"message"`
	}
	if err := wdCall(http.MethodPost, wd.base+"/se/log", map[string]string{"type": "browser"}, &entries); err != nil {
		t.Logf("browser log unavailable: %v", err)
		return nil
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Level+" "+e.Message)
	}
	return out
}
