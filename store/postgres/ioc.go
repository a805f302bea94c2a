package postgres

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"hail"
	"hail/store"
)

// iocRows are IOC index rows and their ioc_meta rows, as unnest arrays.
type iocRows struct {
	// Entries, by collection and date_added, whose rows are replaced.
	replaceColl, replaceDA []int64
	// iocs rows.
	coll, da, rid, validUntil []int64
	ordinal, confidence       []*int32
	plen                      []*int16
	net                       [][]byte
	id, typ, value            []string
	revoked                   []bool
	// ioc_meta rows.
	metaRid, metaValidFrom                                      []int64
	metaName, metaDesc, metaThreat, metaTLP, metaBy, metaCreate []string
	metaModified, metaVersion                                   []string
	metaLabels                                                  []string // JSON lists
	metaSeen                                                    map[int64]bool
}

// add adds the rows of v, stored in collection seq with date_added da.
// superseded is the date_added of the version it supersedes, whose rows it
// drops, or 0: only the current version of an object has rows.
func (r *iocRows) add(seq int64, v *arrival, da, superseded int64) {
	if superseded != 0 {
		r.replaceColl = append(r.replaceColl, seq)
		r.replaceDA = append(r.replaceDA, superseded)
	}
	info := v.inspect()
	if len(info.Observables) == 0 {
		return
	}
	if r.metaSeen == nil {
		r.metaSeen = make(map[int64]bool)
	}
	o := v.obj
	if !r.metaSeen[v.rid] {
		r.metaSeen[v.rid] = true
		labels := []byte("[]")
		if len(info.Labels) > 0 {
			labels, _ = json.Marshal(info.Labels) // a []string always encodes
		}
		r.metaRid, r.metaValidFrom = append(r.metaRid, v.rid), append(r.metaValidFrom, micros(info.ValidFrom))
		r.metaName, r.metaDesc, r.metaThreat = append(r.metaName, info.Name), append(r.metaDesc, info.Description), append(r.metaThreat, info.ThreatType())
		r.metaTLP, r.metaBy, r.metaCreate = append(r.metaTLP, info.TLP), append(r.metaBy, info.CreatedBy), append(r.metaCreate, o.Created)
		r.metaModified, r.metaVersion = append(r.metaModified, o.Modified), append(r.metaVersion, v.version)
		r.metaLabels = append(r.metaLabels, string(labels))
	}
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
		r.coll, r.da, r.rid, r.validUntil = append(r.coll, seq), append(r.da, da), append(r.rid, v.rid), append(r.validUntil, micros(info.ValidUntil))
		r.ordinal, r.confidence, r.plen, r.net = append(r.ordinal, &ord), append(r.confidence, confidence), append(r.plen, plen), append(r.net, network)
		r.id, r.typ, r.value, r.revoked = append(r.id, o.ID), append(r.typ, ob.Type), append(r.value, ob.Value), append(r.revoked, o.Revoked)
	}
}

// queue queues the statements that write the rows.
func (r *iocRows) queue(b *pgx.Batch) {
	if len(r.replaceColl) > 0 {
		b.Queue(`DELETE FROM iocs AS i USING unnest($1::bigint[], $2::bigint[]) AS d(c, a)
			WHERE i.collection = d.c AND i.date_added = d.a`, r.replaceColl, r.replaceDA)
	}
	if len(r.metaRid) > 0 {
		b.Queue(`INSERT INTO ioc_meta (object, name, description, threat_type, labels, tlp, created_by, valid_from,
				created, modified, version)
			SELECT u.o, u.n, u.d, u.t, ARRAY(SELECT jsonb_array_elements_text(u.l::jsonb)), u.tlp, u.b, u.f, u.c, u.m, u.v
			FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
				$8::bigint[], $9::text[], $10::text[], $11::text[]) AS u(o, n, d, t, l, tlp, b, f, c, m, v)
			ON CONFLICT (object) DO NOTHING`,
			r.metaRid, r.metaName, r.metaDesc, r.metaThreat, r.metaLabels, r.metaTLP, r.metaBy, r.metaValidFrom,
			r.metaCreate, r.metaModified, r.metaVersion)
	}
	if len(r.coll) > 0 {
		b.Queue(`INSERT INTO iocs (collection, date_added, ordinal, stix_id, object, type, value, plen, net,
				confidence, valid_until, revoked)
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::integer[], $4::text[], $5::bigint[], $6::text[],
				$7::text[], $8::smallint[], $9::bytea[], $10::integer[], $11::bigint[], $12::boolean[])`,
			r.coll, r.da, r.ordinal, r.id, r.rid, r.typ, r.value, r.plen, r.net, r.confidence, r.validUntil, r.revoked)
	}
}

// queueIOCs queues the IOC rows of every planned entry that became its
// object's newest version in its collection.
func (w *writer) queueIOCs(b *pgx.Batch) {
	var r iocRows
	for _, p := range w.plans {
		for id, i := range p.current {
			e := p.added[i]
			if store.Indexed(e.v.obj.Type) {
				r.add(p.seq, e.v, e.dateAdded, p.held[id])
			}
		}
	}
	r.queue(b)
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

// dropIOCs deletes the IOC rows of one object of collection seq, before
// some of its entries are deleted.
func dropIOCs(ctx context.Context, tx pgx.Tx, seq int64, objectID string) error {
	_, err := tx.Exec(ctx, `DELETE FROM iocs WHERE collection = $1 AND date_added IN (
		SELECT date_added FROM entries WHERE collection = $1 AND stix_id = $2)`, seq, objectID)
	return err
}

// reindex rebuilds the IOC rows of one object of collection seq from its
// newest remaining version, after dropIOCs and the deletion of versions.
func reindex(ctx context.Context, tx pgx.Tx, seq int64, objectID string) error {
	var v arrival
	var da int64
	var raw []byte
	o := &v.obj
	err := tx.QueryRow(ctx, `SELECT e.date_added, e.object, e.stix_id, e.type, e.spec_version, e.version,
			o.created, o.modified, o.revoked, o.raw
		FROM entries AS e JOIN objects AS o ON o.rid = e.object
		WHERE e.collection = $1 AND e.stix_id = $2 ORDER BY e.version DESC LIMIT 1`, seq, objectID).
		Scan(&da, &v.rid, &o.ID, &o.Type, &o.SpecVersion, &v.version, &o.Created, &o.Modified, &o.Revoked, &raw)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && !store.Indexed(o.Type) {
		return nil
	}
	if err != nil {
		return err
	}
	o.Raw = raw
	if o.Version, err = parseVersionKey(v.version); err != nil {
		return err
	}
	var r iocRows
	r.add(seq, &v, da, 0)
	var b pgx.Batch
	r.queue(&b)
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, &b).Close()
}

// micros is the stored form of an optional time: µs, 0 for the zero time.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// iocColumns are what a listing reads of a row, its indicator version and
// the indicator's creator, in scanIOC's order.
const iocColumns = `i.date_added, i.ordinal, i.stix_id, i.type, i.value, i.confidence, i.valid_until, i.revoked,
	m.name, m.description, m.threat_type, m.labels, m.tlp, m.created_by, m.valid_from, m.created, m.modified,
	m.version, coalesce(n.name, '')`

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

// IOCs returns one page of the collection's IOC index matching f, read
// from an index range that starts at the position f gives: the primary key
// without types, iocs_type for each type, merged, with several.
func (db *DB) IOCs(ctx context.Context, collectionID string, f store.IOCFilter) (store.IOCPage, error) {
	seq, err := collectionSeq(ctx, db.pool, collectionID, false)
	if err != nil {
		return store.IOCPage{}, err
	}
	n := f.PageSize()
	now := db.nowOr(f.Now)
	// The start position: after the cursor, or after every row of the
	// Since microsecond, whichever is later.
	after, ordinal := int64(math.MinInt64), int64(math.MaxInt32)
	if !f.After.DateAdded.IsZero() {
		after, ordinal = f.After.DateAdded.UnixMicro(), int64(f.After.Ordinal)
	}
	if !f.Since.IsZero() && f.Since.UnixMicro() >= after {
		after, ordinal = f.Since.UnixMicro(), math.MaxInt32
	}
	var q query
	arm := func(typ string) string {
		var c query
		c.args = q.args
		c.and("i.collection = " + c.arg(seq))
		if typ != "" {
			c.and("i.type = " + c.arg(typ))
		}
		c.and("(i.date_added, i.ordinal) > (" + c.arg(after) + ", " + c.arg(ordinal) + ")")
		iocConditions(&c, f, now)
		q.args = c.args
		return `SELECT * FROM iocs AS i WHERE ` + c.cond.String() + ` ORDER BY i.date_added, i.ordinal LIMIT ` + strconv.Itoa(n+1)
	}
	var from string
	switch types := distinct(f.Types); len(types) {
	case 0:
		from = "(" + arm("") + ")"
	case 1:
		from = "(" + arm(types[0]) + ")"
	default:
		from = "("
		for i, t := range types {
			if i > 0 {
				from += " UNION ALL "
			}
			from += "(" + arm(t) + ")"
		}
		from += ")"
	}
	rows, err := db.pool.Query(ctx, `SELECT `+iocColumns+` FROM `+from+` AS i`+iocJoins+
		` ORDER BY i.date_added, i.ordinal LIMIT `+strconv.Itoa(n+1), q.args...)
	if err != nil {
		return store.IOCPage{}, dbError("IOCs", err)
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
			return store.IOCPage{}, dbError("IOCs", err)
		}
		p.IOCs = append(p.IOCs, c)
	}
	if err := rows.Err(); err != nil {
		return store.IOCPage{}, dbError("IOCs", err)
	}
	return p, nil
}

// LookupIOCs finds the rows of the collection's IOC index that answer
// values: exact matches through iocs_value, and addresses in blocks by
// probing, for each prefix length the collection's blocks have, the block
// that would hold the address (see store.BlockKey).
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
	q.and("i.collection = " + q.arg(seq))
	q.and("(i.type, md5(i.value)) IN (SELECT * FROM unnest(" + q.arg(types) + "::text[], " + q.arg(hashes) + "::text[]))")
	q.and("i.value = ANY(" + q.arg(vals) + ")")
	iocConditions(&q, f, now)
	b.Queue(lookupSQL(q), q.args...)
	if l.HasAddresses() {
		b.Queue(blockLengthsSQL, seq)
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
	q.and("i.collection = " + q.arg(seq))
	q.and("(i.plen, i.net) IN (SELECT * FROM unnest(" + q.arg(lens) + "::smallint[], " + q.arg(nets) + "::bytea[]))")
	iocConditions(&q, f, now)
	rows, err := db.pool.Query(ctx, lookupSQL(q), q.args...)
	if err == nil {
		err = addRows(rows, l.AddBlock)
	}
	if err != nil {
		return nil, dbError("lookup IOCs", err)
	}
	return l.Matches(), nil
}

// lookupSQL is the text of a lookup query.
func lookupSQL(q query) string {
	return `SELECT ` + iocColumns + ` FROM iocs AS i` + iocJoins + ` WHERE ` + q.cond.String()
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

// blockLengthsSQL lists the distinct plen of the cidr rows of collection
// $1, each found with one probe of iocs_cidr (a skip scan), so that the
// cost grows with the number of lengths, not of blocks.
const blockLengthsSQL = `WITH RECURSIVE p(l) AS (
		SELECT (SELECT min(plen) FROM iocs WHERE collection = $1 AND plen IS NOT NULL)
		UNION ALL
		SELECT (SELECT min(plen) FROM iocs WHERE collection = $1 AND plen > p.l) FROM p WHERE p.l IS NOT NULL)
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
