package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"strconv"
	"strings"

	"hail"
)

// iocColumns are the header names, normalised by normColumn, that mark a
// column of indicators. The list is explicit rather than a substring match so
// that columns such as "hash_type" or "TLV value" are not taken for values.
var iocColumns = map[string]bool{
	"value": true, "indicator": true, "indicator_value": true, "ioc": true, "ioc_value": true,
	"observable": true, "observable_value": true,
	"domain": true, "domain_name": true, "domainname": true, "hostname": true, "host": true, "fqdn": true,
	"ip": true, "ip_address": true, "ipaddress": true, "ip_addr": true, "ipv4": true, "ipv6": true,
	"src_ip": true, "dst_ip": true, "dest_ip": true, "source_ip": true, "destination_ip": true, "ip_port": true,
	"url": true, "uri": true, "cidr": true,
	"md5": true, "sha1": true, "sha_1": true, "sha256": true, "sha_256": true, "sha512": true, "sha_512": true,
	"hash": true, "file_hash": true, "filehash": true,
	"md5_hash": true, "sha1_hash": true, "sha256_hash": true, "sha512_hash": true, // abuse.ch MalwareBazaar
	"email": true, "email_address": true, "e_mail": true,
	"cve": true, "cve_id": true,
}

// normColumn lower-cases a header name and turns spaces, '-' and '.' into '_'.
func normColumn(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.':
			return '_'
		}
		return r
	}, strings.ToLower(strings.TrimSpace(s)))
}

// sniffRows is how many rows are examined to find indicator columns by content.
const sniffRows = 100

// record is one CSV row and the line it starts on.
type record struct {
	cells []string
	line  int
}

// readCSV reads a CSV list. The first row is a header when it names an
// indicator column or holds no indicator.
func readCSV(br *bufio.Reader, opt ListOptions, fn func(IOC) error, bad func(int, string, string)) error {
	head, _ := br.Peek(maxLine)
	cr := csv.NewReader(br)
	cr.Comma = sniffDelimiter(firstLine(head))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.TrimLeadingSpace = true
	cr.Comment = '#'

	var rows []record
	first, err := nextRecord(cr, bad)
	if err == io.EOF {
		return nil
	} else if err != nil {
		return err
	}
	var header []string
	switch {
	case isHeader(first.cells):
		header = first.cells
	default:
		header = commentedHeader(head, cr.Comma, len(first.cells))
		rows = append(rows, first)
	}
	cols, err := pickColumns(cr, header, opt.Columns, &rows, bad)
	if err != nil {
		return err
	}
	names := columnNames(header)
	for i := 0; ; i++ {
		var rec record
		if i < len(rows) {
			rec = rows[i]
		} else {
			rows = nil
			rec, err = nextRecord(cr, bad)
			if err == io.EOF {
				return nil
			} else if err != nil {
				return err
			}
		}
		if err := csvRow(rec, cols, names, fn, bad); err != nil {
			return err
		}
	}
}

// nextRecord returns the next well-formed row, passing malformed ones to bad.
func nextRecord(cr *csv.Reader, bad func(int, string, string)) (record, error) {
	for {
		cells, err := cr.Read()
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			bad(pe.StartLine, "", reasonCSVSyntax+": "+pe.Err.Error())
			continue
		}
		if err != nil {
			if err != io.EOF {
				err = fmt.Errorf("read CSV: %w", err)
			}
			return record{}, err
		}
		line, _ := cr.FieldPos(0)
		return record{cells: cells, line: line}, nil
	}
}

// sniffDelimiter picks the most frequent of ',', ';' and tab outside quotes;
// ',' when there is none.
func sniffDelimiter(s string) rune {
	counts := map[rune]int{}
	quoted := false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case !quoted && (r == ',' || r == ';' || r == '\t'):
			counts[r]++
		}
	}
	best := ','
	for _, r := range []rune{';', '\t'} {
		if counts[r] > counts[best] {
			best = r
		}
	}
	return best
}

// firstLine returns the first line of head that is neither blank nor a
// comment.
func firstLine(head []byte) string {
	for len(head) > 0 {
		var line []byte
		line, head, _ = bytes.Cut(head, []byte("\n"))
		if s := strings.TrimSpace(string(line)); s != "" && s[0] != '#' {
			return s
		}
	}
	return ""
}

// commentedHeader returns the header a list gives as its last comment
// line before the first row, as abuse.ch's CSV exports do ("# id,
// dateadded,url,…"): nil unless that line has as many cells as the row
// (cells) and names a column of indicators. Without it, every column that
// holds URLs would be taken, the links to the publisher's own pages too.
func commentedHeader(head []byte, comma rune, cells int) []string {
	last := ""
	for len(head) > 0 {
		var line []byte
		line, head, _ = bytes.Cut(head, []byte("\n"))
		s := strings.TrimSpace(string(line))
		switch {
		case s == "":
			continue
		case s[0] == '#':
			last = strings.TrimSpace(strings.TrimLeft(s, "#"))
			continue
		}
		break
	}
	if last == "" {
		return nil
	}
	cr := csv.NewReader(strings.NewReader(last))
	cr.Comma, cr.LazyQuotes, cr.TrimLeadingSpace = comma, true, true
	names, err := cr.Read()
	if err != nil || len(names) != cells {
		return nil
	}
	for _, n := range names {
		if iocColumns[normColumn(n)] {
			return names
		}
	}
	return nil
}

// isHeader reports whether a first row is a header: it names an indicator
// column (a name such as "ip.address" would otherwise pass for a domain) or
// none of its cells is an indicator.
func isHeader(cells []string) bool {
	for _, c := range cells {
		if iocColumns[normColumn(c)] {
			return true
		}
	}
	for _, c := range cells {
		if _, reason := detect(c); reason == "" {
			return false
		}
	}
	return true
}

// pickColumns returns the indexes of the indicator columns: those the caller
// named, else those whose header name is in iocColumns, else those where most
// non-empty cells of the first sniffRows rows (half or more) are indicators. Rows read to
// decide are appended to rows.
func pickColumns(cr *csv.Reader, header, named []string, rows *[]record, bad func(int, string, string)) ([]int, error) {
	if len(named) > 0 {
		return namedColumns(header, named)
	}
	var cols []int
	for i, h := range header {
		if iocColumns[normColumn(h)] {
			cols = append(cols, i)
		}
	}
	if len(cols) > 0 {
		return cols, nil
	}
	for len(*rows) < sniffRows {
		rec, err := nextRecord(cr, bad)
		if err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		*rows = append(*rows, rec)
	}
	var hits, filled []int
	for _, rec := range *rows {
		for len(hits) < len(rec.cells) {
			hits, filled = append(hits, 0), append(filled, 0)
		}
		for i, c := range rec.cells {
			if strings.TrimSpace(c) == "" {
				continue
			}
			filled[i]++
			if _, reason := detect(c); reason == "" {
				hits[i]++
			}
		}
	}
	for i := range hits {
		if hits[i] > 0 && 2*hits[i] >= filled[i] {
			cols = append(cols, i)
		}
	}
	if len(cols) == 0 && len(*rows) > 0 {
		return nil, hail.Errorf(hail.EINVALID, "No column of indicators found in the CSV (header %q); name one with Columns.", strings.Join(header, ","))
	}
	return cols, nil
}

// namedColumns resolves caller-named columns by header name or 1-based
// number.
func namedColumns(header, named []string) ([]int, error) {
	var cols []int
	for _, name := range named {
		found := -1
		for i, h := range header {
			if strings.EqualFold(strings.TrimSpace(h), strings.TrimSpace(name)) {
				found = i
				break
			}
		}
		if n, err := strconv.Atoi(name); found < 0 && err == nil && n > 0 {
			found = n - 1
		}
		if found < 0 {
			return nil, hail.Errorf(hail.EINVALID, "Column %q is not in the CSV header %q.", name, strings.Join(header, ","))
		}
		cols = append(cols, found)
	}
	return cols, nil
}

// columnNames names each column by its header, or by its 1-based number when
// there is no header or the header cell is blank.
func columnNames(header []string) func(i int) string {
	return func(i int) string {
		if i < len(header) {
			if h := strings.TrimSpace(header[i]); h != "" {
				return h
			}
		}
		return strconv.Itoa(i + 1)
	}
}

// csvRow reports the indicators of one row, each with the row's other
// non-empty cells as Fields.
func csvRow(rec record, cols []int, name func(int) string, fn func(IOC) error, bad func(int, string, string)) error {
	var fields map[string]string
	for i, c := range rec.cells {
		if c = strings.TrimSpace(c); c != "" && !containsInt(cols, i) {
			if fields == nil {
				fields = map[string]string{}
			}
			fields[name(i)] = c
		}
	}
	for _, i := range cols {
		if i >= len(rec.cells) || strings.TrimSpace(rec.cells[i]) == "" {
			continue
		}
		ioc, reason := detect(rec.cells[i])
		if reason != "" {
			bad(rec.line, strings.TrimSpace(rec.cells[i]), reason)
			continue
		}
		ioc.Line = rec.line
		ioc.Fields = fields
		if len(cols) > 1 {
			ioc.Fields = maps.Clone(fields)
		}
		if err := fn(ioc); err != nil {
			return err
		}
	}
	return nil
}

func containsInt(list []int, n int) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}

// SniffCSV reports whether head, the first bytes of an input that is not
// JSON, holds a CSV list rather than a plain one, for inputs whose name
// does not say (abuse.ch zips its CSV exports as "csv.txt"; standard
// input has no name). It does when the first row has two cells or more
// and either names an indicator column, follows a commented header that
// does (abuse.ch's "# id,dateadded,url,…"), quotes its cells, or, split
// at commas, has as many cells as each of the next rows. Plain lists that
// put a comment after a tab or ";" pass none of these. It is stricter than
// the choice ReadList makes for a list given without a format
// (sniffFormat), because it overrides what a name or a feed's kind says: a
// plain list read as CSV would describe its indicators differently, and
// each would get a new version.
func SniffCSV(head []byte) bool {
	head = bytes.TrimPrefix(head, utf8BOM)
	row := firstLine(head)
	if row == "" {
		return false
	}
	comma := sniffDelimiter(row)
	cells := splitRow(row, comma)
	if len(cells) < 2 {
		return false
	}
	for _, c := range cells {
		if iocColumns[normColumn(c)] {
			return true
		}
	}
	if commentedHeader(head, comma, len(cells)) != nil || strings.HasPrefix(row, `"`) {
		return true
	}
	if comma != ',' {
		return false
	}
	rows := dataLines(head, 5)
	if len(rows) < 2 {
		return false
	}
	for _, r := range rows[1:] {
		if len(splitRow(r, ',')) != len(cells) {
			return false
		}
	}
	return true
}

// splitRow splits one CSV row at comma, nil when it does not parse.
func splitRow(row string, comma rune) []string {
	cr := csv.NewReader(strings.NewReader(row))
	cr.Comma, cr.LazyQuotes, cr.TrimLeadingSpace = comma, true, true
	cells, err := cr.Read()
	if err != nil {
		return nil
	}
	return cells
}

// dataLines returns up to n lines of head that are neither blank nor
// comments, leaving out the last one, which head may cut short.
func dataLines(head []byte, n int) []string {
	var out []string
	for len(out) < n {
		line, rest, found := bytes.Cut(head, []byte("\n"))
		if !found {
			break
		}
		head = rest
		if s := strings.TrimSpace(string(line)); s != "" && s[0] != '#' {
			out = append(out, s)
		}
	}
	return out
}
