package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Bounds on the server process's life.
const (
	startTimeout = 2 * time.Minute  // exec to the "serving" log line
	stopTimeout  = 15 * time.Second // SIGINT to exit, before SIGKILL
	tailLines    = 20               // stderr lines kept for error messages
)

// buildHail builds the hail command of the module the working directory is
// in, into dir, and returns the binary's path.
func buildHail(ctx context.Context, dir string) (string, error) {
	path := filepath.Join(dir, "hail")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", path, "hail/cmd/hail")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build hail (run from inside the hail module, or give the binary with --hail): %v\n%s", err, out)
	}
	return path, nil
}

// server is a running `hail serve` child process.
type server struct {
	cmd     *exec.Cmd
	addr    string // host:port it listens on
	started time.Time
	exited  chan struct{} // closed when the process has exited
	waitErr error         // set before exited is closed
	tail    *tail
}

// startServer runs `hail serve` with storeArgs (--db FILE or --postgres URL)
// on a free loopback port and returns once it has logged that it is
// serving.
func startServer(ctx context.Context, hail string, storeArgs []string) (*server, error) {
	args := append([]string{"serve"}, storeArgs...)
	args = append(args, "--addr", "127.0.0.1:0")
	cmd := exec.Command(hail, args...)
	cmd.Env = environWithout("HAIL_")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, exited: make(chan struct{}), tail: &tail{max: tailLines}}
	addrc := make(chan string, 1)
	s.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", hail, err)
	}
	var reading sync.WaitGroup
	reading.Add(1)
	go func() {
		defer reading.Done()
		s.readLog(stderr, addrc)
	}()
	go func() {
		reading.Wait() // Wait closes the pipe: read it to the end first
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case s.addr = <-addrc:
		return s, nil
	case <-s.exited:
		return nil, fmt.Errorf("hail serve exited before serving: %v\n%s", s.waitErr, s.tail)
	case <-timer.C:
		err = fmt.Errorf("hail serve did not log \"serving\" within %s\n%s", startTimeout, s.tail)
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.stop()
	return nil, err
}

// readLog reads the server's JSON log to the end, sending the address of
// its "serving" line on addrc and keeping the last lines for errors.
func (s *server) readLog(r io.Reader, addrc chan<- string) {
	br := bufio.NewReaderSize(r, 64<<10)
	found := false
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			if !found {
				if addr, ok := parseServing(line); ok {
					found = true
					addrc <- addr
				}
			}
			s.tail.add(line)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return
		}
	}
}

// parseServing reads the address from hail serve's log line
// {"msg":"serving","addr":"127.0.0.1:PORT",...}. Only loopback addresses
// are accepted: the harness never drives anything else.
func parseServing(line []byte) (string, bool) {
	var l struct {
		Msg  string `json:"msg"`
		Addr string `json:"addr"`
	}
	if !bytes.Contains(line, []byte(`"serving"`)) || json.Unmarshal(line, &l) != nil || l.Msg != "serving" {
		return "", false
	}
	host, port, err := net.SplitHostPort(l.Addr)
	if err != nil {
		return "", false
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return "", false
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return "", false
	}
	return l.Addr, true
}

// alive returns an error if the server has exited: a run must not go on
// measuring connection errors.
func (s *server) alive() error {
	select {
	case <-s.exited:
		return fmt.Errorf("hail serve exited during the run (%v)", s.waitErr)
	default:
		return nil
	}
}

// peakRSS returns the server's peak resident set size in bytes (VmHWM).
func (s *server) peakRSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	kb, ok := statusField(b, "VmHWM")
	if !ok {
		return 0, errors.New("no VmHWM in /proc/PID/status")
	}
	return kb * 1024, nil
}

// cpu returns the CPU time the server has used so far (user and system).
// On a shared machine a phase's CPU time is a steadier figure than its
// wall-clock rate: it does not count the time the server waited for a core.
func (s *server) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	d, ok := statCPU(b)
	if !ok {
		return 0, errors.New("unreadable /proc/PID/stat")
	}
	return d, nil
}

// cpuMeter reads the CPU time a process has used so far.
type cpuMeter func() (time.Duration, error)

// startCPU starts counting m and returns what reads the CPU seconds since;
// it reads 0 when m is nil or cannot be read.
func startCPU(m cpuMeter) func() float64 {
	if m == nil {
		return func() float64 { return 0 }
	}
	t0, err := m()
	return func() float64 {
		t1, err1 := m()
		if err != nil || err1 != nil {
			return 0
		}
		return (t1 - t0).Seconds()
	}
}

// selfCPU is the harness's own CPU time, where the bulk import runs.
func selfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// clockTick is the unit of /proc/PID/stat's times (USER_HZ), 100 Hz on
// every architecture Linux supports today.
const clockTick = 10 * time.Millisecond

// maxTicks bounds each of utime and stime (about 22 years of CPU), so that
// their sum in nanoseconds cannot overflow a time.Duration.
const maxTicks = 1 << 36

// statCPU reads utime and stime, fields 14 and 15 of /proc/PID/stat. The
// second field, the command name, may hold spaces and parentheses, so the
// fields are counted from the last ')'.
func statCPU(stat []byte) (time.Duration, bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	user, err1 := strconv.ParseInt(f[11], 10, 64)
	sys, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil || user < 0 || sys < 0 || user > maxTicks || sys > maxTicks {
		return 0, false
	}
	return time.Duration(user+sys) * clockTick, true
}

// statusField reads a "Name:   1234 kB" line of /proc/PID/status and
// returns the number.
func statusField(status []byte, name string) (int64, bool) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte(name+":"))
		if !ok {
			continue
		}
		f := strings.Fields(string(rest))
		if len(f) != 2 || f[1] != "kB" {
			return 0, false
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		return n, err == nil && n >= 0
	}
	return 0, false
}

// stop interrupts the server, as an operator would, and kills it if it has
// not exited within stopTimeout.
func (s *server) stop() error {
	select {
	case <-s.exited:
		return s.waitErr
	default:
	}
	s.cmd.Process.Signal(os.Interrupt)
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-s.exited:
		return s.waitErr
	case <-timer.C:
		s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("hail serve did not stop within %s of an interrupt; killed", stopTimeout)
	}
}

// environWithout returns the environment without the variables whose names
// start with prefix, so that a HAIL_DB or HAIL_POSTGRES of the caller's
// shell cannot point the server elsewhere.
func environWithout(prefix string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, prefix) {
			env = append(env, kv)
		}
	}
	return env
}

// tail keeps the last lines written to it.
type tail struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (t *tail) add(line []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == t.max {
		t.lines = append(t.lines[:0], t.lines[1:]...)
	}
	t.lines = append(t.lines, string(bytes.TrimRight(line, "\n")))
}

// String returns the lines kept, for error messages.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}
