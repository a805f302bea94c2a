package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"hail/bootstrap"
	"hail/stix"
	"hail/stix/pattern"
)

// IOCLookup is clients concurrent consumers looking values up one at a
// time with GET /api/v1/iocs/lookup, as a SIEM playbook enriches alerts.
// One value in ten is absent from the data set.
type IOCLookup struct {
	Clients   int     `json:"clients"`
	Requests  int     `json:"requests"`
	Hits      int     `json:"hits"` // requests whose value had a match
	Errors    int     `json:"errors"`
	Seconds   float64 `json:"seconds"`
	ReqPerSec float64 `json:"req_per_sec"`
	Latency
	ServerCPUSeconds float64 `json:"server_cpu_seconds"`
}

// IOCExport is one consumer downloading every value as a plain-text list
// (GET /api/v1/iocs/export?format=txt), as a firewall's external dynamic
// list does, repeated (Rounds) until the minimum time has passed.
type IOCExport struct {
	Rounds       int     `json:"rounds"`
	Values       int     `json:"values"` // lines, over all rounds
	Bytes        int64   `json:"bytes"`
	Seconds      float64 `json:"seconds"`
	ValuesPerSec float64 `json:"values_per_sec"`
	MBPerSec     float64 `json:"mb_per_sec"`
	// ServerCPUSeconds is the CPU time the server used.
	ServerCPUSeconds float64 `json:"server_cpu_seconds"`
}

// iocCommon are the parameters of every IOC request: the loaded collection,
// and expired values too, since the generated indicators' valid_until
// dates are fixed and so in the past for a run made later: the figures then
// do not depend on the day of the run.
const iocCommon = "collection=" + bootstrap.DefaultAlias + "&include_expired=true"

// errNoIOCAPI is returned when the server does not serve the IOC API.
var errNoIOCAPI = errors.New("the server has no IOC API")

// sampler keeps up to max observable values of the loaded indicators,
// spread over the data set, for the lookups.
type sampler struct {
	every, seen, size int
	values            []string
}

// newSampler returns a sampler of up to size values from a data set of n
// versions, about half of which are indicators.
func newSampler(n, size int) *sampler {
	return &sampler{every: max(1, n/(2*size)), size: size}
}

// add looks at one loaded object.
func (s *sampler) add(o stix.Object) {
	if o.Type != "indicator" || len(s.values) == s.size {
		return
	}
	s.seen++
	if s.seen%s.every != 0 {
		return
	}
	var p struct {
		Pattern string `json:"pattern"`
	}
	if json.Unmarshal(o.Raw, &p) != nil {
		return
	}
	pat, err := pattern.Parse(p.Pattern)
	if err != nil {
		return
	}
	if obs := pat.Observables(); len(obs) > 0 {
		s.values = append(s.values, obs[0].Value)
	}
}

// iocLookups runs clients concurrent consumers for d, each looking up one
// value per request, taken in turn from values (every tenth request looks
// up a value that is absent).
func iocLookups(ctx context.Context, c *client, base string, values []string, clients int, d time.Duration, m cpuMeter) (IOCLookup, error) {
	res := IOCLookup{Clients: clients}
	if len(values) == 0 {
		return res, errors.New("IOC lookup: no indicator values were sampled from the data set")
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		all      []time.Duration
		firstErr error
		issued   atomic.Int64
		hits     atomic.Int64
		errs     atomic.Int64
	)
	lookup := func(i int64, buf *bytes.Buffer) (time.Duration, bool, error) {
		v := values[i%int64(len(values))]
		if i%10 == 9 {
			v = "absent-" + strconv.FormatInt(i, 10) + ".invalid"
		}
		u := base + "/api/v1/iocs/lookup?" + iocCommon + "&value=" + url.QueryEscape(v)
		t0 := time.Now()
		resp, err := c.do(ctx, http.MethodGet, u, nil, buf)
		took := time.Since(t0)
		if err != nil {
			return took, false, err
		}
		if resp.status == http.StatusNotFound {
			return took, false, fmt.Errorf("%w: GET %s answered 404: %.200s", errNoIOCAPI, u, buf.Bytes())
		}
		if resp.status != http.StatusOK {
			return took, false, statusError(http.MethodGet, u, resp.status, buf.Bytes())
		}
		var body struct {
			Data []struct {
				Matches []json.RawMessage `json:"matches"`
			} `json:"data"`
		}
		if err := json.Unmarshal(buf.Bytes(), &body); err != nil || len(body.Data) != 1 {
			return took, false, fmt.Errorf("IOC lookup: unexpected response %.200s", buf.Bytes())
		}
		return took, len(body.Data[0].Matches) > 0, nil
	}
	// One request first: a server without the API is reported as such.
	var probe bytes.Buffer
	if _, _, err := lookup(0, &probe); err != nil {
		return res, err
	}
	cpu := startCPU(m)
	start := time.Now()
	deadline := start.Add(d)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			lat := make([]time.Duration, 0, 4096)
			for time.Now().Before(deadline) && ctx.Err() == nil {
				i := issued.Add(1)
				if i > maxSmallPolls {
					break
				}
				took, hit, err := lookup(i, &buf)
				if err != nil {
					errs.Add(1)
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				if hit {
					hits.Add(1)
				}
				lat = append(lat, took)
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	res.ServerCPUSeconds = cpu()
	res.Requests = len(all)
	res.Hits = int(hits.Load())
	res.Errors = int(errs.Load())
	res.ReqPerSec = float64(res.Requests) / res.Seconds
	res.Latency = summarize(all)
	return res, firstErr
}

// iocExport downloads the plain-text export in rounds until minTime has
// passed.
func iocExport(ctx context.Context, c *client, base string, minTime time.Duration, m cpuMeter) (IOCExport, error) {
	var res IOCExport
	u := base + "/api/v1/iocs/export?format=txt&" + iocCommon
	var buf bytes.Buffer
	cpu := startCPU(m)
	start := time.Now()
	for res.Rounds < maxPollRounds && (res.Rounds == 0 || time.Since(start) < minTime) {
		if _, err := c.get(ctx, u, &buf); err != nil {
			return res, fmt.Errorf("IOC export: %w", err)
		}
		res.Rounds++
		res.Values += bytes.Count(buf.Bytes(), []byte{'\n'})
		res.Bytes += int64(buf.Len())
	}
	res.Seconds = time.Since(start).Seconds()
	res.ServerCPUSeconds = cpu()
	res.ValuesPerSec = float64(res.Values) / res.Seconds
	res.MBPerSec = float64(res.Bytes) / 1e6 / res.Seconds
	return res, nil
}
