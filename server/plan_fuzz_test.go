package server

import (
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
)

// FuzzPlanRequest feeds request targets to what reads them for plans: the
// API, the collection, whether it is a poll, and the page cap, which must
// leave a limit no larger than the plan's.
func FuzzPlanRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, path, rawQuery string, max int) {
		max = max%5000 + 5000 // 1..9999
		u := &url.URL{Path: "/" + path, RawQuery: rawQuery}
		r := httptest.NewRequest("GET", "/", nil)
		r.URL = u
		requestAPI(r)
		requestCollection(r)
		isPoll(r, r.URL.Query())
		capped := capPage(r, max)
		n, err := strconv.Atoi(capped.URL.Query().Get(paramLimit))
		if err != nil || n <= 0 || n > max {
			t.Fatalf("capPage(%q, %d) left limit %q", rawQuery, max, capped.URL.Query().Get(paramLimit))
		}
	})
}
