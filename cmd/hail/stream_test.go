package main

import (
	"bufio"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeStream: a stream of `hail serve` receives objects imported by
// another command, which writes to the store without notifying (the
// stream's poll finds them), and ends when the server shuts down, so that
// serve stops at once rather than after its shutdown timeout.
func TestServeStream(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hail.db")
	// Cancelled last, after serve has stopped: the stream must end by itself.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	base, key := startServer(t, db)

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/taxii2/api/collections/default/stream/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	req.SetBasicAuth("apikey", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: status %d, Content-Type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()

	mustHail(t, "import", "--db", db, writeBundle(t, 3))
	deadline := time.After(30 * time.Second)
	for got := 0; got < 3; {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("stream ended after %d of 3 objects", got)
			}
			if strings.HasPrefix(line, "data: ") {
				if !strings.Contains(line, `"type":"indicator"`) {
					t.Errorf("event data %s, want an indicator", line)
				}
				got++
			}
		case <-deadline:
			t.Fatalf("%d of 3 imported objects streamed within 30 s", got)
		}
	}
}
