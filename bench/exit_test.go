package bench

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// fakeServeEnv makes the test binary act as a `hail serve` that answers
// discovery and one full poll, then exits at the first small poll, as a
// server that crashes or is killed mid-run would.
const fakeServeEnv = "BENCH_TEST_FAKE_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(fakeServeEnv) != "" {
		fakeServe(os.Args[1:])
		return
	}
	os.Exit(m.Run())
}

func fakeServe(args []string) {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	addr := fs.String("addr", "", "")
	fs.String("db", "", "")
	fs.Parse(args[1:]) // args[0] is "serve"
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, `{"msg":"serving","addr":%q}`+"\n", ln.Addr().String())
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/taxii2/":
			w.Write([]byte(`{"title":"fake"}`))
		case r.URL.Query().Get("added_after") != "":
			fmt.Fprintln(os.Stderr, `{"msg":"going away"}`)
			os.Exit(0)
		default:
			w.Write([]byte(`{"more":false,"objects":[{}]}`))
		}
	}))
}

func TestServerExitStopsRun(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The harness strips HAIL_ variables from the server's environment, not
	// this one.
	t.Setenv(fakeServeEnv, "1")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err = Run(ctx, Config{
		N: 50, Hail: self, Dir: t.TempDir(), PollRound: time.Millisecond, PollTime: 100 * time.Millisecond,
		IngestObjects: 100,
	})
	if err == nil || !strings.Contains(err.Error(), "hail serve exited during the run") || !strings.Contains(err.Error(), "going away") {
		t.Errorf("Run = %v; want an error saying the server exited, with its last log lines", err)
	}
}
