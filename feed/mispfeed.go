package feed

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"hail"
	"hail/ingest"
	"hail/store"
)

// maxManifest bounds the manifest of a MISP feed: CIRCL's OSINT feed, of
// some 1,500 events, is under 2 MB.
const maxManifest = 64 << 20

// mispFeedURL returns the manifest of a MISP feed that a misp feed's URL
// names, and whether it names one: the manifest itself (…/manifest.json),
// or the feed's directory, as MISP's own feed list gives it (any path
// that does not end in .json). A URL of one event (….json) names none.
func mispFeedURL(raw string) (*url.URL, bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, false
	}
	switch {
	case path.Base(u.Path) == "manifest.json":
		return u, true
	case strings.HasSuffix(strings.ToLower(u.Path), ".json"):
		return nil, false
	}
	m := *u
	m.Path = strings.TrimSuffix(u.Path, "/") + "/manifest.json"
	m.RawPath = ""
	return &m, true
}

// eventURL is the URL of a MISP feed's event: <uuid>.json beside the
// manifest, with the manifest's query (a token some feeds take there).
func eventURL(manifest *url.URL, id string) string {
	u := manifest.ResolveReference(&url.URL{Path: id + ".json"})
	u.RawQuery = manifest.RawQuery
	return u.String()
}

// manifestEntry is what a MISP feed's manifest says of one event.
type manifestEntry struct {
	uuid      string
	timestamp int64 // the event's last change, Unix seconds
}

// mispTimestamp reads a timestamp MISP writes as a number or a string.
type mispTimestamp int64

func (t *mispTimestamp) UnmarshalJSON(data []byte) error {
	n, err := strconv.ParseInt(strings.Trim(string(data), `"`), 10, 64)
	if err != nil {
		return fmt.Errorf("not a MISP timestamp: %.40s", data)
	}
	*t = mispTimestamp(n)
	return nil
}

// readManifest decodes a MISP feed's manifest, {"<event uuid>":
// {"timestamp": …, …}, …}, into its events oldest change first.
func readManifest(r io.Reader) ([]manifestEntry, error) {
	var m map[string]struct {
		Timestamp mispTimestamp `json:"timestamp"`
	}
	if err := json.NewDecoder(io.LimitReader(r, maxManifest)).Decode(&m); err != nil {
		return nil, hail.Errorf(hail.EINVALID, "The MISP feed's manifest does not read: %v.", err)
	}
	out := make([]manifestEntry, 0, len(m))
	for id, e := range m {
		out = append(out, manifestEntry{uuid: id, timestamp: int64(e.Timestamp)})
	}
	slices.SortFunc(out, func(a, b manifestEntry) int {
		return cmp.Or(cmp.Compare(a.timestamp, b.timestamp), strings.Compare(a.uuid, b.uuid))
	})
	return out, nil
}

// runMISPFeed reads a MISP feed: its manifest, fetched with the validators
// of the last run, then each event the feed has not imported at the
// timestamp the manifest gives it, oldest first. The mark's state keeps,
// for each event imported, that timestamp: an event published late with
// an older timestamp is fetched as well as one changed. An event that is
// missing (404, 410) or not a MISP export is rejected and left for the
// next run, which then reads the manifest again; a failure to fetch one
// stops the run, keeping what the events before it were imported at.
func (r *Runner) runMISPFeed(ctx context.Context, f store.Feed, im *ingest.Importer, run *store.FeedRun, manifest *url.URL) (store.FeedMark, error) {
	body, err := r.fetch(ctx, f, manifest.String(), f.Mark)
	if err != nil || body == nil {
		run.NotChanged = err == nil
		return f.Mark, err
	}
	defer body.Close()
	events, err := readManifest(body)
	if err != nil {
		return f.Mark, err
	}
	imported := map[string]int64{}
	if f.Mark.State != "" {
		if err := json.Unmarshal([]byte(f.Mark.State), &imported); err != nil {
			imported = map[string]int64{} // unreadable: start over, which adds only duplicates
		}
	}
	// The state keeps the events the manifest still lists, so that it is
	// bounded by the feed, not by its history.
	next := make(map[string]int64, len(events))
	for _, ev := range events {
		if ts, ok := imported[ev.uuid]; ok {
			next[ev.uuid] = ts
		}
	}
	mark := func(validators bool) store.FeedMark {
		m := store.FeedMark{Resets: f.Mark.Resets}
		if validators {
			m.ETag, m.LastModified = body.header.Get("ETag"), body.header.Get("Last-Modified")
		}
		newest := int64(0)
		for _, ts := range next {
			newest = max(newest, ts)
		}
		if newest > 0 {
			m.AddedAfter = time.Unix(newest, 0).UTC()
		}
		state, _ := json.Marshal(next)
		m.State = string(state)
		return m
	}
	opt := mispOptions(f, r.now)
	complete := true // every listed event is imported at its timestamp
	for _, ev := range events {
		if ts, ok := next[ev.uuid]; ok && ts >= ev.timestamp {
			continue
		}
		where := "event " + ev.uuid
		if _, err := uuid.Parse(ev.uuid); err != nil {
			count(run, rejection(where, "not an event uuid"))
			continue // never fetched, and no reason to read the manifest again
		}
		s, err := r.mispEvent(ctx, f, im, eventURL(manifest, ev.uuid), opt)
		count(run, s)
		var missing *statusError
		switch {
		case errors.As(err, &missing) && (missing.code == http.StatusNotFound || missing.code == http.StatusGone):
			count(run, rejection(where, err.Error()))
			complete = false
			continue
		case hail.ErrorCode(err) == hail.EINVALID:
			// What it held before the damage is stored; the rest waits
			// for the publisher, and this event is fetched again.
			count(run, rejection(where, hail.ErrorMessage(err)))
			complete = false
			continue
		case err != nil:
			return mark(false), fmt.Errorf("MISP feed event %s: %w", ev.uuid, err)
		}
		next[ev.uuid] = ev.timestamp
	}
	return mark(complete), nil
}

// rejection is a summary of one thing rejected.
func rejection(where, reason string) ingest.Summary {
	return ingest.Summary{Rejected: 1, Rejections: []ingest.Rejection{{Where: where, Reason: reason}}}
}

// mispEvent fetches and imports one event of a MISP feed.
func (r *Runner) mispEvent(ctx context.Context, f store.Feed, im *ingest.Importer, url string, opt ingest.MISPOptions) (ingest.Summary, error) {
	body, err := r.fetch(ctx, f, url, store.FeedMark{})
	if err != nil || body == nil {
		return ingest.Summary{}, err // no validators were sent: no 304
	}
	defer body.Close()
	return im.ImportMISP(ctx, body, opt)
}
