package ingest

import "testing"

func TestDetect(t *testing.T) {
	tests := []struct {
		in         string
		typ, value string
		port       int
	}{
		{"1.2.3.4", TypeIPv4, "1.2.3.4", 0},
		{" 1.2.3.4 ", TypeIPv4, "1.2.3.4", 0},
		{"1[.]2[.]3[.]4", TypeIPv4, "1.2.3.4", 0},
		{"10.1.2.3/8", TypeCIDR, "10.0.0.0/8", 0},
		{"10.1.2.3/32", TypeIPv4, "10.1.2.3", 0},
		{"1.2.3.4:8080", TypeIPv4, "1.2.3.4", 8080},
		{"1.2.3.4[:]443", TypeIPv4, "1.2.3.4", 443},
		{"2001:DB8::1", TypeIPv6, "2001:db8::1", 0},
		{"2001:db8::/32", TypeCIDR, "2001:db8::/32", 0},
		{"[2001:db8::1]:53", TypeIPv6, "2001:db8::1", 53},
		{"::ffff:1.2.3.4", TypeIPv4, "1.2.3.4", 0},
		{"Example.COM", TypeDomain, "example.com", 0},
		{"example.com.", TypeDomain, "example.com", 0},
		{"evil[.]example(.)com", TypeDomain, "evil.example.com", 0},
		{"evil[dot]com", TypeDomain, "evil.com", 0},
		{"_dmarc.example.com", TypeDomain, "_dmarc.example.com", 0},
		{"xn--80ak6aa92e.com", TypeDomain, "xn--80ak6aa92e.com", 0},
		{"bücher.de", TypeDomain, "bücher.de", 0},
		{"evil.com:8443", TypeDomain, "evil.com", 8443},
		{"http://Evil.COM/Path?q=1&r=2", TypeURL, "http://evil.com/Path?q=1&r=2", 0},
		{"hxxps://evil[.]com/a", TypeURL, "https://evil.com/a", 0},
		{"hXXp[:]//evil[.]com/a", TypeURL, "http://evil.com/a", 0},
		{"fxp://files.evil.com/x", TypeURL, "ftp://files.evil.com/x", 0},
		{"https://user@evil.com:8080/x", TypeURL, "https://user@evil.com:8080/x", 0},
		{"http://[2001:DB8::1]:80/x", TypeURL, "http://[2001:db8::1]:80/x", 0},
		{"http://1.2.3.4", TypeURL, "http://1.2.3.4/", 0},
		{"https://evil.com?q", TypeURL, "https://evil.com/?q", 0},
		{"ftp://evil.com", TypeURL, "ftp://evil.com", 0},
		{"evil.com/login.php", TypeURL, "http://evil.com/login.php", 0},
		{"evil.com/", TypeURL, "http://evil.com/", 0},
		{"1.2.3.4/bad.exe", TypeURL, "http://1.2.3.4/bad.exe", 0},
		{"User@Example.com", TypeEmail, "user@example.com", 0},
		{"first.last+tag@example.com", TypeEmail, "first.last+tag@example.com", 0},
		{"user[@]example[.]com", TypeEmail, "user@example.com", 0},
		{"user[at]example.com", TypeEmail, "user@example.com", 0},
		{"google@script", TypeEmail, "google@script", 0},
		{"D41D8CD98F00B204E9800998ECF8427E", TypeMD5, "d41d8cd98f00b204e9800998ecf8427e", 0},
		{"da39a3ee5e6b4b0d3255bfef95601890afd80709", TypeSHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709", 0},
		{"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", TypeSHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 0},
		{"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", TypeSHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 0},
		{"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e", TypeSHA512, "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e", 0},
		{"hxxpevil.com", TypeDomain, "hxxpevil.com", 0},
		{"cve-2024-3094", TypeCVE, "CVE-2024-3094", 0},
		{"CVE-2021-44228", TypeCVE, "CVE-2021-44228", 0},
	}
	for _, tt := range tests {
		got, reason := detect(tt.in)
		if reason != "" || got.Type != tt.typ || got.Value != tt.value || got.Port != tt.port {
			t.Errorf("detect(%q) = %q %q port %d (%q), want %q %q port %d", tt.in, got.Type, got.Value, got.Port, reason, tt.typ, tt.value, tt.port)
		}
	}
}

func TestDetectRejects(t *testing.T) {
	tests := []struct{ in, reason string }{
		{"", reasonNoValue},
		{"localhost", reasonUnknown},
		{"12345", reasonUnknown},
		{"1.2.3.999", reasonUnknown},
		{"01.2.3.4", reasonUnknown},
		{"1.2.3.4/33", reasonCIDR},
		{"1.2.3.4:0", reasonPort},
		{"1.2.3.4:70000", reasonPort},
		{"evil.com:http", reasonPort},
		{"-evil.com", reasonUnknown},
		{"evil..com", reasonUnknown},
		{"d41d8cd98f00b204e9800998ecf8427", reasonUnknown},
		{"md5:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "not a md5 digest"},
		{"CVE-24-1234", reasonUnknown},
		{"http://", reasonUnknown},
		{"1http://evil.com", reasonUnknown},
		{".user@example.com", reasonUnknown},
		{"fe80::1%eth0", reasonUnknown},
		{"evil.com\x00", reasonControl},
	}
	for _, tt := range tests {
		got, reason := detect(tt.in)
		if reason != tt.reason {
			t.Errorf("detect(%q) = %+v, reason %q; want reason %q", tt.in, got, reason, tt.reason)
		}
	}
}

// TestDetectIdempotent checks that a detected value is its own canonical form,
// so that values imported again, or round-tripped through the REST API, name
// the same indicator.
func TestDetectIdempotent(t *testing.T) {
	for _, in := range []string{"hxxps://Evil[.]com/A", "10.1.2.3/8", "2001:DB8:0::1", "evil.com/x", "User@EXAMPLE.com"} {
		first, _ := detect(in)
		again, reason := detect(first.Value)
		if reason != "" || again.Type != first.Type || again.Value != first.Value || again.Port != first.Port {
			t.Errorf("detect(%q) = %+v, then detect(%q) = %+v (%q)", in, first, first.Value, again, reason)
		}
	}
}

func BenchmarkDetect(b *testing.B) {
	values := []string{
		"evil.example.com", "1.2.3.4", "hxxps://evil[.]com/a/b?c=d",
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "user@example.com", "2001:db8::1",
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		detect(values[i%len(values)])
	}
}
