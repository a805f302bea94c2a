// Package taxii defines the TAXII 2.1 resources (discovery, api-root,
// collection, envelope, manifest, versions, status, error), its media types and
// its timestamp format. It is shared by the server and the client.
package taxii

// Media types (TAXII 2.1 §1.6.8).
const (
	// MediaType is the exact Content-Type of every TAXII 2.1 response.
	MediaType = "application/taxii+json;version=2.1"
	// STIXMediaType is what a collection holds and a manifest record names.
	STIXMediaType = "application/stix+json;version=2.1"
)

// Discovery is the resource at /taxii2/ (TAXII 2.1 §4.1.1).
type Discovery struct {
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Contact     string   `json:"contact,omitempty"`
	Default     string   `json:"default,omitempty"`
	APIRoots    []string `json:"api_roots,omitempty"`
}

// APIRoot is the api-root resource (TAXII 2.1 §4.2.1).
type APIRoot struct {
	Title            string   `json:"title"`
	Description      string   `json:"description,omitempty"`
	Versions         []string `json:"versions"`
	MaxContentLength int64    `json:"max_content_length"`
}

// Collection is the collection resource (TAXII 2.1 §5.2.1). CanRead and
// CanWrite describe the requester's rights, not the collection's.
type Collection struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Alias       string   `json:"alias,omitempty"`
	CanRead     bool     `json:"can_read"`
	CanWrite    bool     `json:"can_write"`
	MediaTypes  []string `json:"media_types,omitempty"`
}

// Collections is the collections resource; an empty list is omitted (§5.1.1).
type Collections struct {
	Collections []Collection `json:"collections,omitempty"`
}

// ManifestRecord describes one object version (TAXII 2.1 §5.3.1).
type ManifestRecord struct {
	ID        string `json:"id"`
	DateAdded string `json:"date_added"`
	Version   string `json:"version"`
	MediaType string `json:"media_type,omitempty"`
}

// Manifest is the manifest resource.
type Manifest struct {
	More    bool             `json:"more"`
	Next    string           `json:"next,omitempty"`
	Objects []ManifestRecord `json:"objects,omitempty"`
}

// Versions is the versions resource (TAXII 2.1 §5.8.1).
type Versions struct {
	More     bool     `json:"more"`
	Next     string   `json:"next,omitempty"`
	Versions []string `json:"versions,omitempty"`
}

// Status values.
const (
	StatusComplete = "complete"
	StatusPending  = "pending"
)

// StatusDetails names one object version in a status (TAXII 2.1 §4.3.1).
type StatusDetails struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Message string `json:"message,omitempty"`
}

// Status is the status resource (TAXII 2.1 §4.3.1). Lists are omitted when
// empty, and each list's length equals its count: taxii2-client checks both.
type Status struct {
	ID               string          `json:"id"`
	Status           string          `json:"status"`
	RequestTimestamp string          `json:"request_timestamp,omitempty"`
	TotalCount       int             `json:"total_count"`
	SuccessCount     int             `json:"success_count"`
	Successes        []StatusDetails `json:"successes,omitempty"`
	FailureCount     int             `json:"failure_count"`
	Failures         []StatusDetails `json:"failures,omitempty"`
	PendingCount     int             `json:"pending_count"`
	Pendings         []StatusDetails `json:"pendings,omitempty"`
}

// Error is the error resource (TAXII 2.1 §3.6.1). HTTPStatus is a string and
// must equal the response's status code.
type Error struct {
	Title           string            `json:"title"`
	Description     string            `json:"description,omitempty"`
	ErrorID         string            `json:"error_id,omitempty"`
	ErrorCode       string            `json:"error_code,omitempty"`
	HTTPStatus      string            `json:"http_status,omitempty"`
	ExternalDetails string            `json:"external_details,omitempty"`
	Details         map[string]string `json:"details,omitempty"`
}
