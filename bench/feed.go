package bench

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"time"

	"hail/bootstrap"
	"hail/store/sqlite"
)

// Feed is a scheduled TAXII feed of the served collection, whole, run by a
// second `hail serve` on a new SQLite store: the pull as a server runs it
// in the background, next to its clients, with the memory it takes there.
type Feed struct {
	Objects       int     `json:"objects"` // read by the run
	Added         int     `json:"added"`
	Seconds       float64 `json:"seconds"` // from the run's start to its end, as recorded
	ObjectsPerSec float64 `json:"objects_per_sec"`
	// PeakRSSBytes is the VmHWM of the server that ran the feed, after it;
	// CPUSeconds its CPU time from its start to then.
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
	CPUSeconds   float64 `json:"cpu_seconds"`
}

// feedName is the name of the harness's feed.
const feedName = "hail-bench"

// feedTimeout bounds the wait for the feed's run.
const feedTimeout = 30 * time.Minute

// runFeed adds a TAXII feed of the server's collection coll, at base, to a
// new SQLite store in dir with `hail feed add`, as a user would, starts a
// `hail serve` on that store, which runs the feed at once, and waits for
// the run's record.
func runFeed(ctx context.Context, binary, dir, base, coll, key string) (Feed, error) {
	var res Feed
	path := filepath.Join(dir, "feed.db")
	add := exec.CommandContext(ctx, binary, "feed", "add", "--db", path, "--name", feedName, "--kind", "taxii21",
		"--url", base+"/taxii2/"+bootstrap.APIRootName+"/", "--taxii-collection", coll, "--token", key, "--every", "24h")
	add.Env = environWithout("HAIL_")
	if out, err := add.CombinedOutput(); err != nil {
		return res, fmt.Errorf("hail feed add: %v\n%s", err, out)
	}
	srv, err := startServer(ctx, binary, []string{"--db", path})
	if err != nil {
		return res, err
	}
	defer srv.stop()
	st, err := sqlite.Open(path)
	if err != nil {
		return res, err
	}
	defer st.Close()
	deadline := time.Now().Add(feedTimeout)
	for {
		runs, err := st.FeedRuns(ctx, feedName, 1)
		if err != nil {
			return res, err
		}
		if len(runs) > 0 && !runs[0].Ended.IsZero() {
			r := runs[0]
			if r.Error != "" {
				return res, fmt.Errorf("feed run: %s", r.Error)
			}
			res.Objects, res.Added = r.Read, r.Added
			res.Seconds = r.Ended.Sub(r.Started).Seconds()
			break
		}
		if err := srv.alive(); err != nil {
			return res, err
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("the feed did not finish a run within %s", feedTimeout)
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	if res.PeakRSSBytes, err = srv.peakRSS(); err != nil {
		return res, err
	}
	cpu, err := srv.cpu()
	if err != nil {
		return res, err
	}
	res.CPUSeconds = cpu.Seconds()
	if res.Seconds > 0 {
		res.ObjectsPerSec = float64(res.Objects) / res.Seconds
	}
	if res.Objects == 0 {
		return res, fmt.Errorf("the feed read nothing")
	}
	if res.Added != res.Objects {
		return res, fmt.Errorf("the feed added %d of the %d objects it read", res.Added, res.Objects)
	}
	return res, nil
}
