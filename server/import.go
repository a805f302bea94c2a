package server

import (
	"bufio"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"hail"
	"hail/feed"
	"hail/ingest"
)

// DefaultMaxImportSize bounds the body of POST /api/v1/import unless
// Config.MaxImportSize says otherwise.
const DefaultMaxImportSize = 1 << 30 // 1 GiB: large IOC lists and bundles

// importQuery is the query of POST /api/v1/import.
type importQuery struct {
	Collection string
	// Format is "stix", ingest.FormatMISP, ingest.FormatText,
	// ingest.FormatCSV or ingest.FormatJSON; "" until the body tells it
	// (feed.DetectFormat) when the request names none.
	Format   string
	List     ingest.ListOptions
	Snapshot bool
	// AllAttributes takes a MISP export's attributes whose to_ids is false.
	AllAttributes bool
}

// parseImportQuery reads collection, format, and for IOC lists and MISP
// exports source, tlp, confidence, ttl, labels, columns, indicator_type,
// snapshot (lists) and all_attributes (MISP).
// Returns EINVALID naming the first bad parameter.
func parseImportQuery(raw string) (importQuery, error) {
	v, err := parseQueryString(raw)
	if err != nil {
		return importQuery{}, err
	}
	return parseImportParams(v)
}

// parseQueryString parses raw, answering EINVALID when it does not parse.
func parseQueryString(raw string) (url.Values, error) {
	v, err := url.ParseQuery(raw)
	if err != nil {
		return nil, hail.Errorf(hail.EINVALID, "The query string does not parse: %v", err)
	}
	return v, nil
}

// parseImportParams reads the parameters parseImportQuery names from v:
// the query string's, with a form upload's fields.
func parseImportParams(v url.Values) (importQuery, error) {
	q := importQuery{Collection: v.Get("collection")}
	if q.Collection == "" {
		return q, hail.Errorf(hail.EINVALID, "Name the collection to import into: ?collection=ALIAS, or a collection field before the form's file.")
	}
	var ok bool
	if q.Format, ok = feed.ParseFormat(v.Get("format")); !ok {
		return q, hail.Errorf(hail.EINVALID, "Parameter format=%q: use stix, misp, txt, csv or json-list, or leave it out.", truncate(v.Get("format"), 32))
	}
	q.List = ingest.ListOptions{
		Source: v.Get("source"), TLP: v.Get("tlp"), IndicatorType: v.Get("indicator_type"),
		Labels: splitParam(v.Get("labels")), Columns: splitParam(v.Get("columns")), Format: q.Format,
	}
	if s := v.Get("confidence"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 100 {
			return q, hail.Errorf(hail.EINVALID, "Parameter confidence=%q: want 0 to 100.", truncate(s, 32))
		}
		q.List.Confidence = n
	}
	if s := v.Get("ttl"); s != "" {
		d, err := hail.ParseDuration(s)
		if err != nil || d < 0 {
			return q, hail.Errorf(hail.EINVALID, "Parameter ttl=%q: want a duration such as 30d, 2w or 720h.", truncate(s, 32))
		}
		q.List.TTL = d
	}
	if s := v.Get("snapshot"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return q, hail.Errorf(hail.EINVALID, "Parameter snapshot=%q: want true or false.", truncate(s, 32))
		}
		q.Snapshot = b
	}
	if s := v.Get("all_attributes"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return q, hail.Errorf(hail.EINVALID, "Parameter all_attributes=%q: true or false, for format misp.", truncate(s, 32))
		}
		q.AllAttributes = b
	}
	if q.Snapshot && q.List.Source == "" {
		return q, hail.Errorf(hail.EINVALID, "A snapshot needs an IOC list (format txt or csv) and its source.")
	}
	if q.Format != "" {
		return q, q.checkFormat()
	}
	return q, nil
}

// checkFormat checks the parameters that hold for one format only, once
// the format is known: from the query, or from the body.
func (q importQuery) checkFormat() error {
	if q.AllAttributes && q.Format != ingest.FormatMISP {
		return hail.Errorf(hail.EINVALID, "Parameter all_attributes is for format misp; this input is %s.", q.Format)
	}
	if q.Snapshot && (q.Format == feed.FormatSTIX || q.Format == ingest.FormatMISP) {
		return hail.Errorf(hail.EINVALID, "A snapshot needs an IOC list (format txt or csv) and its source; this input is %s.", q.Format)
	}
	return nil
}

// splitParam splits a comma-separated parameter, dropping empty items.
func splitParam(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// importJSON is the answer of POST /api/v1/import.
type importJSON struct {
	// Format is how the body was read: the request's format, or what its
	// content told when it named none.
	Format string `json:"format"`
	Read   int    `json:"read"`
	Added  int    `json:"added"`
	// NewVersions counts those of Added that are new versions of objects
	// the collection held.
	NewVersions int             `json:"new_versions"`
	Duplicates  int             `json:"duplicates"`
	Rejected    int             `json:"rejected"`
	Revoked     int             `json:"revoked"`
	Converted   int             `json:"converted"`
	Rejections  []rejectionJSON `json:"rejections"`
	// collectionID is the collection imported into, for the dashboard.
	collectionID string
}

type rejectionJSON struct {
	Where  string `json:"where"`
	ID     string `json:"id,omitempty"`
	Reason string `json:"reason"`
}

// handleImportPost streams the request body into a collection, as `hail
// import` does, for admin keys, and answers the summary. The body is read
// as it arrives and stored in batches of one transaction each: a failure
// part way keeps the batches before it, and the error says how many
// objects they added.
func (s *Server) handleImportPost(w http.ResponseWriter, r *http.Request) {
	out, err := s.importUpload(w, r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeREST(w, b)
}

// importUpload runs the import a POST carries (handleImportPost, and the
// dashboard's import form) and returns its summary.
func (s *Server) importUpload(w http.ResponseWriter, r *http.Request) (importJSON, error) {
	if err := requireAdmin(r); err != nil {
		return importJSON{}, err
	}
	params, err := parseQueryString(r.URL.RawQuery)
	if err != nil {
		return importJSON{}, err
	}
	limit := s.cfg.MaxImportSize
	if limit <= 0 {
		limit = DefaultMaxImportSize
	}
	// A gzip or zip body is taken off by its first bytes, whatever its
	// Content-Type or Content-Encoding says. limit counts both what was
	// sent and what it decompresses to. Only a form's fields are read
	// before the parameters are checked: the content waits for them.
	up, err := uploadedFile(w, r, limit)
	if err != nil {
		return importJSON{}, importError(err, limit, ingest.Summary{})
	}
	if err := mergeFields(params, up.Fields); err != nil {
		return importJSON{}, err
	}
	q, err := parseImportParams(params)
	if err != nil {
		return importJSON{}, err
	}
	c, err := s.findCollection(r.Context(), q.Collection)
	if err != nil {
		return importJSON{}, err
	}
	if !c.Writable() {
		return importJSON{}, hail.Errorf(hail.EUNPROCESSABLE, "Collection %q is a filter collection; import into an explicit one.", truncate(q.Collection, 128))
	}
	body, err := ingest.Unpack(up.Content, "", limit)
	if err != nil {
		return importJSON{}, importError(err, limit, ingest.Summary{})
	}
	defer body.Close()
	input := bufio.NewReaderSize(body, 64<<10)
	if q.Format == "" {
		if q.Format, err = feed.Detect(input, body.InnerName(up.Name)); err != nil {
			return importJSON{}, importError(err, limit, ingest.Summary{})
		}
		q.List.Format = q.Format
		if err := q.checkFormat(); err != nil {
			return importJSON{}, err
		}
	}
	im := &ingest.Importer{Store: s.store, CollectionID: c.ID}
	q.List.Now = s.cfg.Now
	sum, revoked, err := feed.Import(r.Context(), im, input, q.Format,
		ingest.MISPOptions{ListOptions: q.List, AllAttributes: q.AllAttributes}, q.Snapshot)
	info(r.Context()).ingested = sum.Added // stored even if the import then failed
	if err != nil {
		return importJSON{}, importError(err, limit, sum)
	}
	out := importJSON{Format: q.Format, Read: sum.Read, Added: sum.Added, NewVersions: sum.NewVersions, Duplicates: sum.Duplicates, Rejected: sum.Rejected,
		Revoked: revoked + sum.Revoked, Converted: sum.Converted, Rejections: make([]rejectionJSON, 0, len(sum.Rejections)),
		collectionID: c.ID}
	for _, rj := range sum.Rejections {
		out.Rejections = append(out.Rejections, rejectionJSON(rj))
	}
	return out, nil
}

// importError says how far a failed import got: ETOOLARGE for a body over
// the limit, and the count of objects stored before any failure the client
// can read.
func importError(err error, limit int64, sum ingest.Summary) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = hail.Errorf(hail.ETOOLARGE, "The body is larger than the import limit of %d bytes.", limit)
	}
	code := hail.ErrorCode(err)
	if code == hail.EINTERNAL || sum.Added == 0 {
		return err
	}
	return hail.Errorf(code, "%s %d objects read before were stored.", hail.ErrorMessage(err), sum.Added)
}
