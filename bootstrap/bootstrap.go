// Package bootstrap prepares an empty store on a server's first start: the
// default API root, its collections and an admin API key, so that `hail
// serve` on a fresh machine is usable at once.
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

// Collection is one collection a fresh store gets.
type Collection struct {
	Alias       string
	Title       string
	Description string
	Filter      string // "" for the explicit, writable collection
}

// Collections are the collections a fresh store gets, in the order TAXII
// lists them: "default", where objects are added, and filter collections
// that sort what arrives for consumers that want one kind of indicator
// (interop: Sentinel connectors poll one collection each). Their titles are
// stable, as some clients (the OpenCTI TAXII connector) pick collections by
// title.
var Collections = []Collection{
	{Alias: DefaultAlias, Title: defaultCollTitle, Description: defaultCollDescribe},
	{Alias: "all", Title: "All intelligence", Description: "Every object added to any collection of this API root.", Filter: "{}"},
	{Alias: "ips", Title: "IP indicators", Description: "Indicators of IPv4 and IPv6 addresses and blocks, with their sources and markings.",
		Filter: `{"observables":["ipv4","ipv6","cidr"]}`},
	{Alias: "hashes", Title: "File hash indicators", Description: "Indicators of file hashes, with their sources and markings.",
		Filter: `{"observables":["md5","sha1","sha256","sha512","ssdeep","tlsh"]}`},
	{Alias: "domains", Title: "Domain indicators", Description: "Indicators of domain names, with their sources and markings.",
		Filter: `{"observables":["domain"]}`},
	{Alias: "urls", Title: "URL indicators", Description: "Indicators of URLs, with their sources and markings.",
		Filter: `{"observables":["url"]}`},
	{Alias: "cves", Title: "Vulnerabilities", Description: "Vulnerability objects, with their sources and markings.",
		Filter: `{"types":["vulnerability"]}`},
}

// Result tells what Ensure did. AdminKey is set only when a key was made: it
// is shown once and never stored in clear.
type Result struct {
	Created  bool
	AdminKey string
}

// Ensure creates the default API root, the Collections, each with a new
// UUIDv4 id, and the admin key when the store has no API root yet, and does
// nothing otherwise.
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
	for _, c := range Collections {
		kind := store.KindExplicit
		if c.Filter != "" {
			kind = store.KindFilter
		}
		if err := st.CreateCollection(ctx, store.Collection{
			ID: uuid.NewString(), APIRoot: APIRootName, Alias: c.Alias, Title: c.Title, Description: c.Description,
			Kind: kind, Filter: c.Filter, Created: now,
		}); err != nil && hail.ErrorCode(err) != hail.ECONFLICT {
			return Result{}, fmt.Errorf("create collection %q: %w", c.Alias, err)
		}
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
