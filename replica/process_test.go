package replica

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"hail/taxii"
)

// binDir holds the hail binary, built once for the package's tests.
var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// hailBinary builds cmd/hail once and returns its path. It skips the test
// under -short: building and starting processes takes seconds.
func hailBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs hail serve processes; skipped under -short")
	}
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "hail-replica-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "hail")
		out, err := exec.Command("go", "build", "-o", binPath, "hail/cmd/hail").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// environment is the process environment without HAIL_ variables, so
// that an operator's settings never reach the processes under test.
func environment() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HAIL_") {
			env = append(env, kv)
		}
	}
	return env
}

// hailCommand runs one hail command to completion and returns its stdout.
func hailCommand(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(hailBinary(t), args...)
	cmd.Env = environment()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("hail %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// server is one running `hail serve` process.
type server struct {
	base string // http://127.0.0.1:PORT
	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	log  bytes.Buffer // its stderr
	once sync.Once
}

// startServer starts `hail serve` on a free port of 127.0.0.1 against the
// PostgreSQL database dsn, and returns once it logs that it is serving.
// The process is stopped at cleanup.
func startServer(t *testing.T, dsn string) *server {
	t.Helper()
	cmd := exec.Command(hailBinary(t), "serve", "--postgres", dsn, "--addr", "127.0.0.1:0")
	cmd.Env = environment()
	cmd.Stdout = io.Discard
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, done: make(chan struct{})}
	t.Cleanup(func() {
		s.stop(t)
		if t.Failed() {
			t.Logf("log of the server at %s:\n%s", s.base, s.logText())
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.log.WriteString(line + "\n")
			s.mu.Unlock()
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "serving" && rec.Addr != "" {
				select {
				case addr <- rec.Addr:
				default:
				}
			}
		}
		cmd.Wait()
		close(s.done)
	}()
	select {
	case a := <-addr:
		s.base = "http://" + a
	case <-s.done:
		t.Fatalf("hail serve exited before serving:\n%s", s.logText())
	case <-time.After(60 * time.Second):
		t.Fatalf("hail serve did not report serving within a minute:\n%s", s.logText())
	}
	return s
}

// stop ends the process as an operator would (SIGTERM), killing it if it
// has not exited within 15 s. It may be called more than once.
func (s *server) stop(t *testing.T) {
	s.once.Do(func() {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			t.Errorf("hail serve did not stop within 15 s of SIGTERM; killing it")
			s.cmd.Process.Kill()
			<-s.done
		}
	})
}

func (s *server) logText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// response is what a client received.
type response struct {
	status int
	header http.Header
	body   []byte
}

// client speaks TAXII 2.1 to one server with an API key.
type client struct {
	base, key string
	http      *http.Client
}

func newClient(base, key string) *client {
	return &client{base: base, key: key, http: &http.Client{Timeout: 30 * time.Second}}
}

// do sends one request; body, when not nil, is sent as JSON.
func (c *client) do(t *testing.T, method, path string, body any) response {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("apikey", c.key)
	req.Header.Set("Accept", taxii.MediaType)
	if body != nil {
		req.Header.Set("Content-Type", taxii.MediaType)
	}
	res, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// decode decodes a response body into v and fails the test if it is not
// JSON of that shape.
func decode(t *testing.T, what string, r response, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%s: body %q: %v", what, r.body, err)
	}
}

// prepare makes the database's first key with the CLI, which also creates
// the default API root and collections, and returns the key and the id of
// the "default" collection.
func prepare(t *testing.T, dsn string) (key, collection string) {
	t.Helper()
	key = strings.TrimSpace(hailCommand(t, "key", "add", "--postgres", dsn, "--name", "t", "--admin"))
	list := hailCommand(t, "collection", "list", "--postgres", dsn, "--json")
	var colls []struct{ ID, Alias string }
	if err := json.Unmarshal([]byte(list), &colls); err != nil {
		t.Fatalf("collection list --json: %v\n%s", err, list)
	}
	for _, c := range colls {
		if c.Alias == "default" {
			return key, c.ID
		}
	}
	t.Fatalf("no default collection in:\n%s", list)
	return "", ""
}

// indicators returns n indicators numbered from first, as JSON objects.
func indicators(first, n int) []json.RawMessage {
	out := make([]json.RawMessage, n)
	for i := range out {
		out[i] = json.RawMessage(fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-1111-4222-8333-444455556666",`+
			`"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.%d']",`+
			`"pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`, first+i, (first+i)%256))
	}
	return out
}

// objectIDs lists the ids of an envelope's objects.
func objectIDs(t *testing.T, env taxii.Envelope) []string {
	t.Helper()
	ids := []string{}
	for _, o := range env.Objects {
		var h struct{ ID string }
		if err := json.Unmarshal(o, &h); err != nil {
			t.Fatalf("object %s: %v", o, err)
		}
		ids = append(ids, h.ID)
	}
	return ids
}

// idsOf lists the ids of objects.
func idsOf(t *testing.T, objs []json.RawMessage) []string {
	return objectIDs(t, taxii.Envelope{Objects: objs})
}
