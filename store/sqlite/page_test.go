package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"hail"
	"hail/store"
)

// TestPageOfMissingCollection checks the codes a page reports now that the
// collection is resolved inside the page query: a missing collection is
// ENOTFOUND, also with a bad filter, and an empty one is an empty page.
func TestPageOfMissingCollection(t *testing.T) {
	db := newBenchDB(t, filepath.Join(t.TempDir(), "hail.db"))
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	raw := func(id string, f store.Filter) error {
		_, err := db.ObjectsRaw(ctx, id, f, func(time.Time, []byte) error { return nil })
		return err
	}
	objects := func(id string, f store.Filter) error {
		_, err := db.Objects(ctx, id, f)
		return err
	}
	missing := "00000000-0000-4000-8000-000000000000"
	bad := store.Filter{Versions: []string{"not-a-version"}}
	for name, read := range map[string]func(string, store.Filter) error{"Objects": objects, "ObjectsRaw": raw} {
		for _, tc := range []struct {
			what string
			id   string
			f    store.Filter
			want string
		}{
			{"missing", missing, store.Filter{}, hail.ENOTFOUND},
			{"missing, bad filter", missing, bad, hail.ENOTFOUND},
			{"missing, types", missing, store.Filter{Types: []string{"indicator", "malware"}}, hail.ENOTFOUND},
			{"empty", benchCollection, store.Filter{}, ""},
			{"empty, bad filter", benchCollection, bad, hail.EINVALID},
		} {
			err := read(tc.id, tc.f)
			if got := hail.ErrorCode(err); got != tc.want {
				t.Errorf("%s %s: %v, want code %q", name, tc.what, err, tc.want)
			}
		}
	}
}
