package pattern

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Observable types, as Observables, Normalize and Detect name them.
const (
	TypeIPv4        = "ipv4"
	TypeIPv6        = "ipv6"
	TypeCIDR        = "cidr"
	TypeDomain      = "domain"
	TypeURL         = "url"
	TypeEmail       = "email"
	TypeMD5         = "md5"
	TypeSHA1        = "sha1"
	TypeSHA256      = "sha256"
	TypeSHA512      = "sha512"
	TypeSSDEEP      = "ssdeep"
	TypeTLSH        = "tlsh"
	TypeX509MD5     = "x509-md5"
	TypeX509SHA1    = "x509-sha1"
	TypeX509SHA256  = "x509-sha256"
	TypeRegistryKey = "registry-key"
	TypeMutex       = "mutex"
	TypeASN         = "asn"
	TypeCVE         = "cve"
)

// hexLen is the digest length, in hex digits, of each fixed-size hash type.
var hexLen = map[string]int{
	TypeMD5: 32, TypeSHA1: 40, TypeSHA256: 64, TypeSHA512: 128,
	TypeX509MD5: 32, TypeX509SHA1: 40, TypeX509SHA256: 64,
}

// Normalize returns value in the canonical form of observable type typ, and
// false when value is not a well-formed value of that type. The forms:
//
//   - ipv4, ipv6: the address as net/netip prints it; a /32 or /128 prefix is
//     dropped. A zone, or a prefix that is not the full length, is refused.
//   - cidr: the network address and prefix length, host bits cleared
//     ("10.1.2.3/8" becomes "10.0.0.0/8"); a full-length prefix is refused,
//     being an ipv4 or ipv6 value.
//   - domain: lower case, without a trailing dot; two labels at least, of
//     letters, digits, '-' and '_' (or non-ASCII), the last not all digits.
//   - url: spaces trimmed, scheme and host lower-cased, the rest kept as
//     written; an http or https URL with no path gets "/". The host must be
//     a domain, an IPv4 address or a bracketed IPv6 address, with an
//     optional port. Without a scheme the value is read as http.
//   - email: lower case, with a domain as above.
//   - md5, sha1, sha256, sha512 and x509-md5, x509-sha1, x509-sha256:
//     lower-case hex of the algorithm's length.
//   - ssdeep: blocksize:hash:hash, kept as written (base64 is case-sensitive).
//   - tlsh: upper-case hex of 70 or 134 digits, prefixed with the version
//     "T1".
//   - registry-key: the hive spelt out in full and upper case ("HKLM\Run"
//     becomes "HKEY_LOCAL_MACHINE\Run"), the rest as written.
//   - mutex: as written, spaces trimmed.
//   - asn: the decimal number, an "AS" prefix dropped.
//   - cve: upper case CVE-YYYY-NNNN.
func Normalize(typ, value string) (string, bool) {
	v, ok := normalize(typ, strings.TrimSpace(value))
	if !ok {
		return "", false
	}
	return v, true
}

func normalize(typ, value string) (string, bool) {
	switch typ {
	case TypeIPv4, TypeIPv6, TypeCIDR:
		t, v, ok := normalizeIP(value)
		return v, ok && t == typ
	case TypeDomain:
		return normalizeDomain(value)
	case TypeURL:
		return normalizeURL(value)
	case TypeEmail:
		return normalizeEmail(value)
	case TypeMD5, TypeSHA1, TypeSHA256, TypeSHA512, TypeX509MD5, TypeX509SHA1, TypeX509SHA256:
		if len(value) != hexLen[typ] || !allHex(value) {
			return "", false
		}
		return strings.ToLower(value), true
	case TypeSSDEEP:
		return value, validSSDEEP(value)
	case TypeTLSH:
		return normalizeTLSH(value)
	case TypeRegistryKey:
		return normalizeRegistryKey(value)
	case TypeMutex:
		return value, value != ""
	case TypeASN:
		return normalizeASN(value)
	case TypeCVE:
		return normalizeCVE(value)
	}
	return "", false
}

// Detect classifies a bare value, as found in an IOC list or typed into a
// lookup, and returns its type and normalised form (see Normalize). It first
// undoes the usual defanging: hxxp for http, and [.] (.) [:] [@] for the
// characters they wrap. It tries, in order: CVE id, IP address or CIDR
// block, hex digest (md5, sha1, sha256 or sha512 by length), URL (with
// "://"), email address (with '@'), URL without a scheme (with '/', read as
// http), domain. It returns ok false, and empty strings, for anything
// else. Detect knows no list of public suffixes, so a file name such as
// "invoice.exe" is taken for a domain.
func Detect(value string) (typ string, normalized string, ok bool) {
	v := refang(strings.TrimSpace(value))
	if v == "" {
		return "", "", false
	}
	if n, ok := normalizeCVE(v); ok {
		return TypeCVE, n, true
	}
	if t, n, ok := normalizeIP(v); ok {
		return t, n, true
	}
	if allHex(v) {
		for _, t := range [...]string{TypeMD5, TypeSHA1, TypeSHA256, TypeSHA512} {
			if len(v) == hexLen[t] {
				return t, strings.ToLower(v), true
			}
		}
	}
	typ = TypeDomain
	switch {
	case strings.Contains(v, "://"):
		typ = TypeURL
	case strings.Contains(v, "@"):
		typ = TypeEmail
	case strings.Contains(v, "/"):
		typ = TypeURL
	}
	if n, ok := Normalize(typ, v); ok {
		return typ, n, true
	}
	return "", "", false
}

var refangs = strings.NewReplacer("[.]", ".", "(.)", ".", "[:]", ":", "[@]", "@")

// refang undoes defanging, the obfuscation that keeps indicators in reports
// from being clickable.
func refang(v string) string {
	if strings.ContainsAny(v, "[(") {
		v = refangs.Replace(v)
	}
	if len(v) >= 4 && strings.EqualFold(v[:4], "hxxp") {
		v = "http" + v[4:]
	}
	return v
}

// normalizeIP classifies v as ipv4, ipv6 or cidr and normalises it.
func normalizeIP(v string) (typ, norm string, ok bool) {
	if !strings.Contains(v, "/") {
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return "", "", false
		}
		return addrType(a), a.String(), true
	}
	p, err := netip.ParsePrefix(v)
	if err != nil {
		return "", "", false
	}
	if p.Bits() == p.Addr().BitLen() {
		return addrType(p.Addr()), p.Addr().String(), true
	}
	return TypeCIDR, p.Masked().String(), true
}

func addrType(a netip.Addr) string {
	if a.Is4() {
		return TypeIPv4
	}
	return TypeIPv6
}

func normalizeDomain(v string) (string, bool) {
	v = strings.TrimSuffix(strings.ToLower(v), ".")
	if len(v) > 253 || !utf8.ValidString(v) {
		return "", false
	}
	labels := 0
	for rest := v; ; labels++ {
		label, more, found := strings.Cut(rest, ".")
		if !validLabel(label) {
			return "", false
		}
		if !found {
			// An all-digit top-level label makes an address, not a name.
			return v, labels >= 1 && strings.IndexFunc(label, notDigit) >= 0
		}
		rest = more
	}
}

// validLabel checks one DNS label: 1 to 63 bytes of letters, digits, '-',
// '_' (common in service names) or non-ASCII (internationalised names, kept
// as Unicode since no IDNA table is at hand).
func validLabel(l string) bool {
	if len(l) == 0 || len(l) > 63 {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '-' || c == '_' || c >= utf8.RuneSelf) {
			return false
		}
	}
	return true
}

func normalizeURL(v string) (string, bool) {
	if strings.IndexFunc(v, badURLRune) >= 0 {
		return "", false
	}
	scheme, rest, explicit := strings.Cut(v, "://")
	if !explicit {
		// Producers of url:value and of IOC lists often leave the scheme
		// out; read such a value as a browser does, as http.
		scheme, rest = "http", v
	} else if scheme == "" || !validScheme(scheme) {
		return "", false
	}
	scheme = strings.ToLower(scheme)
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	at := strings.LastIndexByte(authority, '@')
	if at >= 0 && !explicit {
		return "", false // user@host: more likely a mail address than a URL
	}
	host := strings.ToLower(authority[at+1:])
	if !validHostPort(host, explicit) {
		return "", false
	}
	if (scheme == "http" || scheme == "https") && (tail == "" || tail[0] != '/') {
		tail = "/" + tail
	}
	return scheme + "://" + authority[:at+1] + host + tail, true
}

// validHostPort checks the host[:port] of a URL: a domain, an IPv4 address
// or a bracketed IPv6 address. A single-label name such as "intranet" is
// accepted only when singleLabel is set.
func validHostPort(hp string, singleLabel bool) bool {
	host, port := hp, ""
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return false
		}
		host, port = hp[1:end], hp[end+1:]
		if a, err := netip.ParseAddr(host); err != nil || !a.Is6() {
			return false
		}
		host = ""
	} else if i := strings.LastIndexByte(hp, ':'); i >= 0 {
		host, port = hp[:i], hp[i:]
	}
	if port != "" && (len(port) < 2 || port[0] != ':' || strings.IndexFunc(port[1:], notDigit) >= 0) {
		return false
	}
	if host == "" {
		return hp != "" && hp[0] == '['
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Is4()
	}
	if _, ok := normalizeDomain(host); ok {
		return true
	}
	return singleLabel && !strings.Contains(host, ".") && validLabel(host)
}

func validScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (isDigit(c) || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

// badURLRune is white space or a control character, which a URL never holds
// unescaped (RFC 3986 §2).
func badURLRune(r rune) bool {
	return r <= ' ' || r == 0x7f || unicodeSpace(r)
}

func normalizeEmail(v string) (string, bool) {
	v = strings.ToLower(v)
	at := strings.LastIndexByte(v, '@')
	if at <= 0 || strings.IndexFunc(v[:at], badURLRune) >= 0 {
		return "", false
	}
	domain, ok := normalizeDomain(v[at+1:])
	if !ok {
		return "", false
	}
	return v[:at+1] + domain, true
}

func allHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return s != ""
}

// validSSDEEP checks the shape blocksize:hash:hash, the hashes in base64.
func validSSDEEP(v string) bool {
	parts := strings.Split(v, ":")
	if len(parts) != 3 || parts[0] == "" || strings.IndexFunc(parts[0], notDigit) >= 0 {
		return false
	}
	for _, p := range parts[1:] {
		if p == "" {
			return false
		}
		for i := 0; i < len(p); i++ {
			if c := p[i]; !isBase64(c) {
				return false
			}
		}
	}
	return true
}

func normalizeTLSH(v string) (string, bool) {
	v = strings.ToUpper(v)
	body := strings.TrimPrefix(v, "T1")
	if (len(body) != 70 && len(body) != 134) || !allHex(body) {
		return "", false
	}
	return "T1" + body, true
}

// hives maps the abbreviated names of registry hives to the full ones.
var hives = map[string]string{
	"HKLM": "HKEY_LOCAL_MACHINE",
	"HKCU": "HKEY_CURRENT_USER",
	"HKCR": "HKEY_CLASSES_ROOT",
	"HKU":  "HKEY_USERS",
	"HKCC": "HKEY_CURRENT_CONFIG",
}

func normalizeRegistryKey(v string) (string, bool) {
	if v == "" {
		return "", false
	}
	hive, rest, found := strings.Cut(v, `\`)
	upper := strings.ToUpper(hive)
	if full, ok := hives[upper]; ok {
		upper = full
	} else if !strings.HasPrefix(upper, "HKEY_") {
		return v, true
	}
	if found {
		return upper + `\` + rest, true
	}
	return upper, true
}

func normalizeASN(v string) (string, bool) {
	if len(v) > 2 && strings.EqualFold(v[:2], "AS") {
		v = v[2:]
	}
	if v == "" || strings.IndexFunc(v, notDigit) >= 0 {
		return "", false
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return "", false
	}
	return strconv.FormatUint(n, 10), true
}

// normalizeCVE accepts CVE-YYYY-NNNN with four or more digits in the
// sequence number (the CVE id syntax since 2014), in any case.
func normalizeCVE(v string) (string, bool) {
	if len(v) < 13 || !strings.EqualFold(v[:4], "CVE-") || v[8] != '-' {
		return "", false
	}
	if strings.IndexFunc(v[4:8], notDigit) >= 0 || strings.IndexFunc(v[9:], notDigit) >= 0 {
		return "", false
	}
	return "CVE-" + v[4:], true
}
