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
		"token beside a user":  {User: &url},
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

	got, err = s.UpdateFeed(ctx, "peer", store.FeedUpdate{ResetMark: true})
	if err != nil || !got.Mark.AddedAfter.IsZero() {
		t.Errorf("UpdateFeed(ResetMark) = mark %+v, %v; want none", got.Mark, err)
	}
	if read, err := s.Feed(ctx, "peer"); err != nil || !read.Mark.AddedAfter.IsZero() || read.Token != token {
		t.Errorf("Feed after the reset: mark %+v token %q (%v); want no mark and the token kept", read.Mark, read.Token, err)
	}
}
