package replica

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// proxy forwards TCP connections to a PostgreSQL server. Cut drops every
// connection and refuses new ones, as a database crash or a network
// partition would, until Restore.
type proxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  []net.Conn
}

// newProxy listens on a free port of 127.0.0.1 and forwards to target
// (host:port) until the test ends.
func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, target: target}
	go p.serve()
	t.Cleanup(func() {
		l.Close()
		p.Cut()
	})
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		cut := p.cut
		p.mu.Unlock()
		if cut {
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.cut {
			c.Close()
			s.Close()
		} else {
			p.conns = append(p.conns, c, s)
			go pipe(s, c)
			go pipe(c, s)
		}
		p.mu.Unlock()
	}
}

// pipe copies from src to dst and closes both when either side ends.
func pipe(dst, src net.Conn) {
	io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// Cut closes every forwarded connection and refuses new ones.
func (p *proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// Restore forwards new connections again.
func (p *proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

// viaProxy returns a proxy to the server dsn names and dsn pointed at it.
func viaProxy(t *testing.T, dsn string) (*proxy, string) {
	t.Helper()
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)))
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return p, dsn + " host=127.0.0.1 port=" + fmt.Sprint(p.l.Addr().(*net.TCPAddr).Port)
	}
	u.Host = p.l.Addr().String()
	return p, u.String()
}
