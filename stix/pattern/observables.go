package pattern

import (
	"iter"
	"strings"
)

// Observable is one indicator of compromise named by a pattern: a type (one
// of the Type constants) and the value in its normalised form.
type Observable struct {
	Type, Value string
}

// Comparisons yields every comparison in the pattern, left to right.
func (p *Pattern) Comparisons() iter.Seq[*Comparison] {
	return func(yield func(*Comparison) bool) {
		walkObservation(p.Expr, yield)
	}
}

func walkObservation(e ObservationExpr, yield func(*Comparison) bool) bool {
	switch e := e.(type) {
	case *Observation:
		return walkComparison(e.Expr, yield)
	case *ObservationJoin:
		return walkObservation(e.Left, yield) && walkObservation(e.Right, yield)
	case *Qualified:
		return walkObservation(e.Expr, yield)
	}
	return true
}

func walkComparison(e ComparisonExpr, yield func(*Comparison) bool) bool {
	switch e := e.(type) {
	case *Comparison:
		return yield(e)
	case *ComparisonJoin:
		return walkComparison(e.Left, yield) && walkComparison(e.Right, yield)
	}
	return true
}

// Observables returns the indicators the pattern tests for: the value of
// every = comparison that is not negated, and every member of an IN list,
// on the paths below, normalised as Normalize does and without duplicates,
// in the order they first appear. Values that are malformed for their type
// (a 31-digit MD5, an address with a zone) are left out.
//
//	ipv4-addr:value, ipv6-addr:value      ipv4, ipv6, or cidr for a block
//	domain-name:value                     domain
//	url:value                             url
//	email-addr:value                      email
//	file:hashes.X, artifact:hashes.X      md5, sha1, sha256, sha512, ssdeep, tlsh
//	x509-certificate:hashes.X             x509-md5, x509-sha1, x509-sha256
//	windows-registry-key:key              registry-key
//	mutex:name                            mutex
//	autonomous-system:number              asn
//	network-traffic:src_ref.value         ipv4, ipv6, cidr or domain, by content
//	network-traffic:dst_ref.value         likewise
//
// Hash names match in any common spelling: 'SHA-256', SHA256, sha256.
// Addresses, domains, URLs and email addresses are refanged first, as
// Detect does, since some producers defang values even inside patterns
// (url:value = 'hxxp://evil[.]example/').
func (p *Pattern) Observables() []Observable {
	var out []Observable
	var seen map[Observable]bool // built once out grows, to keep small patterns cheap
	add := func(o Observable) {
		if seen == nil && len(out) < 16 {
			for _, x := range out {
				if x == o {
					return
				}
			}
		} else {
			if seen == nil {
				seen = make(map[Observable]bool, 2*len(out))
				for _, x := range out {
					seen[x] = true
				}
			}
			if seen[o] {
				return
			}
			seen[o] = true
		}
		out = append(out, o)
	}
	for c := range p.Comparisons() {
		if c.Negated {
			continue
		}
		switch c.Operator {
		case Equal:
			if o, ok := observable(c.Path, c.Value); ok {
				add(o)
			}
		case In:
			for _, v := range c.Set {
				if o, ok := observable(c.Path, v); ok {
					add(o)
				}
			}
		}
	}
	return out
}

// observable maps one path and constant to an Observable.
func observable(path Path, c Constant) (Observable, bool) {
	var typ string
	switch path.ObjectType {
	case "ipv4-addr", "ipv6-addr":
		if !path.Is(path.ObjectType, "value") || c.Kind != String {
			return Observable{}, false
		}
		t, v, ok := normalizeIP(refang(strings.TrimSpace(c.Value)))
		// Only IPv6 text has a colon, whether address or block.
		if !ok || strings.Contains(v, ":") != (path.ObjectType == "ipv6-addr") {
			return Observable{}, false
		}
		return Observable{t, v}, true
	case "network-traffic":
		if c.Kind != String || !path.Is("network-traffic", "src_ref", "value") && !path.Is("network-traffic", "dst_ref", "value") {
			return Observable{}, false
		}
		v := refang(strings.TrimSpace(c.Value))
		if t, n, ok := normalizeIP(v); ok {
			return Observable{t, n}, true
		}
		n, ok := normalizeDomain(v)
		return Observable{TypeDomain, n}, ok
	case "domain-name":
		typ = pathType(path, TypeDomain, "value")
	case "url":
		typ = pathType(path, TypeURL, "value")
	case "email-addr":
		typ = pathType(path, TypeEmail, "value")
	case "windows-registry-key":
		typ = pathType(path, TypeRegistryKey, "key")
	case "mutex":
		typ = pathType(path, TypeMutex, "name")
	case "autonomous-system":
		typ = pathType(path, TypeASN, "number")
		if c.Kind == Int {
			c.Kind = String
		}
	case "file", "artifact", "x509-certificate":
		typ = hashType(path)
		if c.Kind == Hex {
			c.Kind = String
		}
	}
	if typ == "" || c.Kind != String {
		return Observable{}, false
	}
	v := c.Value
	if typ == TypeDomain || typ == TypeURL || typ == TypeEmail {
		v = refang(strings.TrimSpace(v))
	}
	v, ok := Normalize(typ, v)
	return Observable{typ, v}, ok
}

// pathType returns typ when path is objecttype:key, else "".
func pathType(path Path, typ, key string) string {
	if path.Is(path.ObjectType, key) {
		return typ
	}
	return ""
}

// hashType returns the observable type of file:hashes.X, artifact:hashes.X
// or x509-certificate:hashes.X, or "" for another path or algorithm.
func hashType(path Path) string {
	if len(path.Steps) != 2 || path.Steps[1].Kind != KeyStep || !path.Is(path.ObjectType, "hashes", path.Steps[1].Key) {
		return ""
	}
	var typ string
	switch hashName(path.Steps[1].Key) {
	case "MD5":
		typ = TypeMD5
	case "SHA1":
		typ = TypeSHA1
	case "SHA256":
		typ = TypeSHA256
	case "SHA512":
		typ = TypeSHA512
	case "SSDEEP":
		typ = TypeSSDEEP
	case "TLSH":
		typ = TypeTLSH
	}
	if path.ObjectType != "x509-certificate" {
		return typ
	}
	switch typ {
	case TypeMD5, TypeSHA1, TypeSHA256:
		return "x509-" + typ
	}
	return ""
}

// hashName folds the spellings of a hash algorithm's name that producers use
// ('SHA-256', SHA256, sha256, sha_256) to one: upper case, no '-' or '_'.
func hashName(s string) string {
	var buf [16]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '-' || c == '_' {
			continue
		}
		if n == len(buf) {
			return ""
		}
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[n] = c
		n++
	}
	return string(buf[:n])
}
