package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"hail"
)

// decodeStrict decodes body, one JSON value, into v and refuses fields v
// does not have, so that a misspelt setting is an error rather than a
// change that silently does not happen. Errors are EINVALID; shape is the
// message for a body that is not a JSON object of the right form.
func decodeStrict(body []byte, v any, shape string) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return hail.Errorf(hail.EINVALID, "%s", shape)
		}
		return nil
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typ) && typ.Field != "":
		return hail.Errorf(hail.EINVALID, "Field %q cannot be a JSON %s.", truncate(typ.Field, 128), truncate(typ.Value, 32))
	case errors.As(err, &typ), errors.As(err, &syntax), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return hail.Errorf(hail.EINVALID, "%s", shape)
	}
	// What is left is a field v does not have, which the decoder's
	// message names.
	return hail.Errorf(hail.EINVALID, "The body has a field this endpoint does not take (%s).", truncate(err.Error(), 160))
}
