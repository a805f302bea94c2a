package feed

import (
	"context"
	"io"

	"hail/ingest"
)

// FormatSTIX names STIX input (a bundle, an envelope, objects) where a
// format is given beside ingest's list and MISP formats.
const FormatSTIX = "stix"

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
