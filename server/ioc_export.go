package server

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"hail"
	"hail/store"
	"hail/taxii"
)

// Export formats and their Content-Type.
var exportTypes = map[string]string{
	"txt":  "text/plain; charset=utf-8",
	"csv":  "text/csv; charset=utf-8",
	"json": restMediaType,
}

// csvHeader names the columns of a CSV export: the keys of the JSON item.
var csvHeader = []string{
	"id", "type", "value", "confidence", "threat_type", "labels", "tlp", "valid_from", "valid_until",
	"revoked", "name", "description", "source", "created_by", "indicator_id", "created", "modified", "date_added",
}

// handleIOCsExport streams every IOC of a collection that matches the
// filters, as a blocklist: one value per line (txt, what firewalls' external
// dynamic lists read), CSV with a header row, or a JSON array of the items
// the listing returns. The store is read in keyset pages, so memory does not
// depend on the size of the collection. A value named by several indicators
// appears once per indicator.
//
// A store failure after the first page cannot change the status any more;
// the connection is then aborted, so that the consumer sees a broken
// transfer instead of a silently shortened list.
func (s *Server) handleIOCsExport(w http.ResponseWriter, r *http.Request) {
	q, err := s.parseIOCQuery(r.URL.RawQuery, false)
	if err != nil {
		s.error(w, r, err)
		return
	}
	format := strings.ToLower(r.URL.Query().Get(iocParamFormat))
	if format == "" {
		format = "txt"
	}
	contentType, ok := exportTypes[format]
	if !ok {
		s.error(w, r, hail.Errorf(hail.EINVALID, "Parameter \"format\" must be txt, csv or json, not %q.", truncate(format, 64)))
		return
	}
	c, err := s.iocCollection(r, q.Collection)
	if err != nil {
		s.error(w, r, err)
		return
	}
	f := q.IOCFilter
	f.Now, f.Limit = s.cfg.Now(), store.MaxLimit
	page, err := s.store.IOCs(r.Context(), c.ID, f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := newExporter(format, bw)
	n := 0
	for {
		for _, ioc := range page.IOCs {
			enc.write(ioc)
		}
		n += len(page.IOCs)
		if !page.More || len(page.IOCs) == 0 {
			break
		}
		f.After = page.IOCs[len(page.IOCs)-1].Cursor()
		if page, err = s.store.IOCs(r.Context(), c.ID, f); err != nil {
			s.abortExport(r, err)
		}
	}
	enc.end()
	info(r.Context()).objects = n
	if err := bw.Flush(); err != nil {
		s.abortExport(r, err)
	}
}

// abortExport logs a failure in the middle of an export and aborts the
// response.
func (s *Server) abortExport(r *http.Request, err error) {
	if errors.Is(err, context.Canceled) || errors.Is(r.Context().Err(), context.Canceled) {
		s.logger.DebugContext(r.Context(), "export canceled", "path", r.URL.Path, "err", err)
	} else {
		s.logger.ErrorContext(r.Context(), "export failed", "path", r.URL.Path, "err", err)
	}
	panic(http.ErrAbortHandler)
}

// exporter writes IOCs in one export format. Write errors are kept by the
// underlying bufio.Writer and seen at its final Flush.
type exporter struct {
	format string
	bw     *bufio.Writer
	csv    *csv.Writer
	buf    []byte
	n      int
	record []string
}

func newExporter(format string, bw *bufio.Writer) *exporter {
	e := &exporter{format: format, bw: bw, buf: make([]byte, 0, 1024)}
	switch format {
	case "csv":
		e.csv = csv.NewWriter(bw)
		e.csv.Write(csvHeader)
		e.record = make([]string, len(csvHeader))
	case "json":
		bw.WriteString("[")
	}
	return e
}

// write writes one IOC.
func (e *exporter) write(i store.IOC) {
	switch e.format {
	case "txt":
		// A value with a line break (a mutex name can hold one) would read
		// as two entries; firewalls get no such value.
		if strings.ContainsAny(i.Value, "\r\n") {
			return
		}
		e.bw.WriteString(i.Value)
		e.bw.WriteByte('\n')
	case "csv":
		e.csv.Write(csvRecord(e.record, i))
	case "json":
		if e.n > 0 {
			e.bw.WriteByte(',')
		}
		e.bw.WriteByte('\n')
		e.buf = appendIOC(e.buf[:0], i)
		e.bw.Write(e.buf)
	}
	e.n++
}

// end finishes the document.
func (e *exporter) end() {
	switch e.format {
	case "csv":
		e.csv.Flush()
	case "json":
		e.bw.WriteString("\n]\n")
	}
}

// csvRecord fills rec with the columns of csvHeader for i. Labels are
// joined with ';'.
func csvRecord(rec []string, i store.IOC) []string {
	conf := ""
	if i.Confidence != nil {
		conf = strconv.Itoa(*i.Confidence)
	}
	rec = append(rec[:0], i.ID, i.Type, i.Value, conf, i.ThreatType, strings.Join(i.Labels, ";"), i.TLP,
		csvTime(i.ValidFrom), csvTime(i.ValidUntil),
		strconv.FormatBool(i.Revoked), i.Name, i.Description, i.Source, i.CreatedBy, i.IndicatorID,
		i.Created, i.Modified, taxii.FormatTimestamp(i.DateAdded))
	return rec
}

// csvTime formats t as a TAXII timestamp, or "" when zero.
func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return taxii.FormatTimestamp(t)
}
