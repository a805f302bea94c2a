package pattern

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

const (
	md5Hex    = "79054025255fb1a26e4bc422aef54eb4"
	sha1Hex   = "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"
	sha256Hex = "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"
	ssdeepVal = "3072:FBoaWMKZ8Xi0/QHv8+8ozQ8ZcBi3/b:FBoAlOQHVOzQ8ZAI"
	tlshHex   = "D1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3"
)

var sha512Hex = strings.Repeat("ab", 64)

func TestObservables(t *testing.T) {
	tests := []struct {
		name, pattern string
		want          []Observable
	}{
		{"ipv4", "[ipv4-addr:value = '198.51.100.7']", []Observable{{"ipv4", "198.51.100.7"}}},
		{"ipv4 host prefix", "[ipv4-addr:value = '198.51.100.7/32']", []Observable{{"ipv4", "198.51.100.7"}}},
		{"ipv4 block", "[ipv4-addr:value = '198.51.100.7/24']", []Observable{{"cidr", "198.51.100.0/24"}}},
		{"ipv4 path, ipv6 value", "[ipv4-addr:value = '2001:db8::1']", nil},
		{"ipv4 bad", "[ipv4-addr:value = '198.51.100.300']", nil},
		{"ipv6 long form", "[ipv6-addr:value = '2001:0DB8:dead:beef:0000:0000:0000:0001']", []Observable{{"ipv6", "2001:db8:dead:beef::1"}}},
		{"ipv6 host prefix", "[ipv6-addr:value = '2001:db8::1/128']", []Observable{{"ipv6", "2001:db8::1"}}},
		{"ipv6 block", "[ipv6-addr:value = '2001:db8::1/64']", []Observable{{"cidr", "2001:db8::/64"}}},
		{"ipv6 path, ipv4 value", "[ipv6-addr:value = '198.51.100.7']", nil},
		{"domain", "[domain-name:value = 'Evil.Example.']", []Observable{{"domain", "evil.example"}}},
		{"domain with space", "[domain-name:value = 'domain evil.example']", nil},
		{"url", "[url:value = ' HTTPS://Evil.Example/Path?Q=1 ']", []Observable{{"url", "https://evil.example/Path?Q=1"}}},
		{"url no scheme", "[url:value = 'www.Evil.example/a.php']", []Observable{{"url", "http://www.evil.example/a.php"}}},
		{"url defanged", "[url:value = 'hxxp://evil[.]example/x']", []Observable{{"url", "http://evil.example/x"}}},
		{"email", "[email-addr:value = 'Bob@Evil.Example']", []Observable{{"email", "bob@evil.example"}}},
		{"sha256 quoted", "[file:hashes.'SHA-256' = '" + strings.ToUpper(sha256Hex) + "']", []Observable{{"sha256", sha256Hex}}},
		{"sha256 unquoted hyphen", "[file:hashes.SHA-256 = '" + sha256Hex + "']", []Observable{{"sha256", sha256Hex}}},
		{"sha256 bare", "[file:hashes.SHA256 = '" + sha256Hex + "']", []Observable{{"sha256", sha256Hex}}},
		{"sha256 lower", "[file:hashes.sha256 = '" + sha256Hex + "']", []Observable{{"sha256", sha256Hex}}},
		{"sha256 quoted bare", "[file:hashes.'SHA256' = '" + sha256Hex + "']", []Observable{{"sha256", sha256Hex}}},
		{"sha256 wrong length", "[file:hashes.'SHA-256' = 'f00']", nil},
		{"md5", "[file:hashes.MD5 = '" + md5Hex + "']", []Observable{{"md5", md5Hex}}},
		{"md5 lower name", "[file:hashes.md5 = '" + md5Hex + "']", []Observable{{"md5", md5Hex}}},
		{"md5 hex literal", "[file:hashes.MD5 = h'" + md5Hex + "']", []Observable{{"md5", md5Hex}}},
		{"sha1", "[file:hashes.'SHA-1' = '" + sha1Hex + "']", []Observable{{"sha1", sha1Hex}}},
		{"sha512", "[file:hashes.'SHA-512' = '" + sha512Hex + "']", []Observable{{"sha512", sha512Hex}}},
		{"sha1 not hex", "[file:hashes.'SHA-1' = '" + strings.Repeat("z", 40) + "']", nil},
		{"ssdeep", "[file:hashes.SSDEEP = '" + ssdeepVal + "']", []Observable{{"ssdeep", ssdeepVal}}},
		{"tlsh", "[file:hashes.TLSH = '" + strings.ToLower(tlshHex) + "']", []Observable{{"tlsh", "T1" + tlshHex}}},
		{"sha3 ignored", "[file:hashes.'SHA3-256' = '" + sha256Hex + "']", nil},
		{"artifact", "[artifact:hashes.'SHA-256' = '" + sha256Hex + "']", []Observable{{"sha256", sha256Hex}}},
		{"x509 sha1", "[x509-certificate:hashes.'SHA-1' = '" + sha1Hex + "']", []Observable{{"x509-sha1", sha1Hex}}},
		{"x509 sha256", "[x509-certificate:hashes.'SHA-256' = '" + sha256Hex + "']", []Observable{{"x509-sha256", sha256Hex}}},
		{"x509 md5", "[x509-certificate:hashes.MD5 = '" + md5Hex + "']", []Observable{{"x509-md5", md5Hex}}},
		{"x509 sha512 ignored", "[x509-certificate:hashes.'SHA-512' = '" + sha512Hex + "']", nil},
		{"registry key", `[windows-registry-key:key = 'hklm\\Software\\Run']`, []Observable{{"registry-key", `HKEY_LOCAL_MACHINE\Software\Run`}}},
		{"mutex", "[mutex:name = 'Global\\\\x1']", []Observable{{"mutex", `Global\x1`}}},
		{"asn", "[autonomous-system:number = 13335]", []Observable{{"asn", "13335"}}},
		{"asn string", "[autonomous-system:number = 'AS13335']", []Observable{{"asn", "13335"}}},
		{"traffic ipv4", "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.33/32']", []Observable{{"ipv4", "203.0.113.33"}}},
		{"traffic ipv6", "[network-traffic:src_ref.value = '2001:db8::2']", []Observable{{"ipv6", "2001:db8::2"}}},
		{"traffic block", "[network-traffic:src_ref.value = '10.1.0.0/16']", []Observable{{"cidr", "10.1.0.0/16"}}},
		{"traffic domain", "[network-traffic:dst_ref.value = 'C2.Example']", []Observable{{"domain", "c2.example"}}},
		{"traffic other path", "[network-traffic:dst_port = 443]", nil},
		{"negated", "[domain-name:value NOT = 'evil.example']", nil},
		{"unequal", "[domain-name:value != 'evil.example']", nil},
		{"matches", "[domain-name:value MATCHES 'evil']", nil},
		{"issubset", "[ipv4-addr:value ISSUBSET '10.0.0.0/8']", nil},
		{"not in", "[domain-name:value NOT IN ('a.example')]", nil},
		{"in", "[ipv4-addr:value IN ('10.0.0.1', '10.0.0.2/32', 'bogus', 5)]", []Observable{{"ipv4", "10.0.0.1"}, {"ipv4", "10.0.0.2"}}},
		{"non-string constant", "[domain-name:value = 5]", nil},
		{"deeper path", "[domain-name:resolves_to_refs[*].value = '198.51.100.1']", nil},
		{"any hash", "[file:hashes[*] = '" + md5Hex + "']", nil},
		{"file name", "[file:name = 'evil.exe']", nil},
		{"dedupe", "[domain-name:value = 'EVIL.example' OR domain-name:value = 'evil.example.'] AND [domain-name:value = 'evil.example']", []Observable{{"domain", "evil.example"}}},
		{"compound", "([ipv4-addr:value = '198.51.100.1' OR domain-name:value = 'a.example'] FOLLOWEDBY [file:hashes.MD5 = '" + md5Hex + "' AND file:name = 'x']) WITHIN 60 SECONDS",
			[]Observable{{"ipv4", "198.51.100.1"}, {"domain", "a.example"}, {"md5", md5Hex}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(tt.pattern)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.pattern, err)
			}
			if got := p.Observables(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Observables(%q)\n got %v\nwant %v", tt.pattern, got, tt.want)
			}
		})
	}
}

// TestObservablesManyDuplicates covers the map-based deduplication used once
// a pattern names many values.
func TestObservablesManyDuplicates(t *testing.T) {
	var members []string
	var want []Observable
	for i := range 40 {
		members = append(members, fmt.Sprintf("'10.0.0.%d'", i), fmt.Sprintf("'10.0.0.%d/32'", i))
		want = append(want, Observable{"ipv4", fmt.Sprintf("10.0.0.%d", i)})
	}
	s := "[ipv4-addr:value IN (" + strings.Join(members, ", ") + ")] OR [ipv4-addr:value = '10.0.0.0']"
	p, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Observables(); !reflect.DeepEqual(got, want) {
		t.Errorf("Observables\n got %v\nwant %v", got, want)
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		typ, in, want string
		ok            bool
	}{
		{"ipv4", " 192.0.2.1 ", "192.0.2.1", true},
		{"ipv4", "192.0.2.1/32", "192.0.2.1", true},
		{"ipv4", "192.0.2.0/24", "", false},
		{"ipv4", "192.000.2.1", "", false},
		{"ipv4", "2001:db8::1", "", false},
		{"ipv6", "2001:DB8:0:0::1", "2001:db8::1", true},
		{"ipv6", "fe80::1%eth0", "", false},
		{"ipv6", "2001:db8::1/128", "2001:db8::1", true},
		{"cidr", "192.0.2.77/26", "192.0.2.64/26", true},
		{"cidr", "2001:db8:1::5/48", "2001:db8:1::/48", true},
		{"cidr", "192.0.2.1/32", "", false},
		{"cidr", "192.0.2.1/33", "", false},
		{"domain", "WWW.Example.COM.", "www.example.com", true},
		{"domain", "_dmarc.example.com", "_dmarc.example.com", true},
		{"domain", "bücher.example", "bücher.example", true},
		{"domain", "localhost", "", false},
		{"domain", "a..example", "", false},
		{"domain", "192.0.2.1", "", false},
		{"domain", "evil example.com", "", false},
		{"domain", strings.Repeat("a", 64) + ".example", "", false},
		{"domain", "*.example.com", "", false},
		{"url", "HTTP://Example.COM", "http://example.com/", true},
		{"url", "https://Example.com?A=B", "https://example.com/?A=B", true},
		{"url", "https://User:PassWord@Example.com:8443/A/B#Frag", "https://User:PassWord@example.com:8443/A/B#Frag", true},
		{"url", "ftp://Files.Example.com", "ftp://files.example.com", true},
		{"url", "http://[2001:DB8::1]:8080/x", "http://[2001:db8::1]:8080/x", true},
		{"url", "http://intranet/x", "http://intranet/x", true},
		{"url", "http://192.0.2.1:80/x", "http://192.0.2.1:80/x", true},
		{"url", "example.com/Path", "http://example.com/Path", true},
		{"url", "192.0.2.1:8080", "http://192.0.2.1:8080/", true},
		{"url", "intranet/x", "", false},
		{"url", "http://exa mple.com/", "", false},
		{"url", "http://example.com/a b", "", false},
		{"url", "http:///x", "", false},
		{"url", "http://example.com:http/", "", false},
		{"url", "1http://example.com/", "", false},
		{"url", "user@example.com/x", "", false},
		{"email", "Alice.Smith@Example.ORG", "alice.smith@example.org", true},
		{"email", "@example.org", "", false},
		{"email", "alice@localhost", "", false},
		{"email", "a b@example.org", "", false},
		{"md5", strings.ToUpper(md5Hex), md5Hex, true},
		{"md5", md5Hex + "0", "", false},
		{"sha1", sha1Hex, sha1Hex, true},
		{"sha256", sha256Hex, sha256Hex, true},
		{"sha256", sha1Hex, "", false},
		{"sha512", sha512Hex, sha512Hex, true},
		{"x509-sha1", sha1Hex, sha1Hex, true},
		{"ssdeep", ssdeepVal, ssdeepVal, true},
		{"ssdeep", "3072:abc", "", false},
		{"ssdeep", "x:abc:def", "", false},
		{"tlsh", "t1" + strings.ToLower(tlshHex), "T1" + tlshHex, true},
		{"tlsh", tlshHex, "T1" + tlshHex, true},
		{"tlsh", "T1ABC", "", false},
		{"registry-key", `HKCU\Software\X`, `HKEY_CURRENT_USER\Software\X`, true},
		{"registry-key", `hkey_local_machine\Software\X`, `HKEY_LOCAL_MACHINE\Software\X`, true},
		{"registry-key", `HKU`, `HKEY_USERS`, true},
		{"registry-key", `Software\X`, `Software\X`, true},
		{"registry-key", " ", "", false},
		{"mutex", " Global\\M ", "Global\\M", true},
		{"mutex", "", "", false},
		{"asn", "AS015169", "15169", true},
		{"asn", "as64496", "64496", true},
		{"asn", "4294967296", "", false},
		{"asn", "AS", "", false},
		{"cve", "cve-2021-44228", "CVE-2021-44228", true},
		{"cve", "CVE-2021-123", "", false},
		{"cve", "CVE-21-1234", "", false},
		{"unknown", "x", "", false},
	}
	for _, tt := range tests {
		got, ok := Normalize(tt.typ, tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Normalize(%q, %q) = %q, %v; want %q, %v", tt.typ, tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		in, typ, want string
		ok            bool
	}{
		{"192.0.2.1", "ipv4", "192.0.2.1", true},
		{"192[.]0[.]2[.]1", "ipv4", "192.0.2.1", true},
		{"192.0.2.1/32", "ipv4", "192.0.2.1", true},
		{"192.0.2.0/24", "cidr", "192.0.2.0/24", true},
		{"2001:db8::0:1", "ipv6", "2001:db8::1", true},
		{"2001[:]db8[:][:]1", "ipv6", "2001:db8::1", true},
		{"2001:db8::/32", "cidr", "2001:db8::/32", true},
		{" Evil.Example ", "domain", "evil.example", true},
		{"evil(.)example", "domain", "evil.example", true},
		{"hxxps://Evil[.]Example/Login", "url", "https://evil.example/Login", true},
		{"hXXp://evil.example", "url", "http://evil.example/", true},
		{"evil.example/kit.zip", "url", "http://evil.example/kit.zip", true},
		{"Bob[@]Evil.Example", "email", "bob@evil.example", true},
		{strings.ToUpper(md5Hex), "md5", md5Hex, true},
		{sha1Hex, "sha1", sha1Hex, true},
		{sha256Hex, "sha256", sha256Hex, true},
		{sha512Hex, "sha512", sha512Hex, true},
		{"cve-2021-44228", "cve", "CVE-2021-44228", true},
		{"CVE-2014-0160", "cve", "CVE-2014-0160", true},
		{"cafe.example", "domain", "cafe.example", true},
		{"abcdef", "", "", false},
		{"", "", "", false},
		{"not an indicator", "", "", false},
		{"http://", "", "", false},
		{"a@b", "", "", false},
	}
	for _, tt := range tests {
		typ, got, ok := Detect(tt.in)
		if typ != tt.typ || got != tt.want || ok != tt.ok {
			t.Errorf("Detect(%q) = %q, %q, %v; want %q, %q, %v", tt.in, typ, got, ok, tt.typ, tt.want, tt.ok)
		}
	}
}
