package main

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const sharedData = "../../../shared/data"

func needShared(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join(sharedData, rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared test data %s not present (../shared beside the repository): %v", p, err)
	}
	return p
}

func counts(t *testing.T, out string) (read, added, dup, rejected string) {
	t.Helper()
	m := regexp.MustCompile(`(\d+) read, (\d+) added, (\d+) duplicate, (\d+) rejected`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no summary in output:\n%s", out)
	}
	return m[1], m[2], m[3], m[4]
}

func TestImportBundleTwiceAddsNothingTheSecondTime(t *testing.T) {
	bundle := needShared(t, "mobile-attack-17.1.json")
	db := filepath.Join(t.TempDir(), "hail.db")

	out := mustHail(t, "import", "--db", db, bundle)
	if r, a, d, x := counts(t, out); r != "2148" || a != "2148" || d != "0" || x != "0" {
		t.Errorf("first import: read %s added %s duplicate %s rejected %s, want 2148/2148/0/0\n%s", r, a, d, x, out)
	}
	out = mustHail(t, "import", "--db", db, bundle)
	if _, a, d, _ := counts(t, out); a != "0" || d != "2148" {
		t.Errorf("second import: added %s duplicate %s, want 0 and 2148", a, d)
	}
	list := mustHail(t, "collection", "list", "--db", db)
	if !regexp.MustCompile(`default\s+Default collection\s+explicit\s+false\s+2148\s+2148`).MatchString(list) {
		t.Errorf("collection list after import:\n%s", list)
	}
}

func TestImportConvertsSTIX20(t *testing.T) {
	dir := needShared(t, "real/stix/unit42-playbooks")
	db := filepath.Join(t.TempDir(), "hail.db")
	out := mustHail(t, "import", "--db", db, filepath.Join(dir, "2024-02-08-Pikabot.json"))
	if r, a, _, x := counts(t, out); r != a || x != "0" || r == "0" {
		t.Errorf("STIX 2.0 import: read %s added %s rejected %s\n%s", r, a, x, out)
	}
	if !strings.Contains(out, "converted to 2.1") {
		t.Errorf("no conversion reported:\n%s", out)
	}
}

func TestImportListIsIdempotentAndReportsBadLines(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "feed.txt")
	os.WriteFile(list, []byte("# a feed\r\n203.0.113.7\r\nevil[.]example\t12\r\nnot an ioc at all!\r\nhxxp://bad.example/x\r\n203.0.113.7\r\n"), 0o600)
	db := filepath.Join(dir, "hail.db")

	out := mustHail(t, "import", "--db", db, "--source", "Example CERT", "--tlp", "green", "--ttl", "30d", list)
	r, a, d, x := counts(t, out)
	if a != "3" || x != "1" || d != "1" {
		t.Errorf("first import: read %s added %s duplicate %s rejected %s, want 3 added, 1 duplicate, 1 rejected\n%s", r, a, d, x, out)
	}
	if !strings.Contains(out, "rejected line 4") {
		t.Errorf("bad line not reported with its number:\n%s", out)
	}
	// The same TTL written in hours: nothing changes.
	out = mustHail(t, "import", "--db", db, "--source", "Example CERT", "--tlp", "green", "--ttl", "720h", list)
	if _, a, _, _ := counts(t, out); a != "0" {
		t.Errorf("re-import added %s, want 0\n%s", a, out)
	}
	out = mustHail(t, "import", "--db", db, "--source", "Example CERT", "--tlp", "green", "--ttl", "720h", "--confidence", "90", list)
	if _, a, _, _ := counts(t, out); a != "3" || !strings.Contains(out, "3 of those added are new versions") {
		t.Errorf("import with a changed confidence added %s, want 3 new versions, said so\n%s", a, out)
	}
}

func TestImportDryRunStoresNothing(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hail.db")
	var in = `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[
{"type":"identity","spec_version":"2.1","id":"identity--311b2d2d-f010-4473-83ec-1edf84858f4c","created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z","name":"ACME"},
{"type":"identity","spec_version":"2.1","id":"identity--bad"}]}`
	path := filepath.Join(t.TempDir(), "b.json")
	os.WriteFile(path, []byte(in), 0o600)
	out := mustHail(t, "import", "--db", db, "--dry-run", path)
	if r, a, _, x := counts(t, out); r != "2" || a != "1" || x != "1" {
		t.Errorf("dry run: read %s valid %s rejected %s\n%s", r, a, x, out)
	}
	list := mustHail(t, "collection", "list", "--db", db, "--json")
	if !strings.Contains(list, `"objects": 0`) {
		t.Errorf("dry run stored something:\n%s", list)
	}
	if _, err := runHail(t, "import", "--db", db, filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("importing a missing file succeeded")
	}
}

// TestImportManyBatches imports a bundle in several transactions, each
// stored while the next is read, and a list whose batch holds more values
// than a page of the store: every object is counted once and stored, and
// the list's re-import finds every value it stored.
func TestImportManyBatches(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "hail.db")
	var b strings.Builder
	b.WriteString(`{"type":"bundle","id":"bundle--6f0b3a42-1c55-4d8e-9f3e-0a1b2c3d4e5f","objects":[`)
	const objects = 1050
	for i := range objects {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08d-aaaa-4bbb-8ccc-dddddddddddd",`+
			`"created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","pattern":"[ipv4-addr:value = '198.51.%d.%d']",`+
			`"pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`, i, i/256, i%256)
	}
	b.WriteString(`]}`)
	bundle := filepath.Join(dir, "bundle.json")
	os.WriteFile(bundle, []byte(b.String()), 0o600)
	out := mustHail(t, "import", "--db", db, "--batch", "100", bundle)
	if r, a, d, x := counts(t, out); r != "1050" || a != "1050" || d != "0" || x != "0" {
		t.Errorf("bundle in batches of 100: read %s added %s duplicate %s rejected %s, want 1050/1050/0/0\n%s", r, a, d, x, out)
	}
	list := mustHail(t, "collection", "list", "--db", db)
	if !regexp.MustCompile(`default\s+Default collection\s+explicit\s+false\s+1050\s+1050`).MatchString(list) {
		t.Errorf("collection list after the import:\n%s", list)
	}

	// More values than store.MaxLimit in one batch.
	var l strings.Builder
	const values = 10500
	for i := range values {
		fmt.Fprintf(&l, "10.%d.%d.%d\n", i>>16, (i>>8)&255, i&255)
	}
	txt := filepath.Join(dir, "list.txt")
	os.WriteFile(txt, []byte(l.String()), 0o600)
	out = mustHail(t, "import", "--db", db, "--source", "Example CERT", txt)
	if _, a, _, x := counts(t, out); a != "10500" || x != "0" {
		t.Errorf("list: added %s rejected %s, want 10500 and 0\n%s", a, x, out)
	}
	out = mustHail(t, "import", "--db", db, "--source", "Example CERT", txt)
	if _, a, d, _ := counts(t, out); a != "0" || d != "10500" {
		t.Errorf("list again: added %s duplicate %s, want 0 and 10500\n%s", a, d, out)
	}
}

func TestImportCompressed(t *testing.T) {
	// A gzipped bundle reads as the bundle; a zipped CSV list is told from
	// a plain one by the name of the file the archive holds.
	dir := t.TempDir()
	db := filepath.Join(dir, "hail.db")
	bundle := `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{"type":"indicator",` +
		`"spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2024-01-01T00:00:00Z",` +
		`"modified":"2024-01-01T00:00:00Z","pattern":"[ipv4-addr:value = '203.0.113.7']","pattern_type":"stix",` +
		`"valid_from":"2024-01-01T00:00:00Z"}]}`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(bundle))
	zw.Close()
	gzPath := filepath.Join(dir, "intel.json.gz")
	if err := os.WriteFile(gzPath, gz.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out := mustHail(t, "import", "--db", db, gzPath)
	if r, a, _, x := counts(t, out); r != "1" || a != "1" || x != "0" {
		t.Errorf("gzipped bundle: read %s added %s rejected %s, want 1/1/0\n%s", r, a, x, out)
	}

	var zb bytes.Buffer
	arc := zip.NewWriter(&zb)
	w, _ := arc.Create("export/urls.csv")
	fmt.Fprint(w, "id,dateadded,url,threat\n1,2024-01-01,http://evil.example/a.exe,malware_download\n2,2024-01-01,not a url,x\n")
	arc.Close()
	zipPath := filepath.Join(dir, "urls.zip")
	if err := os.WriteFile(zipPath, zb.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out = mustHail(t, "import", "--db", db, "--source", "Example", zipPath)
	if r, a, _, x := counts(t, out); r != "2" || a != "1" || x != "1" {
		t.Errorf("zipped CSV: read %s added %s rejected %s, want 2/1/1 (the url column only)\n%s", r, a, x, out)
	}
	os.WriteFile(gzPath, gz.Bytes()[:gz.Len()/2], 0o600)
	if out, err := runHail(t, "import", "--db", db, gzPath); err == nil || !strings.Contains(err.Error(), "gzip input is damaged") {
		t.Errorf("import of a truncated gzip file: %v, want the damage named\n%s", err, out)
	}
}

func TestImportMISPExport(t *testing.T) {
	// A MISP event export is told from a STIX bundle by its first key. ESET
	// publishes its indicators with to_ids false: they are passed over,
	// with the reason, unless --all-attributes; importing again adds
	// nothing.
	event := needShared(t, "real/lists/eset-malware-ioc/misp-json/dukes__misp-dukes-operation-ghost-event.json")
	db := filepath.Join(t.TempDir(), "hail.db")
	out := mustHail(t, "import", "--db", db, event)
	if r, a, _, x := counts(t, out); r != "101" || a != "0" || x != "101" || !strings.Contains(out, "to_ids false") {
		t.Errorf("MISP export: read %s added %s rejected %s, want 101/0/101 for to_ids false\n%s", r, a, x, out)
	}
	out = mustHail(t, "import", "--db", db, "--all-attributes", event)
	if r, a, _, x := counts(t, out); r != "101" || a != "87" || x != "14" || !strings.Contains(out, "MISP type text is not an indicator type") {
		t.Errorf("MISP export, all attributes: read %s added %s rejected %s, want 101/87/14\n%s", r, a, x, out)
	}
	out = mustHail(t, "import", "--db", db, "--all-attributes", event)
	if _, a, d, _ := counts(t, out); a != "0" || d != "87" {
		t.Errorf("MISP export again: added %s duplicate %s, want 0 and 87\n%s", a, d, out)
	}
	if out, err := runHail(t, "import", "--db", db, "--all-attributes", "--format", "stix", event); err == nil {
		t.Errorf("--all-attributes with --format stix succeeded:\n%s", out)
	}
}

func TestImportSeveralFiles(t *testing.T) {
	// hail import *.json: each file is detected and summed up on its own,
	// and one that fails does not stop the others.
	dir := t.TempDir()
	db := filepath.Join(dir, "hail.db")
	list := filepath.Join(dir, "ips.txt")
	os.WriteFile(list, []byte("203.0.113.7\n203.0.113.8\n"), 0o600)
	bad := filepath.Join(dir, "broken.json")
	os.WriteFile(bad, []byte(`{"type":"bundle","objects":[{"type":`), 0o600)
	event := filepath.Join(dir, "event.json")
	os.WriteFile(event, []byte(`{"Event":{"Orgc":{"name":"X"},"Attribute":[{"type":"domain","value":"c2.example","to_ids":true}]}}`), 0o600)
	out, err := runHail(t, "import", "--db", db, "--source", "Example", list, bad, event)
	if err == nil || !strings.Contains(err.Error(), "1 of 3 files failed") {
		t.Errorf("error %v, want 1 of 3 files failed", err)
	}
	for _, want := range []string{list + ":\n2 read, 2 added", event + ":\n1 read, 1 added"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if out, err := runHail(t, "import", "--db", db, "--snapshot", "--source", "Example", list, list); err == nil {
		t.Errorf("--snapshot of two lists succeeded:\n%s", out)
	}
	fresh := filepath.Join(dir, "fresh.db")
	if _, err := runHail(t, "import", "--db", fresh, "--format", "yaml", list); err == nil {
		t.Error("--format yaml succeeded")
	}
	if _, err := os.Stat(fresh); err == nil {
		t.Error("a bad --format made a store")
	}
	if _, err := runHail(t, "import", "--db", fresh, list, filepath.Join(dir, "missing.json")); err == nil {
		t.Error("import of a missing file succeeded")
	}
	if _, err := os.Stat(fresh); err == nil {
		t.Error("a missing file made a store")
	}
}

func TestImportJSONList(t *testing.T) {
	// An IOC list in JSON is told by its first record's keys, or named
	// with --format json-list; read as STIX (--format stix), an object of
	// other JSON is refused saying what it may be, and an array's elements
	// are rejected one by one.
	dir := t.TempDir()
	db := filepath.Join(dir, "hail.db")
	list := filepath.Join(dir, "ipblocklist.json")
	os.WriteFile(list, []byte(`[{"ip_address":"192.0.2.10","port":443,"malware":"QakBot"},{"ip_address":"192.0.2.11","port":8080}]`), 0o600)
	if out := mustHail(t, "import", "--db", db, "--format", "stix", list); !strings.Contains(out, `"type" is required`) {
		t.Errorf("a JSON list as STIX: want its objects rejected\n%s", out)
	}
	drop := filepath.Join(dir, "drop.json")
	os.WriteFile(drop, []byte(`{"cidr":"1.10.16.0/20","sblid":"SBL256894"}`), 0o600)
	if out, err := runHail(t, "import", "--db", db, "--format", "stix", drop); err == nil || !strings.Contains(err.Error(), "json-list") {
		t.Errorf("a JSON list's object as STIX: %v, want the refusal to name json-list\n%s", err, out)
	}
	out := mustHail(t, "import", "--db", db, "--source", "Feodo", list)
	if r, a, _, x := counts(t, out); r != "2" || a != "2" || x != "0" {
		t.Errorf("JSON list, told by its content: read %s added %s rejected %s, want 2/2/0\n%s", r, a, x, out)
	}
	out = mustHail(t, "import", "--db", db, "--format", "json-list", "--source", "Spamhaus", drop)
	if r, a, _, x := counts(t, out); r != "1" || a != "1" || x != "0" {
		t.Errorf("JSON list, named: read %s added %s rejected %s, want 1/1/0\n%s", r, a, x, out)
	}
}

func TestImportDetectsJSONByContent(t *testing.T) {
	// Without --format, a file named .bundle, .txt or nothing, or standard
	// input, is a bundle when it begins as JSON and a list otherwise: the
	// extension alone took a bundle in "feed.bundle" for a list of one
	// overlong line, and a list on standard input for broken JSON.
	dir := t.TempDir()
	db := filepath.Join(dir, "hail.db")
	bundle := `{"type":"bundle","id":"bundle--6e1d1d2a-4d3b-4b4e-9a4f-1c2d3e4f5a6b","objects":[` + string(pullIndicator(1)) + `]}`
	for _, name := range []string{"feed.bundle", "export.txt", "noextension"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("\ufeff\n  "+bundle), 0o600); err != nil {
			t.Fatal(err)
		}
		out := mustHail(t, "import", "--db", db, p)
		if r, _, _, x := counts(t, out); r != "1" || x != "0" {
			t.Errorf("%s: read %s rejected %s, want the bundle's one indicator\n%s", name, r, x, out)
		}
	}
	ipv6 := filepath.Join(dir, "ports")
	if err := os.WriteFile(ipv6, []byte("[2001:db8::1]:443\n[2001:db8::2]:8443\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := mustHail(t, "import", "--db", db, "--source", "Example", ipv6)
	if r, a, _, x := counts(t, out); r != "2" || a != "2" || x != "0" {
		t.Errorf("IPv6 addresses with ports: read %s added %s rejected %s, want a list of 2\n%s", r, a, x, out)
	}
	for _, tc := range []struct{ input, want string }{
		{bundle, "1 read, 0 added, 1 duplicate"},
		{"203.0.113.50\nevil.example\n", "2 read, 2 added"},
		// abuse.ch's CSV, as `curl …/csv_recent/ | hail import -` gives it.
		{"# id,dateadded,url,url_status\n\"7\",\"2024-01-01\",\"http://evil.example/x.exe\",\"online\"\n", "1 read, 1 added, 0 duplicate, 0 rejected"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), []string{"import", "--db", db, "--source", "Example", "-"}, noenv,
			strings.NewReader(tc.input), &stdout, &stderr)
		if err != nil || !strings.Contains(stdout.String(), tc.want) {
			t.Errorf("standard input %.20q: %v\n%s%s\nwant %q", tc.input, err, stdout.String(), stderr.String(), tc.want)
		}
	}
}
