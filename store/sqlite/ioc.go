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

// iocWriter maintains the IOC index (0002_ioc.sql) inside one write
// transaction; its statements are prepared on first use.
type iocWriter struct {
	ctx              context.Context
	tx               *sql.Tx
	insert, meta     *sql.Stmt
	replace, setName *sql.Stmt
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
	iw.insert = prep(`INSERT INTO iocs (date_added, ordinal, collection, stix_id, object, type, value, plen, net,
		confidence, valid_until, revoked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	iw.meta = prep(`INSERT OR IGNORE INTO ioc_meta (object, name, description, threat_type, labels, tlp, created_by,
		valid_from, created, modified, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	iw.replace = prep(`DELETE FROM iocs WHERE date_added = ?`)
	iw.setName = prep(`INSERT INTO identity_names (stix_id, version, name) VALUES (?, ?, ?)
		ON CONFLICT (stix_id) DO UPDATE SET version = excluded.version, name = excluded.name
		WHERE excluded.version >= identity_names.version`)
	return err
}

// index makes v, stored in collection seq with date_added da, the current
// version of its object in the IOC index. superseded is the date_added of
// the version it supersedes, whose rows it drops, or 0: only the current
// version of an object has rows.
func (iw *iocWriter) index(seq int64, v *arrival, da, superseded int64) error {
	if err := iw.prepare(); err != nil {
		return err
	}
	if superseded != 0 {
		if _, err := iw.replace.ExecContext(iw.ctx, superseded); err != nil {
			return err
		}
	}
	info := v.inspect()
	if len(info.Observables) == 0 {
		return nil
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
		if _, err := iw.insert.ExecContext(iw.ctx, da, i, seq, o.ID, v.rid, ob.Type, ob.Value, plen, network,
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

// reindex rebuilds the IOC rows of one object of collection seq from its
// newest remaining version, after versions were deleted.
func (iw *iocWriter) reindex(seq int64, objectID string) error {
	if _, err := iw.tx.ExecContext(iw.ctx, `DELETE FROM iocs WHERE date_added IN (
		SELECT date_added FROM entries WHERE collection = ? AND stix_id = ?)`, seq, objectID); err != nil {
		return err
	}
	var v arrival
	var da, ns int64
	o := &v.obj
	err := iw.tx.QueryRowContext(iw.ctx, `SELECT e.date_added, e.object, e.stix_id, e.type, e.spec_version, e.version,
		o.created, o.modified, o.revoked, o.raw
		FROM entries AS e JOIN objects AS o ON o.rid = e.object
		WHERE e.collection = ? AND e.stix_id = ? ORDER BY e.version DESC LIMIT 1`, seq, objectID).
		Scan(&da, &v.rid, &o.ID, &o.Type, &o.SpecVersion, &ns, &o.Created, &o.Modified, &o.Revoked, (*[]byte)(&o.Raw))
	if err == sql.ErrNoRows || err == nil && !store.Indexed(o.Type) {
		return nil
	}
	if err != nil {
		return err
	}
	o.Version = objectVersion(ns, o.Created, o.Modified)
	return iw.index(seq, &v, da, 0)
}

// iocColumns are what a listing reads of a row, its indicator version and
// the indicator's creator, in scanIOC's order.
const iocColumns = `i.date_added, i.ordinal, i.stix_id, i.type, i.value, i.confidence, i.valid_until, i.revoked,
	m.name, m.description, m.threat_type, m.labels, m.tlp, m.created_by, m.valid_from, m.created, m.modified,
	m.version, coalesce(n.name, '')`

// iocJoins follows a row (aliased i) to its indicator version and creator.
const iocJoins = ` JOIN ioc_meta AS m ON m.object = i.object LEFT JOIN identity_names AS n ON n.stix_id = m.created_by`

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

// IOCs returns one page of the collection's IOC index matching f. Several
// types are read as one ordered range scan per type, merged, as Objects
// does, since one index cannot serve "type IN (...) ORDER BY date_added".
func (db *DB) IOCs(ctx context.Context, collectionID string, f store.IOCFilter) (store.IOCPage, error) {
	seq, err := collectionSeq(ctx, db.read, collectionID)
	if err != nil {
		return store.IOCPage{}, err
	}
	n := f.PageSize()
	q, args := selectIOCs(seq, f, db.nowOr(f.Now), n+1)
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

// selectIOCs returns the query of the first limit rows of collection seq
// that f matches at now, in (date_added, ordinal) order, and its arguments.
func selectIOCs(seq int64, f store.IOCFilter, now time.Time, limit int) (string, []any) {
	// The start position: after the cursor, or after every row of the
	// Since microsecond, whichever is later.
	after, ordinal := int64(math.MinInt64), math.MaxInt32
	if !f.After.DateAdded.IsZero() {
		after, ordinal = f.After.DateAdded.UnixMicro(), f.After.Ordinal
	}
	if !f.Since.IsZero() && f.Since.UnixMicro() >= after {
		after, ordinal = f.Since.UnixMicro(), math.MaxInt32
	}
	arm := func(types []string) (string, []any) {
		var q query
		q.and("i.collection = ?", seq)
		if len(types) > 0 {
			q.and("i.type = ?", types[0])
		}
		q.and("(i.date_added, i.ordinal) > (?, ?)", after, ordinal)
		iocConditions(&q, f, now)
		return `SELECT i.date_added AS date_added, i.ordinal AS ordinal, i.object AS object, i.stix_id AS stix_id,
			i.type AS type, i.value AS value, i.confidence AS confidence, i.valid_until AS valid_until, i.revoked AS revoked
			FROM iocs AS i WHERE ` + q.cond.String() + ` ORDER BY i.date_added, i.ordinal LIMIT ?`, append(q.args, limit)
	}
	types := distinct(f.Types)
	if len(types) <= 1 {
		// One range of one index, joined row by row: a subquery would
		// copy every row through a co-routine, a third of the cost.
		var q query
		q.and("i.collection = ?", seq)
		if len(types) == 1 {
			q.and("i.type = ?", types[0])
		}
		q.and("(i.date_added, i.ordinal) > (?, ?)", after, ordinal)
		iocConditions(&q, f, now)
		return `SELECT ` + iocColumns + ` FROM iocs AS i` + iocJoins + ` WHERE ` + q.cond.String() +
			` ORDER BY i.date_added, i.ordinal LIMIT ?`, append(q.args, limit)
	}
	var arms []string
	var args []any
	for _, t := range types {
		sql, a := arm([]string{t})
		arms = append(arms, "SELECT * FROM ("+sql+")")
		args = append(args, a...)
	}
	from := "(" + strings.Join(arms, " UNION ALL ") + " ORDER BY 1, 2 LIMIT ?)"
	args = append(args, limit)
	return `SELECT ` + iocColumns + ` FROM ` + from + ` AS i` + iocJoins + ` ORDER BY i.date_added, i.ordinal`, args
}

// LookupIOCs finds the rows of the collection's IOC index that answer
// values: exact matches through (collection, type, value), and addresses
// in blocks by probing, for each prefix length the collection's blocks
// have, the block that would hold the address (see store.BlockKey). It
// runs three statements whatever the number of values: the lists go in as
// JSON, which SQLite reads as a table it probes the index with.
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
	plens, err := db.blockLengths(ctx, seq)
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

// exactQuery selects the rows of collection seq whose (type, value) is one
// of pairs.
func exactQuery(seq int64, pairs [][2]string, f store.IOCFilter, now time.Time) query {
	list, _ := json.Marshal(pairs) // strings always encode
	var q query
	q.and("i.collection = ?", seq)
	q.and("(i.type, i.value) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?))", string(list))
	iocConditions(&q, f, now)
	return q
}

// blockQuery selects the cidr rows of collection seq whose key is one of
// blocks.
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
	q.and("i.collection = ?", seq)
	// Spelt out so that the planner may use iocs_cidr, a partial index.
	q.and("i.plen IS NOT NULL")
	q.and("(i.plen, i.net) IN (SELECT value ->> 0, unhex(value ->> 1) FROM json_each(?))", b.String())
	iocConditions(&q, f, now)
	return q
}

// lookupSQL is the text of a lookup query.
func lookupSQL(q query) string {
	return `SELECT ` + iocColumns + ` FROM iocs AS i` + iocJoins + ` WHERE ` + q.cond.String()
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

// blockLengths returns the distinct prefix lengths of the collection's
// cidr rows, each found with one probe of iocs_cidr (a skip scan), so that
// the cost grows with the number of lengths, not of blocks.
func (db *DB) blockLengths(ctx context.Context, seq int64) ([]int, error) {
	rows, err := db.query(ctx, blockLengthsSQL, seq)
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

// blockLengthsSQL lists the distinct plen of collection ?1, one index
// probe each.
const blockLengthsSQL = `WITH RECURSIVE p(l) AS (
		SELECT (SELECT min(plen) FROM iocs WHERE collection = ?1 AND plen IS NOT NULL)
		UNION ALL
		SELECT (SELECT min(plen) FROM iocs WHERE collection = ?1 AND plen > p.l) FROM p WHERE p.l IS NOT NULL)
	SELECT l FROM p WHERE l IS NOT NULL`
