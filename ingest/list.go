package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"hail"
)

// List formats for ListOptions.Format.
const (
	FormatText = "txt" // one indicator per line
	FormatCSV  = "csv" // a table, with or without a header row
	// FormatJSON is an IOC list published as JSON (readJSONList): not a
	// STIX bundle, which is "stix" wherever a format is named.
	FormatJSON = "json-list"
)

// ListOptions says how to read an IOC list and what to state in the STIX
// objects made from it. ReadList uses Format and Columns; Indicator uses the
// rest.
type ListOptions struct {
	// Source names the list's producer. It becomes the name of the identity
	// that the indicators are created_by, and it is part of their ids, so the
	// same value from two sources gives two indicators.
	Source string
	// Confidence is STIX confidence, 1–100; 0 leaves it out.
	Confidence int
	// TLP is "clear", "green", "amber", "amber+strict" or "red" ("white" and
	// a "tlp:" prefix are accepted); "" leaves the indicators unmarked.
	TLP string
	// Labels are copied to each indicator's labels.
	Labels []string
	// IndicatorType is the indicator_types entry; "" means
	// "malicious-activity".
	IndicatorType string
	// TTL, when positive, sets valid_until to valid_from plus TTL.
	TTL time.Duration
	// Now gives the time of the import; nil means time.Now.
	Now func() time.Time
	// Columns names the CSV columns that hold indicators, by header name
	// (any case) or by 1-based number. When empty, columns are chosen by
	// header name, else by content.
	Columns []string
	// Format is FormatText, FormatCSV, or "" to decide from the content.
	Format string
}

// now is the time of the import.
func (o ListOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Check reports, as EINVALID, an option no indicator can be made with: a
// confidence outside 0–100, an unknown TLP level, a negative TTL. It
// leaves the columns to the list, which alone can say if they exist.
func (o ListOptions) Check() error {
	if o.Confidence < 0 || o.Confidence > 100 {
		return hail.Errorf(hail.EINVALID, "Confidence %d is not in 0–100.", o.Confidence)
	}
	if o.TLP != "" {
		if _, ok := tlpLevel(o.TLP); !ok {
			return hail.Errorf(hail.EINVALID, "Unknown TLP level %q: use clear, green, amber, amber+strict or red.", o.TLP)
		}
	}
	if o.TTL < 0 {
		return hail.Errorf(hail.EINVALID, "TTL %s is negative.", o.TTL)
	}
	return nil
}

// IOC is one indicator value read from a list.
type IOC struct {
	Type  string // one of the Type constants
	Value string // canonical form: refanged, lower-cased where case does not matter
	// Port is the port written after an address or domain ("1.2.3.4:8080"),
	// 0 when none.
	Port int
	// Line is the 1-based line of the list the value was read from.
	Line int
	// UUID, when set, is the UUID of the indicator's id, in place of the
	// one derived from (source, type, value): an IOC that its publisher
	// names, such as a MISP attribute.
	UUID string
	// ValidFrom, when set, is when the publisher says the value was first
	// seen; zero for the time of the import.
	ValidFrom time.Time
	// Fields holds the rest of the line: for CSV, the other columns by header
	// name (or 1-based number when there is no header); for text lists, the
	// trailing comment or fields under "comment". Nil when there is none.
	Fields map[string]string
}

// maxLine bounds the length of one line of a text list, so that a binary file
// fed by mistake cannot exhaust memory.
const maxLine = 64 << 10

// ReadList reads a plain or CSV IOC list from r and calls fn for every value
// it recognises, in order. Lines it cannot use are passed to bad (which may
// be nil) with their line number, text and the reason, and never stop the
// others. Blank lines and comment lines (starting with '#' or ';') are
// skipped silently.
//
// ReadList returns the first error fn returns, unchanged; hail.EINVALID for
// an unknown format, unknown columns, or a CSV without an indicator column;
// and read errors from r.
func ReadList(r io.Reader, opt ListOptions, fn func(IOC) error, bad func(line int, text, reason string)) error {
	if bad == nil {
		bad = func(int, string, string) {}
	}
	br := bufio.NewReaderSize(r, maxLine)
	if b, _ := br.Peek(3); bytes.HasPrefix(b, utf8BOM) {
		br.Discard(len(utf8BOM))
	}
	format := opt.Format
	switch format {
	case FormatText, FormatCSV, FormatJSON:
	case "":
		head, _ := br.Peek(maxLine)
		format = sniffFormat(head)
	default:
		return hail.Errorf(hail.EINVALID, "Unknown list format %q: use %q, %q or %q.", opt.Format, FormatText, FormatCSV, FormatJSON)
	}
	switch format {
	case FormatCSV:
		return readCSV(br, opt, fn, bad)
	case FormatJSON:
		return readJSONList(br, fn, bad)
	}
	return readText(br, fn, bad)
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// sniffFormat decides between a text list and CSV from the first line that
// is neither blank nor a comment: a line with two or more delimited
// indicators, or with a delimiter but no leading indicator (a header), is
// CSV; anything else is a text line, trailing fields and all.
func sniffFormat(head []byte) string {
	for len(head) > 0 {
		var line []byte
		line, head, _ = bytes.Cut(head, []byte("\n"))
		s := strings.TrimSpace(string(line))
		if s == "" || s[0] == '#' || s[0] == ';' {
			continue
		}
		delim := string(sniffDelimiter(s))
		found := 0
		for f := range strings.SplitSeq(s, delim) {
			if _, reason := detect(strings.Trim(strings.TrimSpace(f), `"'`)); reason == "" {
				found++
			}
		}
		if found > 1 {
			return FormatCSV
		}
		first, _, _ := strings.Cut(s, " ")
		first, _, _ = strings.Cut(first, "\t")
		if _, reason := detect(first); reason == "" || !strings.Contains(s, delim) {
			return FormatText
		}
		return FormatCSV
	}
	return FormatText
}

// readText reads a text list line by line.
func readText(br *bufio.Reader, fn func(IOC) error, bad func(int, string, string)) error {
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// The slice is only valid until the next read.
			start := string(line[:80])
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			bad(n, start, reasonTooLong)
			line = nil
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("read list line %d: %w", n, err)
		}
		if len(line) > 0 {
			if ferr := textLine(n, string(line), fn, bad); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

// textLine handles one line of a text list: the value is the first field,
// split off by white space or, when that is no indicator, by ',', ';' or '|'
// (which URLs may contain, so they are tried second). What follows, a count
// or a "# comment" for instance, is kept in Fields["comment"].
func textLine(n int, line string, fn func(IOC) error, bad func(int, string, string)) error {
	s := strings.TrimSpace(line)
	if s == "" || s[0] == '#' || s[0] == ';' {
		return nil
	}
	value, comment := s, ""
	if i := strings.IndexFunc(s, isSpace); i >= 0 {
		value, comment = s[:i], strings.TrimSpace(s[i:])
	}
	if sinkAddresses[value] && comment != "" && comment[0] != '#' && comment[0] != ';' {
		return hostsLine(n, comment, fn, bad)
	}
	ioc, reason := detect(value)
	if reason != "" {
		if i := strings.IndexAny(value, ",;|"); i > 0 {
			if alt, altReason := detect(value[:i]); altReason == "" {
				ioc, reason = alt, ""
				comment = strings.TrimSpace(value[i+1:] + " " + comment)
			}
		}
	}
	if reason != "" {
		bad(n, s, reason)
		return nil
	}
	comment = strings.TrimSpace(strings.TrimLeft(comment, "#;,|\t "))
	ioc.Line = n
	if comment != "" {
		ioc.Fields = map[string]string{"comment": comment}
	}
	return fn(ioc)
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' }

// sinkAddresses are the addresses a hosts-file block list maps its names
// to ("0.0.0.0 evil.example"): the names are the indicators, not these.
var sinkAddresses = map[string]bool{"0.0.0.0": true, "127.0.0.1": true, "::": true, "::1": true, "0": true}

// hostsNames are the names a hosts file maps for the machine itself, which
// block lists copy from the system's: no indicators, and no mistakes.
var hostsNames = map[string]bool{
	"localhost": true, "localhost.localdomain": true, "local": true, "broadcasthost": true,
	"ip6-localhost": true, "ip6-loopback": true, "ip6-localnet": true, "ip6-mcastprefix": true,
	"ip6-allnodes": true, "ip6-allrouters": true, "ip6-allhosts": true, "0.0.0.0": true,
}

// hostsLine handles the names of a hosts-file line after its sink
// address: each is an indicator, with a trailing "# comment" as its
// comment.
func hostsLine(n int, rest string, fn func(IOC) error, bad func(int, string, string)) error {
	names, comment, _ := strings.Cut(rest, "#")
	comment = strings.TrimSpace(comment)
	for _, name := range strings.Fields(names) {
		if hostsNames[strings.ToLower(name)] {
			continue
		}
		ioc, reason := detect(name)
		if reason == "" && ioc.Type != TypeDomain {
			reason = "not a host name after a hosts file's address"
		}
		if reason != "" {
			bad(n, name, reason)
			continue
		}
		ioc.Line = n
		if comment != "" {
			ioc.Fields = map[string]string{"comment": comment}
		}
		if err := fn(ioc); err != nil {
			return err
		}
	}
	return nil
}
