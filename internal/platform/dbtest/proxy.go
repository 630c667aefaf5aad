package dbtest

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy forwards TCP from Addr (a free loopback port) to a target until stopped, so that a test
// can take a server away from one client alone: Stop cuts every connection and closes the port.
type Proxy struct {
	Addr  string
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	muted atomic.Bool
}

// Mute drops (on) or passes again (off) what the target sends back: requests still reach it and
// run, their replies are lost, as when a reply times out after the command was written.
func (px *Proxy) Mute(on bool) { px.muted.Store(on) }

// StartProxy starts a Proxy to target (host:port), stopped when t ends.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	px := &Proxy{Addr: ln.Addr().String(), ln: ln}
	t.Cleanup(px.Stop)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			px.mu.Lock()
			px.conns = append(px.conns, c, s)
			px.mu.Unlock()
			go func() { _, _ = io.Copy(s, c); s.Close() }()
			go func() { _, _ = io.Copy(c, muting{s, &px.muted}); c.Close() }()
		}
	}()
	return px
}

// Stop closes the port and cuts every connection made through it.
func (px *Proxy) Stop() {
	px.ln.Close()
	px.mu.Lock()
	defer px.mu.Unlock()
	for _, c := range px.conns {
		c.Close()
	}
	px.conns = nil
}

// muting reads from r and drops what it reads while muted is set.
type muting struct {
	r     io.Reader
	muted *atomic.Bool
}

func (m muting) Read(p []byte) (int, error) {
	for {
		n, err := m.r.Read(p)
		if m.muted.Load() {
			n = 0
		}
		if n > 0 || err != nil {
			return n, err
		}
	}
}
