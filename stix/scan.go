package stix

import (
	"encoding/json"

	"hail/jsonscan"
)

// Parse checks the JSON syntax of an object once; Validate then walks its
// values with jsonscan's splitters, which trust that syntax. Decoding
// nested values with encoding/json instead re-validates each of them, and
// made validation several times slower than parsing.

// splitArray returns the elements of the valid JSON array v, or false when v
// is not an array.
func splitArray(v []byte) ([]json.RawMessage, bool) { return jsonscan.Array(v) }

// splitObject returns the members of the valid JSON object v, or false when
// v is not an object. As with encoding/json, the last of repeated names wins.
func splitObject(v []byte) (map[string]json.RawMessage, bool) { return jsonscan.Object(v) }
