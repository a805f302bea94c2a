package server

import "testing"

func TestAcceptable(t *testing.T) {
	tests := []struct {
		accept string
		want   bool
	}{
		{"", true},
		{"   ", true},
		{"*/*", true},
		{"application/*", true},
		{"application/json", true},
		{"application/taxii+json", true},
		{"application/taxii+json;version=2.1", true},
		{"application/taxii+json; version=2.1", true},
		{"APPLICATION/TAXII+JSON;VERSION=2.1", true},
		{`application/taxii+json;version="2.1"`, true},
		{"application/stix+json;version=2.1", true},
		{"application/taxii+json;version=2.1,application/stix+json;version=2.1", true},
		{"text/html, application/taxii+json;q=0.5", true},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
		{"application/taxii+json;version=2.1;q=0", false},
		{"application/taxii+json;version=2.0", false},
		{"application/vnd.oasis.taxii+json; version=2.0", false},
		{"application/vnd.oasis.stix+json; version=2.0, application/vnd.oasis.taxii+json; version=2.0", false},
		{"application/stix+json;version=2.0", false},
		{"text/html", false},
		{"text/*", false},
		{"garbage", false},
		{",,,", true},
		{"application/taxii+json;version=2.0, application/json", true},
		{"application/taxii+json;q=banana", true},
	}
	for _, tt := range tests {
		if got := acceptable(tt.accept); got != tt.want {
			t.Errorf("acceptable(%q) = %v, want %v", tt.accept, got, tt.want)
		}
	}
}

func TestAcceptableContentType(t *testing.T) {
	tests := []struct {
		ct   string
		want bool
	}{
		{"application/taxii+json;version=2.1", true},
		{"application/taxii+json; version=2.1; charset=utf-8", true},
		{"application/taxii+json", true},
		{"Application/TAXII+JSON;charset=UTF-8", true},
		{"application/json", true},
		{"application/json; charset=utf-8", true},
		{"application/taxii+json;version=2.0", false},
		{"application/vnd.oasis.taxii+json; version=2.0", false},
		{"application/stix+json;version=2.1", false},
		{"application/json; charset=latin1", false},
		{"text/plain", false},
		{"", false},
		{";;;", false},
	}
	for _, tt := range tests {
		if got := acceptableContentType(tt.ct); got != tt.want {
			t.Errorf("acceptableContentType(%q) = %v, want %v", tt.ct, got, tt.want)
		}
	}
}

func FuzzAccept(f *testing.F) {
	for _, s := range []string{"", "*/*", "application/taxii+json;version=2.1", "text/html;q=0.1, application/json;q=0", `a/b;version="`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		acceptable(s)
		acceptableContentType(s)
		// Adding an acceptable type to any list makes it acceptable.
		if !acceptable(s + ",application/taxii+json;version=2.1") {
			t.Errorf("acceptable(%q + taxii) = false", s)
		}
	})
}
