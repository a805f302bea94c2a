package hail_test

import (
	"errors"
	"fmt"
	"testing"

	"hail"
)

func TestErrorCodeAndMessage(t *testing.T) {
	wrapped := fmt.Errorf("add objects: %w", hail.Errorf(hail.ENOTFOUND, "Collection %q not found.", "x"))
	tests := []struct {
		err      error
		wantCode string
		wantMsg  string
	}{
		{nil, "", ""},
		{hail.Errorf(hail.EINVALID, "bad %s", "limit"), hail.EINVALID, "bad limit"},
		{wrapped, hail.ENOTFOUND, `Collection "x" not found.`},
		{errors.New("disk on fire"), hail.EINTERNAL, "Internal error."},
	}
	for _, tt := range tests {
		if got := hail.ErrorCode(tt.err); got != tt.wantCode {
			t.Errorf("ErrorCode(%v) = %q, want %q", tt.err, got, tt.wantCode)
		}
		if got := hail.ErrorMessage(tt.err); got != tt.wantMsg {
			t.Errorf("ErrorMessage(%v) = %q, want %q", tt.err, got, tt.wantMsg)
		}
	}
}
