package stix_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"hail"
	"hail/stix"
)

// sharedData is the real data beside the repository (see shared/data/README.md).
const sharedData = "../../shared/data"

// loadObjects returns the objects of a bundle file, or the file itself when
// it holds a single object. It skips the test when the data is absent.
func loadObjects(tb testing.TB, path string) []json.RawMessage {
	tb.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		tb.Skipf("%s is absent: the shared test data is not beside the repository", path)
	}
	if err != nil {
		tb.Fatal(err)
	}
	var top struct {
		Type    string            `json:"type"`
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(b, &top); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	if top.Type != "bundle" {
		return []json.RawMessage{b}
	}
	return top.Objects
}

func globShared(tb testing.TB, pattern string) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(sharedData, pattern))
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Skipf("no files match %s: the shared test data is not beside the repository", filepath.Join(sharedData, pattern))
	}
	sort.Strings(files)
	return files
}

// rejection is one object that Parse or Validate turned down.
type rejection struct {
	file, id, msg string
}

func validateAll(objs []json.RawMessage, file string, convert bool) (rejected []rejection) {
	for _, raw := range objs {
		if convert {
			var err error
			if raw, err = stix.Convert20(raw); err != nil {
				rejected = append(rejected, rejection{file, "", "convert: " + hail.ErrorMessage(err)})
				continue
			}
		}
		o, err := stix.Parse(raw)
		if err == nil {
			err = stix.Validate(o)
		}
		if err != nil {
			rejected = append(rejected, rejection{file, o.ID, hail.ErrorMessage(err)})
		}
	}
	return rejected
}

// TestValidateATTACK: every object of MITRE ATT&CK for Mobile 17.1 must
// validate; it is the largest real STIX 2.1 producer and uses custom types
// and un-prefixed custom properties.
func TestValidateATTACK(t *testing.T) {
	path := filepath.Join(sharedData, "mobile-attack-17.1.json")
	objs := loadObjects(t, path)
	if len(objs) != 2148 {
		t.Errorf("objects in %s: got %d, want 2148", path, len(objs))
	}
	for _, r := range validateAll(objs, path, false) {
		t.Errorf("%s: rejected: %s", r.id, r.msg)
	}
}

// knownViolation is a rejection of real data for a genuine breach of the
// specification: the files are published as they are, so the test expects
// the rejection, and how often it occurs.
type knownViolation struct {
	msg    string // the whole message
	reason string
	count  int
}

// checkRejections reports every rejection that is not a known violation,
// and known violations that did not occur as often as expected.
func checkRejections(t *testing.T, rejected []rejection, known []knownViolation) {
	t.Helper()
	seen := map[string]int{}
next:
	for _, r := range rejected {
		for _, k := range known {
			if r.msg == k.msg {
				seen[k.msg]++
				continue next
			}
		}
		t.Errorf("%s: %s: rejected: %s", filepath.Base(r.file), r.id, r.msg)
	}
	for _, k := range known {
		if seen[k.msg] != k.count {
			t.Errorf("known violation %q (%s): got %d rejections, want %d", k.msg, k.reason, seen[k.msg], k.count)
		}
	}
}

// TestValidateRealSTIX21 validates the STIX 2.1 files of the shared data:
// Amnesty's investigations, the OASIS examples and MISP's 2.1 exports.
func TestValidateRealSTIX21(t *testing.T) {
	var files []string
	for _, p := range []string{
		"real/stix/amnesty-investigations/*.stix2",
		"real/stix/oasis-cti-documentation/*.json",
		"real/stix/oasis-cti-stix2-json-schemas/*.json",
		"real/stix/misp-stix-tests/*_stix21.json",
	} {
		files = append(files, globShared(t, p)...)
	}
	total := 0
	var rejected []rejection
	for _, f := range files {
		objs := loadObjects(t, f)
		total += len(objs)
		rejected = append(rejected, validateAll(objs, f, false)...)
	}
	// None of these files breaks a rule that Validate enforces.
	checkRejections(t, rejected, nil)
	t.Logf("%d objects in %d files, %d rejected", total, len(files), len(rejected))
}

// TestConvert20Real converts every object of the STIX 2.0 bundles in the
// shared data (Unit 42's playbooks and MISP's 2.0 exports) and validates the
// result as STIX 2.1.
func TestConvert20Real(t *testing.T) {
	files := append(globShared(t, "real/stix/unit42-playbooks/*.json"), globShared(t, "real/stix/misp-stix-tests/*_stix20.json")...)
	total := 0
	var rejected []rejection
	for _, f := range files {
		objs := loadObjects(t, f)
		total += len(objs)
		rejected = append(rejected, validateAll(objs, f, true)...)
	}
	checkRejections(t, rejected, []knownViolation{{
		msg:    `Property "identity_class" must be a string.`,
		reason: `Unit 42 writes identity_class as a list, ["unknown"], in 18 identities; STIX 2.0 §4.5 and 2.1 §4.5 define it as a string`,
		count:  18,
	}})
	t.Logf("%d STIX 2.0 objects in %d files converted, %d rejected", total, len(files), len(rejected))
}
