package store

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"time"

	"hail"
)

// Feed kinds: what a feed's URL serves.
const (
	FeedTAXII21     = "taxii21"     // a TAXII 2.1 API root; TAXIICollection names the collection
	FeedSTIXBundle  = "stix-bundle" // a STIX bundle (or envelope) over HTTP
	FeedText        = "txt"         // a plain IOC list over HTTP
	FeedCSV         = "csv"         // a CSV IOC list over HTTP
	FeedMISP        = "misp"        // a MISP event export over HTTP (a MISP feed's event, a search's answer)
	FeedJSONList    = "json-list"   // an IOC list published as JSON over HTTP (abuse.ch's, Spamhaus's)
	minFeedInterval = time.Minute
)

// Feed is a scheduled pull from a remote source into a local collection.
//
// User, Password and Token are stored in clear: the server must present
// them to the remote source unattended, so hashing is not possible, and
// encrypting them with a key kept beside the database would protect
// nothing the database's own access control does not. Listings never show
// them.
type Feed struct {
	Name string // unique
	Kind string // FeedTAXII21, FeedSTIXBundle, FeedText or FeedCSV
	URL  string
	// CollectionID is the local collection the feed adds to.
	CollectionID string
	// TAXIICollection is the remote collection id or alias (FeedTAXII21 only).
	TAXIICollection string
	User            string
	Password        string
	Token           string
	// Every is the time between the starts of two runs.
	Every time.Duration
	// List describes the indicators made from an IOC list (FeedText and
	// FeedCSV) or a MISP export (FeedMISP).
	List FeedList
	// AllVersions asks a TAXII source for every version of its objects
	// (match[version]=all) rather than the latest of each, for a mirror.
	AllVersions bool
	// Insecure accepts any TLS certificate from the source.
	Insecure bool
	// CA holds PEM certificates the source's certificate must chain to,
	// instead of the system roots: a source with a private CA. "" for the
	// system roots.
	CA string
	// ClientCert and ClientKey are the PEM certificate (with its chain)
	// and private key the feed presents to a source that asks for a
	// client certificate (mutual TLS); "" for none. The key is stored in
	// clear, as the password is.
	ClientCert string
	ClientKey  string
	Created    time.Time
	// NextRun is when the feed is next due; zero means at once.
	NextRun time.Time
	// Mark is the high-water mark the next run starts from.
	Mark FeedMark
	// LastRun is the latest finished run, zero before the first.
	LastRun FeedRun
}

// FeedUpdate is what UpdateFeed changes of a feed; a nil field is left as
// it is, but for credentials: a token given clears a user and password,
// and a user or password given clears a token. Rotating a source's credentials or certificate, or moving to its
// new address, keeps the mark, so that the feed does not fetch again what
// it has; ResetMark starts it over, for a source that is a new one.
// RunNow makes the feed due at once, so that the scheduler of any server
// sharing the store runs it at its next tick; while a run holds the feed,
// UpdateFeed refuses it with ECONFLICT, since that run's end sets the next
// run.
type FeedUpdate struct {
	URL             *string
	TAXIICollection *string
	User            *string
	Password        *string
	Token           *string
	Every           *time.Duration
	AllVersions     *bool
	Insecure        *bool
	CA              *string
	ClientCert      *string
	ClientKey       *string
	ResetMark       bool
	RunNow          bool
}

// Apply returns f with u's changes, at now; Validate checks the result.
func (u FeedUpdate) Apply(f Feed, now time.Time) Feed {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	given := func(v *string) bool { return v != nil && *v != "" }
	// A new token replaces a user and password, and they replace a token,
	// so that moving a feed from one to the other is one change.
	if given(u.Token) {
		f.User, f.Password = "", ""
	}
	if given(u.User) || given(u.Password) {
		f.Token = ""
	}
	set(&f.URL, u.URL)
	set(&f.TAXIICollection, u.TAXIICollection)
	set(&f.User, u.User)
	set(&f.Password, u.Password)
	set(&f.Token, u.Token)
	set(&f.CA, u.CA)
	set(&f.ClientCert, u.ClientCert)
	set(&f.ClientKey, u.ClientKey)
	if u.Every != nil {
		f.Every = *u.Every
	}
	if u.AllVersions != nil {
		f.AllVersions = *u.AllVersions
	}
	if u.Insecure != nil {
		f.Insecure = *u.Insecure
	}
	if u.ResetMark {
		f.Mark = FeedMark{Resets: f.Mark.Resets + 1}
	}
	if u.RunNow {
		f.NextRun = now.UTC().Truncate(time.Microsecond) // as the stores keep it
	}
	return f
}

// FeedList holds what an IOC list feed states in the indicators it makes,
// as ingest.ListOptions names it.
type FeedList struct {
	Source     string        `json:"source,omitempty"`
	TLP        string        `json:"tlp,omitempty"`
	Confidence int           `json:"confidence,omitempty"`
	TTL        time.Duration `json:"ttl,omitempty"`
	Labels     []string      `json:"labels,omitempty"`
	Columns    []string      `json:"columns,omitempty"`
	// Snapshot revokes the indicators of Source that the collection holds
	// and a new list no longer names.
	Snapshot bool `json:"snapshot,omitempty"`
	// AllAttributes takes a MISP export's attributes whose to_ids is false
	// too (FeedMISP only).
	AllAttributes bool `json:"all_attributes,omitempty"`
}

// FeedMark is where a feed's next run starts, so that a restart resumes
// without fetching again what was already stored.
type FeedMark struct {
	// AddedAfter is the date_added of the last object a TAXII feed stored
	// (TAXII 2.1 §3.4.1, X-TAXII-Date-Added-Last); for a MISP feed read
	// from its manifest, the newest event timestamp it imported.
	AddedAfter time.Time
	// ETag and LastModified are the validators of the last list an HTTP
	// feed stored, sent back as If-None-Match and If-Modified-Since (RFC 9110
	// §13.1).
	ETag         string
	LastModified string
	// State is what a feed keeps beside its validators, opaque to the
	// store: for a MISP feed read from its manifest, the JSON object of
	// the events it imported, each uuid with the timestamp it had.
	State string
	// Resets counts the times the mark was reset. A run reports the mark
	// it reached with the count it started from, and FinishFeedRun keeps
	// the stored mark when the counts differ: a reset made while the feed
	// was running is not undone by the run's end.
	Resets int64
}

// MaxFeedRuns is how many runs of a feed the store keeps: FinishFeedRun
// forgets older ones, so that an hourly feed does not grow a table forever.
const MaxFeedRuns = 200

// FeedRun records one run of a feed.
type FeedRun struct {
	Started time.Time
	Ended   time.Time
	Read    int
	Added   int
	// NewVersions counts the versions of Added that are new versions of
	// objects the collection held already (a list's changed attribute, a
	// source's revision).
	NewVersions int
	Duplicates  int
	Rejected    int
	Revoked     int    // indicators revoked by a snapshot list
	NotChanged  bool   // the source answered 304 Not Modified
	Error       string // "" for a run that succeeded
	// Rejections are the first MaxRunRejections objects or lines the run
	// rejected, with why; Rejected counts them all.
	Rejections []FeedRejection
}

// MaxRunRejections bounds the rejections a run record keeps.
const MaxRunRejections = 10

// FeedRejection tells why a feed run rejected one object or line.
type FeedRejection struct {
	Where  string `json:"where"` // "object 12", "line 40"
	ID     string `json:"id,omitempty"`
	Reason string `json:"reason"`
}

// keptRejections returns what a run record keeps of rs, as JSON for the
// stores.
func keptRejections(rs []FeedRejection) []FeedRejection {
	if len(rs) > MaxRunRejections {
		rs = rs[:MaxRunRejections]
	}
	if rs == nil {
		rs = []FeedRejection{}
	}
	return rs
}

// RejectionsJSON encodes the rejections a run record keeps: the first
// MaxRunRejections of r.Rejections.
func (r FeedRun) RejectionsJSON() string {
	b, _ := json.Marshal(keptRejections(r.Rejections))
	return string(b)
}

// ParseRejections decodes what RejectionsJSON encoded; nil for none.
func ParseRejections(s string) ([]FeedRejection, error) {
	var rs []FeedRejection
	if err := json.Unmarshal([]byte(s), &rs); err != nil {
		return nil, fmt.Errorf("feed run rejections: %w", err)
	}
	if len(rs) == 0 {
		return nil, nil
	}
	return rs, nil
}

// Validate checks a feed before it is created. Returns EINVALID naming the
// first problem.
func (f Feed) Validate() error {
	switch {
	case f.Name == "":
		return hail.Errorf(hail.EINVALID, "A feed needs a name.")
	case f.URL == "":
		return hail.Errorf(hail.EINVALID, "Feed %q needs a URL.", f.Name)
	case f.CollectionID == "":
		return hail.Errorf(hail.EINVALID, "Feed %q needs a collection.", f.Name)
	case f.Every < minFeedInterval:
		return hail.Errorf(hail.EINVALID, "Feed %q runs every %s; the least is %s.", f.Name, f.Every, minFeedInterval)
	case f.Token != "" && (f.User != "" || f.Password != ""):
		return hail.Errorf(hail.EINVALID, "Feed %q has both a token and a user or password.", f.Name)
	}
	switch f.Kind {
	case FeedTAXII21:
		if f.TAXIICollection == "" {
			return hail.Errorf(hail.EINVALID, "TAXII feed %q needs the remote collection.", f.Name)
		}
	case FeedSTIXBundle, FeedText, FeedCSV, FeedJSONList, FeedMISP:
	default:
		return hail.Errorf(hail.EINVALID, "Feed kind %q is unknown: use %s, %s, %s, %s, %s or %s.", f.Kind, FeedTAXII21,
			FeedSTIXBundle, FeedText, FeedCSV, FeedJSONList, FeedMISP)
	}
	if f.List.AllAttributes && f.Kind != FeedMISP {
		return hail.Errorf(hail.EINVALID, "Feed %q: all attributes is for MISP feeds.", f.Name)
	}
	if f.AllVersions && f.Kind != FeedTAXII21 {
		return hail.Errorf(hail.EINVALID, "Feed %q: all versions is for TAXII feeds; a %s feed has no versions to ask for.", f.Name, f.Kind)
	}
	if f.List.Snapshot && (f.List.Source == "" || (f.Kind != FeedText && f.Kind != FeedCSV && f.Kind != FeedJSONList)) {
		return hail.Errorf(hail.EINVALID, "Feed %q: a snapshot needs an IOC list feed with a source.", f.Name)
	}
	if _, err := f.RootCAs(); err != nil {
		return err
	}
	if _, err := f.Certificate(); err != nil {
		return err
	}
	return nil
}

// Certificate returns the client certificate f presents, nil for none.
// Returns EINVALID if only one of ClientCert and ClientKey is set, or they
// are not a PEM certificate and its key.
func (f Feed) Certificate() (*tls.Certificate, error) {
	if f.ClientCert == "" && f.ClientKey == "" {
		return nil, nil
	}
	if f.ClientCert == "" || f.ClientKey == "" {
		return nil, hail.Errorf(hail.EINVALID, "Feed %q: a client certificate needs both the certificate and its key.", f.Name)
	}
	cert, err := tls.X509KeyPair([]byte(f.ClientCert), []byte(f.ClientKey))
	if err != nil {
		return nil, hail.Errorf(hail.EINVALID, "Feed %q: its client certificate and key: %v.", f.Name, err)
	}
	return &cert, nil
}

// RootCAs returns the pool of f.CA's certificates, nil for the system
// roots. Returns EINVALID if CA is set but holds no PEM certificate.
func (f Feed) RootCAs() (*x509.CertPool, error) {
	if f.CA == "" {
		return nil, nil
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(f.CA)) {
		return nil, hail.Errorf(hail.EINVALID, "Feed %q: its CA holds no PEM certificate.", f.Name)
	}
	return pool, nil
}
