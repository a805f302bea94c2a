package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"hail/stix"
	"hail/store"
)

// RevokeIDs gives a revoked version, modified at now (or just after the
// current version), to each object of ids that the collection holds and
// that is not revoked yet. It returns how many it revoked.
func RevokeIDs(ctx context.Context, st store.Store, collectionID string, ids []string, now time.Time) (int, error) {
	revoked := 0
	const batch = 500
	for len(ids) > 0 {
		n := min(len(ids), batch)
		page, err := st.Objects(ctx, collectionID, store.Filter{IDs: ids[:n], Limit: n})
		if err != nil {
			return revoked, err
		}
		objs := make([]stix.Object, 0, len(page.Entries))
		for _, e := range page.Entries {
			if e.Object.Revoked {
				continue
			}
			o, err := RevokedVersion(e.Object, now)
			if err != nil {
				return revoked, err
			}
			objs = append(objs, o)
		}
		if len(objs) > 0 {
			res, err := st.AddObjects(ctx, collectionID, objs)
			if err != nil {
				return revoked, err
			}
			for _, r := range res {
				if !r.Duplicate {
					revoked++
				}
			}
		}
		ids = ids[n:]
	}
	return revoked, nil
}

// RevokedVersion returns a new version of o with revoked true, modified at
// now or, if that is not later, one millisecond after o's modified, which a
// new version must exceed (STIX 2.1 §3.6). The other properties are kept.
func RevokedVersion(o stix.Object, now time.Time) (stix.Object, error) {
	var props map[string]json.RawMessage
	if err := json.Unmarshal(o.Raw, &props); err != nil {
		return stix.Object{}, fmt.Errorf("revoke %s: %w", o.ID, err)
	}
	var prev string
	if err := json.Unmarshal(props["modified"], &prev); err != nil {
		return stix.Object{}, errors.New("revoke " + o.ID + ": no modified time")
	}
	modified := now.UTC().Truncate(time.Millisecond)
	if pt, err := stix.ParseTimestamp(prev); err == nil && !modified.After(pt) {
		modified = pt.Add(time.Millisecond)
	}
	props["modified"], _ = json.Marshal(stix.FormatTimestamp(modified))
	props["revoked"] = json.RawMessage("true")
	raw, err := json.Marshal(props)
	if err != nil {
		return stix.Object{}, fmt.Errorf("revoke %s: %w", o.ID, err)
	}
	return stix.Parse(raw)
}
