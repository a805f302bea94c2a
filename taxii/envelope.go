package taxii

import "encoding/json"

// Envelope is the envelope resource (TAXII 2.1 §3.7). Objects are kept as raw
// JSON so that stored bytes pass through unchanged.
type Envelope struct {
	More    bool              `json:"more,omitempty"`
	Next    string            `json:"next,omitempty"`
	Objects []json.RawMessage `json:"objects,omitempty"`
}
