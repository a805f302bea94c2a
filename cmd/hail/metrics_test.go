package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServeMetricsListener: with HAIL_METRICS_ADDR, hail serve answers
// /metrics on a second listener without a key, counting the requests of the
// main one, while the main listener serves /metrics to admin keys only.
func TestServeMetricsListener(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hail.db")
	getenv := func(k string) string {
		if k == "HAIL_METRICS_ADDR" {
			return "127.0.0.1:0"
		}
		return ""
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, getenv, strings.NewReader(""), &out, &errOut)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v", err)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(errOut.String(), `"msg":"serving"`) {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", errOut.String())
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited early: %v\n%s", err, errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	base := regexp.MustCompile(`discovery:\s+(http://\S+)/taxii2/`).FindStringSubmatch(out.String())
	key := regexp.MustCompile(`(?m)^\s+(hail_\S+)$`).FindStringSubmatch(out.String())
	maddr := regexp.MustCompile(`"msg":"serving metrics","addr":"([^"]+)"`).FindStringSubmatch(errOut.String())
	if base == nil || key == nil || maddr == nil {
		t.Fatalf("no discovery URL, key or metrics address in:\n%s\n%s", out.String(), errOut.String())
	}

	for range 3 {
		if resp, body := get(t, base[1]+"/taxii2/", key[1]); resp.StatusCode != 200 {
			t.Fatalf("discovery: %d %s", resp.StatusCode, body)
		}
	}
	if resp, _ := get(t, base[1]+"/taxii2/", ""); resp.StatusCode != 401 {
		t.Errorf("discovery without key: %d, want 401", resp.StatusCode)
	}

	resp, err := http.Get("http://" + maddr[1] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	if resp.StatusCode != 200 {
		t.Fatalf("metrics listener: %d %s", resp.StatusCode, body)
	}
	for _, want := range []string{
		`hail_http_requests_total{route="GET /taxii2/",status="200"} 3`,
		`hail_http_requests_total{route="GET /taxii2/",status="401"} 1`,
		`hail_store_stats_up 1`,
		`hail_store_objects{alias="default",api_root="api",`,
		`process_start_time_seconds `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics listener lacks %q", want)
		}
	}
	resp, err = http.Get("http://" + maddr[1] + "/taxii2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("metrics listener GET /taxii2/: %d, want 404", resp.StatusCode)
	}

	if resp, _ := get(t, base[1]+"/metrics", ""); resp.StatusCode != 401 {
		t.Errorf("main /metrics without key: %d, want 401", resp.StatusCode)
	}
	if resp, b := get(t, base[1]+"/metrics", key[1]); resp.StatusCode != 200 || !strings.Contains(string(b), "hail_http_requests_total") {
		t.Errorf("main /metrics with the admin key: %d %.200s, want 200 with the counters", resp.StatusCode, b)
	}
}

func TestServeBadMetricsAddr(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hail.db")
	_, err := runHail(t, "serve", "--db", db, "--addr", "127.0.0.1:0", "--metrics-addr", "256.0.0.1:1")
	if err == nil {
		t.Errorf("serve with an unusable --metrics-addr returned no error")
	}
}
