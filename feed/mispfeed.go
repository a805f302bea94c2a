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

// isMISPManifest reports whether a misp feed's URL names a MISP feed's
// manifest (…/manifest.json) rather than one event.
func isMISPManifest(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && path.Base(u.Path) == "manifest.json"
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
// of the last run, then each event changed since the mark (the newest
// event timestamp imported), oldest first, from <uuid>.json beside the
// manifest. An event that is not a MISP export is rejected and passed
// over; a failure to fetch one stops the run with a mark just before its
// timestamp, so that the next run goes on from there, and without the
// manifest's validators, so that it is read again.
func (r *Runner) runMISPFeed(ctx context.Context, f store.Feed, im *ingest.Importer, run *store.FeedRun) (store.FeedMark, error) {
	resp, err := r.get(ctx, f, f.URL, f.Mark)
	if err != nil {
		return f.Mark, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		run.NotChanged = true
		return f.Mark, nil
	}
	events, err := readManifest(resp.Body)
	if err != nil {
		return f.Mark, err
	}
	base, err := url.Parse(f.URL)
	if err != nil {
		return f.Mark, hail.Errorf(hail.EINVALID, "Feed URL %q: %v", f.URL, err)
	}
	since := int64(0)
	if !f.Mark.AddedAfter.IsZero() {
		since = f.Mark.AddedAfter.Unix()
	}
	newest := since
	opt := ingest.MISPOptions{ListOptions: listOptions(f, r.now), AllAttributes: f.List.AllAttributes}
	for _, ev := range events {
		if ev.timestamp <= since {
			continue
		}
		where := "event " + ev.uuid
		if _, err := uuid.Parse(ev.uuid); err != nil {
			count(run, ingest.Summary{Rejected: 1, Rejections: []ingest.Rejection{{Where: where, Reason: "not an event uuid"}}})
			continue
		}
		s, err := r.mispEvent(ctx, f, im, base.ResolveReference(&url.URL{Path: ev.uuid + ".json"}).String(), opt)
		count(run, s)
		var missing *statusError
		switch {
		case errors.As(err, &missing) && (missing.code == http.StatusNotFound || missing.code == http.StatusGone),
			hail.ErrorCode(err) == hail.EINVALID && s.Read == 0:
			// An event the manifest lists but the feed lacks, or one
			// that does not read, does not hold the feed back.
			reason := hail.ErrorMessage(err)
			if missing != nil {
				reason = err.Error()
			}
			count(run, ingest.Summary{Rejected: 1, Rejections: []ingest.Rejection{{Where: where, Reason: reason}}})
		case err != nil:
			mark := f.Mark
			mark.ETag, mark.LastModified = "", ""
			if newest > since {
				mark.AddedAfter = time.Unix(newest-1, 0).UTC() // events of the same second may follow
			}
			return mark, fmt.Errorf("MISP feed event %s: %w", ev.uuid, err)
		}
		newest = max(newest, ev.timestamp)
	}
	mark := store.FeedMark{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
	if newest > 0 {
		mark.AddedAfter = time.Unix(newest, 0).UTC()
	}
	return mark, nil
}

// mispEvent fetches and imports one event of a MISP feed.
func (r *Runner) mispEvent(ctx context.Context, f store.Feed, im *ingest.Importer, url string, opt ingest.MISPOptions) (ingest.Summary, error) {
	resp, err := r.get(ctx, f, url, store.FeedMark{})
	if err != nil {
		return ingest.Summary{}, err
	}
	defer resp.Body.Close()
	body, err := ingest.Unpack(resp.Body, "")
	if err != nil {
		return ingest.Summary{}, err
	}
	defer body.Close()
	return im.ImportMISP(ctx, body, opt)
}
