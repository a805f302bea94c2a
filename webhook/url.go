package webhook

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	"hail"
)

// blocked are the address ranges a webhook may not reach unless the
// operator allows private addresses: a key that can create webhooks must
// not make the server probe its own network.
var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network" (RFC 791); 0.0.0.0 reaches the host
	netip.MustParsePrefix("10.0.0.0/8"),     // private (RFC 1918)
	netip.MustParsePrefix("100.64.0.0/10"),  // shared carrier-grade NAT (RFC 6598)
	netip.MustParsePrefix("127.0.0.0/8"),    // loopback
	netip.MustParsePrefix("169.254.0.0/16"), // link-local, cloud metadata services
	netip.MustParsePrefix("172.16.0.0/12"),  // private
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("192.168.0.0/16"), // private
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("224.0.0.0/4"),    // multicast
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved and broadcast
	netip.MustParsePrefix("::/128"),         // unspecified
	netip.MustParsePrefix("::1/128"),        // loopback
	netip.MustParsePrefix("fc00::/7"),       // unique local (RFC 4193)
	netip.MustParsePrefix("fe80::/10"),      // link-local
	netip.MustParsePrefix("fec0::/10"),      // site-local, deprecated but routable on old networks
	netip.MustParsePrefix("ff00::/8"),       // multicast
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64 (RFC 8215)
}

// Prefixes that embed an IPv4 address, which is checked in turn: NAT64
// (RFC 6052) in the last 32 bits, 6to4 (RFC 3056) in bits 16 to 47.
var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// PublicAddr reports whether a webhook may connect to addr when private
// addresses are not allowed.
func PublicAddr(addr netip.Addr) bool {
	// A zone would keep Prefix.Contains from matching.
	addr = addr.WithZone("").Unmap()
	if !addr.IsValid() {
		return false
	}
	for _, p := range blocked {
		if p.Contains(addr) {
			return false
		}
	}
	if addr.Is6() {
		b := addr.As16()
		switch {
		case nat64.Contains(addr):
			return PublicAddr(netip.AddrFrom4([4]byte(b[12:16])))
		case sixToFour.Contains(addr):
			return PublicAddr(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	return true
}

// CheckURL returns EINVALID unless raw is an absolute http or https URL
// whose host, when allowPrivate is false, is no private, loopback or
// link-local address and no localhost name. A host name is resolved only
// when the webhook connects, and each address is checked then (see
// Sender), since DNS may answer differently later.
func CheckURL(raw string, allowPrivate bool) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return hail.Errorf(hail.EINVALID, "The webhook URL must be an absolute http or https URL.")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return hail.Errorf(hail.EINVALID, "The webhook URL must use http or https, not %q.", truncate(u.Scheme, 32))
	}
	host := u.Hostname()
	if host == "" {
		return hail.Errorf(hail.EINVALID, "The webhook URL has no host.")
	}
	if allowPrivate {
		return nil
	}
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")); err == nil {
		if !PublicAddr(a) {
			return errPrivate(host)
		}
		return nil
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return errPrivate(host)
	}
	return nil
}

// errPrivate is the error for a host the webhook may not reach.
func errPrivate(host string) error {
	return hail.Errorf(hail.EINVALID, "The webhook URL's host %q is a private, loopback or link-local address; "+
		"the server operator must allow private webhook addresses.", truncate(host, 256))
}

// control is the net.Dialer Control function of webhook connections: it
// checks the address actually dialled, after DNS resolution, so that a name
// that resolves to a private address (or starts to, DNS rebinding) is
// refused.
func control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook: unexpected dial address %q", address)
	}
	if !PublicAddr(ap.Addr()) {
		return fmt.Errorf("webhook: refused to connect to the private address %s", ap.Addr())
	}
	return nil
}

// dialer returns the dialer of webhook connections.
func dialer(allowPrivate bool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: DefaultTimeout}
	if !allowPrivate {
		d.Control = control
	}
	return d.DialContext
}

// truncate shortens s for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
