package bench

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"hail/bootstrap"
	"hail/taxii"
)

// Pull is `hail pull` mirroring the newest part of the served collection
// into a new SQLite store: the path of a scheduled TAXII feed between two
// hail servers. Objects is what the pull fetched: the default view holds
// only the latest version of each object, so it can be fewer than the
// versions added after the starting point.
type Pull struct {
	Objects       int     `json:"objects"` // fetched
	Added         int     `json:"added"`
	Seconds       float64 `json:"seconds"`
	ObjectsPerSec float64 `json:"objects_per_sec"`
	// CPUSeconds is the CPU time of the pulling process (client and local
	// store); ServerCPUSeconds that of the server it pulled from.
	CPUSeconds       float64 `json:"cpu_seconds"`
	ServerCPUSeconds float64 `json:"server_cpu_seconds"`
}

// pullCounts reads "fetched:" and "added:" from pull's summary.
var pullCounts = regexp.MustCompile(`(?m)^(fetched|added):\s+(\d+)$`)

// pull runs `hail pull` from the server's collection coll, starting after
// from, into a new SQLite file in dir.
func pull(ctx context.Context, binary, dir, base, coll, key string, from time.Time, m cpuMeter) (Pull, error) {
	var res Pull
	args := []string{"pull", "--db", filepath.Join(dir, "pull.db"),
		"--url", base + "/taxii2/" + bootstrap.APIRootName + "/", "--taxii-collection", coll, "--token", key}
	if !from.IsZero() {
		args = append(args, "--added-after", taxii.FormatTimestamp(from))
	}
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = environWithout("HAIL_")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cpu := startCPU(m)
	start := time.Now()
	err := cmd.Run()
	res.Seconds = time.Since(start).Seconds()
	res.ServerCPUSeconds = cpu()
	if err != nil {
		return res, fmt.Errorf("hail pull: %v\n%s%s", err, stdout.Bytes(), stderr.Bytes())
	}
	if ps := cmd.ProcessState; ps != nil {
		res.CPUSeconds = (ps.UserTime() + ps.SystemTime()).Seconds()
	}
	for _, m := range pullCounts.FindAllSubmatch(stdout.Bytes(), -1) {
		n, _ := strconv.Atoi(string(m[2]))
		if string(m[1]) == "fetched" {
			res.Objects = n
		} else {
			res.Added = n
		}
	}
	if res.Objects == 0 {
		return res, fmt.Errorf("hail pull fetched nothing:\n%s%s", stdout.Bytes(), stderr.Bytes())
	}
	if res.Added != res.Objects {
		err = fmt.Errorf("hail pull added %d of the %d objects it fetched", res.Added, res.Objects)
	}
	res.ObjectsPerSec = float64(res.Objects) / res.Seconds
	return res, err
}
