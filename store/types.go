package store

import (
	"strings"
	"time"

	"hail"
	"hail/stix"
)

// APIRoot is a TAXII API root, served at /taxii2/{Name}/.
type APIRoot struct {
	Name             string // one URL path segment, e.g. "api"
	Title            string
	Description      string
	MaxContentLength int64 // bytes; the largest request body accepted
	Default          bool  // named as "default" in the discovery resource
	Created          time.Time
}

// Collection kinds.
const (
	KindExplicit = "explicit" // holds what is added to it
	KindFilter   = "filter"   // holds what matches its filter
)

// Collection is a TAXII collection.
type Collection struct {
	ID          string // UUIDv4
	APIRoot     string
	Alias       string // unique within the API root; "" for none
	Title       string
	Description string
	Public      bool   // readable without an API key
	Kind        string // KindExplicit when empty
	Filter      string // the filter of a KindFilter collection, as JSON (CollectionFilter)
	Created     time.Time
}

// Writable reports whether objects may be added to c through TAXII: a
// filter collection's content follows from its filter, so it is read-only.
func (c Collection) Writable() bool { return c.Kind != KindFilter }

// CollectionUpdate is what UpdateCollection changes of a collection; a
// nil field is left as it is. The id, API root, kind and filter are not
// among them: consumers have the id configured, and a new filter would
// change what the collection holds under clients that have paged it.
type CollectionUpdate struct {
	Title       *string
	Description *string
	Alias       *string // "" removes the alias
	Public      *bool
}

// Check validates u: a title cannot be emptied, and an alias must not read
// as a UUID, or a lookup by it could be taken for a lookup by id.
func (u CollectionUpdate) Check() error {
	if u.Title != nil && strings.TrimSpace(*u.Title) == "" {
		return hail.Errorf(hail.EINVALID, "A collection's title cannot be empty.")
	}
	if u.Alias != nil && stix.ValidUUID(*u.Alias) {
		return hail.Errorf(hail.EINVALID, "Alias %q looks like a UUID; an alias must not be mistaken for an id.", *u.Alias)
	}
	return nil
}

// CollectionStats counts what a collection holds.
type CollectionStats struct {
	Objects        int64 // distinct object ids
	Versions       int64 // object versions (entries)
	FirstDateAdded time.Time
	LastDateAdded  time.Time
}

// AddResult tells what AddObjects did with one object.
type AddResult struct {
	ID        string
	Version   time.Time
	DateAdded time.Time
	Duplicate bool // the version was already in the collection
	// NewVersion is set when the collection held another version of the
	// object before this one, from an earlier call or earlier in this one.
	NewVersion bool
}

// Filter selects entries of a collection. The zero value selects the latest
// version of every object. Slices are ORed within, fields ANDed together.
type Filter struct {
	// AddedAfter, when not zero, keeps entries with date_added > AddedAfter.
	AddedAfter time.Time
	// Limit is the page size; 0 or less means the backend's maximum (10,000).
	Limit int
	// IDs keeps these STIX ids.
	IDs []string
	// Types keeps these STIX types.
	Types []string
	// Versions selects versions per object: "last" (the default when empty),
	// "first", "all", or STIX timestamps matched as instants against Version.
	// Several values are ORed.
	Versions []string
	// SpecVersions keeps these spec_version values; when empty, only the
	// versions with the newest spec_version of each object are kept.
	SpecVersions []string
	// HeadersOnly leaves Entry.Object.Raw nil (manifest and versions pages).
	HeadersOnly bool
}

// MaxLimit is the largest page a backend returns.
const MaxLimit = 10000

// Entry is one object version in a collection.
type Entry struct {
	Object    stix.Object
	DateAdded time.Time
}

// Page is one page of entries, oldest date_added first. More is true when
// entries matching the filter remain after the last one.
type Page struct {
	Entries []Entry
	More    bool
}

// RawFunc receives one entry of a page read by ObjectsRaw: its date_added
// and the object's stored bytes, which the store may reuse once it returns.
type RawFunc func(dateAdded time.Time, raw []byte) error

// Status is the record of one add request (TAXII 2.1 §4.3).
type Status struct {
	ID      string
	APIRoot string
	// CollectionID is the collection the request added to, "" for
	// statuses stored before hail recorded it.
	CollectionID     string
	RequestTimestamp time.Time
	Status           string // "complete" or "pending"
	Total            int
	Successes        []StatusDetail
	Failures         []StatusDetail
	Pendings         []StatusDetail
}

// StatusDetail names one object version in a status.
type StatusDetail struct {
	ID      string
	Version string
	Message string
}

// Key is an API key. Only its SHA-256 hash is stored.
type Key struct {
	ID      string
	Name    string
	Hash    []byte // SHA-256 of the key
	Admin   bool   // every right on every collection, and the admin API
	Read    []string
	Write   []string // collection ids; AllCollections for every one
	Created time.Time
	Revoked time.Time // zero while the key is valid
	// Plan names the key's Plan; "" is the built-in UnrestrictedPlan.
	Plan string
	// Expires, when not zero, is when the key stops being accepted.
	Expires time.Time
	// AllowIPs lists the CIDR blocks or addresses requests with the key may
	// come from; empty allows any address.
	AllowIPs []string
}

// AllCollections in Key.Read or Key.Write grants the right on every collection.
const AllCollections = "*"

// CanRead reports whether k may read the collection with that id.
func (k Key) CanRead(collectionID string) bool {
	return k.Admin || contains(k.Read, collectionID) || contains(k.Read, AllCollections)
}

// CanWrite reports whether k may add objects to the collection with that id.
func (k Key) CanWrite(collectionID string) bool {
	return k.Admin || contains(k.Write, collectionID) || contains(k.Write, AllCollections)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
