package limit

import (
	"net/netip"
	"strings"

	"hail"
)

// ParsePrefixes reads a key's source ranges: CIDR blocks ("192.0.2.0/24")
// or single addresses, and returns them in canonical form. Errors are
// hail.EINVALID and name the entry.
func ParsePrefixes(list []string) ([]string, error) {
	var out []string
	for _, s := range list {
		p, err := parsePrefix(s)
		if err != nil {
			return nil, hail.Errorf(hail.EINVALID, "%q is not an address or CIDR block.", s)
		}
		out = append(out, p.String())
	}
	return out, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// AllowedFrom reports whether addr, a request's remote address ("ip" or
// "ip:port"), is in one of the ranges of list. An empty list allows every
// address; an address that does not parse is allowed by none. IPv4
// addresses mapped into IPv6 match IPv4 ranges.
func AllowedFrom(list []string, addr string) bool {
	if len(list) == 0 {
		return true
	}
	a, err := netip.ParseAddr(addr)
	if err != nil {
		ap, err := netip.ParseAddrPort(addr)
		if err != nil {
			return false
		}
		a = ap.Addr()
	}
	a = a.Unmap().WithZone("")
	for _, s := range list {
		if p, err := parsePrefix(s); err == nil && p.Contains(a) {
			return true
		}
	}
	return false
}
