package postgres

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"hail"
	"hail/store"
)

// indexedTypes are the object types store.Indexed accepts: those whose
// versions have IOC rows.
var indexedTypes = []string{"indicator", "vulnerability"}

// iocRows are IOC index rows and their ioc_meta rows, as unnest arrays.
type iocRows struct {
	// iocs rows.
	rid, validUntil     []int64
	ordinal, confidence []*int32
	plen                []*int16
	net                 [][]byte
	typ, value          []string
	revoked             []bool
	// ioc_meta rows.
	metaRid, metaValidFrom                                      []int64
	metaName, metaDesc, metaThreat, metaTLP, metaBy, metaCreate []string
	metaModified, metaVersion                                   []string
	metaLabels                                                  []string // JSON lists
}

// add adds the rows of v, an objects row of an indexed type that has none
// yet.
func (r *iocRows) add(v *arrival) {
	info := v.inspect()
	if len(info.Observables) == 0 {
		return
	}
	o := v.obj
	labels := []byte("[]")
	if len(info.Labels) > 0 {
		labels, _ = json.Marshal(info.Labels) // a []string always encodes
	}
	r.metaRid, r.metaValidFrom = append(r.metaRid, v.rid), append(r.metaValidFrom, micros(info.ValidFrom))
	r.metaName, r.metaDesc, r.metaThreat = append(r.metaName, info.Name), append(r.metaDesc, info.Description), append(r.metaThreat, info.ThreatType())
	r.metaTLP, r.metaBy, r.metaCreate = append(r.metaTLP, info.TLP), append(r.metaBy, info.CreatedBy), append(r.metaCreate, o.Created)
	r.metaModified, r.metaVersion = append(r.metaModified, o.Modified), append(r.metaVersion, v.version)
	r.metaLabels = append(r.metaLabels, string(labels))
	var confidence *int32
	if info.Confidence != nil {
		c := int32(*info.Confidence)
		confidence = &c
	}
	for i, ob := range info.Observables {
		var plen *int16
		var network []byte
		if p, n, ok := store.BlockKey(ob.Value); ok && ob.Type == "cidr" {
			l := int16(p)
			plen, network = &l, n
		}
		ord := int32(i)
		r.rid, r.validUntil = append(r.rid, v.rid), append(r.validUntil, micros(info.ValidUntil))
		r.ordinal, r.confidence, r.plen, r.net = append(r.ordinal, &ord), append(r.confidence, confidence), append(r.plen, plen), append(r.net, network)
		r.typ, r.value, r.revoked = append(r.typ, ob.Type), append(r.value, ob.Value), append(r.revoked, o.Revoked)
	}
}

// queue queues the statements that write the rows.
func (r *iocRows) queue(b *pgx.Batch) {
	if len(r.metaRid) > 0 {
		b.Queue(`INSERT INTO ioc_meta (object, name, description, threat_type, labels, tlp, created_by, valid_from,
				created, modified, version)
			SELECT u.o, u.n, u.d, u.t, ARRAY(SELECT jsonb_array_elements_text(u.l::jsonb)), u.tlp, u.b, u.f, u.c, u.m, u.v
			FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
				$8::bigint[], $9::text[], $10::text[], $11::text[]) AS u(o, n, d, t, l, tlp, b, f, c, m, v)`,
			r.metaRid, r.metaName, r.metaDesc, r.metaThreat, r.metaLabels, r.metaTLP, r.metaBy, r.metaValidFrom,
			r.metaCreate, r.metaModified, r.metaVersion)
	}
	if len(r.rid) > 0 {
		b.Queue(`INSERT INTO iocs (object, ordinal, type, value, plen, net, confidence, valid_until, revoked)
			SELECT * FROM unnest($1::bigint[], $2::integer[], $3::text[], $4::text[], $5::smallint[], $6::bytea[],
				$7::integer[], $8::bigint[], $9::boolean[])`,
			r.rid, r.ordinal, r.typ, r.value, r.plen, r.net, r.confidence, r.validUntil, r.revoked)
	}
}

// queueIOCs queues the IOC rows of the objects rows the transaction
// inserted. Rows that existed already have theirs, whatever collection
// they were stored for.
func (w *writer) queueIOCs(b *pgx.Batch) {
	var r iocRows
	for _, v := range w.inserted {
		if store.Indexed(v.obj.Type) {
			r.add(v)
		}
	}
	r.queue(b)
}

// indexBatch is how many objects rows indexStoredVersions reads at a time.
const indexBatch = 1000

// indexStoredVersions writes the IOC rows of the stored versions of
// indexed types that lack them; migration 0007 runs it. A version with no
// ioc_meta row has no IOC rows: both are written together, or neither when
// the version has no observables (such versions are read again, and still
// write nothing, if this runs again).
func indexStoredVersions(ctx context.Context, tx pgx.Tx) error {
	var after int64
	for {
		rows, err := tx.Query(ctx, `SELECT o.rid, o.stix_id, o.type, o.spec_version, o.created, o.modified, o.revoked,
				o.raw, x.version
			FROM objects AS o
			CROSS JOIN LATERAL (SELECT version FROM entries WHERE object = o.rid LIMIT 1) AS x
			WHERE o.rid > $1 AND o.type = ANY($2)
				AND NOT EXISTS (SELECT FROM ioc_meta WHERE object = o.rid)
			ORDER BY o.rid LIMIT $3`, after, indexedTypes, indexBatch)
		if err != nil {
			return err
		}
		var versions []*arrival
		v := &arrival{}
		o := &v.obj
		var raw []byte
		if _, err := pgx.ForEachRow(rows, []any{&v.rid, &o.ID, &o.Type, &o.SpecVersion, &o.Created, &o.Modified,
			&o.Revoked, &raw, &v.version}, func() error {
			c := *v
			c.obj.Raw = raw
			versions = append(versions, &c)
			return nil
		}); err != nil {
			return err
		}
		if len(versions) == 0 {
			return nil
		}
		var r iocRows
		for _, v := range versions {
			if v.obj.Version, err = parseVersionKey(v.version); err != nil {
				return fmt.Errorf("stored version %q: %w", v.version, err)
			}
			r.add(v)
			after = v.rid
		}
		var b pgx.Batch
		r.queue(&b)
		if b.Len() > 0 {
			if err := tx.SendBatch(ctx, &b).Close(); err != nil {
				return err
			}
		}
	}
}

// queueIdentityNames keeps identity_names up to date with the identities
// among arrivals.
func queueIdentityNames(b *pgx.Batch, arrivals []*arrival) {
	newest := make(map[string]*arrival)
	var order []string
	for _, v := range arrivals {
		if v.obj.Type != "identity" {
			continue
		}
		if n, ok := newest[v.obj.ID]; !ok {
			order = append(order, v.obj.ID)
			newest[v.obj.ID] = v
		} else if v.version > n.version {
			newest[v.obj.ID] = v
		}
	}
	if len(order) == 0 {
		return
	}
	ids, versions, names := make([]string, len(order)), make([]string, len(order)), make([]string, len(order))
	for i, id := range order {
		v := newest[id]
		ids[i], versions[i], names[i] = id, v.version, v.inspect().Name
	}
	b.Queue(`INSERT INTO identity_names (stix_id, version, name)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
		ON CONFLICT (stix_id) DO UPDATE SET version = excluded.version, name = excluded.name
		WHERE excluded.version >= identity_names.version`, ids, versions, names)
}

// micros is the stored form of an optional time: µs, 0 for the zero time.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// iocColumns are what a listing reads of a row (aliased i), the entry
// that shows it (e), its indicator version and the indicator's creator, in
// scanIOC's order.
const iocColumns = `e.date_added, i.ordinal, e.stix_id, i.type, i.value, i.confidence, i.valid_until, i.revoked,
	m.name, m.description, m.threat_type, m.labels, m.tlp, m.created_by, m.valid_from, m.created, m.modified,
	m.version, coalesce(n.name, '')`

// iocShown is the condition on an entry (aliased e) whose version's rows a
// collection shows: the version a poll without match[version] or
// match[spec_version] returns.
const iocShown = `e.is_last AND e.latest_spec`

// iocJoins follows a row (aliased i) to its indicator version and creator.
// The joins are LATERAL subqueries with LIMIT, which the planner cannot
// flatten, so that each row of a page is completed by an index probe: as
// plain joins, a page of thousands of rows is hashed against a scan of the
// whole ioc_meta table, O(index) instead of O(page).
const iocJoins = ` CROSS JOIN LATERAL (SELECT * FROM ioc_meta WHERE object = i.object LIMIT 1) AS m
	LEFT JOIN LATERAL (SELECT name FROM identity_names WHERE stix_id = m.created_by LIMIT 1) AS n ON true`

// scanIOC reads one row of iocColumns.
func scanIOC(rows pgx.Rows) (store.IOC, error) {
	var c store.IOC
	var da, validUntil, validFrom int64
	var confidence *int32
	var version string
	if err := rows.Scan(&da, &c.Ordinal, &c.IndicatorID, &c.Type, &c.Value, &confidence, &validUntil, &c.Revoked,
		&c.Name, &c.Description, &c.ThreatType, &c.Labels, &c.TLP, &c.CreatedBy, &validFrom, &c.Created, &c.Modified,
		&version, &c.Source); err != nil {
		return c, err
	}
	if confidence != nil {
		n := int(*confidence)
		c.Confidence = &n
	}
	if len(c.Labels) == 0 {
		c.Labels = nil
	}
	c.ID = store.IOCID(c.IndicatorID, c.Type, c.Value)
	c.DateAdded, c.ValidUntil, c.ValidFrom = fromMicros(da), fromMicros(validUntil), fromMicros(validFrom)
	var err error
	c.Version, err = parseVersionKey(version)
	return c, err
}

// iocConditions adds f's confidence, expiry and revocation conditions on
// rows aliased i.
func iocConditions(q *query, f store.IOCFilter, now time.Time) {
	if f.MinConfidence != nil {
		q.and("i.confidence >= " + q.arg(*f.MinConfidence))
	}
	if !f.IncludeExpired {
		q.and("(i.valid_until = 0 OR i.valid_until > " + q.arg(now.UnixMicro()) + ")")
	}
	if !f.IncludeRevoked {
		q.and("NOT i.revoked")
	}
}

// LookupIOCs finds the rows of the collection's IOC index that answer
// values: exact matches through iocs_value, and addresses in blocks by
// probing, for each prefix length the index's blocks have, the block that
// would hold the address (see store.BlockKey). Either finds the rows of
// every version stored with that value, whatever collection holds it, and
// keeps those the collection shows (see lookupSQL).
func (db *DB) LookupIOCs(ctx context.Context, collectionID string, values []store.IOCValue, f store.IOCFilter) ([]store.IOCMatch, error) {
	if len(values) > store.MaxLookup {
		return nil, hail.Errorf(hail.EINVALID, "At most %d values can be looked up at once, not %d.", store.MaxLookup, len(values))
	}
	seq, err := collectionSeq(ctx, db.pool, collectionID, false)
	if err != nil {
		return nil, err
	}
	l := store.NewIOCLookup(values)
	now := db.nowOr(f.Now)
	var types, vals, hashes []string
	for typ, vs := range l.ByType() {
		for _, v := range vs {
			h := md5.Sum([]byte(v))
			types, vals, hashes = append(types, typ), append(vals, v), append(hashes, hex.EncodeToString(h[:]))
		}
	}
	// The exact matches and the prefix lengths go in one round trip.
	var b pgx.Batch
	var q query
	from := `unnest(` + q.arg(types) + `::text[], ` + q.arg(hashes) + `::text[], ` + q.arg(vals) + `::text[]) AS u(t, h, v)
		CROSS JOIN LATERAL (SELECT * FROM iocs AS i WHERE i.type = u.t AND md5(i.value) = u.h AND i.value = u.v OFFSET 0) AS i`
	iocConditions(&q, f, now)
	sql := lookupSQL(&q, from, seq)
	b.Queue(sql, q.args...)
	if l.HasAddresses() {
		b.Queue(blockLengthsSQL)
	}
	var plens []int16
	err = func() error {
		br := db.pool.SendBatch(ctx, &b)
		defer br.Close()
		rows, err := br.Query()
		if err != nil {
			return err
		}
		if err := addRows(rows, l.AddExact); err != nil {
			return err
		}
		if l.HasAddresses() {
			if rows, err = br.Query(); err != nil {
				return err
			}
			if plens, err = pgx.CollectRows(rows, pgx.RowTo[int16]); err != nil {
				return err
			}
		}
		return br.Close()
	}()
	if err != nil {
		return nil, dbError("lookup IOCs", err)
	}
	var lens []int16
	var nets [][]byte
	for _, plen := range plens {
		for _, n := range l.Networks(int(plen)) {
			lens, nets = append(lens, plen), append(nets, n)
		}
	}
	if len(nets) == 0 {
		return l.Matches(), nil
	}
	q = query{}
	from = `unnest(` + q.arg(lens) + `::smallint[], ` + q.arg(nets) + `::bytea[]) AS u(l, n)
		CROSS JOIN LATERAL (SELECT * FROM iocs AS i WHERE i.plen = u.l AND i.net = u.n OFFSET 0) AS i`
	iocConditions(&q, f, now)
	sql = lookupSQL(&q, from, seq)
	rows, err := db.pool.Query(ctx, sql, q.args...)
	if err == nil {
		err = addRows(rows, l.AddBlock)
	}
	if err != nil {
		return nil, dbError("lookup IOCs", err)
	}
	return l.Matches(), nil
}

// lookupSQL is the text of a lookup of the rows from yields (aliased i),
// matching q, that collection seq shows. It adds seq to q's arguments.
// from probes iocs once per value through LATERAL subqueries fenced by
// OFFSET 0, and the entry is found by a LATERAL probe of entries_object,
// so that the cost follows the values and the rows found whatever the
// planner knows of the tables: left to itself, without statistics, it
// hashes the values against a scan of every row. A version has at most
// one entry per collection.
func lookupSQL(q *query, from string, seq int64) string {
	if q.cond.Len() == 0 {
		q.and("true")
	}
	return `SELECT ` + iocColumns + ` FROM ` + from + `
		CROSS JOIN LATERAL (SELECT * FROM entries AS e
			WHERE e.object = i.object AND e.collection = ` + q.arg(seq) + ` AND ` + iocShown + ` LIMIT 1) AS e` +
		iocJoins + ` WHERE ` + q.cond.String()
}

// addRows hands each row of rows to add.
func addRows(rows pgx.Rows, add func(store.IOC)) error {
	defer rows.Close()
	for rows.Next() {
		c, err := scanIOC(rows)
		if err != nil {
			return err
		}
		add(c)
	}
	return rows.Err()
}

// blockLengthsSQL lists the distinct plen of the cidr rows, each found
// with one probe of iocs_cidr (a skip scan), so that the cost grows with
// the number of lengths (at most 129), not of blocks. They are the lengths
// of every stored version's blocks, not only of the collection's: a length
// the collection lacks costs one probe that finds nothing it shows.
const blockLengthsSQL = `WITH RECURSIVE p(l) AS (
		SELECT (SELECT min(plen) FROM iocs WHERE plen IS NOT NULL)
		UNION ALL
		SELECT (SELECT min(plen) FROM iocs WHERE plen > p.l) FROM p WHERE p.l IS NOT NULL)
	SELECT l FROM p WHERE l IS NOT NULL`

// distinct returns ss without repeated values, in first-seen order.
func distinct(ss []string) []string {
	seen := make(map[string]bool, len(ss))
	out := ss[:0:0]
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
