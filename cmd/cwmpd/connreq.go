package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	neturl "net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/cwmpd/cwmpd/cwmp/connreq"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

// startConnectionRequests runs the connection-request server. Its secret
// path is drawn once and kept in the journal's metadata, so
// ConnectionRequestURL survives restarts.
//
// What is journaled: accepted requests (they raise "6 CONNECTION REQUEST";
// several before the session starts still make one session, the event
// being single) and refused credentials, with the remote address — both
// rate-limited by the server. The credential-less first leg of the Digest
// handshake, stale nonces, rate-limited requests, wrong paths and wrong
// methods are only counted in the log: journaling each of a flood would
// wear the flash for nothing.
func (d *daemon) startConnectionRequests(ctx context.Context) (func(), error) {
	path := ""
	if b, ok, _ := d.j.GetMeta(metaCRPath); ok && connreq.ValidPath(string(b)) == nil {
		path = string(b)
	} else {
		p, err := connreq.NewPath(nil)
		if err != nil {
			return func() {}, err
		}
		if err := d.j.PutMeta(metaCRPath, []byte(p)); err != nil {
			return func() {}, err
		}
		path = p
	}
	addr, _ := d.connReqAddr()
	var limited, stray atomic.Int64
	srv, err := connreq.New(connreq.Config{
		Addr: addr,
		Path: path,
		Credentials: func() (string, string) {
			var u, p string
			d.store.View(func(s *projections.State) {
				u = s.Settings.Get(projections.SettingConnectionRequestUsername)
				p = s.Settings.Get(projections.SettingConnectionRequestPassword)
			})
			return u, p
		},
		OnRequest: func(a connreq.Attempt) {
			switch a.Reason {
			case connreq.ReasonChallenge, connreq.ReasonStale:
				return // normal legs of the Digest handshake
			case connreq.ReasonUnknownPath, connreq.ReasonMethod:
				// Not rate-limited (a scanner on 7547 sends these): journaling
				// them would let anyone force flash writes.
				if n := stray.Add(1); n == 1 || n%100 == 0 {
					d.log.Warn().Int64("count", n).Str("remote", a.Remote).Str("reason", a.Reason).Msg("stray request on the connection-request port")
				}
				return
			case connreq.ReasonRateLimited:
				if n := limited.Add(1); n == 1 || n%100 == 0 {
					d.log.Warn().Int64("refused", n).Str("remote", a.Remote).Msg("connection requests rate-limited (503)")
				}
				return
			}
			if a.Accepted && !d.connReqWanted() {
				// Turned off a moment ago: the listener is being closed.
				d.log.Warn().Str("remote", a.Remote).Msg("connection request while connection requests are off: ignored")
				return
			}
			if _, err := d.store.Append(ctx, event.ConnectionRequestReceived{Remote: a.Remote, Accepted: a.Accepted, Reason: reasonUnlessAccepted(a)}); err != nil {
				d.log.Error().Err(err).Msg("connection request not journaled")
				d.noteJournalError(err)
				return
			}
			if a.Accepted {
				d.log.Info().Str("remote", a.Remote).Msg("connection request accepted")
				d.kickConductor()
			} else {
				d.log.Warn().Str("remote", a.Remote).Str("reason", a.Reason).Msg("connection request refused")
			}
		},
		Burst:    d.cfg.crBurst,
		Interval: d.cfg.crInterval,
		Logger:   d.log.With().Str("component", "connreq").Logger(),
	})
	if err != nil {
		return func() {}, err
	}
	// publish sets the ConnectionRequestURL from where the server listens:
	// empty while it does not (connection requests off, port unavailable).
	publish := func() {
		url := ""
		if srv.Addr() != nil {
			url = srv.URL(d.crHostNow())
		}
		d.crMu.Lock()
		d.crURL = url
		d.crMu.Unlock()
	}
	lctx, stop := context.WithCancel(ctx)
	stopAll := func() {
		stop()
		d.crMove.Lock()
		d.crStopped = true // no background bind starts from now on
		d.crMove.Unlock()
		d.crBinds.Wait()
		srv.Close()
	}
	d.crMove.Lock()
	defer d.crMove.Unlock()
	d.cr, d.crPublish, d.crCtx = srv, publish, lctx
	if !d.connReqWanted() {
		d.log.Info().Msg("connection requests are off (enabled=no or HTTPConnectionRequestEnable false): not listening")
		return stopAll, nil
	}
	if err := srv.Start(); err != nil {
		// The port may be held for a moment (a previous instance still
		// exiting) or by something else: keep trying rather than run
		// without connection requests until the next restart. The URL is
		// published once bound; the watcher reports the change (the
		// parameter is active-notified).
		d.log.Error().Err(err).Str("addr", addr).Msg("connection-request port unavailable; retrying in the background, the ACS cannot ask for sessions meanwhile")
		d.bindLater()
		return stopAll, nil
	}
	publish()
	return stopAll, nil
}

// bindLater keeps trying, in the background, to listen for connection
// requests on the connection-request port while they are wanted and the
// server does not listen: the port was taken when the agent started, or
// when connection requests were turned on. It stops once the server
// listens, connection requests are turned off (syncConnReq tries again
// when they are turned on) or the agent stops. One runs at a time. Called
// with crMove held.
func (d *daemon) bindLater() {
	if d.crBinding || d.crStopped || d.crCtx == nil || d.crCtx.Err() != nil {
		return
	}
	d.crBinding = true
	d.crBinds.Add(1)
	go func() {
		defer d.crBinds.Done()
		b := backoff.NewExponentialBackOff()
		b.InitialInterval, b.MaxInterval, b.MaxElapsedTime = time.Second, 5*time.Minute, 0
		bind := func() error {
			d.crMove.Lock()
			defer d.crMove.Unlock()
			if d.crCtx.Err() != nil || !d.connReqWanted() || d.cr.Addr() != nil {
				// Stopping, turned off meanwhile, or listening already (a
				// changed port bound by syncConnReq). Cleared under the
				// same lock: a syncConnReq that fails to bind next starts
				// a new one.
				d.crBinding = false
				return nil
			}
			addr, _ := d.connReqAddr() // the setting may have changed meanwhile
			if err := d.cr.Rebind(addr); err != nil {
				return err
			}
			d.crBinding = false
			d.crTried, d.crNotice = "", ""
			d.crPublish()
			d.log.Info().Str("addr", d.cr.Addr().String()).Msg("connection-request port bound")
			return nil
		}
		backoff.Retry(bind, backoff.WithContext(b, d.crCtx)) // ends with nil, or when the agent stops
	}()
}

// connReqWanted: connection requests are accepted only while CWMP is
// enabled (EnableCWMP, the operator's enabled) and HTTPConnectionRequestEnable
// is true (digest D§13.1, D§14: false empties the URL and closes the port).
func (d *daemon) connReqWanted() bool {
	want := true
	d.store.View(func(s *projections.State) {
		want = s.Settings.Bool(projections.SettingEnabled, true)
		if v, ok := s.Params.Values[paramHTTPConnReqEnable]; ok {
			if b, err := strconv.ParseBool(v.Value); err == nil && !b {
				want = false
			}
		}
	})
	return want
}

const paramHTTPConnReqEnable = "Device.ManagementServer.HTTPConnectionRequestEnable"

// connReqListenFixed: --connreq-listen names a port, so the setting does
// not move the listener.
func (d *daemon) connReqListenFixed() bool {
	_, p, err := net.SplitHostPort(d.cfg.crListen)
	return err == nil && p != ""
}

// connReqPortWanted is connection-request-port as a number (-1 when it is
// not one): what connReqAddr would listen on, without building the address.
func (d *daemon) connReqPortWanted() int {
	port := -1
	d.store.View(func(s *projections.State) {
		v := s.Settings.Get(projections.SettingConnectionRequestPort)
		if v == "" {
			port = 7547
		} else if n, err := strconv.Atoi(v); err == nil {
			port = n
		}
	})
	return port
}

// connReqAddr is where connection requests are listened for:
// --connreq-listen when it names a port (fixed: true), else its host (all
// addresses without it) with the connection-request-port setting.
func (d *daemon) connReqAddr() (addr string, fixed bool) {
	var port string
	d.store.View(func(s *projections.State) {
		port = s.Settings.Get(projections.SettingConnectionRequestPort)
	})
	if port == "" {
		port = "7547"
	}
	host := d.cfg.crListen
	if h, p, err := net.SplitHostPort(d.cfg.crListen); err == nil {
		if p != "" {
			return d.cfg.crListen, true
		}
		host = h
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), port), false
}

// forgetFailedBind lets the next syncConnReq try again an address a bind
// failed on.
func (d *daemon) forgetFailedBind() {
	d.crMove.Lock()
	d.crTried, d.crNotice = "", ""
	d.crMove.Unlock()
}

// syncConnReq makes the connection-request server match the state: not
// listening while connection requests are off, else listening on the
// connection-request-port setting. A changed port is bound before the old
// one is closed: when it cannot be, connection requests keep working where
// they were (and the move is not tried again until the setting changes or
// the operator sets it again: forgetFailedBind).
// When nothing listens (connection requests just turned on) and the port
// cannot be bound, bindLater keeps trying in the background.
// The ConnectionRequestURL published follows, and the watcher reports it to
// the ACS (active notification). The conductor calls it after every change
// of the state, the control socket after the operator's; it returns what
// the operator should know about the port, or "".
func (d *daemon) syncConnReq() string {
	d.crMove.Lock()
	defer d.crMove.Unlock()
	if d.cr == nil {
		return "the connection-request server is not running; connection-request-port applies when cwmpd restarts"
	}
	if d.crStopped {
		return "" // the agent is stopping: nothing may listen again
	}
	if !d.connReqWanted() {
		d.crTried, d.crNotice = "", ""
		if d.cr.Addr() != nil {
			d.cr.Unbind()
			d.crPublish()
			d.log.Info().Msg("connection requests turned off: not listening")
		}
		return ""
	}
	// The conductor asks on every turn of its loop, a few times a
	// session: when nothing moved, the answer costs no allocation.
	cur := d.cr.Addr()
	if cur != nil {
		if d.connReqListenFixed() {
			if cur != d.crFixedAt {
				d.crFixedAt = cur
				d.crFixedNote = fmt.Sprintf("connection requests stay on %s (--connreq-listen names the port); connection-request-port applies without it", cur)
			}
			return d.crFixedNote
		}
		if a, ok := cur.(*net.TCPAddr); ok && a.Port == d.connReqPortWanted() {
			d.crTried, d.crNotice = "", ""
			return ""
		}
	}
	addr, _ := d.connReqAddr()
	if addr == d.crTried {
		return d.crNotice
	}
	d.crTried = addr
	if err := d.cr.Rebind(addr); err != nil {
		d.log.Error().Err(err).Str("addr", addr).Msg("connection-request port not bound")
		if cur == nil {
			// Not listening at all: keep trying, as at start, rather than
			// leave the ACS unable to reach the device until a restart.
			d.bindLater()
			d.crNotice = fmt.Sprintf("%s cannot be listened on (%v); cwmpd keeps trying, and connection requests are off until it can", addr, errors.Unwrap(err))
			return d.crNotice
		}
		d.crNotice = fmt.Sprintf("connection-request-port saved, but %s cannot be listened on (%v); connection requests stay on %s until cwmpd restarts, or until the port is free and set again", addr, errors.Unwrap(err), cur)
		return d.crNotice
	}
	d.crNotice = ""
	d.crPublish()
	d.log.Info().Str("addr", addr).Msg("connection-request server listening")
	return ""
}

func reasonUnlessAccepted(a connreq.Attempt) string {
	if a.Accepted {
		return ""
	}
	return a.Reason
}

// crHostNow is the host the ConnectionRequestURL names: --connreq-host,
// else the local address of the route to the ACS (the address the ACS
// sees the device come from, without NAT), else the first non-loopback
// IPv4. A router has several addresses (LAN, WAN, management VLAN), and
// its WAN one changes with DHCP or PPP: the route is what the ACS can
// reach.
func (d *daemon) crHostNow() string {
	if d.cfg.crHost != "" {
		return d.cfg.crHost
	}
	d.routeMu.Lock()
	local := d.routeLocal
	d.routeMu.Unlock()
	if local != "" {
		return local
	}
	return firstIPv4()
}

// acsDialer dials the ACS as the transport's default does, noting the
// route: a session whose connection leaves from another local address
// than the published one moves the ConnectionRequestURL.
func (d *daemon) acsDialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	dialer := &net.Dialer{KeepAlive: -1}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if err == nil {
			local, _ := c.LocalAddr().(*net.TCPAddr)
			remote, _ := c.RemoteAddr().(*net.TCPAddr)
			// addr is the ACS URL's host and port (no proxy is used).
			host, _, _ := net.SplitHostPort(addr)
			if local != nil && remote != nil {
				d.noteRoute(local.IP, remote.IP, host)
			}
		}
		return c, err
	}
}

// refreshRoute asks the kernel which local address reaches the ACS now (a
// UDP socket's connect sends nothing) and moves the ConnectionRequestURL
// when it changed: the WAN address of an idle router changes with no
// session to notice. It targets the ACS address last learnt for the ACS
// URL's host (by a session's connection or an earlier lookup); when there
// is none, or the ACS URL has changed since (the operator's acs-url, the
// ACS's ManagementServer.URL), the host is resolved anew, bounded by a
// short timeout. Called at start, at every poll and before every session,
// so that an Inform names the route to the ACS it goes to.
func (d *daemon) refreshRoute(ctx context.Context) {
	if d.cfg.crHost != "" {
		return
	}
	var raw string
	d.store.View(func(s *projections.State) { raw = s.Settings.Get(projections.SettingACSURL) })
	u, err := neturl.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return
	}
	acs := u.Hostname()
	d.routeMu.Lock()
	target := d.routeRemote
	if !strings.EqualFold(d.routeACS, acs) {
		target = nil // learnt for another ACS
	}
	d.routeMu.Unlock()
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
	d.noteRoute(local, target, acs)
}

// noteRoute records the local address that reaches the ACS, the ACS's
// address remote and the ACS URL host acs it was found for, and
// republishes the ConnectionRequestURL if the host it names changed; the
// watcher then reports it (active notification).
func (d *daemon) noteRoute(local, remote net.IP, acs string) {
	if d.cfg.crHost != "" || local == nil || local.IsUnspecified() {
		return
	}
	host := local.String()
	d.routeMu.Lock()
	if remote != nil {
		d.routeRemote, d.routeACS = remote, acs
	}
	changed := host != d.routeLocal
	d.routeLocal = host
	d.routeMu.Unlock()
	if !changed {
		return
	}
	d.crMove.Lock()
	defer d.crMove.Unlock()
	if d.crPublish != nil {
		d.crPublish()
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
