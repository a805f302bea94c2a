package postgres

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

// clockTick is the unit of /proc/PID/stat's utime and stime (USER_HZ),
// 100 Hz on Linux whatever the kernel's own tick.
const clockTick = 10 * time.Millisecond

// backendCPU is the CPU time the database server's backends of a pool have
// used, for benchmarks whose cost is mostly on the server's side: the
// server runs on this machine, so its processes' /proc entries can be read.
// Other clients' backends are not counted.
type backendCPU struct {
	db    *DB
	start map[uint32]time.Duration
}

// startBackendCPU records the CPU time of the pool's backends so far.
func startBackendCPU(tb testing.TB, db *DB) *backendCPU {
	tb.Helper()
	return &backendCPU{db: db, start: backendTimes(tb, db)}
}

// since returns the CPU time the pool's backends used since start. A
// backend that connected since then counts whole.
func (c *backendCPU) since(tb testing.TB) time.Duration {
	tb.Helper()
	var d time.Duration
	for pid, t := range backendTimes(tb, c.db) {
		d += t - c.start[pid]
	}
	return d
}

// backendTimes reads the CPU time of each idle connection's backend.
func backendTimes(tb testing.TB, db *DB) map[uint32]time.Duration {
	tb.Helper()
	out := make(map[uint32]time.Duration)
	conns := db.pool.AcquireAllIdle(context.Background())
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	for _, c := range conns {
		pid := c.Conn().PgConn().PID()
		t, err := procCPU(pid)
		if err != nil {
			tb.Fatalf("backend %d: %v", pid, err)
		}
		out[pid] = t
	}
	return out
}

// procCPU reads utime and stime, fields 14 and 15 of /proc/PID/stat; the
// fields are counted after the command name, which may hold spaces.
func procCPU(pid uint32) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("unreadable /proc/%d/stat", pid)
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	stime, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("unreadable times in /proc/%d/stat", pid)
	}
	return time.Duration(utime+stime) * clockTick, nil
}
