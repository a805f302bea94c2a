package auth_test

import (
	"encoding/base64"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"hail/auth"
)

func TestNewKey(t *testing.T) {
	k1, h1 := auth.NewKey()
	k2, _ := auth.NewKey()
	if k1 == k2 {
		t.Fatal("two keys are equal")
	}
	if !strings.HasPrefix(k1, auth.KeyPrefix) || len(k1) < len(auth.KeyPrefix)+26 {
		t.Errorf("key %q: want prefix %q and at least 128 bits", k1, auth.KeyPrefix)
	}
	if !auth.Equal(h1, auth.Hash(k1)) || auth.Equal(h1, auth.Hash(k2)) {
		t.Error("Hash/Equal disagree with NewKey")
	}
}

func TestCredentials(t *testing.T) {
	basic := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		header string
		want   []string
	}{
		{"", nil},
		{"Bearer k1", []string{"k1"}},
		{"bearer   k1 ", []string{"k1"}},
		{"Token k1", []string{"k1"}},
		{basic("apikey:k1"), []string{"k1", "apikey"}},
		{basic(":k1"), []string{"k1"}},
		{basic("k1:"), []string{"k1"}},
		{basic("k1"), []string{"k1"}},
		{"basic " + base64.StdEncoding.EncodeToString([]byte("k1:notNeeded")), []string{"notNeeded", "k1"}},
		{"Basic !!!", nil},
		{"Digest abc", nil},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		if tt.header != "" {
			r.Header.Set("Authorization", tt.header)
		}
		if got := auth.Credentials(r); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Credentials(%q) = %q, want %q", tt.header, got, tt.want)
		}
	}
}
