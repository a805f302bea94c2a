package bench

import (
	"bytes"
	"errors"
	"io"
	"testing"

	hailingest "hail/ingest"
	"hail/stix"
)

// TestWriteBundle imports the bundle WriteBundle writes: every version of
// the data set is read, valid, and stored once.
func TestWriteBundle(t *testing.T) {
	var b bytes.Buffer
	if err := WriteBundle(&b, NewGenerator(3, 700)); err != nil {
		t.Fatal(err)
	}
	rd := hailingest.NewReader(&b)
	n := 0
	for {
		raw, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("object %d: %v", n, err)
		}
		o, err := stix.Parse(raw)
		if err == nil {
			err = stix.Validate(o)
		}
		if err != nil {
			t.Fatalf("object %d: %v", n, err)
		}
		n++
	}
	if n != 700 {
		t.Errorf("bundle holds %d objects, want 700", n)
	}
}
