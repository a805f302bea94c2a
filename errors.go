package hail

import (
	"errors"
	"fmt"
)

// Error codes. Each edge of the program (HTTP server, CLI, client) maps them
// to its own vocabulary once; the table for HTTP lives in server/error.go.
const (
	EINVALID         = "invalid"         // 400: bad filter, bad STIX, bad pattern
	EUNAUTHENTICATED = "unauthenticated" // 401
	EFORBIDDEN       = "forbidden"       // 403: TAXII needs both 401 and 403
	ENOTFOUND        = "not_found"       // 404
	ECONFLICT        = "conflict"        // 409
	ETOOLARGE        = "too_large"       // 413
	EUNPROCESSABLE   = "unprocessable"   // 422: valid JSON the server will not accept
	ETOOMANY         = "too_many"        // 429
	EUNAVAILABLE     = "unavailable"     // 503
	EINTERNAL        = "internal"        // 500: default for anything unclassified
)

// Error is an error a user can act on: a code from the list above and a
// message fit to show to a client.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("hail error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, "" for a nil
// error, and EINTERNAL for any other error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, and
// "Internal error." for any other error so that internals never leak.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}
