package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"hail/server"
	"hail/store"
)

// importAnswer is the JSON of POST /api/v1/import.
type importAnswer struct {
	Format                                                string
	Read, Added, Duplicates, Rejected, Revoked, Converted int
	NewVersions                                           int `json:"new_versions"`
	Rejections                                            []struct{ Where, ID, Reason string }
}

func postImport(t *testing.T, e *env, query, key, body string) (*response, importAnswer) {
	t.Helper()
	r := e.rest(t, http.MethodPost, "/api/v1/import?"+query, key, strings.NewReader(body))
	var a importAnswer
	if r.status == http.StatusOK {
		if err := json.Unmarshal(r.body, &a); err != nil {
			t.Errorf("import answer %s: %v", r.body, err)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("import Content-Type %q, want application/json", ct)
		}
	}
	return r, a
}

func TestImportList(t *testing.T) {
	e := newEnv(t, server.Config{}, false)
	r, a := postImport(t, e, "collection=drop&format=txt&source=Acme&tlp=amber&confidence=80&ttl=30d", "admin",
		"203.0.113.7\nhxxp://evil[.]example/x\nnot-an-ioc\n203.0.113.7\n")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if a.Read != 4 || a.Added != 2 || a.Duplicates != 1 || a.Rejected != 1 || len(a.Rejections) != 1 || a.Rejections[0].Where != "line 3" {
		t.Errorf("summary %+v, want 4 read, 2 added, 1 duplicate, 1 rejected on line 3", a)
	}
	page, err := e.db.IOCs(context.Background(), collDrop, store.IOCFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, i := range page.IOCs {
		got = append(got, i.Value+" "+i.Source+" "+i.TLP)
		if i.Confidence == nil || *i.Confidence != 80 || i.ValidUntil.Sub(i.ValidFrom) != 30*24*time.Hour {
			t.Errorf("IOC %s: confidence %v, valid %v to %v; want 80 and a TTL of 30 days", i.Value, i.Confidence, i.ValidFrom, i.ValidUntil)
		}
	}
	if want := []string{"203.0.113.7 Acme amber", "http://evil.example/x Acme amber"}; !reflect.DeepEqual(got, want) {
		t.Errorf("stored IOCs %q, want %q", got, want)
	}
}

func TestImportSTIX(t *testing.T) {
	e := newEnv(t, server.Config{}, false)
	body := `{"type":"bundle","id":"bundle--6e1d1d2a-4d3b-4b4e-9a4f-1c2d3e4f5a6b","objects":[` +
		indicator(1, "2025-01-01T00:00:00.000Z") + `,` + malware(2) + `,{"type":"indicator","id":"x"}]}`
	r, a := postImport(t, e, "collection=api/drop&format=stix", "admin", body)
	if r.status != http.StatusOK || a.Read != 3 || a.Added != 2 || a.Rejected != 1 {
		t.Errorf("status %d summary %+v; want 200, 3 read, 2 added, 1 rejected", r.status, a)
	}
	_, a = postImport(t, e, "collection="+collDrop+"&format=stix", "admin", body)
	if a.Duplicates != 2 || a.Added != 0 {
		t.Errorf("second import %+v; want 2 duplicates", a)
	}
	if a.NewVersions != 0 {
		t.Errorf("second import: %d new versions, want none", a.NewVersions)
	}
	v2 := `[` + indicator(1, "2025-02-01T00:00:00.000Z") + `,` + indicator(3, "2025-01-01T00:00:00.000Z") + `]`
	if _, a = postImport(t, e, "collection="+collDrop+"&format=stix", "admin", v2); a.Added != 2 || a.NewVersions != 1 {
		t.Errorf("a new version and a new object: %+v; want 2 added, 1 of them a new version", a)
	}
}

func TestImportSnapshot(t *testing.T) {
	e := newEnv(t, server.Config{}, false)
	_, a := postImport(t, e, "collection=drop&format=txt&source=Acme&snapshot=true", "admin", "203.0.113.1\n203.0.113.2\n")
	if a.Added != 2 {
		t.Errorf("first snapshot %+v; want 2 added", a)
	}
	_, a = postImport(t, e, "collection=drop&format=txt&source=Acme&snapshot=1", "admin", "203.0.113.2\n")
	if a.Revoked != 1 || a.Duplicates != 1 {
		t.Errorf("second snapshot %+v; want 1 duplicate, 1 revoked", a)
	}
	page, err := e.db.IOCs(context.Background(), collDrop, store.IOCFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.IOCs) != 1 || page.IOCs[0].Value != "203.0.113.2" {
		t.Errorf("active IOCs %+v, want only 203.0.113.2", page.IOCs)
	}
}

func TestImportRefused(t *testing.T) {
	e := newEnv(t, server.Config{MaxImportSize: 64}, false)
	for _, tc := range []struct {
		name, query, key, body string
		wantStatus             int
		wantCode               string
	}{
		{"anonymous", "collection=drop&format=txt", "", "203.0.113.1\n", 401, "unauthenticated"},
		{"not admin", "collection=drop&format=txt", "writer", "203.0.113.1\n", 403, "forbidden"},
		{"no collection", "format=txt", "admin", "", 400, "invalid"},
		{"bad format", "collection=drop&format=xml", "admin", "", 400, "invalid"},
		{"bad confidence", "collection=drop&format=txt&confidence=101", "admin", "", 400, "invalid"},
		{"bad ttl", "collection=drop&format=txt&ttl=soon", "admin", "", 400, "invalid"},
		{"ttl in fractional days", "collection=drop&format=txt&ttl=1.5d", "admin", "", 400, "invalid"},
		{"snapshot without source", "collection=drop&format=txt&snapshot=true", "admin", "", 400, "invalid"},
		{"unknown collection", "collection=nope&format=txt", "admin", "", 404, "not_found"},
		{"too large", "collection=drop&format=txt", "admin", strings.Repeat("203.0.113.1\n", 20), 413, "too_large"},
		{"malformed bundle", "collection=drop&format=stix", "admin", `{"objects":[{`, 400, "invalid"},
		{"too large bundle", "collection=drop&format=stix", "admin", `{"objects":[` + indicator(1, "2025-01-01T00:00:00.000Z") + `]}`, 413, "too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := postImport(t, e, tc.query, tc.key, tc.body)
			if r.status != tc.wantStatus || errorCode(t, r) != tc.wantCode {
				t.Errorf("status %d code %q (%s), want %d %q", r.status, errorCode(t, r), r.body, tc.wantStatus, tc.wantCode)
			}
		})
	}
}

func TestImportIntoFilterCollection(t *testing.T) {
	e := newEnv(t, server.Config{}, false)
	if err := e.db.CreateCollection(context.Background(), store.Collection{ID: "88888888-8888-4888-8888-888888888888",
		APIRoot: "api", Alias: "ips", Title: "IPs", Kind: store.KindFilter, Filter: `{"observables":["ipv4"]}`}); err != nil {
		t.Fatal(err)
	}
	r, _ := postImport(t, e, "collection=ips&format=txt", "admin", "203.0.113.1\n")
	if r.status != http.StatusUnprocessableEntity {
		t.Errorf("import into a filter collection: %d %s, want 422", r.status, r.body)
	}
}

// BenchmarkImportList posts a 10,000-line IOC list: the first iteration
// stores it, the rest find every line a duplicate, as a daily re-import does.
func BenchmarkImportList(b *testing.B) {
	e := newEnv(b, server.Config{}, false)
	var list strings.Builder
	for i := range 10000 {
		fmt.Fprintf(&list, "10.%d.%d.%d\n", i>>16&255, i>>8&255, i&255)
	}
	body := list.String()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for range b.N {
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v1/import?collection=drop&format=txt&source=Bench", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+e.keys["admin"])
		res, err := e.srv.Client().Do(req)
		if err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
}

func TestImportCompressed(t *testing.T) {
	// curl --data-binary @list.txt.gz: the body is gzip whatever its
	// headers say; a damaged one is the sender's 400, not a 500.
	e := newEnv(t, server.Config{}, false)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	fmt.Fprint(zw, "203.0.113.7\nhxxp://evil[.]example/x\n")
	zw.Close()
	r, a := postImport(t, e, "collection=drop&format=txt&source=Acme", "admin", gz.String())
	if r.status != http.StatusOK || a.Read != 2 || a.Added != 2 {
		t.Errorf("gzip list: status %d summary %+v; want 200, 2 read, 2 added", r.status, a)
	}
	page, err := e.db.IOCs(context.Background(), collDrop, store.IOCFilter{})
	if err != nil || len(page.IOCs) != 2 {
		t.Errorf("stored IOCs %+v (%v), want the 2 of the list", page.IOCs, err)
	}
	r, _ = postImport(t, e, "collection=drop&format=txt&source=Acme", "admin", gz.String()[:gz.Len()-5])
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "gzip input is damaged") {
		t.Errorf("truncated gzip: status %d %s; want 400 naming the damage", r.status, r.body)
	}

	// The import limit holds for what a body decompresses to: 600 bytes of
	// gzip that unpack to 1 MB are refused as a 1 MB body would be, and
	// nothing of them is stored.
	small := newEnv(t, server.Config{MaxImportSize: 4096}, false)
	gz.Reset()
	zw = gzip.NewWriter(&gz)
	fmt.Fprint(zw, strings.Repeat("203.0.113.8\n", 1<<20/12))
	zw.Close()
	if gz.Len() > 4096 {
		t.Fatalf("the gzip body is %d bytes, over the limit itself", gz.Len())
	}
	r, _ = postImport(t, small, "collection=drop&format=txt&source=Acme", "admin", gz.String())
	if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(string(r.body), "once decompressed") {
		t.Errorf("gzip bomb: status %d %s; want 413 saying it is too large decompressed", r.status, r.body)
	}
	if page, err := small.db.IOCs(context.Background(), collDrop, store.IOCFilter{}); err != nil || len(page.IOCs) != 0 {
		t.Errorf("stored IOCs %+v (%v) after a refused import, want none", page.IOCs, err)
	}
}

func TestImportMISP(t *testing.T) {
	e := newEnv(t, server.Config{}, false)
	event := `{"Event":{"info":"Op A","Orgc":{"name":"ESET"},"Tag":[{"name":"tlp:green"}],"Attribute":[
		{"type":"ip-dst","value":"203.0.113.9","to_ids":true},
		{"type":"domain","value":"c2.example","to_ids":false},
		{"type":"text","value":"words","to_ids":true}]}}`
	r, a := postImport(t, e, "collection=drop&format=misp", "admin", event)
	if r.status != http.StatusOK || a.Read != 3 || a.Added != 1 || a.Rejected != 2 {
		t.Errorf("MISP event: status %d %+v; want 3 read, 1 added, 2 rejected", r.status, a)
	}
	r, a = postImport(t, e, "collection=drop&format=misp&all_attributes=true", "admin", event)
	if r.status != http.StatusOK || a.Added != 1 || a.Duplicates != 1 {
		t.Errorf("MISP event, all attributes: status %d %+v; want the domain added, the address a duplicate", r.status, a)
	}
	page, err := e.db.IOCs(context.Background(), collDrop, store.IOCFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, i := range page.IOCs {
		got = append(got, i.Value+" "+i.Source+" "+i.TLP)
	}
	if want := []string{"203.0.113.9 ESET green", "c2.example ESET green"}; !reflect.DeepEqual(got, want) {
		t.Errorf("stored IOCs %q, want %q", got, want)
	}
	for query, want := range map[string]string{
		"collection=drop&format=txt&all_attributes=true":     "all_attributes",
		"collection=drop&format=misp&all_attributes=yes":     "all_attributes",
		"collection=drop&format=misp&snapshot=true&source=x": "snapshot",
	} {
		if r, _ := postImport(t, e, query, "admin", event); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), want) {
			t.Errorf("%s: %d %s, want 400 naming %s", query, r.status, r.body, want)
		}
	}
	// An attribute deleted in the event's next export revokes its indicator.
	named := `{"Event":{"info":"Op B","Orgc":{"name":"ESET"},"Attribute":[
		{"type":"domain","value":"gone.example","to_ids":true,"uuid":"5cfd5572-2869-44d6-8814-9886c00baabd"}]}}`
	if r, a := postImport(t, e, "collection=drop&format=misp", "admin", named); r.status != http.StatusOK || a.Added != 1 {
		t.Errorf("event B: %d %+v", r.status, a)
	}
	deleted := strings.Replace(named, `"to_ids":true`, `"to_ids":true,"deleted":true`, 1)
	if r, a := postImport(t, e, "collection=drop&format=misp", "admin", deleted); r.status != http.StatusOK || a.Revoked != 1 || a.Read != 0 {
		t.Errorf("event B with the attribute deleted: %d %+v; want 1 revoked, nothing read", r.status, a)
	}
	obj, err := e.db.Objects(context.Background(), collDrop, store.Filter{IDs: []string{"indicator--5cfd5572-2869-44d6-8814-9886c00baabd"}})
	if err != nil || len(obj.Entries) != 1 || !obj.Entries[0].Object.Revoked {
		t.Errorf("the deleted attribute's indicator: %+v (%v), want its latest version revoked", obj.Entries, err)
	}
	if r, a := postImport(t, e, "collection=drop&format=misp", "admin", deleted); r.status != http.StatusOK || a.Revoked != 0 {
		t.Errorf("the same again: %d %+v; want nothing more revoked", r.status, a)
	}
	if r, _ := postImport(t, e, "collection=drop&format=misp", "admin", `{"type":"bundle","objects":[]}`); r.status != http.StatusBadRequest {
		t.Errorf("a STIX bundle as format misp: %d %s, want 400", r.status, r.body)
	}
}

func TestImportJSONListFormat(t *testing.T) {
	e := newEnv(t, server.Config{}, false)
	body := `{"1":[{"ioc_value":"45.61.136.5:443","ioc_type":"ip:port"}],"2":[{"ioc_value":"evil-domain.example"}]}`
	r, a := postImport(t, e, "collection=drop&format=json-list&source=ThreatFox", "admin", body)
	if r.status != http.StatusOK || a.Read != 2 || a.Added != 2 {
		t.Errorf("JSON list: status %d %+v; want 2 read, 2 added", r.status, a)
	}
	if r, _ := postImport(t, e, "collection=drop&format=json-list", "admin", `[{"ip":`); r.status != http.StatusBadRequest {
		t.Errorf("a JSON list cut short: %d %s, want 400", r.status, r.body)
	}
}

func TestImportAmberStrictStaysStrict(t *testing.T) {
	// TLP 1.0 has no AMBER+STRICT: the list's indicators are marked with
	// TLP 2.0's, not TLP 1.0's AMBER, which would allow sharing beyond
	// the organisation; the IOC API says amber+strict.
	e := newEnv(t, server.Config{}, false)
	if r, a := postImport(t, e, "collection=drop&format=txt&source=Acme&tlp=amber%2Bstrict", "admin", "203.0.113.7\n"); r.status != http.StatusOK || a.Added != 1 {
		t.Fatalf("import: %d %+v", r.status, a)
	}
	page, err := e.db.IOCs(context.Background(), collDrop, store.IOCFilter{})
	if err != nil || len(page.IOCs) != 1 || page.IOCs[0].TLP != "amber+strict" {
		t.Errorf("IOCs %+v (%v), want one marked amber+strict", page.IOCs, err)
	}
	marking, err := e.db.Objects(context.Background(), collDrop, store.Filter{IDs: []string{"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"}})
	if err != nil || len(marking.Entries) != 1 || !strings.Contains(string(marking.Entries[0].Object.Raw), `"tlp_2_0":"amber+strict"`) {
		t.Errorf("the TLP 2.0 marking definition is not served beside the indicator: %+v (%v)", marking.Entries, err)
	}
}

func TestImportDetectsFormat(t *testing.T) {
	// curl --data-binary @file with no format: the body tells a bundle, a
	// MISP event and a list apart, and a gzipped file its name inside;
	// parameters for one format are refused for a body of another.
	e := newEnv(t, server.Config{}, false)
	bundle := `{"type":"bundle","id":"bundle--6e1d1d2a-4d3b-4b4e-9a4f-1c2d3e4f5a6b","objects":[` + indicator(1, "2025-01-01T00:00:00.000Z") + `]}`
	event := `{"Event":{"info":"Op A","Orgc":{"name":"ESET"},"Attribute":[{"type":"domain","value":"c2.example","to_ids":true}]}}`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Name = "urls.csv"
	fmt.Fprint(zw, "id,url\n1,http://evil.example/a.exe\n")
	zw.Close()
	for _, tc := range []struct {
		name, query, body, wantFormat string
		wantAdded                     int
	}{
		{"bundle", "collection=drop", bundle, "stix", 1},
		{"MISP event", "collection=drop", event, "misp", 1},
		{"plain list", "collection=drop&source=Acme", "\ufeff203.0.113.60\n[2001:db8::1]:443\n", "txt", 2},
		{"gzipped CSV", "collection=drop&source=Acme", gz.String(), "csv", 1},
		{"JSON list", "collection=drop&source=Feodo", `[{"ip_address":"192.0.2.70","port":443}]`, "json-list", 1},
		{"named format wins", "collection=drop&format=txt&source=Acme", "evil2.example\n", "txt", 1},
	} {
		r, a := postImport(t, e, tc.query, "admin", tc.body)
		if r.status != http.StatusOK || a.Format != tc.wantFormat || a.Added != tc.wantAdded {
			t.Errorf("%s: status %d, read as %q, %d added (%s); want %q, %d added", tc.name, r.status, a.Format, a.Added, r.body,
				tc.wantFormat, tc.wantAdded)
		}
	}
	for _, tc := range []struct{ name, query, body, want string }{
		{"snapshot of a bundle", "collection=drop&source=Acme&snapshot=true", bundle, "this input is stix"},
		{"all attributes of a list", "collection=drop&source=Acme&all_attributes=true", "203.0.113.61\n", "this input is txt"},
	} {
		r, _ := postImport(t, e, tc.query, "admin", tc.body)
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), tc.want) {
			t.Errorf("%s: status %d %s; want 400 saying %q", tc.name, r.status, r.body, tc.want)
		}
	}
	page, err := e.db.IOCs(context.Background(), collDrop, store.IOCFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range page.IOCs {
		if i.Value == "203.0.113.61" {
			t.Errorf("a refused import stored %+v", i)
		}
	}
}

// postForm posts files as curl -F does: a multipart/form-data body with
// a text field first, then each file.
func postForm(t *testing.T, e *env, query string, files map[string][]byte) (*response, importAnswer) {
	t.Helper()
	parts := []formPart{{field: "note", content: []byte("uploaded by hand")}}
	for name, content := range files {
		parts = append(parts, formPart{field: "file", file: name, content: content})
	}
	return postFormParts(t, e, query, parts)
}

// formPart is a form field, or a file when file names one.
type formPart struct {
	field, file string
	content     []byte
}

// postFormParts POSTs a multipart/form-data body of parts, in order, as
// the admin.
func postFormParts(t *testing.T, e *env, query string, parts []formPart) (*response, importAnswer) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, p := range parts {
		if p.file == "" {
			mw.WriteField(p.field, string(p.content))
			continue
		}
		fw, err := mw.CreateFormFile(p.field, p.file)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(p.content)
	}
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v1/import?"+query, &b)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+e.keys["admin"])
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	r := &response{status: res.StatusCode, header: res.Header, body: body}
	var a importAnswer
	if r.status == http.StatusOK {
		if err := json.Unmarshal(body, &a); err != nil {
			t.Errorf("import answer %s: %v", body, err)
		}
	} else {
		checkRESTError(t, r)
	}
	return r, a
}

func TestImportFormFields(t *testing.T) {
	// curl -F collection=drop -F source=Acme -F format=txt -F file=@list:
	// the fields before the file are the import's parameters.
	e := newEnv(t, server.Config{}, false)
	list := []byte("203.0.113.90\n203.0.113.91\n")
	field := func(k, v string) formPart { return formPart{field: k, content: []byte(v)} }
	file := formPart{field: "file", file: "list", content: list}
	r, a := postFormParts(t, e, "", []formPart{field("collection", "drop"), field("source", "Acme"), field("format", "txt"), file})
	if r.status != http.StatusOK || a.Format != "txt" || a.Added != 2 {
		t.Fatalf("parameters in the form: status %d %+v (%s); want txt, 2 added", r.status, a, r.body)
	}
	// The source decides the indicators' ids: the same list from the same
	// source adds nothing, from another source two new indicators.
	r, a = postFormParts(t, e, "collection=drop", []formPart{field("source", "Acme"), file})
	if r.status != http.StatusOK || a.Added != 0 || a.Duplicates != 2 {
		t.Errorf("same source, in the form: status %d %+v (%s); want 2 duplicates", r.status, a, r.body)
	}
	r, a = postFormParts(t, e, "collection=drop&source=Acme", []formPart{field("source", "Acme"), file})
	if r.status != http.StatusOK || a.Duplicates != 2 {
		t.Errorf("same source in the query and the form: status %d %+v (%s); want 2 duplicates", r.status, a, r.body)
	}
	r, a = postFormParts(t, e, "collection=drop", []formPart{field("source", "Other"), file})
	if r.status != http.StatusOK || a.Added != 2 {
		t.Errorf("another source, in the form: status %d %+v (%s); want 2 added", r.status, a, r.body)
	}
	for _, c := range []struct {
		name  string
		query string
		parts []formPart
		want  string
	}{
		{"both places", "collection=drop&source=Acme", []formPart{field("source", "Other"), file}, "both"},
		{"twice in the form", "collection=drop", []formPart{field("source", "Acme"), field("source", "Other"), file}, "2 times"},
		{"too long", "collection=drop", []formPart{field("source", strings.Repeat("A", 5000)), file}, "longer than"},
		{"bad value", "", []formPart{field("collection", "drop"), field("confidence", "200"), file}, "confidence"},
		{"no collection", "", []formPart{field("source", "Acme"), file}, "collection"},
	} {
		r, _ := postFormParts(t, e, c.query, c.parts)
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), c.want) {
			t.Errorf("%s: status %d %s; want 400 saying %q", c.name, r.status, r.body, c.want)
		}
	}
	r, _ = postFormParts(t, e, "", []formPart{field("collection", "nope"), file})
	if r.status != http.StatusNotFound {
		t.Errorf("unknown collection in the form: status %d %s; want 404", r.status, r.body)
	}
	page, err := e.db.IOCs(context.Background(), collDrop, store.IOCFilter{})
	if err != nil || len(page.IOCs) != 4 {
		t.Errorf("stored %d IOCs (%v), want the 4 of the two sources", len(page.IOCs), err)
	}
}

func TestImportFormUpload(t *testing.T) {
	// curl -F file=@urls.csv: the file part is the input, its name tells a
	// CSV list, and the form's own lines are not read as IOCs.
	e := newEnv(t, server.Config{MaxImportSize: 4096}, false)
	r, a := postForm(t, e, "collection=drop&source=Acme", map[string][]byte{
		"urls.csv": []byte("id,url\n1,http://evil.example/a.exe\n2,http://evil.example/b.exe\n")})
	if r.status != http.StatusOK || a.Format != "csv" || a.Read != 2 || a.Added != 2 || a.Rejected != 0 {
		t.Errorf("CSV file in a form: status %d %+v (%s); want csv, 2 read, 2 added", r.status, a, r.body)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	fmt.Fprint(zw, "203.0.113.80\n203.0.113.81\n")
	zw.Close()
	r, a = postForm(t, e, "collection=drop&source=Acme", map[string][]byte{"ips.txt.gz": gz.Bytes()})
	if r.status != http.StatusOK || a.Format != "txt" || a.Added != 2 {
		t.Errorf("gzipped list in a form: status %d %+v (%s); want txt, 2 added", r.status, a, r.body)
	}
	gz.Reset()
	zw = gzip.NewWriter(&gz)
	fmt.Fprint(zw, "hash,note\n44d88612fea8a8f36de82e1278abb02f,test\n")
	zw.Close()
	r, a = postForm(t, e, "collection=drop&source=Acme", map[string][]byte{"hashes.csv.gz": gz.Bytes()})
	if r.status != http.StatusOK || a.Format != "csv" || a.Added != 1 || a.Rejected != 0 {
		t.Errorf("gzipped CSV in a form: status %d %+v (%s); want csv by its name inside, 1 added", r.status, a, r.body)
	}
	r, _ = postForm(t, e, "collection=drop&source=Acme", nil)
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "holds no file") {
		t.Errorf("form without a file: status %d %s; want 400 saying so", r.status, r.body)
	}
	r, _ = postForm(t, e, "collection=drop&source=Acme", map[string][]byte{"big.txt": []byte(strings.Repeat("203.0.113.82\n", 400))})
	if r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("form over the limit: status %d %s; want 413", r.status, r.body)
	}
	page, err := e.db.IOCs(context.Background(), collDrop, store.IOCFilter{})
	if err != nil || len(page.IOCs) != 5 {
		t.Errorf("stored %d IOCs (%v), want the 5 of the three accepted files", len(page.IOCs), err)
	}
}
