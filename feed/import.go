package feed

import (
	"bufio"
	"context"
	"errors"
	"io"
	"path"
	"strings"

	"hail/ingest"
)

// FormatSTIX names STIX input (a bundle, an envelope, objects) where a
// format is given beside ingest's list and MISP formats.
const FormatSTIX = "stix"

// DetectHead is how many of an input's first bytes DetectFormat looks at:
// enough for the first record of a JSON list to name its indicator.
const DetectHead = 4096

// Detect tells the format of br's content, named name, by its first
// DetectHead bytes (DetectFormat), leaving them in br to be read. A read
// error other than a short input comes back as it is.
func Detect(br *bufio.Reader, name string) (string, error) {
	head, err := br.Peek(DetectHead)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return "", err
	}
	return DetectFormat(name, head), nil
}

// ParseFormat returns the format a user named: FormatSTIX ("stix", "json"
// or "bundle"), ingest.FormatMISP, ingest.FormatText ("txt", "text"),
// ingest.FormatCSV or ingest.FormatJSON, in any case; "" for "", to be
// told by DetectFormat. It reports false for any other name.
func ParseFormat(name string) (string, bool) {
	switch strings.ToLower(name) {
	case "":
		return "", true
	case "stix", "json", "bundle":
		return FormatSTIX, true
	case ingest.FormatMISP:
		return ingest.FormatMISP, true
	case "txt", "text":
		return ingest.FormatText, true
	case "csv":
		return ingest.FormatCSV, true
	case ingest.FormatJSON:
		return ingest.FormatJSON, true
	}
	return "", false
}

// DetectFormat tells the format of an input given without one from the
// name it came under (a file's, or the file inside an archive; "" when
// none) and head, its first bytes (DetectHead of them): ".csv" is a CSV
// list; JSON, whatever the name, is a MISP export (ingest.SniffMISP), an
// IOC list in JSON (ingest.SniffJSONList) or STIX; ".json", ".stix" and
// ".stix2" are STIX even if they do not parse as it, so that the error
// says what is wrong with them; anything else is a CSV list when its rows
// clearly are one (ingest.SniffCSV), else a plain list. Standard input and
// files named ".txt" or ".bundle" hold bundles as often as lists, and the
// content tells them apart.
func DetectFormat(name string, head []byte) string {
	head = head[:min(len(head), DetectHead)]
	ext := strings.ToLower(path.Ext(strings.ReplaceAll(name, "\\", "/")))
	switch {
	case ext == ".csv":
		return ingest.FormatCSV
	case ingest.SniffMISP(head):
		return ingest.FormatMISP
	case ingest.SniffJSONList(head):
		return ingest.FormatJSON
	case ingest.SniffJSON(head), ext == ".json", ext == ".stix", ext == ".stix2", ext == ".ndjson":
		return FormatSTIX
	case ingest.SniffCSV(head):
		return ingest.FormatCSV
	}
	return ingest.FormatText
}

// Import reads r into im's collection as format says: FormatSTIX,
// ingest.FormatMISP, or an IOC list format, which with snapshot revokes
// the source's indicators the list no longer names (see Snapshot). It
// returns the summary and, for a snapshot, how many it revoked. The import
// command, the import API and HTTP feeds share it.
func Import(ctx context.Context, im *ingest.Importer, r io.Reader, format string, opt ingest.MISPOptions, snapshot bool) (ingest.Summary, int, error) {
	switch format {
	case FormatSTIX:
		s, err := im.ImportSTIX(ctx, r)
		return s, 0, err
	case ingest.FormatMISP:
		s, err := im.ImportMISP(ctx, r, opt)
		return s, 0, err
	}
	list := opt.ListOptions
	list.Format = format
	if snapshot {
		return Snapshot(ctx, im, r, list)
	}
	s, err := im.ImportList(ctx, r, list)
	return s, 0, err
}
