package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hail/store"
	"hail/store/sqlite"
)

func TestPlanCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hail.db")
	out := mustHail(t, "plan", "add", "pro", "--db", db, "--rate", "60/min", "--burst", "10", "--apis", "taxii,rest",
		"--max-page", "1000", "--min-poll-interval", "1m")
	if want := `created plan "pro": 60/min (burst 10), APIs taxii,rest, pages of at most 1000, one poll per collection every 1m0s`; !strings.Contains(out, want) {
		t.Errorf("plan add said:\n%s\nwant %q", out, want)
	}
	mustHail(t, "plan", "add", "--db", db, "--rate", "4/h", "--apis", "rest", "--min-poll-interval", "15m", "free")
	for _, bad := range [][]string{
		{"plan", "add", "x", "--db", db, "--rate", "60"},
		{"plan", "add", "x", "--db", db, "--apis", "soap"},
		{"plan", "add", "pro", "--db", db},
		{"plan", "add", "unrestricted", "--db", db},
		{"plan", "add", "--db", db},
	} {
		if out, err := runHail(t, bad...); err == nil {
			t.Errorf("hail %s succeeded, want an error\n%s", strings.Join(bad, " "), out)
		}
	}

	out = mustHail(t, "key", "add", "--db", db, "--name", "soc1", "--read", "ips", "--plan", "pro",
		"--expires", "2030-01-02T03:04:05Z", "--allow-ip", "192.0.2.7/24,2001:db8::1")
	if _, err := runHail(t, "key", "add", "--db", db, "--name", "soc2", "--plan", "gold"); err == nil || !strings.Contains(err.Error(), "gold") {
		t.Errorf("key add --plan gold: %v, want an error naming the plan", err)
	}

	out = mustHail(t, "plan", "list", "--db", db, "--json")
	var rows []planRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("plan list --json: %v\n%s", err, out)
	}
	if len(rows) != 3 || rows[0].Name != store.UnrestrictedPlan || rows[0].Keys != 1 || rows[1].Name != "free" ||
		rows[2].Name != "pro" || rows[2].Keys != 1 || rows[2].Rate != "60/min" || rows[2].Burst != 10 || rows[1].MinPollInterval != "15m0s" {
		t.Errorf("plan list: %+v\nwant unrestricted (the admin key), free, pro (soc1)", rows)
	}
	if table := mustHail(t, "plan", "list", "--db", db); !strings.Contains(table, "MIN POLL") || !strings.Contains(table, "4/h") {
		t.Errorf("plan list table:\n%s", table)
	}
	if _, err := runHail(t, "plan", "rm", "pro", "--db", db); err == nil {
		t.Errorf("plan rm of a plan a key is on succeeded")
	}

	out = mustHail(t, "key", "list", "--db", db, "--json")
	var keys []keyRow
	if err := json.Unmarshal([]byte(out), &keys); err != nil {
		t.Fatalf("key list --json: %v\n%s", err, out)
	}
	var soc1 keyRow
	for _, k := range keys {
		if k.Name == "soc1" {
			soc1 = k
		}
	}
	if soc1.Plan != "pro" || soc1.Expires == nil || !soc1.Expires.Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) ||
		strings.Join(soc1.AllowIPs, ",") != "192.0.2.0/24,2001:db8::1/128" {
		t.Errorf("soc1 listed as %+v", soc1)
	}

	mustHail(t, "key", "set", "soc1", "--db", db, "--plan", "free", "--expires", "never", "--allow-ip", "any")
	mustHail(t, "plan", "rm", "pro", "--db", db)
	if _, err := runHail(t, "key", "set", "soc1", "--db", db); err == nil {
		t.Errorf("key set without a change succeeded")
	}
	if _, err := runHail(t, "key", "set", "nobody", "--db", db, "--plan", "free"); err == nil {
		t.Errorf("key set of an unknown key succeeded")
	}

	// Activity as the server records it.
	st, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	// Seconds that are not zero, which the report writes only then.
	poll := now.Add(-2 * time.Hour).Truncate(time.Minute).Add(17 * time.Second)
	err = st.RecordActivity(context.Background(), []store.Activity{{Key: "soc1", Collection: "ips", First: poll, Last: poll,
		Requests: 3, Polls: 2, LastPoll: poll, Objects: 1234, Bytes: 9999, LastDateAddedLast: poll.Add(-2 * time.Second),
		Errors: map[int]int64{429: 1}}})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	out = mustHail(t, "key", "show", "soc1", "--db", db)
	for _, want := range []string{
		"plan:     free: 4/h (burst 4), APIs rest, one poll per collection every 15m0s",
		"state:    active",
		"from:     any address",
		"stale:    yes: no poll for longer than 3 × 15m0s",
		"soc1 polled ips 2 times in the last 24 h, last at " + poll.Format("2006-01-02 15:04:05Z") + ", received 1,234 objects",
		"429×1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("key show:\n%s\nwant %q", out, want)
		}
	}
	if table := mustHail(t, "key", "list", "--db", db); !strings.Contains(table, "active, stale") {
		t.Errorf("key list does not call soc1 stale:\n%s", table)
	}
	if _, err := runHail(t, "key", "show", "nobody", "--db", db); err == nil {
		t.Errorf("key show of an unknown key succeeded")
	}
}

func TestParseExpiry(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"never":                {},
		"2026-01-31T00:00:00Z": time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC),
		"2026-01-31":           time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC),
		"90d":                  now.Add(90 * 24 * time.Hour),
		"2w":                   now.Add(14 * 24 * time.Hour),
		"36h":                  now.Add(36 * time.Hour),
	} {
		if got, err := parseExpiry(in, now); err != nil || !got.Equal(want) {
			t.Errorf("parseExpiry(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"soon", "-5d", "-1h", "0d"} {
		if _, err := parseExpiry(bad, now); err == nil {
			t.Errorf("parseExpiry(%q) succeeded, want an error", bad)
		}
	}
}

func FuzzParseExpiry(f *testing.F) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseExpiry(s, now)
		if err != nil {
			return
		}
		if !got.IsZero() && got.Location() != time.UTC {
			t.Fatalf("parseExpiry(%q) = %v, not in UTC", s, got)
		}
	})
}

// TestPlanSet changes a plan in use: the limits given change, the others
// and the keys on it stay; refusals change nothing.
func TestPlanSet(t *testing.T) {
	db := filepath.Join(t.TempDir(), "hail.db")
	mustHail(t, "plan", "add", "pro", "--db", db, "--rate", "60/min", "--apis", "taxii,rest", "--max-page", "1000")
	mustHail(t, "key", "add", "--db", db, "--name", "soc1", "--read", "ips", "--plan", "pro")
	out := mustHail(t, "plan", "set", "pro", "--db", db, "--rate", "120/h", "--max-page", "50")
	if want := `plan "pro": 120/h (burst 120), APIs taxii,rest, pages of at most 50`; !strings.Contains(out, want) {
		t.Errorf("plan set said:\n%s\nwant %q", out, want)
	}
	for _, bad := range [][]string{
		{"plan", "set", "pro", "--db", db},
		{"plan", "set", "gold", "--db", db, "--rate", "1/h"},
		{"plan", "set", "unrestricted", "--db", db, "--rate", "1/h"},
		{"plan", "set", "pro", "--db", db, "--rate", "often"},
		{"plan", "set", "pro", "--db", db, "--apis", "soap"},
	} {
		if out, err := runHail(t, bad...); err == nil {
			t.Errorf("hail %s succeeded, want an error\n%s", strings.Join(bad, " "), out)
		}
	}
	st, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := st.Plan(context.Background(), "pro")
	if err != nil || p.Rate != 120 || p.Period != time.Hour || p.MaxPage != 50 || strings.Join(p.APIs, ",") != "taxii,rest" {
		t.Errorf("stored plan %+v (%v), want 120/h, pages of 50, taxii and rest", p, err)
	}
	keys, err := st.Keys(context.Background())
	if err != nil || len(keys) != 2 || keys[1].Name != "soc1" && keys[0].Name != "soc1" {
		t.Fatalf("keys %+v (%v)", keys, err)
	}
	for _, k := range keys {
		if k.Name == "soc1" && k.Plan != "pro" {
			t.Errorf("key soc1 is on plan %q after the change, want pro", k.Plan)
		}
	}
}
