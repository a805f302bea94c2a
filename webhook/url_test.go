package webhook

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"hail"
	"hail/store"
)

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url          string
		allowPrivate bool
		ok           bool
	}{
		{"https://hooks.example.com/hail", false, true},
		{"http://203.0.113.9:8080/x", false, true},
		{"http://[2606:4700::1111]/", false, true},
		{"ftp://hooks.example.com/", false, false},
		{"file:///etc/passwd", true, false},
		{"gopher://x", true, false},
		{"/relative", true, false},
		{"https://", true, false},
		{"mailto:a@example.com", true, false},
		{"http://127.0.0.1:8080/", false, false},
		{"http://127.0.0.1:8080/", true, true},
		{"http://localhost/", false, false},
		{"http://api.localhost./", false, false},
		{"http://localhost/", true, true},
		{"http://10.1.2.3/", false, false},
		{"http://172.20.0.1/", false, false},
		{"http://192.168.1.1/", false, false},
		{"http://169.254.169.254/latest/meta-data/", false, false},
		{"http://100.64.0.1/", false, false},
		{"http://0.0.0.0/", false, false},
		{"http://[::1]/", false, false},
		{"http://[::ffff:127.0.0.1]/", false, false},
		{"http://[fe80::1%25eth0]/", false, false},
		{"http://[fd00::1]/", false, false},
		{"http://[64:ff9b::a00:1]/", false, false},    // NAT64 of 10.0.0.1
		{"http://[2002:a00:1::1]/", false, false},     // 6to4 of 10.0.0.1
		{"http://[64:ff9b::cb00:7109]/", false, true}, // NAT64 of 203.0.113.9
	}
	for _, tt := range tests {
		err := CheckURL(tt.url, tt.allowPrivate)
		if (err == nil) != tt.ok {
			t.Errorf("CheckURL(%q, %v) = %v, want ok %v", tt.url, tt.allowPrivate, err, tt.ok)
		}
		if err != nil && hail.ErrorCode(err) != hail.EINVALID {
			t.Errorf("CheckURL(%q): code %q, want %q", tt.url, hail.ErrorCode(err), hail.EINVALID)
		}
	}
}

// TestDialRefusesPrivate: the address is checked when the connection is
// made, so a host name that resolves to loopback is refused although its
// text passes CheckURL.
func TestDialRefusesPrivate(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	if _, err := dialer(false)(context.Background(), "tcp", net.JoinHostPort("localhost", port)); err == nil ||
		!strings.Contains(err.Error(), "private address") {
		t.Errorf("dial localhost without AllowPrivate: %v, want a refusal", err)
	}
	c, err := dialer(true)(context.Background(), "tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Errorf("dial with AllowPrivate: %v", err)
	} else {
		c.Close()
	}
	res := NewSender(SenderOptions{}).Send(context.Background(), store.Webhook{ID: "h", URL: srv.URL, Secret: "s"}, "d", nil)
	if res.Err == nil || res.Status != 0 {
		t.Errorf("Send to %s without AllowPrivate = %+v, want refused", srv.URL, res)
	}
	for _, a := range []string{"127.0.0.1:80", "[::1]:443", "10.0.0.1:80", "169.254.169.254:80"} {
		if err := control("tcp", a, nil); err == nil {
			t.Errorf("control(%s) = nil, want a refusal", a)
		}
	}
	if err := control("tcp", "203.0.113.9:443", nil); err != nil {
		t.Errorf("control(203.0.113.9:443) = %v", err)
	}
}

func FuzzCheckURL(f *testing.F) {
	f.Add("https://hooks.example.com/hail")
	f.Add("http://[::ffff:10.0.0.1]:80/")
	f.Fuzz(func(t *testing.T, raw string) {
		if CheckURL(raw, false) == nil {
			if CheckURL(raw, true) != nil {
				t.Errorf("%q passes without private addresses but not with them", raw)
			}
			if !strings.HasPrefix(strings.ToLower(raw), "http") {
				t.Errorf("%q passes without an http scheme", raw)
			}
		}
	})
}

func TestPublicAddr(t *testing.T) {
	for a, want := range map[string]bool{
		"8.8.8.8": true, "127.0.0.53": false, "::ffff:192.168.0.1": false, "2001:4860:4860::8888": true, "ff02::1": false,
	} {
		if got := PublicAddr(netip.MustParseAddr(a)); got != want {
			t.Errorf("PublicAddr(%s) = %v, want %v", a, got, want)
		}
	}
}
