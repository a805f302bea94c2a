// Package metrics exposes hail's Prometheus metrics: requests by route and
// status, request latency, objects served and ingested, plan throttling, and
// the size of every collection in the store.
//
// Each Metrics has its own registry rather than the global one, so that two
// servers in one process (or in one test binary) never share counters.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"hail"
	"hail/store"
)

// DefaultStoreTTL is how long WatchStore reuses the collection sizes it last
// read, so that frequent or concurrent scrapes do not each count every
// collection.
const DefaultStoreTTL = 15 * time.Second

// latencyBuckets spread from a cached discovery answer (about a millisecond)
// to a large page or import (tens of seconds).
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// Metrics holds the collectors of one server. Its methods are safe for
// concurrent use; a nil *Metrics records nothing.
type Metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	served    *prometheus.CounterVec
	ingested  prometheus.Counter
	throttled *prometheus.CounterVec
	// series caches the children of requests and duration by route and
	// status, which saves hashing the labels twice on every request.
	series sync.Map // seriesKey → *requestSeries
}

type seriesKey struct {
	route  string
	status int
}

type requestSeries struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// New returns Metrics with their own registry, which also holds the Go
// runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hail_http_requests_total",
			Help: "HTTP requests answered, by route pattern and status code.",
		}, []string{"route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hail_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern and status code.",
			Buckets: latencyBuckets,
		}, []string{"route", "status"}),
		served: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hail_objects_served_total",
			Help: "STIX objects and IOCs sent to clients, by route pattern.",
		}, []string{"route"}),
		ingested: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hail_objects_ingested_total",
			Help: "New object versions stored through TAXII POST and the import API.",
		}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hail_plan_throttled_total",
			Help: "Requests refused with 429 by a key's plan, by plan name.",
		}, []string{"plan"}),
	}
	m.reg.MustRegister(
		m.requests, m.duration, m.served, m.ingested, m.throttled,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry returns the registry, to add collectors of other components.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats. A
// collector that fails leaves its metrics out rather than failing the
// whole scrape.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Request records one answered request. route is the pattern that matched,
// never the raw path, so that the number of series stays bounded.
func (m *Metrics) Request(route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	k := seriesKey{route, status}
	v, ok := m.series.Load(k)
	if !ok {
		code := strconv.Itoa(status)
		v, _ = m.series.LoadOrStore(k, &requestSeries{
			count:    m.requests.WithLabelValues(route, code),
			duration: m.duration.WithLabelValues(route, code),
		})
	}
	rs := v.(*requestSeries)
	rs.count.Inc()
	rs.duration.Observe(d.Seconds())
}

// ObjectsServed adds n objects sent by a request to route.
func (m *Metrics) ObjectsServed(route string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.served.WithLabelValues(route).Add(float64(n))
}

// ObjectsIngested adds n new object versions stored.
func (m *Metrics) ObjectsIngested(n int) {
	if m == nil || n <= 0 {
		return
	}
	m.ingested.Add(float64(n))
}

// Throttled counts one request refused with 429 by plan.
func (m *Metrics) Throttled(plan string) {
	if m == nil {
		return
	}
	m.throttled.WithLabelValues(plan).Inc()
}

// WatchStore registers gauges of every collection's size in st, read at
// scrape time and reused for ttl (DefaultStoreTTL when 0).
func (m *Metrics) WatchStore(st store.Store, ttl time.Duration) {
	if ttl <= 0 {
		ttl = DefaultStoreTTL
	}
	m.reg.MustRegister(&storeCollector{st: st, ttl: ttl, now: time.Now})
}

var (
	objectsDesc = prometheus.NewDesc("hail_store_objects",
		"Distinct objects in a collection.", []string{"api_root", "collection", "alias"}, nil)
	versionsDesc = prometheus.NewDesc("hail_store_object_versions",
		"Object versions in a collection.", []string{"api_root", "collection", "alias"}, nil)
	upDesc = prometheus.NewDesc("hail_store_stats_up",
		"1 if the last count of the store's collections succeeded, 0 if it failed.", nil, nil)
)

// storeCollector reads collection sizes at scrape time.
type storeCollector struct {
	st  store.Store
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex // held through a refresh, so concurrent scrapes share it
	read    time.Time
	sizes   []collectionSize
	lastErr error
}

type collectionSize struct {
	root, id, alias string
	stats           store.CollectionStats
}

// Describe sends the descriptors of the store gauges.
func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- objectsDesc
	ch <- versionsDesc
	ch <- upDesc
}

// Collect sends the sizes, counting them again once the cache is stale. A
// failed count keeps the previous sizes and reports hail_store_stats_up 0.
func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); c.read.IsZero() || now.Sub(c.read) >= c.ttl {
		sizes, err := c.count()
		c.read, c.lastErr = now, err
		if err == nil {
			c.sizes = sizes
		}
	}
	up := 1.0
	if c.lastErr != nil {
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, up)
	for _, s := range c.sizes {
		ch <- prometheus.MustNewConstMetric(objectsDesc, prometheus.GaugeValue, float64(s.stats.Objects), s.root, s.id, s.alias)
		ch <- prometheus.MustNewConstMetric(versionsDesc, prometheus.GaugeValue, float64(s.stats.Versions), s.root, s.id, s.alias)
	}
}

// count reads the size of every collection of every API root. A collection
// deleted between the listing and its count is left out.
func (c *storeCollector) count() ([]collectionSize, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	roots, err := c.st.APIRoots(ctx)
	if err != nil {
		return nil, err
	}
	var sizes []collectionSize
	for _, r := range roots {
		cols, err := c.st.Collections(ctx, r.Name)
		if err != nil {
			return nil, err
		}
		for _, col := range cols {
			stats, err := c.st.CollectionStats(ctx, col.ID)
			if err != nil {
				if hail.ErrorCode(err) == hail.ENOTFOUND {
					continue
				}
				return nil, err
			}
			sizes = append(sizes, collectionSize{root: r.Name, id: col.ID, alias: col.Alias, stats: stats})
		}
	}
	return sizes, nil
}
