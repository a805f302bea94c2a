package server

import (
	"testing"
	"time"

	"hail"
	"hail/store"
)

// FuzzDecodeFeedRequest: any create body decodes or is refused with
// EINVALID, and what decodes names a collection, has a period and leaves
// the collection id to be resolved.
func FuzzDecodeFeedRequest(f *testing.F) {
	f.Add([]byte(`{"name":"abuse","kind":"txt","url":"https://l.example/ips.txt","collection":"ingest","every":"1h",` +
		`"list":{"source":"CERT","ttl":"720h","labels":["c2"],"snapshot":true}}`))
	f.Add([]byte(`{"name":"peer","kind":"taxii21","url":"https://p.example/api/","collection":"api/drop","token":"t"}`))
	f.Add([]byte(`{"collection":"x","evry":"1h"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		coll, feed, err := decodeFeedRequest(body)
		if err != nil {
			if hail.ErrorCode(err) != hail.EINVALID {
				t.Errorf("decodeFeedRequest(%q): code %s, want %s", body, hail.ErrorCode(err), hail.EINVALID)
			}
			return
		}
		if coll == "" || feed.CollectionID != "" {
			t.Errorf("decodeFeedRequest(%q) = %q, %+v: no collection named, or one resolved", body, coll, feed)
		}
		if feed.List.TTL < 0 {
			t.Errorf("decodeFeedRequest(%q): negative ttl %v", body, feed.List.TTL)
		}
	})
}

// FuzzDecodeFeedPatch: any change body decodes or is refused with
// EINVALID; what decodes changes something, never runs the feed, and never
// leaves a token beside a user or password it gives.
func FuzzDecodeFeedPatch(f *testing.F) {
	f.Add([]byte(`{"url":"https://new.example/api/","every":"30m","insecure":true}`))
	f.Add([]byte(`{"user":"me","password":"p"}`))
	f.Add([]byte(`{"token":"t","reset_mark":true}`))
	f.Add([]byte(`{"client_cert":"","client_key":"","ca":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		u, err := decodeFeedPatch(body)
		if err != nil {
			if hail.ErrorCode(err) != hail.EINVALID {
				t.Errorf("decodeFeedPatch(%q): code %s, want %s", body, hail.ErrorCode(err), hail.EINVALID)
			}
			return
		}
		if u == (store.FeedUpdate{}) || u.RunNow {
			t.Errorf("decodeFeedPatch(%q) = %+v: no change, or a run", body, u)
		}
		// Applied to feeds with either kind of credentials, it never leaves
		// a token beside a user or password.
		for _, before := range []store.Feed{{User: "old", Password: "old"}, {Token: "old"}} {
			after := u.Apply(before, time.Time{})
			if after.Token != "" && (after.User != "" || after.Password != "") {
				t.Errorf("decodeFeedPatch(%q) applied to %+v: token %q beside user %q, password %q", body, before,
					after.Token, after.User, after.Password)
			}
		}
	})
}
