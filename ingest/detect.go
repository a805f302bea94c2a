package ingest

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// IOC types, named as the REST IOC API and stix/pattern name them.
const (
	TypeIPv4   = "ipv4"
	TypeIPv6   = "ipv6"
	TypeCIDR   = "cidr" // an IPv4 or IPv6 block shorter than the full length
	TypeDomain = "domain"
	TypeURL    = "url"
	TypeEmail  = "email"
	TypeMD5    = "md5"
	TypeSHA1   = "sha1"
	TypeSHA256 = "sha256"
	TypeSHA512 = "sha512"
	TypeCVE    = "cve"
)

// Reasons a value is rejected; they are passed to ReadList's bad callback.
const (
	reasonUnknown   = "not a recognised indicator"
	reasonCIDR      = "invalid CIDR prefix length"
	reasonPort      = "invalid port"
	reasonTooLong   = "line too long"
	reasonControl   = "contains control characters"
	reasonNoValue   = "no indicator value"
	reasonCSVSyntax = "malformed CSV"
)

// refangs undoes the defanging conventions feeds and reports use, so that the
// value can be matched again. Only bracketed forms are rewritten: a bare "dot"
// or "at" is part of many real names.
var refangs = strings.NewReplacer(
	"[.]", ".", "(.)", ".", "{.}", ".", `\.`, ".",
	"[dot]", ".", "(dot)", ".", "{dot}", ".",
	"[DOT]", ".", "(DOT)", ".", "{DOT}", ".",
	"[:]", ":", "[://]", "://", "[/]", "/",
	"[@]", "@", "[at]", "@", "(at)", "@", "{at}", "@",
	"[AT]", "@", "(AT)", "@", "{AT}", "@",
)

// refang undoes defanging: the bracket forms above and the hxxp/hxxps/fxp
// scheme spellings, in any case.
func refang(s string) string {
	if strings.ContainsAny(s, `[({\`) {
		s = refangs.Replace(s)
	}
	switch {
	case len(s) > 7 && strings.EqualFold(s[:4], "hxxp") && (s[4:7] == "://" || len(s) > 8 && strings.EqualFold(s[4:8], "s://")):
		s = "http" + s[4:]
	case len(s) > 6 && strings.EqualFold(s[:3], "fxp") && s[3:6] == "://":
		s = "ftp" + s[3:]
	}
	return s
}

// detect classifies one bare indicator value, undoing defanging, and returns
// it in canonical form: lower-case hashes, host names, schemes and e-mail
// addresses, upper-case CVE ids, compressed IPv6, masked CIDR blocks, "/"
// for an empty http(s) path. A port written after an
// address or domain goes to IOC.Port. On failure it returns a reason.
func detect(s string) (IOC, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return IOC{}, reasonNoValue
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 || !utf8.ValidString(s) {
		return IOC{}, reasonControl
	}
	s = refang(s)
	if strings.Contains(s, "://") {
		return detectURL(s)
	}
	if i := strings.IndexAny(s, ":="); i > 0 {
		if typ, ok := hashPrefixes[strings.ToLower(s[:i])]; ok {
			if ioc, ok := detectHash(s[i+1:]); ok && ioc.Type == typ {
				return ioc, ""
			}
			return IOC{}, "not a " + typ + " digest"
		}
	}
	if ioc, ok := detectHash(s); ok {
		return ioc, ""
	}
	if isCVE(s) {
		return IOC{Type: TypeCVE, Value: strings.ToUpper(s)}, ""
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return addrIOC(a)
	}
	if host, rest, ok := strings.Cut(s, "/"); ok {
		if p, err := netip.ParsePrefix(s); err == nil {
			return prefixIOC(p)
		}
		if _, err := netip.ParseAddr(host); err == nil && allDigits(rest) {
			return IOC{}, reasonCIDR
		}
		// A host with a path but no scheme: STIX url values must be absolute
		// URIs (RFC 3986), so http is assumed.
		return detectURL("http://" + s)
	}
	if strings.Contains(s, "@") {
		return detectEmail(s)
	}
	return detectHostPort(s)
}

// detectHash recognises a hex digest by its length.
func detectHash(s string) (IOC, bool) {
	var typ string
	switch len(s) {
	case 32:
		typ = TypeMD5
	case 40:
		typ = TypeSHA1
	case 64:
		typ = TypeSHA256
	case 128:
		typ = TypeSHA512
	default:
		return IOC{}, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return IOC{}, false
		}
	}
	return IOC{Type: typ, Value: strings.ToLower(s)}, true
}

// hashPrefixes are the names a digest may be prefixed with, as in
// "sha256:…" or "md5=…".
var hashPrefixes = map[string]string{
	"md5": TypeMD5, "sha1": TypeSHA1, "sha-1": TypeSHA1, "sha256": TypeSHA256,
	"sha-256": TypeSHA256, "sha512": TypeSHA512, "sha-512": TypeSHA512,
}

// isCVE reports whether s is CVE-YYYY-NNNN with four or more sequence digits
// (the CVE id syntax since 2014), in any case.
func isCVE(s string) bool {
	if len(s) < 13 || !strings.EqualFold(s[:4], "cve-") || s[8] != '-' {
		return false
	}
	return allDigits(s[4:8]) && allDigits(s[9:])
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func addrIOC(a netip.Addr) (IOC, string) {
	if a.Zone() != "" {
		return IOC{}, reasonUnknown
	}
	a = a.Unmap()
	if a.Is4() {
		return IOC{Type: TypeIPv4, Value: a.String()}, ""
	}
	return IOC{Type: TypeIPv6, Value: a.String()}, ""
}

// prefixIOC keeps a CIDR block as the STIX ipv4-addr/ipv6-addr value allows
// (STIX 2.1 §6.4.1), masked so that "10.1.2.3/8" and "10.0.0.0/8" are one
// indicator; a full-length prefix is the address itself.
func prefixIOC(p netip.Prefix) (IOC, string) {
	a := p.Addr()
	if a.Zone() != "" {
		return IOC{}, reasonUnknown
	}
	if p.IsSingleIP() {
		return addrIOC(a)
	}
	if a.Is4In6() {
		return IOC{}, reasonUnknown
	}
	return IOC{Type: TypeCIDR, Value: p.Masked().String()}, ""
}

// detectURL checks that s is scheme://host[:port][/…] and lower-cases the
// scheme and host, keeping the rest as written.
func detectURL(s string) (IOC, string) {
	scheme, rest, _ := strings.Cut(s, "://")
	if !validScheme(scheme) || strings.ContainsAny(rest, " \t") {
		return IOC{}, reasonUnknown
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo := ""
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		userinfo, authority = authority[:i+1], authority[i+1:]
	}
	host, port, reason := splitHostPort(authority)
	if reason != "" {
		return IOC{}, reason
	}
	if port != "" {
		port = ":" + port
	}
	scheme = strings.ToLower(scheme)
	if (scheme == "http" || scheme == "https") && !strings.HasPrefix(tail, "/") {
		// RFC 3986 §6.2.3: an empty path is "/" for http(s); written so,
		// as stix/pattern.Normalize does, to give one value per URL.
		tail = "/" + tail
	}
	return IOC{Type: TypeURL, Value: scheme + "://" + userinfo + host + port + tail}, ""
}

func validScheme(s string) bool {
	if s == "" || !isASCIILetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(isASCIILetter(c) || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// splitHostPort splits "host", "host:port", "[v6]" or "[v6]:port" and returns
// the canonical host ("[v6]" keeps its brackets) and the port digits.
func splitHostPort(s string) (host, port, reason string) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", reasonUnknown
		}
		a, err := netip.ParseAddr(s[1:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", "", reasonUnknown
		}
		host, s = "["+a.String()+"]", s[end+1:]
		if s == "" {
			return host, "", ""
		}
		if s[0] != ':' {
			return "", "", reasonUnknown
		}
		if _, ok := parsePort(s[1:]); !ok {
			return "", "", reasonPort
		}
		return host, s[1:], ""
	}
	if h, p, ok := strings.Cut(s, ":"); ok {
		if _, ok := parsePort(p); !ok {
			return "", "", reasonPort
		}
		s, port = h, p
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Is4() {
		return a.String(), port, ""
	}
	if d, ok := domainName(s); ok {
		return d, port, ""
	}
	return "", "", reasonUnknown
}

func parsePort(s string) (int, bool) {
	if !allDigits(s) || len(s) > 5 {
		return 0, false
	}
	n, _ := strconv.Atoi(s)
	return n, n > 0 && n < 65536
}

// detectEmail accepts local@domain, lower-cased as stix/pattern.Normalize
// writes it. The domain may be a single label: feeds list lures such as
// "google@script" as they were seen.
func detectEmail(s string) (IOC, string) {
	local, domain, _ := strings.Cut(strings.ToLower(s), "@")
	if !validLocalPart(local) {
		return IOC{}, reasonUnknown
	}
	d, ok := hostLabels(domain, 1)
	if !ok {
		return IOC{}, reasonUnknown
	}
	return IOC{Type: TypeEmail, Value: local + "@" + d}, ""
}

// validLocalPart checks the dot-atom form of RFC 5322 §3.2.3.
func validLocalPart(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isASCIILetter(c) || c >= '0' && c <= '9' || strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// detectHostPort recognises "ip:port", "[v6]:port", "domain" and
// "domain:port".
func detectHostPort(s string) (IOC, string) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Port() == 0 {
			return IOC{}, reasonPort
		}
		ioc, reason := addrIOC(ap.Addr())
		ioc.Port = int(ap.Port())
		return ioc, reason
	}
	host, port, reason := splitHostPort(s)
	if reason != "" {
		return IOC{}, reason
	}
	if strings.HasPrefix(host, "[") {
		return IOC{}, reasonUnknown
	}
	ioc := IOC{Type: TypeDomain, Value: host}
	if port != "" {
		ioc.Port, _ = parsePort(port)
	}
	return ioc, ""
}

// domainName checks a host name of at least two labels whose last label is
// not numeric (so that a mistyped address is not taken for a domain), and
// returns it lower-cased without a trailing dot.
func domainName(s string) (string, bool) {
	d, ok := hostLabels(s, 2)
	if !ok || allDigits(d[strings.LastIndexByte(d, '.')+1:]) {
		return "", false
	}
	return d, true
}

// hostLabels checks that s is a DNS name of at least min labels, each of
// 1–63 bytes of letters (any script, for internationalised names), digits,
// '-' and '_' (found in real service names), not starting or ending with '-'.
func hostLabels(s string, min int) (string, bool) {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return "", false
	}
	n := 0
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", false
		}
		for _, r := range label {
			if !(r < utf8.RuneSelf && (isASCIILetter(byte(r)) || r >= '0' && r <= '9' || r == '-' || r == '_') ||
				r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r))) {
				return "", false
			}
		}
		n++
	}
	if n < min {
		return "", false
	}
	return strings.ToLower(s), true
}
