package bench

import (
	"fmt"
	"time"

	"hail/stix"
)

// Generator produces the synthetic data set: a deterministic sequence of STIX
// 2.1 object versions. The same seed and size always give the same bytes, so
// figures from different machines and stores describe the same data.
//
// Every object is a pure function of (seed, object number, version), so the
// generator keeps no per-object state and costs O(1) memory whatever N is.
// Objects are emitted in object-number order; a later version of object j is
// emitted lag·(v−1) positions after object j first appeared, as producers
// revise what they published earlier.
type Generator struct {
	seed  uint64
	base  uint64 // number of the first object; keeps separate data sets apart
	lag   uint64
	limit int // versions to emit
	// indicatorsOnly makes every object a single-version indicator: the
	// data set of issue 6's import target, a bundle of indicators.
	indicatorsOnly bool

	next    uint64 // next new object number, relative to base
	pending []pos  // versions due before object next
	stats   DatasetStats
	buf     []byte
}

// pos names one version of one object.
type pos struct {
	k uint64 // object number, absolute
	v int    // version, from 1
}

// DatasetStats describes what a generator has produced so far.
type DatasetStats struct {
	Versions     int            `json:"versions"`      // object versions (what N counts)
	Objects      int            `json:"objects"`       // distinct objects
	MultiVersion int            `json:"multi_version"` // objects with more than one version within the set
	Revoked      int            `json:"revoked"`       // versions with "revoked": true
	Bytes        int64          `json:"bytes"`         // total size of the objects' JSON
	ByType       map[string]int `json:"by_type"`       // versions per STIX type
	// Indicators counts indicator versions per observable kind of their pattern.
	Indicators map[string]int `json:"indicators"`
}

// NewGenerator returns a generator of n object versions from seed.
func NewGenerator(seed int64, n int) *Generator {
	return newGenerator(uint64(seed), 0, n)
}

// NewIndicatorGenerator returns a generator of n indicators from seed, one
// version each, with one observable each in the data set's mix of kinds
// (IPv4 and IPv6 addresses, domains, URLs, hashes…): a feed's bulk export
// rather than a TIP's history. They name creators that the set does not
// hold, which STIX allows.
func NewIndicatorGenerator(seed int64, n int) *Generator {
	g := newGenerator(uint64(seed), 0, n)
	g.indicatorsOnly = true
	return g
}

// newGenerator returns a generator whose object numbers start at base, so
// that two generators with the same seed and different bases (the loaded set
// and the objects POSTed later) never share an id.
func newGenerator(seed, base uint64, n int) *Generator {
	lag := uint64(n / 50)
	lag = max(1, min(lag, 1000))
	return &Generator{
		seed: seed, base: base, lag: lag, limit: n,
		stats: DatasetStats{ByType: map[string]int{}, Indicators: map[string]int{}},
	}
}

// Stats returns what the generator has produced so far.
func (g *Generator) Stats() DatasetStats { return g.stats }

// Next returns up to max further object versions, parsed by stix.Parse, and
// nil when the set is exhausted. The objects' Raw bytes are not reused.
func (g *Generator) Next(max int) ([]stix.Object, error) {
	n := min(max, g.limit-g.stats.Versions)
	if n <= 0 {
		return nil, nil
	}
	batch := make([]pos, 0, n)
	for len(batch) < n {
		if len(g.pending) == 0 {
			g.advance()
		}
		batch = append(batch, g.pending[0])
		g.pending = g.pending[1:]
	}
	// One arena per batch: few allocations, and slices of it stay valid
	// because a new arena is made for the next batch.
	arena := make([]byte, 0, n*1100)
	ends := make([]int, n)
	for i, p := range batch {
		arena = g.appendObject(arena, p)
		ends[i] = len(arena)
	}
	objs := make([]stix.Object, n)
	start := 0
	for i, p := range batch {
		raw := arena[start:ends[i]:ends[i]]
		start = ends[i]
		o, err := stix.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("generated object %d version %d: %w: %s", p.k, p.v, err, raw)
		}
		objs[i] = o
		g.count(p, o)
	}
	return objs, nil
}

// advance queues the first version of the next object and the later versions
// that fall due at this point of the stream.
func (g *Generator) advance() {
	k := g.base + g.next
	g.pending = append(g.pending[:0], pos{k, 1})
	for v := 2; v <= maxVersions; v++ {
		back := g.lag * uint64(v-1)
		if g.next < back {
			break
		}
		if j := k - back; g.versions(j) >= v {
			g.pending = append(g.pending, pos{j, v})
		}
	}
	g.next++
}

// count adds one emitted version to the statistics.
func (g *Generator) count(p pos, o stix.Object) {
	s := &g.stats
	s.Versions++
	s.Bytes += int64(len(o.Raw))
	s.ByType[o.Type]++
	if o.Revoked {
		s.Revoked++
	}
	if p.v == 1 {
		s.Objects++
		if o.Type == "indicator" {
			s.Indicators[g.indicatorKind(p.k).name]++
		}
	}
	if p.v == 2 {
		s.MultiVersion++
	}
}

// maxVersions is the most versions one object gets.
const maxVersions = 4

// versions is how many versions object k has in an unbounded stream: 85%
// have one, 15% several (10% two, 4% three, 1% four).
func (g *Generator) versions(k uint64) int {
	if g.indicatorsOnly {
		return 1
	}
	switch r := g.hash(saltVersions, k) % 100; {
	case r < 85:
		return 1
	case r < 95:
		return 2
	case r < 99:
		return 3
	}
	return 4
}

// revoked reports whether the last version of object k revokes it: one in
// seven of the objects with several versions, about 2% of all objects.
func (g *Generator) revoked(k uint64) bool {
	return g.versions(k) > 1 && g.hash(saltRevoked, k)%7 == 0
}

// Salts keep the hash streams of different properties independent.
const (
	saltKind uint64 = iota + 1
	saltVersions
	saltRevoked
	saltID1
	saltID2
	saltBody
	saltVersion
	saltIndicator
)

// hash mixes the seed, a salt and an object number (splitmix64's finaliser).
func (g *Generator) hash(salt, k uint64) uint64 {
	z := g.seed ^ salt*0xd1b54a32d192ed03 ^ k*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// rng is splitmix64: small, fast and plenty for varying synthetic data.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// intn returns a number in [0, n).
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// pick returns one of list.
func pick[T any](r *rng, list []T) T { return list[r.intn(len(list))] }

// epoch is when the synthetic feed starts publishing.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// created is when object k was first published: one object every 7 s of
// the feed's life (a million objects span about 81 days), plus a jitter of
// milliseconds.
func (g *Generator) created(k uint64) time.Time {
	i := k - g.base
	return epoch.Add(time.Duration(i)*7*time.Second + time.Duration(g.hash(saltBody, k)%1000)*time.Millisecond)
}

// modified is when version v of object k was published: each revision comes
// 6 to 54 hours after the one before.
func (g *Generator) modified(k uint64, v int) time.Time {
	t := g.created(k)
	for i := 2; i <= v; i++ {
		t = t.Add(6*time.Hour + time.Duration(g.hash(saltVersion, k<<3|uint64(i))%(48*3600))*time.Second)
	}
	return t
}

// ingestBase is the first object number of the objects POSTed during a run,
// far beyond any loaded set, so that they are new to the store.
const ingestBase = 1 << 40
