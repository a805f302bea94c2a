package storetest

import (
	"reflect"
	"testing"
	"time"

	"hail"
	"hail/internal/pkitest"
	"hail/store"
)

// testFeedUpdate rotates a TAXII feed's credentials and certificate and
// moves it to a new address: its mark, schedule and runs stay. A reset
// starts it over; refused updates change nothing.
func testFeedUpdate(t *testing.T, s store.Store) {
	setup(t, s)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	f := store.Feed{Name: "peer", Kind: store.FeedTAXII21, URL: "https://old.example/taxii2/api/", CollectionID: coll1,
		TAXIICollection: "intel", User: "u", Password: "old", Every: time.Hour, Created: t0}
	if err := s.CreateFeed(ctx, f); err != nil {
		t.Fatalf("CreateFeed: %v", err)
	}
	mark := store.FeedMark{AddedAfter: t0.Add(-time.Minute)}
	run := store.FeedRun{Started: t0, Ended: t0.Add(time.Second), Read: 2, Added: 2}
	if err := s.FinishFeedRun(ctx, "peer", run, mark, t0.Add(time.Hour)); err != nil {
		t.Fatalf("FinishFeedRun: %v", err)
	}

	cert, key := pkitest.NewCA(t).Client(t, "feed")
	url, token, empty, every, all := "https://new.example/taxii2/api/", "new-token", "", 2*time.Hour, true
	got, err := s.UpdateFeed(ctx, "peer", store.FeedUpdate{URL: &url, Token: &token, User: &empty, Password: &empty,
		ClientCert: &cert, ClientKey: &key, Every: &every, AllVersions: &all})
	if err != nil {
		t.Fatalf("UpdateFeed: %v", err)
	}
	want := f
	want.URL, want.Token, want.User, want.Password, want.ClientCert, want.ClientKey = url, token, "", "", cert, key
	want.Every, want.AllVersions, want.Mark, want.NextRun, want.LastRun = every, true, mark, t0.Add(time.Hour), run
	if !reflect.DeepEqual(got, want) {
		t.Errorf("UpdateFeed returned\n %+v\nwant %+v", got, want)
	}
	if read, err := s.Feed(ctx, "peer"); err != nil || !reflect.DeepEqual(read, want) {
		t.Errorf("Feed after the update:\n %+v (%v)\nwant %+v", read, err, want)
	}
	if runs, err := s.FeedRuns(ctx, "peer", 0); err != nil || len(runs) != 1 {
		t.Errorf("FeedRuns after the update: %d runs (%v), want the 1 kept", len(runs), err)
	}

	short := time.Second
	for name, u := range map[string]store.FeedUpdate{
		"every 1s":             {Every: &short},
		"a token and a user":   {User: &url, Token: &token},
		"certificate, no key":  {ClientKey: &empty},
		"no remote collection": {TAXIICollection: &empty},
	} {
		_, err := s.UpdateFeed(ctx, "peer", u)
		wantCode(t, "UpdateFeed "+name, err, hail.EINVALID)
	}
	if read, err := s.Feed(ctx, "peer"); err != nil || !reflect.DeepEqual(read, want) {
		t.Errorf("Feed after refused updates:\n %+v (%v)\nwant it unchanged", read, err)
	}
	_, err = s.UpdateFeed(ctx, "missing", store.FeedUpdate{URL: &url})
	wantCode(t, "UpdateFeed(missing)", err, hail.ENOTFOUND)

	// A user and password replace the token; a token replaces them.
	user, pass := "svc", "s3cret"
	if got, err := s.UpdateFeed(ctx, "peer", store.FeedUpdate{User: &user, Password: &pass}); err != nil ||
		got.Token != "" || got.User != user || got.Password != pass {
		t.Errorf("UpdateFeed(user, password) = token %q user %q password %q (%v); want the token gone", got.Token, got.User, got.Password, err)
	}
	if got, err := s.UpdateFeed(ctx, "peer", store.FeedUpdate{Token: &token}); err != nil ||
		got.Token != token || got.User != "" || got.Password != "" {
		t.Errorf("UpdateFeed(token) = token %q user %q password %q (%v); want the user and password gone", got.Token, got.User, got.Password, err)
	}

	got, err = s.UpdateFeed(ctx, "peer", store.FeedUpdate{ResetMark: true})
	if err != nil || !got.Mark.AddedAfter.IsZero() {
		t.Errorf("UpdateFeed(ResetMark) = mark %+v, %v; want none", got.Mark, err)
	}
	if read, err := s.Feed(ctx, "peer"); err != nil || !read.Mark.AddedAfter.IsZero() || read.Token != token {
		t.Errorf("Feed after the reset: mark %+v token %q (%v); want no mark and the token kept", read.Mark, read.Token, err)
	}
}

// testFeedResetDuringRun resets a feed's mark while a run holds its lease:
// the run's end records the run, its next run and the lease's release but
// leaves the mark reset, so the next run starts over. A run that started
// after the reset sets its mark as usual.
func testFeedResetDuringRun(t *testing.T, s store.Store) {
	setup(t, s)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	f := store.Feed{Name: "list", Kind: store.FeedText, URL: "https://lists.example/ips.txt", CollectionID: coll1,
		Every: time.Hour, Created: t0, Mark: store.FeedMark{ETag: `"v1"`, LastModified: "Sun, 01 Jun 2025 11:00:00 GMT"}}
	if err := s.CreateFeed(ctx, f); err != nil {
		t.Fatalf("CreateFeed: %v", err)
	}
	claimed, err := s.ClaimFeed(ctx, "list", t0, t0.Add(time.Minute), false)
	if err != nil {
		t.Fatalf("ClaimFeed: %v", err)
	}
	if _, err := s.UpdateFeed(ctx, "list", store.FeedUpdate{ResetMark: true}); err != nil {
		t.Fatalf("UpdateFeed(ResetMark): %v", err)
	}
	reached := store.FeedMark{ETag: `"v2"`, LastModified: "Sun, 01 Jun 2025 12:00:00 GMT", State: `{"e1":1700000000}`,
		Resets: claimed.Mark.Resets}
	run := store.FeedRun{Started: t0, Ended: t0.Add(time.Second), Read: 5, Added: 5}
	if err := s.FinishFeedRun(ctx, "list", run, reached, t0.Add(time.Hour)); err != nil {
		t.Fatalf("FinishFeedRun: %v", err)
	}
	got, err := s.Feed(ctx, "list")
	if err != nil {
		t.Fatalf("Feed: %v", err)
	}
	if got.Mark.ETag != "" || got.Mark.LastModified != "" || !got.Mark.AddedAfter.IsZero() || got.Mark.State != "" {
		t.Errorf("mark after a run that ended after a reset = %+v; want it still reset", got.Mark)
	}
	if !got.NextRun.Equal(t0.Add(time.Hour)) || !reflect.DeepEqual(got.LastRun, run) {
		t.Errorf("after the run: next %v, last run %+v; want %v and the run", got.NextRun, got.LastRun, t0.Add(time.Hour))
	}
	if _, err := s.ClaimFeed(ctx, "list", t0.Add(2*time.Second), t0.Add(time.Minute), false); err != nil {
		t.Errorf("ClaimFeed after the run: %v; want the lease released", err)
	}

	// The next run starts from the reset mark and keeps what it reaches.
	claimed, err = s.Feed(ctx, "list")
	if err != nil {
		t.Fatalf("Feed: %v", err)
	}
	reached.Resets = claimed.Mark.Resets
	if err := s.FinishFeedRun(ctx, "list", run, reached, t0.Add(2*time.Hour)); err != nil {
		t.Fatalf("FinishFeedRun: %v", err)
	}
	if got, err := s.Feed(ctx, "list"); err != nil || got.Mark != reached {
		t.Errorf("mark after a run that started after the reset = %+v (%v); want %+v", got.Mark, err, reached)
	}
}

// testFeedRunNow makes a feed due at once: its next run moves to the
// store's clock, and nothing else changes.
func testFeedRunNow(t *testing.T, s store.Store) {
	setup(t, s)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	f := store.Feed{Name: "list", Kind: store.FeedText, URL: "https://lists.example/ips.txt", CollectionID: coll1,
		Every: time.Hour, Created: t0, NextRun: time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)}
	if err := s.CreateFeed(ctx, f); err != nil {
		t.Fatalf("CreateFeed: %v", err)
	}
	// While a run holds the feed, its end sets the next run: refused.
	held := time.Now()
	if _, err := s.ClaimFeed(ctx, "list", held, held.Add(time.Hour), false); err != nil {
		t.Fatalf("ClaimFeed: %v", err)
	}
	_, err := s.UpdateFeed(ctx, "list", store.FeedUpdate{RunNow: true})
	wantCode(t, "UpdateFeed(RunNow) during a run", err, hail.ECONFLICT)
	if got, err := s.Feed(ctx, "list"); err != nil || !got.NextRun.Equal(f.NextRun) {
		t.Errorf("next run after a refused RunNow %v (%v), want %v", got.NextRun, err, f.NextRun)
	}
	if err := s.FinishFeedRun(ctx, "list", store.FeedRun{Started: held, Ended: held}, store.FeedMark{}, f.NextRun); err != nil {
		t.Fatalf("FinishFeedRun: %v", err)
	}
	_, err = s.UpdateFeed(ctx, "missing", store.FeedUpdate{RunNow: true})
	wantCode(t, "UpdateFeed(missing, RunNow)", err, hail.ENOTFOUND)
	before := time.Now().Add(-time.Second)
	got, err := s.UpdateFeed(ctx, "list", store.FeedUpdate{RunNow: true})
	after := time.Now().Add(time.Second)
	if err != nil {
		t.Fatalf("UpdateFeed(RunNow): %v", err)
	}
	if got.NextRun.Before(before) || got.NextRun.After(after) {
		t.Errorf("UpdateFeed(RunNow): next run %v; want now, between %v and %v", got.NextRun, before, after)
	}
	read, err := s.Feed(ctx, "list")
	if err != nil || !read.NextRun.Equal(got.NextRun) || read.URL != f.URL || read.Every != f.Every {
		t.Errorf("Feed after RunNow = %+v (%v); want next run %v, the rest unchanged", read, err, got.NextRun)
	}
	// Due now: a claim that asks for due feeds only gets it.
	if _, err := s.ClaimFeed(ctx, "list", after, after.Add(time.Minute), true); err != nil {
		t.Errorf("ClaimFeed(due) after RunNow: %v", err)
	}
}
