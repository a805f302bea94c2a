package feed_test

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hail/feed"
	"hail/ingest"
)

// TestDetectFormatRealData tells every file of the shared real data as
// what it is, with the extensions dropped, as standard input gives them:
// the STIX bundles (2.0 and 2.1, with their custom objects) as STIX, ESET's
// MISP exports as MISP, the plain lists as lists. None is taken for a JSON
// IOC list.
func TestDetectFormatRealData(t *testing.T) {
	root := filepath.Join("..", "..", "shared", "data")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("shared test data %s not present (../shared beside the repository): %v", root, err)
	}
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		var want string
		switch ext := filepath.Ext(p); {
		case strings.HasSuffix(p, "dnsduvel_blocklist.json"):
			// A malware's configuration beside ESET's MISP events: no
			// list of records, so STIX, whose reader says what it is not.
			want = feed.FormatSTIX
		case strings.Contains(p, "misp-json"):
			want = ingest.FormatMISP
		case ext == ".json" || ext == ".stix2":
			want = feed.FormatSTIX
		case ext == ".txt":
			want = ingest.FormatText
		default:
			return nil // CSV is told by its name alone; YAML and notes are no input
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		head := make([]byte, feed.DetectHead)
		k, err := io.ReadFull(f, head)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return err
		}
		if got := feed.DetectFormat("", head[:k]); got != want {
			t.Errorf("%s told as %q, want %q", p, got, want)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 100 {
		t.Errorf("told %d files, want the 120 or so of the shared data", n)
	}
}
