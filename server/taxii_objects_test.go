package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"hail/server"
	"hail/stix"
	"hail/taxii"
)

// post sends an envelope to a collection with the named key.
func (e *env) post(t testing.TB, coll, key, body string) *response {
	t.Helper()
	h := e.auth(key)
	h["Content-Type"] = taxii.MediaType
	return e.do(t, http.MethodPost, "/taxii2/api/collections/"+coll+"/objects/", h, strings.NewReader(body))
}

// checkStatus checks what taxii2-client checks of a status resource.
func checkStatus(t *testing.T, st taxii.Status, total, success, failure int) {
	t.Helper()
	if !stix.ValidUUIDv4(st.ID) || st.Status != taxii.StatusComplete || st.RequestTimestamp == "" {
		t.Errorf("status id %q status %q request_timestamp %q, want a UUIDv4, complete, a timestamp", st.ID, st.Status, st.RequestTimestamp)
	}
	if st.TotalCount != total || st.SuccessCount != success || st.FailureCount != failure || st.PendingCount != 0 {
		t.Errorf("counts total %d success %d failure %d pending %d, want %d %d %d 0",
			st.TotalCount, st.SuccessCount, st.FailureCount, st.PendingCount, total, success, failure)
	}
	if st.SuccessCount+st.FailureCount+st.PendingCount != st.TotalCount ||
		len(st.Successes) != st.SuccessCount || len(st.Failures) != st.FailureCount || len(st.Pendings) != st.PendingCount {
		t.Errorf("inconsistent status %+v", st)
	}
}

func TestObjectsPost(t *testing.T) {
	e := newEnv(t, server.Config{}, true)
	e.seed(t, collRW, indicator(1, "2024-01-01T00:00:00.000Z"))
	body := envelope(
		indicator(1, "2024-01-01T00:00:00.000Z"), // already stored: a success
		indicator(2, "2024-01-01T00:00:00.000Z"),
		indicator(2, "2024-01-01T00:00:00.000Z"), // repeated in the envelope: a success
		indicator(3, "2024-02-01T00:00:00.000Z"),
		malware(4),
		`{"type":"indicator","spec_version":"2.1","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z"}`,
		`{"type":"malware","id":"malware--`+uuidN(5)+`","created":"2024-02-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z"}`,
		`"not an object"`,
	)
	r := e.post(t, "rw", "rw", body)
	if r.status != http.StatusAccepted {
		t.Fatalf("POST: status %d, want 202; body %s", r.status, r.body)
	}
	var st taxii.Status
	r.json(t, &st)
	checkStatus(t, st, 8, 5, 3)
	var failed []string
	for _, f := range st.Failures {
		failed = append(failed, f.ID+" "+f.Message)
	}
	for i, want := range []string{`"id"`, `"modified"`, "JSON object"} {
		if i >= len(failed) || !strings.Contains(failed[i], want) {
			t.Errorf("failures %q: failure %d should name %s", failed, i, want)
		}
	}
	if len(failed) > 1 && !strings.HasPrefix(failed[1], "malware--"+uuidN(5)) {
		t.Errorf("failure %q does not give the object's id", failed[1])
	}
	for _, s := range st.Successes {
		if s.ID == "" || s.Version == "" {
			t.Errorf("success %+v lacks id or version", s)
		}
	}

	// The valid objects are stored, byte for byte; the invalid ones are not.
	got := e.get(t, "/taxii2/api/collections/rw/objects/", "rw")
	var env envelopeBody
	got.json(t, &env)
	want := []string{"indicator--" + uuidN(1), "indicator--" + uuidN(2), "indicator--" + uuidN(3), "malware--" + uuidN(4)}
	if ids := env.ids(t); !slices.Equal(ids, want) {
		t.Errorf("stored ids %v, want %v", ids, want)
	}
	if !bytes.Contains(got.body, []byte(indicator(3, "2024-02-01T00:00:00.000Z"))) {
		t.Errorf("stored bytes differ from those posted: %s", got.body)
	}

	// The status is kept, for the keys that may see its collection; to
	// the others it is missing.
	for _, key := range []string{"rw", "reader", "admin"} {
		sr := e.get(t, "/taxii2/api/status/"+st.ID+"/", key)
		if sr.status != http.StatusOK || !bytes.Equal(sr.body, r.body) {
			t.Errorf("GET status with key %s: %d %s, want 200 %s", key, sr.status, sr.body, r.body)
		}
	}
	if sr := e.get(t, "/taxii2/api/status/"+st.ID+"/", "nobody"); sr.status != http.StatusNotFound ||
		bytes.Contains(sr.body, []byte(st.ID)) && bytes.Contains(sr.body, []byte("indicator--")) {
		t.Errorf("GET status with a key that may not see the collection: %d %s, want 404", sr.status, sr.body)
	}
	if sr := e.get(t, "/taxii2/small/status/"+st.ID+"/", "rw"); sr.status != http.StatusNotFound {
		t.Errorf("GET status in another root: %d, want 404", sr.status)
	}

	// Posting the same envelope again changes nothing and fails nothing new.
	r = e.post(t, "rw", "rw", body)
	st = taxii.Status{}
	r.json(t, &st)
	checkStatus(t, st, 8, 5, 3)
	if again := e.get(t, "/taxii2/api/collections/rw/objects/", "rw"); !bytes.Equal(again.body, got.body) {
		t.Errorf("objects after a repeated POST: %s, want %s", again.body, got.body)
	}

	r = e.post(t, "rw", "rw", `{"objects":[]}`)
	st = taxii.Status{}
	r.json(t, &st)
	checkStatus(t, st, 0, 0, 0)
}

func TestObjectsPostErrors(t *testing.T) {
	e := newEnv(t, server.Config{}, true)
	ok := envelope(indicator(1, "2024-01-01T00:00:00.000Z"))
	big := envelope(strings.Repeat(indicator(1, "2024-01-01T00:00:00.000Z")+",", 10) + indicator(1, "2024-01-01T00:00:00.000Z"))
	if len(big) <= tinyMax || len(ok) > tinyMax {
		t.Fatalf("fixture sizes %d, %d do not straddle %d", len(ok), len(big), tinyMax)
	}
	post := func(name, ct, body string, want int) scenario {
		return scenario{name: name, method: "POST", path: "/taxii2/api/collections/rw/objects/", key: "rw",
			header: map[string]string{"Content-Type": ct}, body: body, wantStatus: want}
	}
	e.run(t, []scenario{
		post("taxii type", taxii.MediaType, ok, 202),
		post("taxii type without version", "application/taxii+json", ok, 202),
		post("taxii type with charset", "application/taxii+json; version=2.1; charset=utf-8", ok, 202),
		post("application/json", "application/json", ok, 202),
		post("no content type", "", ok, 415),
		post("text/plain", "text/plain", ok, 415),
		post("TAXII 2.0 type", "application/vnd.oasis.taxii+json; version=2.0", ok, 415),
		post("TAXII 2.0 version", "application/taxii+json;version=2.0", ok, 415),
		post("malformed JSON", taxii.MediaType, `{"objects":[`, 400),
		post("empty body", taxii.MediaType, "", 400),
		post("array", taxii.MediaType, `[{"objects":[]}]`, 422),
		post("no objects", taxii.MediaType, `{"more":false}`, 422),
		post("objects not a list", taxii.MediaType, `{"objects":{}}`, 422),
		post("objects null", taxii.MediaType, `{"objects":null}`, 422),
		post("string", taxii.MediaType, `"objects"`, 422),
		{name: "within max_content_length", method: "POST", path: "/taxii2/small/collections/tiny/objects/", key: "rw",
			header: map[string]string{"Content-Type": taxii.MediaType}, body: ok, wantStatus: 202},
		{name: "Content-Length above max_content_length", method: "POST", path: "/taxii2/small/collections/tiny/objects/", key: "rw",
			header: map[string]string{"Content-Type": taxii.MediaType}, body: big, wantStatus: 413},
	})

	// A body of undeclared length (chunked) is cut at max_content_length.
	for _, tt := range []struct {
		body string
		want int
	}{{ok, 202}, {big, 413}} {
		h := e.auth("rw")
		h["Content-Type"] = taxii.MediaType
		r := e.do(t, http.MethodPost, "/taxii2/small/collections/tiny/objects/", h, struct{ io.Reader }{strings.NewReader(tt.body)})
		if r.status != tt.want {
			t.Errorf("chunked POST of %d bytes: status %d, want %d; body %s", len(tt.body), r.status, tt.want, r.body)
		}
	}
	// Nothing of a refused request is stored.
	r := e.get(t, "/taxii2/small/collections/tiny/manifest/", "rw")
	if n := bytes.Count(r.body, []byte(`"id"`)); n != 1 {
		t.Errorf("tiny holds %d entries after refused posts, want 1: %s", n, r.body)
	}
}

// seedVersions fills intel with: indicator 1 in three versions (the last
// at spec_version 2.1, all of them), indicator 2, malware 3, and an
// unversioned SCO; returns the path of the objects endpoint.
func seedVersions(t *testing.T, e *env) {
	t.Helper()
	e.seed(t, collIntel,
		indicator(1, "2024-01-01T00:00:00.000Z"),
		indicator(2, "2024-01-01T00:00:00.000Z"),
		indicator(1, "2024-02-01T00:00:00.000Z"),
		malware(3),
		indicator(1, "2024-03-01T00:00:00.000Z"),
		`{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--`+uuidN(4)+`","value":"203.0.113.4"}`,
	)
}

// manifestVersions returns "id@version" for each record of a manifest.
func manifestVersions(t *testing.T, r *response) []string {
	t.Helper()
	var m struct {
		Objects []taxii.ManifestRecord `json:"objects"`
	}
	r.json(t, &m)
	var out []string
	for _, rec := range m.Objects {
		out = append(out, strings.SplitN(rec.ID, "--", 2)[0]+"@"+rec.Version)
		if rec.MediaType != taxii.STIXMediaType || !timestampRE.MatchString(rec.DateAdded) {
			t.Errorf("manifest record %+v: want media_type %s and a µs date_added", rec, taxii.STIXMediaType)
		}
	}
	return out
}

var timestampRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)

func TestFilters(t *testing.T) {
	e := newEnv(t, server.Config{}, true)
	seedVersions(t, e)
	const (
		v1, v2, v3 = "indicator@2024-01-01T00:00:00.000Z", "indicator@2024-02-01T00:00:00.000Z", "indicator@2024-03-01T00:00:00.000Z"
		i2, m3     = "indicator@2024-01-01T00:00:00.000Z", "malware@2024-01-01T00:00:00.000Z"
	)
	ind1 := "indicator--" + uuidN(1)
	// The manifest shows which versions a query selects; the objects
	// endpoint applies the same filters.
	manifest := func(name, query string, want ...string) scenario {
		return scenario{name: name, path: "/taxii2/api/collections/intel/manifest/?" + query, key: "reader", wantStatus: 200,
			check: func(t *testing.T, r *response) {
				got := manifestVersions(t, r)
				if len(got) > 0 && strings.HasPrefix(got[len(got)-1], "ipv4-addr@") {
					got[len(got)-1] = "ipv4-addr" // versioned by date_added
				}
				if !slices.Equal(got, want) {
					t.Errorf("manifest?%s = %v, want %v", query, got, want)
				}
			}}
	}
	bad := func(query, param string) scenario {
		return scenario{name: "bad " + query, path: "/taxii2/api/collections/intel/objects/?" + query, key: "reader", wantStatus: 400,
			check: bodyContains(param)}
	}
	e.run(t, []scenario{
		manifest("default is last", "", i2, m3, v3, "ipv4-addr"),
		manifest("type", "match[type]=malware", m3),
		manifest("types", "match[type]=malware,ipv4-addr", m3, "ipv4-addr"),
		manifest("id", "match[id]="+ind1, v3),
		manifest("id all", "match[id]="+ind1+"&match[version]=all", v1, v2, v3),
		manifest("first", "match[id]="+ind1+"&match[version]=first", v1),
		manifest("first,last", "match[id]="+ind1+"&match[version]=first,last", v1, v3),
		manifest("exact version", "match[id]="+ind1+"&match[version]=2024-02-01T00:00:00Z", v2),
		manifest("spec_version", "match[spec_version]=2.1&match[type]=indicator", i2, v3),
		manifest("spec_version absent", "match[spec_version]=2.0"),
		manifest("limit", "limit=2", i2, m3),
		bad("added_after=yesterday", "added_after"),
		bad("limit=0", "limit"),
		bad("limit=-5", "limit"),
		bad("limit=many", "limit"),
		bad("limit=1&limit=2", "limit"),
		bad("next=garbage", "next"),
		bad("match[id]=nope", "match[id]"),
		bad("match[type]=NOT%20A%20TYPE", "match[type]"),
		bad("match[type]=indicator&match[type]=malware", "match[type]"),
		bad("match[version]=newest", "match[version]"),
		bad("match[version]=all,first", "match[version]"),
		bad("match[spec_version]=latest", "match[spec_version]"),
		{name: "object: latest", path: "/taxii2/api/collections/intel/objects/" + ind1 + "/", key: "reader", wantStatus: 200,
			check: bodyContains(`"modified":"2024-03-01T00:00:00.000Z"`)},
		{name: "object: match[type] is not an object filter", path: "/taxii2/api/collections/intel/objects/" + ind1 + "/?match[type]=malware",
			key: "reader", wantStatus: 200, check: bodyContains(ind1)},
		{name: "object: all versions", path: "/taxii2/api/collections/intel/objects/" + ind1 + "/?match[version]=all", key: "reader",
			wantStatus: 200, check: func(t *testing.T, r *response) {
				if n := bytes.Count(r.body, []byte(`"type":"indicator"`)); n != 3 {
					t.Errorf("%d versions, want 3: %s", n, r.body)
				}
			}},
		{name: "object: bad match[version]", path: "/taxii2/api/collections/intel/objects/" + ind1 + "/?match[version]=x", key: "reader",
			wantStatus: 400, check: bodyContains("match[version]")},
		{name: "object: missing", path: "/taxii2/api/collections/intel/objects/indicator--" + uuidN(99) + "/", key: "reader", wantStatus: 404},
		{name: "object: not an id", path: "/taxii2/api/collections/intel/objects/nope/", key: "reader", wantStatus: 404},
		{name: "object: no version matches", path: "/taxii2/api/collections/intel/objects/" + ind1 + "/?match[version]=2020-01-01T00:00:00Z",
			key: "reader", wantStatus: 404},
		{name: "versions", path: "/taxii2/api/collections/intel/objects/" + ind1 + "/versions/", key: "reader", wantStatus: 200,
			check: bodyIs(`{"more":false,"versions":["2024-01-01T00:00:00.000Z","2024-02-01T00:00:00.000Z","2024-03-01T00:00:00.000Z"]}`)},
		{name: "versions ignore match[version]", path: "/taxii2/api/collections/intel/objects/" + ind1 + "/versions/?match[version]=first",
			key: "reader", wantStatus: 200, check: bodyContains("2024-03-01T00:00:00.000Z")},
		{name: "versions of a missing object", path: "/taxii2/api/collections/intel/objects/indicator--" + uuidN(99) + "/versions/",
			key: "reader", wantStatus: 404},
		{name: "versions of an unversioned object", path: "/taxii2/api/collections/intel/objects/ipv4-addr--" + uuidN(4) + "/versions/",
			key: "reader", wantStatus: 200, check: func(t *testing.T, r *response) {
				if want := `{"more":false,"versions":["` + r.header.Get("X-TAXII-Date-Added-First") + `"]}`; string(r.body) != want {
					t.Errorf("body %s, want %s (date_added as version)", r.body, want)
				}
			}},
	})

	// added_after is exclusive: the entry added at that instant is not repeated.
	all := e.get(t, "/taxii2/api/collections/intel/manifest/?match[version]=all", "reader")
	var m struct{ Objects []taxii.ManifestRecord }
	all.json(t, &m)
	if len(m.Objects) != 6 {
		t.Fatalf("manifest of all versions has %d records, want 6", len(m.Objects))
	}
	after := e.get(t, "/taxii2/api/collections/intel/manifest/?match[version]=all&added_after="+m.Objects[3].DateAdded, "reader")
	var rest struct{ Objects []taxii.ManifestRecord }
	after.json(t, &rest)
	if fmt.Sprint(rest.Objects) != fmt.Sprint(m.Objects[4:]) {
		t.Errorf("added_after=%s gives %v, want %v", m.Objects[3].DateAdded, rest.Objects, m.Objects[4:])
	}
}

func TestObjectDelete(t *testing.T) {
	e := newEnv(t, server.Config{}, true)
	seedVersions(t, e)
	ind1 := "/taxii2/api/collections/intel/objects/indicator--" + uuidN(1) + "/"
	versions := func(want string) func(*testing.T, *response) {
		return func(t *testing.T, r *response) {
			t.Helper()
			v := e.get(t, ind1+"versions/", "admin")
			if string(v.body) != want {
				t.Errorf("versions after delete: %d %s, want %s", v.status, v.body, want)
			}
		}
	}
	e.run(t, []scenario{
		{name: "bad filter", method: "DELETE", path: ind1 + "?match[version]=soon", key: "admin", wantStatus: 400, check: bodyContains("match[version]")},
		{name: "no match", method: "DELETE", path: ind1 + "?match[version]=2020-01-01T00:00:00Z", key: "admin", wantStatus: 404},
		{name: "first version", method: "DELETE", path: ind1 + "?match[version]=first", key: "admin", wantStatus: 200,
			check: versions(`{"more":false,"versions":["2024-02-01T00:00:00.000Z","2024-03-01T00:00:00.000Z"]}`)},
		{name: "exact version", method: "DELETE", path: ind1 + "?match[version]=2024-03-01T00:00:00.000Z", key: "admin", wantStatus: 200,
			check: versions(`{"more":false,"versions":["2024-02-01T00:00:00.000Z"]}`)},
		{name: "all versions by default", method: "DELETE", path: strings.TrimSuffix(ind1, "/"), key: "admin", wantStatus: 200, check: bodyIs("")},
		{name: "gone", path: ind1, key: "admin", wantStatus: 404},
		{name: "gone from the manifest", path: "/taxii2/api/collections/intel/manifest/?match[id]=indicator--" + uuidN(1), key: "admin",
			wantStatus: 200, check: bodyIs(`{"more":false,"objects":[]}`)},
		{name: "again", method: "DELETE", path: ind1, key: "admin", wantStatus: 404},
		{name: "not an id", method: "DELETE", path: "/taxii2/api/collections/intel/objects/nope/", key: "admin", wantStatus: 404},
	})
}

func TestEmptyPages(t *testing.T) {
	for _, tt := range []struct {
		strict bool
		want   string
	}{{false, `{"more":false,"objects":[]}`}, {true, `{"more":false}`}} {
		t.Run(fmt.Sprintf("strict=%v", tt.strict), func(t *testing.T) {
			e := newEnv(t, server.Config{StrictEmpty: tt.strict}, true)
			e.seed(t, collIntel, indicator(1, "2024-01-01T00:00:00.000Z"))
			noHeaders := func(t *testing.T, r *response) {
				if string(r.body) != tt.want {
					t.Errorf("body %s, want %s", r.body, tt.want)
				}
				for _, h := range []string{"X-TAXII-Date-Added-First", "X-TAXII-Date-Added-Last"} {
					if v, ok := r.header[http.CanonicalHeaderKey(h)]; ok {
						t.Errorf("empty page has %s: %q", h, v)
					}
				}
			}
			e.run(t, []scenario{
				{name: "objects", path: "/taxii2/api/collections/rw/objects/", key: "admin", wantStatus: 200, check: noHeaders},
				{name: "manifest", path: "/taxii2/api/collections/rw/manifest/", key: "admin", wantStatus: 200, check: noHeaders},
				{name: "filtered out", path: "/taxii2/api/collections/intel/objects/?match[type]=malware", key: "admin", wantStatus: 200, check: noHeaders},
				{name: "past the end", path: "/taxii2/api/collections/intel/objects/?added_after=2030-01-01T00:00:00Z", key: "admin", wantStatus: 200, check: noHeaders},
				{name: "object past the end", path: "/taxii2/api/collections/intel/objects/indicator--" + uuidN(1) + "/?added_after=2030-01-01T00:00:00Z",
					key: "admin", wantStatus: 200, check: noHeaders},
			})
		})
	}
}

// TestGarbageQueries sends malformed and hostile query strings to every
// endpoint: each gets a TAXII answer, never a 500.
func TestGarbageQueries(t *testing.T) {
	e := newEnv(t, server.Config{}, true)
	seedVersions(t, e)
	obj := "/taxii2/api/collections/intel/objects/indicator--" + uuidN(1) + "/"
	paths := []string{"/taxii2/api/collections/intel/objects/", "/taxii2/api/collections/intel/manifest/", obj, obj + "versions/", "/taxii2/", "/taxii2/api/collections/"}
	queries := []string{
		"%", "%zz", "a=%", ";", "&&&", "=", "==&=", "limit", "limit=%00", "limit=1%00", "limit=0x10", "limit=1e3", "limit=9223372036854775808",
		"limit=-9223372036854775809", "limit=%205", "added_after=%00", "added_after=0", "added_after=9999-99-99T99:99:99Z",
		"added_after=2025-01-01T00:00:00.0000000000000Z", "added_after=2025-01-01T00:00:00+25:00", "added_after=" + strings.Repeat("9", 5000),
		"next=%FF%FE", "next=" + strings.Repeat("Z.", 1000), "next=2025-01-01T00:00:00.000000Z.", "next=2025-01-01T00:00:00.000000Z.%3D%3D",
		"next=2025-01-01T00:00:00.000000Z.bGltaXQ9MCZsaW1pdD0x", "next=0001-01-01T00:00:00Z", "next=9999-12-31T23:59:59.999999Z",
		"match[id]=" + strings.Repeat("indicator--"+uuidN(1)+",", 500) + "x", "match[id]=%E2%80%AE", "match[type]=" + strings.Repeat("a", 300),
		"match[version]=", "match[version]=,", "match[version]=first,,last", "match[version]=0000-01-01T00:00:00Z",
		"match[spec_version]=" + strings.Repeat("2.", 100), "match[=1", "match]=1", "match[version][x]=1", "match[id=1",
		"added_after[]=1", "limit[]=1", strings.Repeat("a=1&", 2000), "match[type]=indicator%2Cmalware", "match%5Bversion%5D=all",
	}
	for _, p := range paths {
		for _, q := range queries {
			r := e.get(t, p+"?"+q, "reader")
			if r.status != 200 && r.status != 400 && r.status != 404 {
				t.Errorf("GET %s?%.60s: status %d, want 200, 400 or 404; body %.200s", p, q, r.status, r.body)
			}
		}
	}
	for _, q := range queries {
		r := e.do(t, http.MethodDelete, "/taxii2/api/collections/intel/objects/malware--"+uuidN(77)+"/?"+q, e.auth("admin"), nil)
		if r.status != 400 && r.status != 404 {
			t.Errorf("DELETE ?%.60s: status %d, want 400 or 404", q, r.status)
		}
	}
}

// TestObjectsPageBytes checks an envelope byte for byte: each object as it
// was stored (spacing and custom properties kept), the first and last
// date_added in the headers, and a Content-Length that matches the body.
func TestObjectsPageBytes(t *testing.T) {
	e := newEnv(t, server.Config{}, true)
	objs := []string{
		`{"type":"indicator", "spec_version":"2.1","id":"indicator--` + uuidN(1) + `","created":"2024-01-01T00:00:00.000Z",` +
			`"modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix",` +
			`"valid_from":"2024-01-01T00:00:00Z",  "x_acme_note" : {"z":[1, 2.50],"a":"\u00e9\n"}}`,
		indicator(2, "2024-01-01T00:00:00.000Z"),
		indicator(3, "2024-01-01T00:00:00.000Z"),
	}
	res := e.seed(t, collIntel, objs...)
	ts := func(i int) string { return taxii.FormatTimestamp(res[i].DateAdded) }
	check := func(t *testing.T, r *response, head string, first, last int, items ...string) {
		t.Helper()
		if want := head + strings.Join(items, ",") + "]}"; string(r.body) != want {
			t.Errorf("body\n%s\nwant\n%s", r.body, want)
		}
		if got, want := r.header.Get("Content-Length"), strconv.Itoa(len(r.body)); got != want {
			t.Errorf("Content-Length %q, want %q", got, want)
		}
		if got, want := r.header.Get("X-TAXII-Date-Added-First")+" "+r.header.Get("X-TAXII-Date-Added-Last"), ts(first)+" "+ts(last); got != want {
			t.Errorf("X-TAXII-Date-Added-First/Last %s, want %s", got, want)
		}
	}
	r := e.get(t, "/taxii2/api/collections/intel/objects/?limit=2", "reader")
	var env envelopeBody
	r.json(t, &env)
	if env.Next == nil {
		t.Fatalf("no next in %s", r.body)
	}
	next, _ := json.Marshal(*env.Next)
	check(t, r, `{"more":true,"next":`+string(next)+`,"objects":[`, 0, 1, objs[0], objs[1])
	r = e.get(t, "/taxii2/api/collections/intel/objects/?next="+url.QueryEscape(*env.Next), "reader")
	check(t, r, `{"more":false,"objects":[`, 2, 2, objs[2])
	r = e.get(t, "/taxii2/api/collections/intel/objects/indicator--"+uuidN(1)+"/", "reader")
	check(t, r, `{"more":false,"objects":[`, 0, 0, objs[0])
	for _, path := range []string{"indicator--" + uuidN(9), "indicator--nope"} {
		if r := e.get(t, "/taxii2/api/collections/intel/objects/"+path+"/", "reader"); r.status != http.StatusNotFound {
			t.Errorf("GET object %s: %d %s, want 404", path, r.status, r.body)
		}
	}
}

// TestObjectsPostBundleInside: a bundle among an envelope's objects fails
// alone, with a reason; the objects beside it are stored, and the bundle
// is not.
func TestObjectsPostBundleInside(t *testing.T) {
	e := newEnv(t, server.Config{}, true)
	bundle := `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[` + malware(7) + `]}`
	r := e.post(t, "rw", "rw", envelope(indicator(1, "2024-01-01T00:00:00.000Z"), bundle))
	if r.status != http.StatusAccepted {
		t.Fatalf("POST: status %d, want 202; body %s", r.status, r.body)
	}
	var st taxii.Status
	r.json(t, &st)
	checkStatus(t, st, 2, 1, 1)
	if len(st.Failures) != 1 || !strings.HasPrefix(st.Failures[0].ID, "bundle--") || !strings.Contains(st.Failures[0].Message, "bundle") {
		t.Errorf("failures %+v, want the bundle's, saying why", st.Failures)
	}
	got := e.get(t, "/taxii2/api/collections/"+collRW+"/objects/", "rw")
	if got.status != http.StatusOK || strings.Contains(string(got.body), "bundle--") || !strings.Contains(string(got.body), "indicator--") {
		t.Errorf("collection after the POST: %d %s, want the indicator and no bundle", got.status, got.body)
	}
}
