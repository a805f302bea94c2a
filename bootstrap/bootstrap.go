// Package bootstrap prepares an empty store on a server's first start: the
// default API root, the default collection and an admin API key, so that
// `hail serve` on a fresh machine is usable at once.
package bootstrap

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"hail"
	"hail/auth"
	"hail/store"
)

// Defaults of a fresh store.
const (
	APIRootName         = "api"
	APIRootTitle        = "hail"
	DefaultAlias        = "default"
	MaxContentLength    = 100 << 20 // 100 MiB, TAXII max_content_length
	AdminKeyName        = "admin"
	defaultCollTitle    = "Default collection"
	defaultCollDescribe = "Objects added with the admin key or any key allowed to write to it."
)

// Result tells what Ensure did. AdminKey is set only when a key was made: it
// is shown once and never stored in clear.
type Result struct {
	Created  bool
	AdminKey string
}

// Ensure creates the default API root, collection and admin key when the
// store has no API root yet, and does nothing otherwise.
func Ensure(ctx context.Context, st store.Store, now time.Time) (Result, error) {
	roots, err := st.APIRoots(ctx)
	if err != nil {
		return Result{}, err
	}
	if len(roots) > 0 {
		return Result{}, nil
	}
	if err := st.CreateAPIRoot(ctx, store.APIRoot{
		Name: APIRootName, Title: APIRootTitle, MaxContentLength: MaxContentLength,
		Default: true, Created: now,
	}); err != nil && hail.ErrorCode(err) != hail.ECONFLICT {
		// ECONFLICT: another replica created it between our read and write.
		return Result{}, fmt.Errorf("create api root: %w", err)
	}
	if err := st.CreateCollection(ctx, store.Collection{
		ID: uuid.NewString(), APIRoot: APIRootName, Alias: DefaultAlias,
		Title: defaultCollTitle, Description: defaultCollDescribe,
		Kind: store.KindExplicit, Created: now,
	}); err != nil && hail.ErrorCode(err) != hail.ECONFLICT {
		return Result{}, fmt.Errorf("create default collection: %w", err)
	}
	key, hash := auth.NewKey()
	err = st.CreateKey(ctx, store.Key{ID: uuid.NewString(), Name: AdminKeyName, Hash: hash, Admin: true, Created: now})
	if hail.ErrorCode(err) == hail.ECONFLICT {
		return Result{Created: true}, nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("create admin key: %w", err)
	}
	return Result{Created: true, AdminKey: key}, nil
}
