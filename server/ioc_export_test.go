package server_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"hail/server"
	"hail/store"
)

// export fetches an export and checks its status and Content-Type.
func (e *env) export(t *testing.T, query, wantType string) []byte {
	t.Helper()
	r := e.rest(t, http.MethodGet, "/api/v1/iocs/export?"+query, "analyst", nil)
	if r.status != http.StatusOK {
		t.Fatalf("export ?%s: status %d, body %s", query, r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != wantType {
		t.Errorf("export ?%s: Content-Type %q, want %q", query, ct, wantType)
	}
	return r.body
}

// lines returns the sorted lines of a txt export, checking that each ends
// with a newline.
func lines(t *testing.T, body []byte) []string {
	t.Helper()
	if len(body) == 0 {
		return nil
	}
	if body[len(body)-1] != '\n' {
		t.Errorf("export does not end with a newline: %q", body[max(0, len(body)-40):])
	}
	out := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	sort.Strings(out)
	return out
}

func TestIOCExportTxt(t *testing.T) {
	e := newIOCEnv(t)
	want := seedIOCs(t, e)
	tests := []struct {
		query string
		want  []string
	}{
		{"", values(want)},
		{"format=txt", values(want)},
		{"format=TXT&type=ipv4", values(want, "ipv4")},
		{"type=ip", values(want, "ipv4", "ipv6", "cidr")},
		{"type=hash", values(want, "md5", "sha256")},
		{"type=domain&min_confidence=50", []string{"evil.example"}},
		{"type=ipv4&include_expired=true&include_revoked=true", append(values(want, "ipv4"), "192.0.2.100", "192.0.2.99")},
		{"since=2030-01-01", nil},
		{"collection=open", nil},
	}
	for _, tt := range tests {
		got := lines(t, e.export(t, tt.query, "text/plain; charset=utf-8"))
		wantSorted := slices.Clone(tt.want)
		sort.Strings(wantSorted)
		if !slices.Equal(got, wantSorted) {
			t.Errorf("export ?%s\n got %q\nwant %q", tt.query, got, wantSorted)
		}
	}
}

func TestIOCExportCSV(t *testing.T) {
	e := newIOCEnv(t)
	want := seedIOCs(t, e)
	body := e.export(t, "format=csv", "text/csv; charset=utf-8")
	recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil {
		t.Fatalf("read CSV %s: %v", body, err)
	}
	header := []string{"id", "type", "value", "confidence", "threat_type", "labels", "tlp", "valid_from", "valid_until",
		"revoked", "name", "description", "source", "created_by", "indicator_id", "created", "modified", "date_added"}
	if len(recs) == 0 || !slices.Equal(recs[0], header) {
		t.Fatalf("CSV header %q, want %q", recs[0], header)
	}
	var got []string
	for _, rec := range recs[1:] {
		got = append(got, rec[2])
		if rec[2] == "198.51.100.7" {
			wantRec := []string{rec[0], "ipv4", "198.51.100.7", "80", "malicious-activity", "botnet;c2", "green",
				"2025-01-01T00:00:00.000000Z", "2026-01-01T00:00:00.000000Z", "false", "IOC 1", "C2 server", "ACME CERT", identityID,
				"indicator--" + uuidN(1), "2025-01-01T00:00:00.000Z", "2025-01-01T00:00:00.000Z", rec[17]}
			if !slices.Equal(rec, wantRec) {
				t.Errorf("CSV record\n got %q\nwant %q", rec, wantRec)
			}
		}
	}
	sort.Strings(got)
	if !slices.Equal(got, values(want)) {
		t.Errorf("CSV values %q, want %q", got, values(want))
	}
	// An empty export still has its header.
	body = e.export(t, "format=csv&type=mutex", "text/csv; charset=utf-8")
	if string(body) != strings.Join(header, ",")+"\n" {
		t.Errorf("empty CSV export %q, want the header only", body)
	}
}

func TestIOCExportJSON(t *testing.T) {
	e := newIOCEnv(t)
	want := seedIOCs(t, e)
	body := e.export(t, "format=json", "application/json")
	var items []iocItem
	if err := json.Unmarshal(body, &items); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	if got := itemValues(items); !slices.Equal(got, values(want)) {
		t.Errorf("JSON export values %q, want %q", got, values(want))
	}
	// The items are those of the listing.
	l := e.listAll(t, "limit=10000", "analyst")
	if !reflect.DeepEqual(items, l) {
		t.Errorf("JSON export items differ from the listing:\n%+v\n%+v", items, l)
	}
	body = e.export(t, "format=json&type=mutex", "application/json")
	if err := json.Unmarshal(body, &items); err != nil || len(items) != 0 {
		t.Errorf("empty JSON export %q, want []", body)
	}
}

func TestIOCExportManyPages(t *testing.T) {
	e := newIOCEnv(t)
	// More observables than a store page (10,000) in three indicators, so
	// that the export reads several pages, one ending inside an indicator.
	const n = 10500
	var all []string
	for k := range 3 {
		var ips []string
		for i := k * n / 3; i < (k+1)*n/3; i++ {
			v := fmt.Sprintf("100.%d.%d.%d", 64+i/65536, i/256%256, i%256)
			ips = append(ips, "'"+v+"'")
			all = append(all, v)
		}
		e.seed(t, collAll, iocInd(80+k, "[ipv4-addr:value IN ("+strings.Join(ips, ", ")+")]", ""))
	}
	sort.Strings(all)
	got := lines(t, e.export(t, "type=ipv4", "text/plain; charset=utf-8"))
	if !slices.Equal(got, all) {
		t.Errorf("export of %d values: got %d lines", len(all), len(got))
	}
	var items []iocItem
	if err := json.Unmarshal(e.export(t, "format=json", "application/json"), &items); err != nil || len(items) != n {
		t.Errorf("JSON export: %d items (%v), want %d", len(items), err, n)
	}

	// When the store fails after the first page, the consumer sees a broken
	// transfer, never a clean end of a shortened list.
	srv := httptest.NewServer(server.New(server.Config{Now: func() time.Time { return iocNow }}, faultyStore{e.db}, nil))
	defer srv.Close()
	for _, format := range []string{"txt", "csv", "json"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/iocs/export?format="+format, nil)
		req.Header.Set("Authorization", "Bearer "+e.keys["analyst"])
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || err == nil {
			t.Errorf("%s export over a failing store: status %d, %d bytes, read error %v; want 200 and a broken body",
				format, res.StatusCode, len(body), err)
		}
	}
}

// faultyStore is the real store whose IOC listing fails after the first
// page and whose lookup panics.
type faultyStore struct{ store.Store }

func (f faultyStore) IOCs(ctx context.Context, collectionID string, filter store.IOCFilter) (store.IOCPage, error) {
	if !filter.After.DateAdded.IsZero() {
		return store.IOCPage{}, errors.New("disk on fire")
	}
	return f.Store.IOCs(ctx, collectionID, filter)
}

func (f faultyStore) LookupIOCs(context.Context, string, []store.IOCValue, store.IOCFilter) ([]store.IOCMatch, error) {
	panic("lookup bug")
}

func TestIOCInternalErrors(t *testing.T) {
	e := newIOCEnv(t)
	seedIOCs(t, e)
	srv := httptest.NewServer(server.New(server.Config{}, faultyStore{e.db}, nil))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/iocs/lookup?value=198.51.100.7", nil)
	req.Header.Set("Authorization", "Bearer "+e.keys["analyst"])
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	r := &response{status: res.StatusCode, header: res.Header, body: body}
	if r.status != http.StatusInternalServerError || errorCode(t, r) != "internal" {
		t.Errorf("lookup that panics: status %d body %s, want 500 internal", r.status, body)
	}
	checkRESTError(t, r)
}

func TestIOCExportBadFormat(t *testing.T) {
	e := newIOCEnv(t)
	for _, f := range []string{"xml", "csv,txt", "stix", "%20"} {
		r := e.rest(t, http.MethodGet, "/api/v1/iocs/export?format="+f, "analyst", nil)
		if r.status != http.StatusBadRequest || errorCode(t, r) != "invalid" {
			t.Errorf("format %q: status %d body %s, want 400 invalid", f, r.status, r.body)
		}
	}
}
