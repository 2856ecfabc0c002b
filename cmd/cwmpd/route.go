package main

import (
	"context"
	"net"
	neturl "net/url"
	"strings"
	"sync"
	"time"
)

// acsRoute learns the local address of the route to the ACS: the host
// the published ConnectionRequestURL names when --connreq-host does not
// fix it. It learns from every session's connection (dialer) and from
// the kernel's routing table (refresh), and calls changed when the local
// address moves. mu guards local, remote and acs; it is never held while
// another lock is taken (changed runs after it is released).
type acsRoute struct {
	// fixed: --connreq-host names the host, nothing is learnt.
	fixed bool
	// acsURL reads the ACS URL setting.
	acsURL func() string
	// changed republishes the ConnectionRequestURL; the watcher then
	// reports it (active notification).
	changed func()

	mu sync.Mutex
	// local is the local address of the route to the ACS; remote the
	// ACS's address (nil before it is known) and acs the ACS URL's host
	// it was learnt for.
	local  string
	remote net.IP
	acs    string
}

// localAddr is the local address of the route to the ACS, "" while none
// is known.
func (r *acsRoute) localAddr() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.local
}

// dialer dials the ACS as the transport's default does, noting the
// route: a session whose connection leaves from another local address
// than the published one moves the ConnectionRequestURL.
func (r *acsRoute) dialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	dialer := &net.Dialer{KeepAlive: -1}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if err == nil {
			local, _ := c.LocalAddr().(*net.TCPAddr)
			remote, _ := c.RemoteAddr().(*net.TCPAddr)
			// addr is the ACS URL's host and port (no proxy is used).
			host, _, _ := net.SplitHostPort(addr)
			if local != nil && remote != nil {
				r.note(local.IP, remote.IP, host)
			}
		}
		return c, err
	}
}

// refresh asks the kernel which local address reaches the ACS now (a UDP
// socket's connect sends nothing) and moves the ConnectionRequestURL when
// it changed: the WAN address of an idle router changes with no session
// to notice. It targets the ACS address last learnt for the ACS URL's host
// (by a session's connection or an earlier lookup); when there is none,
// or the ACS URL has changed since (the operator's acs-url, the ACS's
// ManagementServer.URL), the host is resolved anew, bounded by a short
// timeout.
func (r *acsRoute) refresh(ctx context.Context) {
	if r.fixed {
		return
	}
	u, err := neturl.Parse(r.acsURL())
	if err != nil || u.Hostname() == "" {
		return
	}
	acs := u.Hostname()
	r.mu.Lock()
	target := r.remote
	if !strings.EqualFold(r.acs, acs) {
		target = nil // learnt for another ACS
	}
	r.mu.Unlock()
	if target == nil {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		ips, err := net.DefaultResolver.LookupIP(rctx, "ip", acs)
		cancel()
		if err != nil || len(ips) == 0 {
			return
		}
		target = ips[0]
	}
	c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: target, Port: 9})
	if err != nil {
		return // no route now: keep what is published
	}
	local := c.LocalAddr().(*net.UDPAddr).IP
	c.Close()
	r.note(local, target, acs)
}

// note records the local address that reaches the ACS, the ACS's address
// remote and the ACS URL host acs it was found for, and calls changed if
// the local address moved.
func (r *acsRoute) note(local, remote net.IP, acs string) {
	if r.fixed || local == nil || local.IsUnspecified() {
		return
	}
	host := local.String()
	r.mu.Lock()
	if remote != nil {
		r.remote, r.acs = remote, acs
	}
	changed := host != r.local
	r.local = host
	r.mu.Unlock()
	if changed {
		r.changed()
	}
}

// firstIPv4 is the address published when none is configured and the
// route to the ACS is not known: the first non-loopback IPv4, else
// loopback.
func firstIPv4() string {
	ifs, err := net.Interfaces()
	if err == nil {
		for _, ifc := range ifs {
			if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
				continue
			}
			addrs, _ := ifc.Addrs()
			for _, a := range addrs {
				if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
					return ipn.IP.String()
				}
			}
		}
	}
	return "127.0.0.1"
}
