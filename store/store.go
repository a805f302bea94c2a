// Package store defines how hail persists API roots, collections, STIX object
// versions, status resources and API keys, and the contract every backend
// (store/sqlite, store/postgres) must meet. The contract is executable: a
// backend is correct when it passes storetest.Run.
//
// # Errors
//
// Methods return *hail.Error values with these codes, and wrap anything else
// (driver failures) so that it maps to hail.EINTERNAL:
//   - hail.ENOTFOUND: the API root, collection, object, status or key does not exist.
//   - hail.ECONFLICT: a create would duplicate a unique id, alias or name.
//   - hail.EINVALID: the arguments are malformed (a filter the backend cannot run).
//   - hail.EUNAVAILABLE: the database cannot be reached right now.
package store

import (
	"context"
	"time"

	"hail/stix"
)

// Store persists everything hail serves. Implementations must pass
// storetest.Run and be safe for concurrent use.
type Store interface {
	// CreateAPIRoot creates an API root. Returns ECONFLICT if the name is taken.
	CreateAPIRoot(ctx context.Context, r APIRoot) error
	// APIRoots returns every API root, ordered by name.
	APIRoots(ctx context.Context) ([]APIRoot, error)
	// APIRoot returns one API root. Returns ENOTFOUND if it does not exist.
	APIRoot(ctx context.Context, name string) (APIRoot, error)

	// CreateCollection creates a collection in c.APIRoot. Returns ENOTFOUND if
	// the API root does not exist, ECONFLICT if the id is taken anywhere or the
	// alias is taken in that API root, EINVALID if c.Kind is unknown or, for
	// KindFilter, c.Filter does not parse (ParseCollectionFilter).
	//
	// A filter collection is filled before CreateCollection returns: every
	// object version the API root's other collections hold that the filter
	// matches is added to it, with its context (see AddObjects). The copy
	// runs in batches, each its own transaction, so that writers wait for
	// one batch at most; a failure part way leaves the collection created
	// and partly filled, and versions arriving meanwhile are added by
	// AddObjects as usual.
	CreateCollection(ctx context.Context, c Collection) error
	// Collections returns the collections of an API root, ordered by creation
	// (a consistent order, TAXII 2.1 §3.3). An unknown API root gives an empty list.
	Collections(ctx context.Context, apiRoot string) ([]Collection, error)
	// Collection returns the collection of apiRoot whose id or alias is
	// idOrAlias. Returns ENOTFOUND if there is none.
	Collection(ctx context.Context, apiRoot, idOrAlias string) (Collection, error)
	// UpdateCollection changes the collection's title, description, alias
	// or public flag (see CollectionUpdate) and returns the collection as
	// it now is. Returns ENOTFOUND if it does not exist, ECONFLICT if the
	// alias is taken in its API root, EINVALID if u.Check fails; a refused
	// update changes nothing.
	UpdateCollection(ctx context.Context, id string, u CollectionUpdate) (Collection, error)
	// RefilterCollection gives filter collection id a new filter (see
	// ParseCollectionFilter) and makes what it holds follow: the versions
	// the new filter does not match leave it, but for identities and
	// marking definitions, then the API root's versions it now matches
	// join it with their context, as CreateCollection fills a new one, and
	// last it prunes the collection (PruneCollection).
	// Versions that stay keep their date_added; those that join get new
	// ones, so pollers receive them as new. The work runs in batches, each
	// its own transaction, after the new filter is stored, and versions
	// arriving meanwhile are matched against the new filter; a failure
	// part way leaves the new filter stored and the content partly
	// refiltered, and calling again finishes it. Returns ENOTFOUND if the
	// collection does not exist, EINVALID if it is not a filter collection
	// or the filter does not parse.
	RefilterCollection(ctx context.Context, id, filter string) error
	// PruneCollection deletes from filter collection id the identities and
	// marking definitions that its filter does not match and that no
	// other version it holds names as creator or marking: the context
	// left behind once the versions that brought it have left, by a
	// refilter or a deletion from the API root's explicit collections. It
	// reads the collection in batches without blocking writers, then
	// deletes in one transaction, and returns how many objects left.
	// Returns ENOTFOUND if the collection does not exist, EINVALID if it
	// is not a filter collection.
	PruneCollection(ctx context.Context, id string) (int, error)
	// PrunesDue returns the API roots whose filter collections are due a
	// prune (see PruneAPIRoot), each with its mark: DeleteObject, and
	// DeleteCollection of an explicit collection, make the collection's
	// root due in their own transaction, so that a restart forgets none,
	// and each such deletion changes the root's mark.
	PrunesDue(ctx context.Context) (map[string]int64, error)
	// PruneDone ends the due prune of API root root if its mark is still
	// mark, which PrunesDue returned before the prune began; a deletion
	// since then leaves it due. A root that is not due is left as it is.
	PruneDone(ctx context.Context, root string, mark int64) error
	// DeleteCollection removes a collection with its entries and the object
	// versions no other collection holds. The versions of an explicit
	// collection leave the filter collections of its API root too, unless
	// another explicit collection of the root still holds them, as with
	// DeleteObject. Returns ENOTFOUND if it does not exist.
	DeleteCollection(ctx context.Context, id string) error
	// CollectionStats counts a collection's distinct objects and versions.
	// Returns ENOTFOUND if the collection does not exist.
	CollectionStats(ctx context.Context, id string) (CollectionStats, error)
	// LastDateAdded returns the date_added of the collection's newest entry,
	// the zero time when it has none: CollectionStats' LastDateAdded, read
	// from one index entry where the counts read them all. Returns
	// ENOTFOUND if the collection does not exist.
	LastDateAdded(ctx context.Context, id string) (time.Time, error)

	// AddObjects adds object versions to a collection in one transaction and
	// returns one result per object, in order. Each new version gets a
	// date_added that is unique and strictly greater than every date_added
	// already visible in the store, so pollers that use added_after never miss
	// or repeat an object. A version already in the collection (same id and
	// Version) is reported as a duplicate and keeps its date_added. Returns
	// ENOTFOUND if the collection does not exist; then nothing is written.
	//
	// In the same transaction, each new version is also added to every
	// filter collection of the API root whose filter matches it and that
	// does not hold it yet, with its own date_added assigned by the same
	// rule; then so are its context objects (the created_by_ref identity and
	// the object_marking_refs marking definitions, in their latest version
	// the API root holds) that such a filter collection lacks. A new version
	// of an identity or marking definition is also added to every filter
	// collection that holds a version of it. The IOC index of every
	// collection written is brought up to date (see IOCs).
	AddObjects(ctx context.Context, collectionID string, objs []stix.Object) ([]AddResult, error)
	// AddObjectsStatus is AddObjects that also stores, in the same
	// transaction, the status that status makes of the results (see
	// CreateStatus): an Add Objects request's status exists if and only if
	// its objects were stored. status is called with the results inside the
	// transaction, again if the transaction is retried, and must not call
	// the store. Returns
	// ECONFLICT if the status's id is taken; then nothing is written.
	AddObjectsStatus(ctx context.Context, collectionID string, objs []stix.Object, status func([]AddResult) Status) ([]AddResult, error)
	// Objects returns one page of a collection's entries matching f, oldest
	// date_added first. Memory and time are O(f.Limit), whatever the size of
	// the collection. Returns ENOTFOUND if the collection does not exist.
	Objects(ctx context.Context, collectionID string, f Filter) (Page, error)
	// ObjectsRaw reads the page Objects would return for f, but hands each
	// entry to fn as it is read, in order, instead of collecting them: its
	// DateAdded and the object's stored bytes (Object.Raw). Only those two
	// are read, which is all an envelope needs, and raw is only valid
	// during the call: fn copies what it keeps. f.HeadersOnly is ignored.
	// more is Page.More. An error from fn stops the read and is returned as
	// it is. Returns ENOTFOUND if the collection does not exist.
	ObjectsRaw(ctx context.Context, collectionID string, f Filter, fn RawFunc) (more bool, err error)
	// DeleteObject removes the versions of one object selected by f.Versions
	// and f.SpecVersions (all versions when both are empty) from a collection.
	// Versions deleted from an explicit collection leave the filter
	// collections of its API root too, unless another explicit collection
	// of the root still holds them.
	// Returns ENOTFOUND if the collection does not exist or nothing matched.
	DeleteObject(ctx context.Context, collectionID, objectID string, f Filter) error

	// IOCs returns one page of a collection's IOC index matching f, in
	// (DateAdded, Ordinal) order (see IOC for what the index holds). A
	// listing walks the collection's current entries from the cursor, so
	// its cost grows with the page plus the entries and rows it skips: f's
	// confidence, expiry and revocation conditions, and, with f.Types, the
	// entries without rows of those types. A type the store holds few rows
	// of is read from those rows instead, so that a type the collection
	// lacks does not walk the whole collection. Returns ENOTFOUND if the
	// collection does not exist.
	IOCs(ctx context.Context, collectionID string, f IOCFilter) (IOCPage, error)
	// LookupIOCs finds the rows of a collection's IOC index that answer
	// values: rows of the same type and value, and, for an ipv4 or ipv6
	// value, cidr rows whose block holds the address. Values are matched as
	// given, so normalise them first (pattern.Normalize or pattern.Detect).
	// f's MinConfidence, IncludeExpired, IncludeRevoked and Now apply; its
	// Types, Since, After and Limit do not. Matches come grouped by value,
	// in the order of values. Returns EINVALID for more than MaxLookup
	// values and ENOTFOUND if the collection does not exist.
	LookupIOCs(ctx context.Context, collectionID string, values []IOCValue, f IOCFilter) ([]IOCMatch, error)

	// CreateStatus stores the status of an add request. Returns ECONFLICT if
	// the id is taken.
	CreateStatus(ctx context.Context, s Status) error
	// Status returns the status with that id in that API root. Returns
	// ENOTFOUND if there is none.
	Status(ctx context.Context, apiRoot, id string) (Status, error)
	// DeleteStatusesBefore removes statuses requested before t (TAXII asks
	// that they be kept at least 24 h) and returns how many it removed.
	DeleteStatusesBefore(ctx context.Context, t time.Time) (int, error)

	// CreateKey stores an API key. Returns ECONFLICT if the name or hash is taken.
	CreateKey(ctx context.Context, k Key) error
	// KeyByHash returns the unrevoked key whose SHA-256 hash is hash. Returns
	// ENOTFOUND if there is none.
	KeyByHash(ctx context.Context, hash []byte) (Key, error)
	// Keys returns every key, revoked ones included, ordered by name.
	Keys(ctx context.Context) ([]Key, error)
	// RevokeKey marks the named key revoked. Returns ENOTFOUND if there is no
	// unrevoked key of that name.
	RevokeKey(ctx context.Context, name string) error

	// CreateFeed stores a feed (see Feed.Validate). Returns EINVALID if it
	// does not validate, ENOTFOUND if its collection does not exist and
	// ECONFLICT if the name is taken.
	CreateFeed(ctx context.Context, f Feed) error
	// Feeds returns every feed with its mark and latest run, ordered by name.
	Feeds(ctx context.Context) ([]Feed, error)
	// Feed returns one feed. Returns ENOTFOUND if it does not exist.
	Feed(ctx context.Context, name string) (Feed, error)
	// DeleteFeed removes a feed and its runs. Returns ENOTFOUND if it does
	// not exist. Deleting a collection deletes its feeds.
	DeleteFeed(ctx context.Context, name string) error
	// ClaimFeed takes the lease of a feed until until, if no one holds it
	// at now and, when due is true, its next run is at or before now; it
	// returns the feed as stored then. Replicas sharing a database claim
	// before they run, so that one runs each feed at a time, and claim
	// with due so that a feed another replica has just run is not run
	// again. Returns ECONFLICT if an unexpired lease is held or the feed is
	// no longer due, ENOTFOUND if the feed does not exist.
	ClaimFeed(ctx context.Context, name string, now, until time.Time, due bool) (Feed, error)
	// FinishFeedRun records a run, sets the feed's mark and next run, and
	// releases its lease, in one transaction; runs beyond the latest
	// MaxFeedRuns are forgotten. Returns ENOTFOUND if the feed does not exist.
	FinishFeedRun(ctx context.Context, name string, run FeedRun, mark FeedMark, next time.Time) error
	// UpdateFeed changes some of a feed's settings (see FeedUpdate),
	// keeping its mark, runs and schedule unless u says otherwise, and
	// returns the feed as it now is. Returns ENOTFOUND if it does not
	// exist, EINVALID if the feed it would make does not validate,
	// ECONFLICT for RunNow while a run holds the feed; a refused update
	// changes nothing.
	UpdateFeed(ctx context.Context, name string, u FeedUpdate) (Feed, error)
	// FeedRuns returns a feed's latest runs, newest first, at most limit
	// (all when limit <= 0). Returns ENOTFOUND if the feed does not exist.
	FeedRuns(ctx context.Context, name string, limit int) ([]FeedRun, error)

	// CreateWebhook stores a webhook with its initial state; a zero Created
	// is the store's clock. Returns ENOTFOUND if its collection does not
	// exist, ECONFLICT if the id is taken. Deleting the collection deletes
	// its webhooks.
	CreateWebhook(ctx context.Context, w Webhook) error
	// Webhook returns one webhook. Returns ENOTFOUND if it does not exist.
	Webhook(ctx context.Context, id string) (Webhook, error)
	// Webhooks returns every webhook, ordered by Created, then id.
	Webhooks(ctx context.Context) ([]Webhook, error)
	// DeleteWebhook removes a webhook and its log. Returns ENOTFOUND if it
	// does not exist.
	DeleteWebhook(ctx context.Context, id string) error
	// AcquireWebhookLease makes holder the one process to deliver webhook
	// id until now+ttl, if the lease is free, expired at now, or already
	// holder's (then it is extended), and reports whether it did. Processes
	// pass their own clocks, so these must agree to well within ttl.
	// Returns ENOTFOUND if the webhook does not exist.
	AcquireWebhookLease(ctx context.Context, id, holder string, now time.Time, ttl time.Duration) (bool, error)
	// ReleaseWebhookLease frees the lease if holder holds it.
	ReleaseWebhookLease(ctx context.Context, id, holder string) error
	// RecordWebhookAttempt adds a to webhook id's log, dropping all but the
	// newest WebhookLogSize attempts, and, when st is not nil, saves st as
	// its state, in one transaction. A state is saved only by the lease
	// holder: returns ECONFLICT if holder does not hold the lease then, so
	// that a process that lost it cannot move the cursor. The cursor never
	// moves back, and a state saved with Paused false leaves the webhook
	// paused if an operator paused it meanwhile. Returns ENOTFOUND if the
	// webhook does not exist.
	RecordWebhookAttempt(ctx context.Context, id, holder string, a WebhookAttempt, st *WebhookState) error
	// WebhookAttempts returns the newest attempts of a webhook's log, newest
	// first, at most limit (all kept when limit <= 0). Returns ENOTFOUND if
	// the webhook does not exist.
	WebhookAttempts(ctx context.Context, id string, limit int) ([]WebhookAttempt, error)
	// UpdateWebhook changes a webhook's URL, secret, batch size or wait (a
	// nil field stays), keeping its delivery state: the next delivery goes
	// to the new URL, signed with the new secret, from the same cursor. The
	// values are not checked here (see webhook.Update). Returns ENOTFOUND
	// if it does not exist.
	UpdateWebhook(ctx context.Context, id string, u WebhookUpdate) error
	// SetWebhookPaused pauses a webhook, giving reason, or resumes it:
	// resuming clears the failure count and the retry wait, so that the
	// next attempt is made at once. Returns ENOTFOUND if it does not exist.
	SetWebhookPaused(ctx context.Context, id string, paused bool, reason string) error

	// UpdateKey changes the named key (see KeyUpdate). Returns ENOTFOUND if
	// there is no unrevoked key of that name.
	UpdateKey(ctx context.Context, name string, u KeyUpdate) error

	// CreatePlan stores a plan. Returns ECONFLICT if the name is taken.
	CreatePlan(ctx context.Context, p Plan) error
	// Plan returns the named plan. Returns ENOTFOUND if there is none.
	Plan(ctx context.Context, name string) (Plan, error)
	// Plans returns every plan, ordered by name.
	Plans(ctx context.Context) ([]Plan, error)
	// UpdatePlan gives the plan named p.Name p's limits (its Created
	// stays); a running server holds the keys on it to them within its
	// plan cache's ten seconds. Returns ENOTFOUND if there is none.
	UpdatePlan(ctx context.Context, p Plan) error
	// DeletePlan removes the named plan. Returns ENOTFOUND if there is none
	// and ECONFLICT if an unrevoked key is on it.
	DeletePlan(ctx context.Context, name string) error
	// TakeToken admits one request in the rate bucket named bucket, shared
	// by every replica, by the generic cell rate algorithm: a request is
	// admitted when, counting it, no more than burst requests have come
	// faster than one per interval. It returns 0 when the request is
	// admitted, and otherwise how long until one would be, leaving the
	// bucket as it was. now is the caller's clock.
	TakeToken(ctx context.Context, bucket string, now time.Time, interval time.Duration, burst int) (time.Duration, error)

	// RecordActivity adds deltas to the per-key, per-collection activity
	// record in one transaction (see Activity), and forgets hourly counts
	// older than ActivityRetention before the latest Last.
	RecordActivity(ctx context.Context, deltas []Activity) error
	// Activity returns the record of the named key, ordered by collection,
	// with Recent counting the hours that end after since. A key without
	// activity has none.
	Activity(ctx context.Context, key string, since time.Time) ([]Activity, error)

	// Close releases the store's resources.
	Close() error
}
