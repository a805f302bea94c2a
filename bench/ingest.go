package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"hail/taxii"
)

// Ingest is producers adding objects with POST (TAXII 2.1 §5.5), in
// envelopes of Envelope objects, Clients at a time. The objects are new to
// the collection.
type Ingest struct {
	Envelope      int     `json:"envelope"`
	Clients       int     `json:"clients"`
	Requests      int     `json:"requests"`
	Objects       int     `json:"objects"`  // objects the server reported as added
	Failures      int     `json:"failures"` // objects not added, and objects of failed requests
	Seconds       float64 `json:"seconds"`
	ObjectsPerSec float64 `json:"objects_per_sec"`
	Latency       Latency `json:"request_latency"`
	// ServerCPUSeconds is the CPU time the server used.
	ServerCPUSeconds float64 `json:"server_cpu_seconds"`
}

// envelopeBody is one request body and the number of objects in it.
type envelopeBody struct {
	body    []byte
	objects int
}

// envelopes generates the bodies to POST, before the clock starts.
func envelopes(g *Generator, size int) ([]envelopeBody, error) {
	var bodies []envelopeBody
	for {
		objs, err := g.Next(size)
		if err != nil {
			return nil, err
		}
		if objs == nil {
			return bodies, nil
		}
		n := 16
		for _, o := range objs {
			n += len(o.Raw) + 1
		}
		b := make([]byte, 0, n)
		b = append(b, `{"objects":[`...)
		for i, o := range objs {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, o.Raw...)
		}
		bodies = append(bodies, envelopeBody{append(b, "]}"...), len(objs)})
	}
}

// ingest POSTs bodies to objectsURL from clients concurrent producers and
// checks every status resource. It returns the first failure with the
// figures.
func ingest(ctx context.Context, c *client, objectsURL string, bodies []envelopeBody, size, clients int, m cpuMeter) (Ingest, error) {
	res := Ingest{Envelope: size, Clients: clients}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		all      []time.Duration
		firstErr error
		next     atomic.Int64
		added    atomic.Int64
		failed   atomic.Int64
	)
	cpu := startCPU(m)
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			var lat []time.Duration
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) {
					break
				}
				t0 := time.Now()
				ok, bad, err := post(ctx, c, objectsURL, bodies[i], &buf)
				lat = append(lat, time.Since(t0))
				added.Add(int64(ok))
				failed.Add(int64(bad))
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
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
	res.Objects = int(added.Load())
	res.Failures = int(failed.Load())
	res.ObjectsPerSec = float64(res.Objects) / res.Seconds
	res.Latency = summarize(all)
	return res, firstErr
}

// post sends one envelope and returns how many of its objects the status
// resource reports as added and as not added.
func post(ctx context.Context, c *client, u string, e envelopeBody, buf *bytes.Buffer) (int, int, error) {
	resp, err := c.do(ctx, http.MethodPost, u, e.body, buf)
	if err != nil {
		return 0, e.objects, fmt.Errorf("ingest: %w", err)
	}
	if resp.status != http.StatusAccepted {
		return 0, e.objects, statusError(http.MethodPost, u, resp.status, buf.Bytes())
	}
	var st taxii.Status
	if err := json.Unmarshal(buf.Bytes(), &st); err != nil {
		return 0, e.objects, fmt.Errorf("ingest: status resource: %w", err)
	}
	if st.SuccessCount != st.TotalCount {
		err = fmt.Errorf("ingest: %d of %d objects failed: %v", st.TotalCount-st.SuccessCount, st.TotalCount, st.Failures)
	}
	return st.SuccessCount, st.TotalCount - st.SuccessCount, err
}
