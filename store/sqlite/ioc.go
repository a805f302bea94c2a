package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"hail"
	"hail/store"
)

// stmtCache keeps read statements prepared on the read pool, by query
// text. modernc.org/sqlite spends hundreds of microseconds preparing a
// query of a few joins, more than running it, so queries that run often
// have a fixed text (lists go in as one JSON argument) and are prepared
// once.
type stmtCache struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// maxCachedStmts bounds the cache; query texts are a small fixed set but
// for the listing's filter shapes.
const maxCachedStmts = 256

// query runs the query text on the read pool through a cached statement.
func (db *DB) query(ctx context.Context, text string, args ...any) (*sql.Rows, error) {
	c := &db.reads
	c.mu.Lock()
	st := c.stmts[text]
	if st == nil && len(c.stmts) < maxCachedStmts {
		var err error
		if st, err = db.read.PrepareContext(ctx, text); err != nil {
			c.mu.Unlock()
			return nil, err
		}
		if c.stmts == nil {
			c.stmts = make(map[string]*sql.Stmt)
		}
		c.stmts[text] = st
	}
	c.mu.Unlock()
	if st == nil {
		return db.read.QueryContext(ctx, text, args...)
	}
	return st.QueryContext(ctx, args...)
}

// close closes the cached statements.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = nil
}

// iocWriter writes the IOC index (0007_ioc_versions.sql) inside one write
// transaction; its statements are prepared on first use.
type iocWriter struct {
	ctx                   context.Context
	tx                    *sql.Tx
	insert, meta, setName *sql.Stmt
}

// prepare prepares the statements once per transaction.
func (iw *iocWriter) prepare() error {
	if iw.insert != nil {
		return nil
	}
	var err error
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = iw.tx.PrepareContext(iw.ctx, q)
		return st
	}
	iw.insert = prep(`INSERT INTO iocs (object, ordinal, type, value, plen, net, confidence, valid_until, revoked)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	// OR IGNORE: stores converted by 0007 kept the listing fields of
	// versions that had been superseded.
	iw.meta = prep(`INSERT OR IGNORE INTO ioc_meta (object, name, description, threat_type, labels, tlp, created_by,
		valid_from, created, modified, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	iw.setName = prep(`INSERT INTO identity_names (stix_id, version, name) VALUES (?, ?, ?)
		ON CONFLICT (stix_id) DO UPDATE SET version = excluded.version, name = excluded.name
		WHERE excluded.version >= identity_names.version`)
	return err
}

// index writes the IOC rows of v's objects row, an indicator or a
// vulnerability, once whatever the number of collections that will hold
// it. Whether a collection shows them is decided when reading.
func (iw *iocWriter) index(v *arrival) error {
	info := v.inspect()
	if len(info.Observables) == 0 {
		return nil
	}
	if err := iw.prepare(); err != nil {
		return err
	}
	labels, err := json.Marshal(info.Labels)
	if err != nil {
		return err
	}
	o := v.obj
	if _, err := iw.meta.ExecContext(iw.ctx, v.rid, info.Name, info.Description, info.ThreatType(), string(labels),
		info.TLP, info.CreatedBy, micros(info.ValidFrom), o.Created, o.Modified, versionNanos(o.Version)); err != nil {
		return err
	}
	var confidence any
	if info.Confidence != nil {
		confidence = *info.Confidence
	}
	for i, ob := range info.Observables {
		var plen, network any
		if p, n, ok := store.BlockKey(ob.Value); ok && ob.Type == "cidr" {
			plen, network = p, n
		}
		if _, err := iw.insert.ExecContext(iw.ctx, v.rid, i, ob.Type, ob.Value, plen, network,
			confidence, micros(info.ValidUntil), o.Revoked); err != nil {
			return err
		}
	}
	return nil
}

// recordIdentities keeps identity_names up to date with the identities
// among arrivals.
func (w *writer) recordIdentities(arrivals []*arrival) error {
	for _, v := range arrivals {
		if v.obj.Type != "identity" {
			continue
		}
		if err := w.iocs.prepare(); err != nil {
			return err
		}
		if _, err := w.iocs.setName.ExecContext(w.ctx, v.obj.ID, versionNanos(v.obj.Version), v.inspect().Name); err != nil {
			return err
		}
	}
	return nil
}

// indexVersionsBatch is how many objects rows indexVersions reads at once.
const indexVersionsBatch = 500

// indexVersions completes 0007_ioc_versions.sql: it writes the IOC rows of
// the objects rows of indicators and vulnerabilities that have none, the
// versions the old index did not hold, reading the rows in batches so
// that no query is open while it writes.
func indexVersions(ctx context.Context, tx *sql.Tx) error {
	iw := &iocWriter{ctx: ctx, tx: tx}
	var after int64
	for {
		batch, err := unindexedVersions(ctx, tx, after)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		for _, v := range batch {
			if err := iw.index(v); err != nil {
				return err
			}
		}
		after = batch[len(batch)-1].rid
	}
}

// unindexedVersions returns up to indexVersionsBatch objects rows after rid
// after, in rid order, of the types store.Indexed accepts, without IOC rows.
func unindexedVersions(ctx context.Context, tx *sql.Tx, after int64) ([]*arrival, error) {
	rows, err := tx.QueryContext(ctx, `SELECT rid, stix_id, type, spec_version, version, created, modified, revoked, raw
		FROM objects WHERE rid > ? AND type IN ('indicator', 'vulnerability')
			AND NOT EXISTS (SELECT 1 FROM iocs WHERE iocs.object = objects.rid)
		ORDER BY rid LIMIT ?`, after, indexVersionsBatch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*arrival
	for rows.Next() {
		v := &arrival{}
		var ns int64
		o := &v.obj
		if err := rows.Scan(&v.rid, &o.ID, &o.Type, &o.SpecVersion, &ns, &o.Created, &o.Modified, &o.Revoked,
			(*[]byte)(&o.Raw)); err != nil {
			return nil, err
		}
		o.Version = objectVersion(ns, o.Created, o.Modified)
		out = append(out, v)
	}
	return out, rows.Err()
}

// iocColumns are what a listing reads of a row, the collection's entry of
// its object version (aliased e), the version's listing fields and the
// indicator's creator, in scanIOC's order.
const iocColumns = `e.date_added, i.ordinal, e.stix_id, i.type, i.value, i.confidence, i.valid_until, i.revoked,
	m.name, m.description, m.threat_type, m.labels, m.tlp, m.created_by, m.valid_from, m.created, m.modified,
	m.version, coalesce(n.name, '')`

// iocJoins follows a row (aliased i) to its indicator version and creator.
const iocJoins = ` JOIN ioc_meta AS m ON m.object = i.object LEFT JOIN identity_names AS n ON n.stix_id = m.created_by`

// currentEntry is the condition on the entry e by which collection ? shows
// an IOC row: the entry is of the default TAXII view, the latest version of
// the newest spec_version. Spelt out as entries_current's WHERE so that the
// planner may use that partial index.
const currentEntry = "e.collection = ? AND e.is_last = 1 AND e.latest_spec = 1"

// scanIOC reads one row of iocColumns.
func scanIOC(rows *sql.Rows) (store.IOC, error) {
	var c store.IOC
	var da, validUntil, validFrom, ns int64
	var confidence sql.NullInt64
	var labels string
	if err := rows.Scan(&da, &c.Ordinal, &c.IndicatorID, &c.Type, &c.Value, &confidence, &validUntil, &c.Revoked,
		&c.Name, &c.Description, &c.ThreatType, &labels, &c.TLP, &c.CreatedBy, &validFrom, &c.Created, &c.Modified,
		&ns, &c.Source); err != nil {
		return c, err
	}
	if confidence.Valid {
		n := int(confidence.Int64)
		c.Confidence = &n
	}
	if err := json.Unmarshal([]byte(labels), &c.Labels); err != nil {
		return c, err
	}
	c.ID = store.IOCID(c.IndicatorID, c.Type, c.Value)
	c.DateAdded, c.ValidUntil, c.ValidFrom = fromMicros(da), fromMicros(validUntil), fromMicros(validFrom)
	c.Version = objectVersion(ns, c.Created, c.Modified)
	return c, nil
}

// iocConditions adds f's confidence, expiry and revocation conditions on
// rows aliased i.
func iocConditions(q *query, f store.IOCFilter, now time.Time) {
	if f.MinConfidence != nil {
		q.and("i.confidence >= ?", *f.MinConfidence)
	}
	if !f.IncludeExpired {
		q.and("(i.valid_until = 0 OR i.valid_until > ?)", now.UnixMicro())
	}
	if !f.IncludeRevoked {
		q.and("i.revoked = 0")
	}
}

// IOCs returns one page of the collection's IOC index matching f. It walks
// the collection's current entries in date_added order and reads the IOC
// rows of each entry's object version in ordinal order, so that the page
// comes out in cursor order without a sort; but for types that the store
// holds few rows of (see rareTypes), it reads those rows and sorts them.
func (db *DB) IOCs(ctx context.Context, collectionID string, f store.IOCFilter) (store.IOCPage, error) {
	seq, err := collectionSeq(ctx, db.read, collectionID)
	if err != nil {
		return store.IOCPage{}, err
	}
	n := f.PageSize()
	byType := false
	if len(f.Types) > 0 {
		if byType, err = db.rareTypes(ctx, distinct(f.Types), n); err != nil {
			return store.IOCPage{}, fmt.Errorf("IOCs: %w", err)
		}
	}
	return db.iocPage(ctx, seq, f, byType)
}

// iocPage reads one page of collection seq's IOC index through the plan
// byType selects (see selectIOCs).
func (db *DB) iocPage(ctx context.Context, seq int64, f store.IOCFilter, byType bool) (store.IOCPage, error) {
	n := f.PageSize()
	q, args := selectIOCs(seq, f, db.nowOr(f.Now), n+1, byType)
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return store.IOCPage{}, fmt.Errorf("IOCs: %w", err)
	}
	defer rows.Close()
	p := store.IOCPage{IOCs: make([]store.IOC, 0, min(n, 1024))}
	for rows.Next() {
		if len(p.IOCs) == n {
			p.More = true
			break
		}
		c, err := scanIOC(rows)
		if err != nil {
			return store.IOCPage{}, fmt.Errorf("IOCs: %w", err)
		}
		p.IOCs = append(p.IOCs, c)
	}
	if err := rows.Err(); err != nil {
		return store.IOCPage{}, fmt.Errorf("IOCs: %w", err)
	}
	return p, nil
}

// rareTypes reports whether the store holds at most max(1000, limit) IOC
// rows of types, counted in iocs_value up to that bound. Then a page
// cannot fill, so walking the collection's entries would read all of them
// to the end, O(collection) for a rare type; reading every row of the
// types and sorting costs at most the bound instead. Above it, the walk
// is cheaper per row than probing entries for each row and sorting.
func (db *DB) rareTypes(ctx context.Context, types []string, limit int) (bool, error) {
	bound := max(1000, limit)
	list, _ := json.Marshal(types) // strings always encode
	rows, err := db.query(ctx, `SELECT count(*) FROM (SELECT 1 FROM iocs
		WHERE type IN (SELECT value FROM json_each(?)) LIMIT ?)`, string(list), bound+1)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	var n int
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return false, err
		}
	}
	return n <= bound, rows.Err()
}

// selectIOCs returns the query of the first limit rows of collection seq
// that f matches at now, in (date_added, ordinal) order, and its arguments.
// byType reads the rows of f's types through iocs_value and sorts them,
// rather than walking the collection's entries.
func selectIOCs(seq int64, f store.IOCFilter, now time.Time, limit int, byType bool) (string, []any) {
	// The start position: after the cursor, or after every row of the
	// Since microsecond, whichever is later.
	after, ordinal := int64(math.MinInt64), math.MaxInt32
	if !f.After.DateAdded.IsZero() {
		after, ordinal = f.After.DateAdded.UnixMicro(), f.After.Ordinal
	}
	if !f.Since.IsZero() && f.Since.UnixMicro() >= after {
		after, ordinal = f.Since.UnixMicro(), math.MaxInt32
	}
	var q query
	q.and(currentEntry, seq)
	byType = byType && len(f.Types) > 0
	if !byType {
		// The range of entries_current to walk; the row comparison
		// below drops the rows of the cursor's entry up to its ordinal.
		// Probing entries by object instead, it would lure the planner
		// to that range of entries_current for each row.
		q.and("e.date_added >= ?", after)
	}
	// Other objects have no IOC rows: skip them before probing iocs.
	q.and("e.type IN ('indicator', 'vulnerability')")
	q.and("(e.date_added, i.ordinal) > (?, ?)", after, ordinal)
	switch types := distinct(f.Types); len(types) {
	case 0:
	case 1:
		q.and("i.type = ?", types[0])
	default:
		list, _ := json.Marshal(types) // strings always encode
		q.and("i.type IN (SELECT value FROM json_each(?))", string(list))
	}
	iocConditions(&q, f, now)
	// CROSS JOIN fixes which table is the outer loop; the planner, left
	// to choose, does not know how rare a type is.
	from := ` FROM entries AS e CROSS JOIN iocs AS i ON i.object = e.object`
	if byType {
		from = ` FROM iocs AS i CROSS JOIN entries AS e ON e.object = i.object`
	}
	return `SELECT ` + iocColumns + from + iocJoins + ` WHERE ` + q.cond.String() +
		` ORDER BY e.date_added, i.ordinal LIMIT ?`, append(q.args, limit)
}

// LookupIOCs finds the rows of the collection's IOC index that answer
// values: exact matches through (type, value), and addresses in blocks by
// probing, for each prefix length the index's blocks have, the block that
// would hold the address (see store.BlockKey); each row found is kept when
// the collection's entry of its object version is current. It runs three
// statements whatever the number of values: the lists go in as JSON, which
// SQLite reads as a table it probes the index with.
func (db *DB) LookupIOCs(ctx context.Context, collectionID string, values []store.IOCValue, f store.IOCFilter) ([]store.IOCMatch, error) {
	if len(values) > store.MaxLookup {
		return nil, hail.Errorf(hail.EINVALID, "At most %d values can be looked up at once, not %d.", store.MaxLookup, len(values))
	}
	seq, err := collectionSeq(ctx, db.read, collectionID)
	if err != nil {
		return nil, err
	}
	l := store.NewIOCLookup(values)
	now := db.nowOr(f.Now)
	var pairs [][2]string
	for typ, vs := range l.ByType() {
		for _, v := range vs {
			pairs = append(pairs, [2]string{typ, v})
		}
	}
	if err := db.lookupRows(ctx, exactQuery(seq, pairs, f, now), l.AddExact); err != nil {
		return nil, err
	}
	if !l.HasAddresses() {
		return l.Matches(), nil
	}
	plens, err := db.blockLengths(ctx)
	if err != nil {
		return nil, err
	}
	var blocks []block
	for _, plen := range plens {
		for _, n := range l.Networks(plen) {
			blocks = append(blocks, block{plen, n})
		}
	}
	if len(blocks) > 0 {
		if err := db.lookupRows(ctx, blockQuery(seq, blocks, f, now), l.AddBlock); err != nil {
			return nil, err
		}
	}
	return l.Matches(), nil
}

// block is a cidr row's key.
type block struct {
	plen    int
	network []byte
}

// exactQuery selects the rows collection seq shows whose (type, value) is
// one of pairs.
func exactQuery(seq int64, pairs [][2]string, f store.IOCFilter, now time.Time) query {
	list, _ := json.Marshal(pairs) // strings always encode
	var q query
	q.and("(i.type, i.value) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?))", string(list))
	q.and(currentEntry, seq)
	iocConditions(&q, f, now)
	return q
}

// blockQuery selects the cidr rows collection seq shows whose key is one
// of blocks.
func blockQuery(seq int64, blocks []block, f store.IOCFilter, now time.Time) query {
	var b strings.Builder
	b.WriteByte('[')
	for i, k := range blocks {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "[%d,%q]", k.plen, hex.EncodeToString(k.network))
	}
	b.WriteByte(']')
	var q query
	// Spelt out so that the planner may use iocs_cidr, a partial index.
	q.and("i.plen IS NOT NULL")
	q.and("(i.plen, i.net) IN (SELECT value ->> 0, unhex(value ->> 1) FROM json_each(?))", b.String())
	q.and(currentEntry, seq)
	iocConditions(&q, f, now)
	return q
}

// lookupSQL is the text of a lookup query. CROSS JOIN keeps iocs the outer
// loop, probed by value, with each row's entry found by entries_object.
func lookupSQL(q query) string {
	return `SELECT ` + iocColumns + ` FROM iocs AS i CROSS JOIN entries AS e ON e.object = i.object` + iocJoins +
		` WHERE ` + q.cond.String()
}

// lookupRows runs a lookup query and hands each row to add.
func (db *DB) lookupRows(ctx context.Context, q query, add func(store.IOC)) error {
	rows, err := db.query(ctx, lookupSQL(q), q.args...)
	if err != nil {
		return fmt.Errorf("lookup IOCs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanIOC(rows)
		if err != nil {
			return fmt.Errorf("lookup IOCs: %w", err)
		}
		add(c)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("lookup IOCs: %w", err)
	}
	return nil
}

// blockLengths returns the distinct prefix lengths of the index's cidr
// rows, each found with one probe of iocs_cidr (a skip scan), so that the
// cost grows with the number of lengths, not of blocks. They are the
// store's, not the collection's: a length no block of the collection has
// costs one probe that finds nothing.
func (db *DB) blockLengths(ctx context.Context) ([]int, error) {
	rows, err := db.query(ctx, blockLengthsSQL)
	if err != nil {
		return nil, fmt.Errorf("lookup IOCs: %w", err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var l int
		if err := rows.Scan(&l); err != nil {
			return nil, fmt.Errorf("lookup IOCs: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// blockLengthsSQL lists the distinct plen of the index, one index probe
// each.
const blockLengthsSQL = `WITH RECURSIVE p(l) AS (
		SELECT (SELECT min(plen) FROM iocs WHERE plen IS NOT NULL)
		UNION ALL
		SELECT (SELECT min(plen) FROM iocs WHERE plen > p.l) FROM p WHERE p.l IS NOT NULL)
	SELECT l FROM p WHERE l IS NOT NULL`
