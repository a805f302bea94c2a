package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"hail/taxii"
)

// FullPoll is one client paging through a whole collection with limit, as a
// SIEM does on its first poll, repeated (Rounds) until MinTime has passed
// so that small sets give stable figures.
type FullPoll struct {
	Limit         int     `json:"limit"`
	Rounds        int     `json:"rounds"`
	Pages         int     `json:"pages"`
	Objects       int     `json:"objects"` // over all rounds
	Bytes         int64   `json:"bytes"`   // response bodies, over all rounds
	Seconds       float64 `json:"seconds"`
	ObjectsPerSec float64 `json:"objects_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"` // 10^6 bytes per second
	// PercentOfRaw is MBPerSec as a percentage of RawHTTP's.
	PercentOfRaw float64 `json:"percent_of_raw"`
	Page         Latency `json:"page_latency"`
	// ServerCPUSeconds is the CPU time the server used, a figure that
	// other load on the machine disturbs less than the rates.
	ServerCPUSeconds float64 `json:"server_cpu_seconds"`
}

// RawHTTP is the reference: the first pages of the full poll, served again
// from memory by a minimal net/http handler in the harness, and read by the
// same client code. It is what this machine's loopback HTTP can do with
// these bytes.
type RawHTTP struct {
	Pages    int     `json:"pages"`
	Distinct int     `json:"distinct_pages"` // pages held in memory and served in turn
	Objects  int     `json:"objects"`
	Bytes    int64   `json:"bytes"`
	Seconds  float64 `json:"seconds"`
	MBPerSec float64 `json:"mb_per_sec"`
}

// SmallPoll is a number of clients polling for what is new since a
// position near the head of the collection, as SIEMs do every few minutes.
type SmallPoll struct {
	Clients   int     `json:"clients"`
	Limit     int     `json:"limit"`
	Requests  int     `json:"requests"`
	Errors    int     `json:"errors"`
	Seconds   float64 `json:"seconds"`
	ReqPerSec float64 `json:"req_per_sec"`
	Latency
	ServerCPUSeconds float64 `json:"server_cpu_seconds"` // from the start of the clock
}

// maxPollRounds bounds the repetitions of the full poll.
const maxPollRounds = 1000

// fullPoll pages through the collection at objectsURL, in rounds until
// minTime has passed, and returns the figures and up to capture bytes of
// the first pages, for the raw HTTP reference. maxPages bounds one round.
func fullPoll(ctx context.Context, c *client, objectsURL string, limit, maxPages int, minTime time.Duration, capture int64, m cpuMeter) (FullPoll, [][]byte, error) {
	res := FullPoll{Limit: limit}
	var (
		pages    [][]byte
		captured int64
		lat      []time.Duration
		buf      bytes.Buffer
	)
	first := objectsURL + "?limit=" + strconv.Itoa(limit)
	cpu := startCPU(m)
	start := time.Now()
	for res.Rounds < maxPollRounds && (res.Rounds == 0 || time.Since(start) < minTime) {
		res.Rounds++
		u := first
		for n := 0; ; n++ {
			if n == maxPages {
				return res, nil, fmt.Errorf("full poll: more than %d pages", maxPages)
			}
			t0 := time.Now()
			resp, err := c.get(ctx, u, &buf)
			lat = append(lat, time.Since(t0))
			if err != nil {
				return res, nil, fmt.Errorf("full poll: %w", err)
			}
			env, err := scanEnvelope(buf.Bytes())
			if err != nil {
				return res, nil, fmt.Errorf("full poll: page %d: %w", n+1, err)
			}
			res.Pages++
			res.Objects += env.Objects
			res.Bytes += int64(buf.Len())
			if res.Rounds == 1 && captured < capture {
				pages = append(pages, bytes.Clone(buf.Bytes()))
				captured += int64(buf.Len())
			}
			if !env.More {
				break
			}
			if u, err = nextURL(first, env, resp.header); err != nil {
				return res, nil, fmt.Errorf("full poll: page %d: %w", n+1, err)
			}
		}
	}
	res.Seconds = time.Since(start).Seconds()
	res.ServerCPUSeconds = cpu()
	res.ObjectsPerSec = float64(res.Objects) / res.Seconds
	res.MBPerSec = float64(res.Bytes) / 1e6 / res.Seconds
	res.Page = summarize(lat)
	return res, pages, nil
}

// nextURL is the URL of the page after env: by its next token, or, for a
// server that sends none, from the X-TAXII-Date-Added-Last header, as
// taxii2-client and OpenCTI fall back to.
func nextURL(first string, env envelope, h http.Header) (string, error) {
	if env.Next != "" {
		return first + "&next=" + url.QueryEscape(env.Next), nil
	}
	last := h.Get("X-TAXII-Date-Added-Last")
	if last == "" {
		return "", errors.New(`"more" is true but there is neither "next" nor X-TAXII-Date-Added-Last`)
	}
	return first + "&added_after=" + url.QueryEscape(last), nil
}

// rawReference serves pages from memory on a loopback port and reads count
// of them, in turn, with the full poll's client code.
func rawReference(ctx context.Context, pages [][]byte, count int) (RawHTTP, error) {
	res := RawHTTP{Distinct: len(pages)}
	if len(pages) == 0 || count <= 0 {
		return res, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, _ := strconv.Atoi(r.URL.Query().Get("p"))
		w.Header().Set("Content-Type", taxii.MediaType)
		w.Write(pages[i%len(pages)])
	})}
	go srv.Serve(ln)
	defer srv.Close()
	c := newClient(1, "")
	defer c.close()
	base := "http://" + ln.Addr().String() + "/?p="
	var buf bytes.Buffer
	start := time.Now()
	for i := 0; i < count; i++ {
		if _, err := c.get(ctx, base+strconv.Itoa(i), &buf); err != nil {
			return res, fmt.Errorf("raw HTTP reference: %w", err)
		}
		env, err := scanEnvelope(buf.Bytes())
		if err != nil {
			return res, fmt.Errorf("raw HTTP reference: %w", err)
		}
		res.Pages++
		res.Objects += env.Objects
		res.Bytes += int64(buf.Len())
	}
	res.Seconds = time.Since(start).Seconds()
	res.MBPerSec = float64(res.Bytes) / 1e6 / res.Seconds
	return res, nil
}

// maxSmallPolls bounds the requests of one small-poll level.
const maxSmallPolls = 2_000_000

// smallPolls runs clients concurrent pollers against u for d (after a short
// warm-up that opens their connections) and returns their figures. A
// response that is not a non-empty page counts as an error; the first one
// is returned with the figures.
func smallPolls(ctx context.Context, c *client, u string, clients, limit int, d time.Duration, m cpuMeter) (SmallPoll, error) {
	res := SmallPoll{Clients: clients, Limit: limit}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		all      []time.Duration
		firstErr error
		issued   atomic.Int64
		errs     atomic.Int64
	)
	fail := func(err error) {
		errs.Add(1)
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	poll := func(buf *bytes.Buffer) (time.Duration, error) {
		t0 := time.Now()
		_, err := c.get(ctx, u, buf)
		took := time.Since(t0)
		if err != nil {
			return took, err
		}
		env, err := scanEnvelope(buf.Bytes())
		if err == nil && (env.Objects == 0 || env.Objects > limit) {
			err = fmt.Errorf("small poll: got %d objects, want 1 to %d", env.Objects, limit)
		}
		return took, err
	}
	// Warm up: every client opens its connection before the clock starts.
	var ready sync.WaitGroup
	ready.Add(clients)
	startc := make(chan struct{})
	var start time.Time
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			for range 3 {
				if _, err := poll(&buf); err != nil {
					fail(err)
				}
			}
			ready.Done()
			<-startc
			lat := make([]time.Duration, 0, 4096)
			deadline := start.Add(d)
			for time.Now().Before(deadline) && issued.Add(1) <= maxSmallPolls && ctx.Err() == nil {
				took, err := poll(&buf)
				if err != nil {
					fail(err)
					continue
				}
				lat = append(lat, took)
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}()
	}
	ready.Wait()
	cpu := startCPU(m)
	start = time.Now()
	close(startc)
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	res.ServerCPUSeconds = cpu()
	res.Requests = len(all)
	res.Errors = int(errs.Load())
	res.ReqPerSec = float64(res.Requests) / res.Seconds
	res.Latency = summarize(all)
	return res, firstErr
}
