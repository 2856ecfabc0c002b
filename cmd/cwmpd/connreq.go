package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/cwmp/connreq"
	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
	"github.com/cwmpd/cwmpd/projections/live"
)

// connReqOptions is what connReqs is given when it is made: it reaches the
// rest of the daemon only through these.
type connReqOptions struct {
	listen   string        // --connreq-listen
	host     string        // --connreq-host
	burst    int           // --connreq-burst
	interval time.Duration // --connreq-interval

	store *live.Store      // the settings and parameters it follows; accepted requests are journaled here
	j     *journal.Journal // metadata: the secret path, the URL last informed
	log   zerolog.Logger   // the daemon's
	kick  func()           // wakes the conductor (an accepted request)
	// journalErr is told of a refused append (print shows a full disk).
	journalErr func(error)
}

// connReqs is the daemon's connection-request side. It owns:
//   - the connreq.Server's life: start, live moves to a changed
//     connection-request-port, closing and opening again as connection
//     requests are turned off and on, background bind retries while the
//     port is taken, stop;
//   - what the operator is told about the port (sync's notices);
//   - the published ConnectionRequestURL (url), its host following the
//     route to the ACS (route);
//   - the URL last acknowledged in an Inform (journal metadata), which a
//     restart of the agent alone compares with.
//
// Locks, in this order: move serialises every change of the listener
// (so url is written only under it) and guards srv, tried, notice,
// fixedAt, fixedNote, ctx, cancel, binding and stopped. Under move are
// taken, one at a time and each released before the next, the store's
// lock (View), route.mu (hostNow) and mu. mu guards url alone; it is also
// taken inside the store's View (the model's Runtime reads the URL while
// composing an Inform), so nothing is locked under it. route.mu is
// released before route's change callback takes move.
type connReqs struct {
	opt   connReqOptions
	route *acsRoute
	// fixed: --connreq-listen names the port (listenFixed).
	fixed bool

	mu  sync.Mutex
	url string // the published ConnectionRequestURL, "" while nothing listens

	move sync.Mutex
	// srv is the connection-request server (nil until start made it, or
	// when it could not be made).
	srv *connreq.Server
	// tried is the address a failed bind was last tried on, notice what
	// the operator was told then.
	tried, notice string
	// fixedNote tells the operator that --connreq-listen holds the port,
	// built once for the listener fixedAt: sync runs on every turn of the
	// conductor's loop and must not format it each time.
	fixedAt   net.Addr
	fixedNote string
	// ctx ends with the server (stop); binding is set while bindLater
	// retries in the background, stopped once stop began; binds waits for
	// the background retry.
	ctx     context.Context
	cancel  context.CancelFunc
	binding bool
	stopped bool
	binds   sync.WaitGroup

	// informed caches metaInformedCRURL. The conductor's alone: read by
	// announceIfMoved before the conductor starts, then written by
	// noteInformed from the conductor's sessions.
	informed string
}

// newConnReqs makes the connection-request side; nothing listens until
// start.
func newConnReqs(opt connReqOptions) *connReqs {
	c := &connReqs{opt: opt, fixed: listenFixed(opt.listen)}
	c.route = &acsRoute{
		fixed: opt.host != "",
		acsURL: func() string {
			var raw string
			opt.store.View(func(s *projections.State) { raw = s.Settings.Get(projections.SettingACSURL) })
			return raw
		},
		changed: c.republish,
	}
	return c
}

// start makes and starts the connection-request server. Its secret path
// is drawn once and kept in the journal's metadata, so
// ConnectionRequestURL survives restarts. An error means there is no
// server: sync then tells the operator so, and stop does nothing more.
//
// What is journaled: accepted requests (they raise "6 CONNECTION REQUEST";
// several before the session starts still make one session, the event
// being single) and refused credentials, with the remote address — both
// rate-limited by the server. The credential-less first leg of the Digest
// handshake, stale nonces, rate-limited requests, wrong paths and wrong
// methods are only counted in the log: journaling each of a flood would
// wear the flash for nothing.
func (c *connReqs) start(ctx context.Context) error {
	path := ""
	if b, ok, _ := c.opt.j.GetMeta(metaCRPath); ok && connreq.ValidPath(string(b)) == nil {
		path = string(b)
	} else {
		p, err := connreq.NewPath(nil)
		if err != nil {
			return err
		}
		if err := c.opt.j.PutMeta(metaCRPath, []byte(p)); err != nil {
			return err
		}
		path = p
	}
	addr, _ := c.addr()
	log := c.opt.log
	var limited, stray atomic.Int64
	srv, err := connreq.New(connreq.Config{
		Addr: addr,
		Path: path,
		Credentials: func() (string, string) {
			var u, p string
			c.opt.store.View(func(s *projections.State) {
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
					log.Warn().Int64("count", n).Str("remote", a.Remote).Str("reason", a.Reason).Msg("stray request on the connection-request port")
				}
				return
			case connreq.ReasonRateLimited:
				if n := limited.Add(1); n == 1 || n%100 == 0 {
					log.Warn().Int64("refused", n).Str("remote", a.Remote).Msg("connection requests rate-limited (503)")
				}
				return
			}
			if a.Accepted && !c.wanted() {
				// Turned off a moment ago: the listener is being closed.
				log.Warn().Str("remote", a.Remote).Msg("connection request while connection requests are off: ignored")
				return
			}
			if _, err := c.opt.store.Append(ctx, event.ConnectionRequestReceived{Remote: a.Remote, Accepted: a.Accepted, Reason: reasonUnlessAccepted(a)}); err != nil {
				log.Error().Err(err).Msg("connection request not journaled")
				c.opt.journalErr(err)
				return
			}
			if a.Accepted {
				log.Info().Str("remote", a.Remote).Msg("connection request accepted")
				c.opt.kick()
			} else {
				log.Warn().Str("remote", a.Remote).Str("reason", a.Reason).Msg("connection request refused")
			}
		},
		Burst:    c.opt.burst,
		Interval: c.opt.interval,
		Logger:   log.With().Str("component", "connreq").Logger(),
	})
	if err != nil {
		return err
	}
	lctx, cancel := context.WithCancel(ctx)
	c.move.Lock()
	defer c.move.Unlock()
	c.srv, c.ctx, c.cancel = srv, lctx, cancel
	if !c.wanted() {
		log.Info().Msg("connection requests are off (enabled=no or HTTPConnectionRequestEnable false): not listening")
		return nil
	}
	if err := srv.Start(); err != nil {
		// The port may be held for a moment (a previous instance still
		// exiting) or by something else: keep trying rather than run
		// without connection requests until the next restart. The URL is
		// published once bound; the watcher reports the change (the
		// parameter is active-notified).
		log.Error().Err(err).Str("addr", addr).Msg("connection-request port unavailable; retrying in the background, the ACS cannot ask for sessions meanwhile")
		c.bindLater()
		return nil
	}
	c.publish()
	return nil
}

// stop ends the connection-request server for good: no background bind
// starts or goes on, and the port is closed when it returns. It must run
// before the journal closes (an accepted request or a late bind uses it).
func (c *connReqs) stop() {
	c.move.Lock()
	cancel, srv := c.cancel, c.srv
	c.move.Unlock()
	if cancel != nil {
		cancel() // ends bindLater's retries
	}
	c.move.Lock()
	c.stopped = true // no background bind starts from now on
	c.move.Unlock()
	c.binds.Wait()
	if srv != nil {
		srv.Close()
	}
}

// URL is the published ConnectionRequestURL: empty while nothing listens
// (connection requests off, port unavailable).
func (c *connReqs) URL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.url
}

// publish sets the ConnectionRequestURL from where the server listens.
// Called with move held.
func (c *connReqs) publish() {
	url := ""
	if c.srv.Addr() != nil {
		url = c.srv.URL(c.hostNow())
	}
	c.mu.Lock()
	c.url = url
	c.mu.Unlock()
}

// republish follows a new route to the ACS: the published URL's host
// changed. Before start there is nothing to publish yet.
func (c *connReqs) republish() {
	c.move.Lock()
	defer c.move.Unlock()
	if c.srv != nil {
		c.publish()
	}
}

// bindLater keeps trying, in the background, to listen for connection
// requests on the connection-request port while they are wanted and the
// server does not listen: the port was taken when the agent started, or
// when connection requests were turned on. It stops once the server
// listens, connection requests are turned off (sync tries again when they
// are turned on) or the agent stops. One runs at a time. Called with move
// held.
func (c *connReqs) bindLater() {
	if c.binding || c.stopped || c.ctx == nil || c.ctx.Err() != nil {
		return
	}
	c.binding = true
	c.binds.Add(1)
	go func() {
		defer c.binds.Done()
		b := backoff.NewExponentialBackOff()
		b.InitialInterval, b.MaxInterval, b.MaxElapsedTime = time.Second, 5*time.Minute, 0
		bind := func() error {
			c.move.Lock()
			defer c.move.Unlock()
			if c.ctx.Err() != nil || !c.wanted() || c.srv.Addr() != nil {
				// Stopping, turned off meanwhile, or listening already (a
				// changed port bound by sync). Cleared under the same
				// lock: a sync that fails to bind next starts a new one.
				c.binding = false
				return nil
			}
			addr, _ := c.addr() // the setting may have changed meanwhile
			if err := c.srv.Rebind(addr); err != nil {
				return err
			}
			c.binding = false
			c.tried, c.notice = "", ""
			c.publish()
			c.opt.log.Info().Str("addr", c.srv.Addr().String()).Msg("connection-request port bound")
			return nil
		}
		backoff.Retry(bind, backoff.WithContext(b, c.ctx)) // ends with nil, or when the agent stops
	}()
}

// wanted: connection requests are accepted only while CWMP is enabled
// (EnableCWMP, the operator's enabled) and HTTPConnectionRequestEnable is
// true (digest D§13.1, D§14: false empties the URL and closes the port).
func (c *connReqs) wanted() bool {
	want := true
	c.opt.store.View(func(s *projections.State) {
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

// paramCRURL is the forced-inform parameter the ACS calls back on.
const paramCRURL = "Device.ManagementServer.ConnectionRequestURL"

// listenFixed: --connreq-listen names a port, so the setting does not
// move the listener. Worked out once, in newConnReqs: the flag does not
// change, and sync asks on every turn of the conductor's loop, where
// SplitHostPort's error for a host alone or no flag at all (the default)
// would be an allocation each time.
func listenFixed(listen string) bool {
	_, p, err := net.SplitHostPort(listen)
	return err == nil && p != ""
}

// portWanted is connection-request-port as a number (-1 when it is not
// one): what addr would listen on, without building the address.
func (c *connReqs) portWanted() int {
	port := -1
	c.opt.store.View(func(s *projections.State) {
		v := s.Settings.Get(projections.SettingConnectionRequestPort)
		if v == "" {
			port = 7547
		} else if n, err := strconv.Atoi(v); err == nil {
			port = n
		}
	})
	return port
}

// addr is where connection requests are listened for: --connreq-listen
// when it names a port (fixed: true), else its host (all addresses
// without it) with the connection-request-port setting.
func (c *connReqs) addr() (addr string, fixed bool) {
	var port string
	c.opt.store.View(func(s *projections.State) {
		port = s.Settings.Get(projections.SettingConnectionRequestPort)
	})
	if port == "" {
		port = "7547"
	}
	host := c.opt.listen
	if h, p, err := net.SplitHostPort(c.opt.listen); err == nil {
		if p != "" {
			return c.opt.listen, true
		}
		host = h
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), port), false
}

// forgetFailedBind lets the next sync try again an address a bind failed
// on: the operator set the port again after freeing it.
func (c *connReqs) forgetFailedBind() {
	c.move.Lock()
	c.tried, c.notice = "", ""
	c.move.Unlock()
}

// sync makes the connection-request server match the state: not listening
// while connection requests are off, else listening on the
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
func (c *connReqs) sync() string {
	c.move.Lock()
	defer c.move.Unlock()
	if c.srv == nil {
		return "the connection-request server is not running; connection-request-port applies when cwmpd restarts"
	}
	if c.stopped {
		return "" // the agent is stopping: nothing may listen again
	}
	if !c.wanted() {
		c.tried, c.notice = "", ""
		if c.srv.Addr() != nil {
			c.srv.Unbind()
			c.publish()
			c.opt.log.Info().Msg("connection requests turned off: not listening")
		}
		return ""
	}
	// The conductor asks on every turn of its loop, a few times a
	// session: when nothing moved, the answer costs no allocation.
	cur := c.srv.Addr()
	if cur != nil {
		if c.fixed {
			if cur != c.fixedAt {
				c.fixedAt = cur
				c.fixedNote = fmt.Sprintf("connection requests stay on %s (--connreq-listen names the port); connection-request-port applies without it", cur)
			}
			return c.fixedNote
		}
		if a, ok := cur.(*net.TCPAddr); ok && a.Port == c.portWanted() {
			c.tried, c.notice = "", ""
			return ""
		}
	}
	addr, _ := c.addr()
	if addr == c.tried {
		return c.notice
	}
	c.tried = addr
	if err := c.srv.Rebind(addr); err != nil {
		c.opt.log.Error().Err(err).Str("addr", addr).Msg("connection-request port not bound")
		if cur == nil {
			// Not listening at all: keep trying, as at start, rather than
			// leave the ACS unable to reach the device until a restart.
			c.bindLater()
			c.notice = fmt.Sprintf("%s cannot be listened on (%v); cwmpd keeps trying, and connection requests are off until it can", addr, errors.Unwrap(err))
			return c.notice
		}
		c.notice = fmt.Sprintf("connection-request-port saved, but %s cannot be listened on (%v); connection requests stay on %s until cwmpd restarts, or until the port is free and set again", addr, errors.Unwrap(err), cur)
		return c.notice
	}
	c.notice = ""
	c.publish()
	c.opt.log.Info().Str("addr", addr).Msg("connection-request server listening")
	return ""
}

func reasonUnlessAccepted(a connreq.Attempt) string {
	if a.Accepted {
		return ""
	}
	return a.Reason
}

// hostNow is the host the ConnectionRequestURL names: --connreq-host,
// else the local address of the route to the ACS (the address the ACS
// sees the device come from, without NAT), else the first non-loopback
// IPv4. A router has several addresses (LAN, WAN, management VLAN), and
// its WAN one changes with DHCP or PPP: the route is what the ACS can
// reach.
func (c *connReqs) hostNow() string {
	if c.opt.host != "" {
		return c.opt.host
	}
	if local := c.route.localAddr(); local != "" {
		return local
	}
	return firstIPv4()
}

// refreshRoute looks for a new route to the ACS (acsRoute.refresh); a
// new local address moves the ConnectionRequestURL. Called at start, at
// every poll and before every session, so that an Inform names the route
// to the ACS it goes to.
func (c *connReqs) refreshRoute(ctx context.Context) { c.route.refresh(ctx) }

// acsDialer dials the ACS for a session, noting the route its connection
// takes (acsRoute.dialer).
func (c *connReqs) acsDialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	return c.route.dialer()
}

// noteInformed keeps the ConnectionRequestURL of an Inform the ACS
// acknowledged, for a later restart of the agent alone to compare with.
// Written only when it changes: not a write per session. Conductor only.
func (c *connReqs) noteInformed(params []soap.ParameterValueStruct) {
	for _, p := range params {
		if p.Name != paramCRURL || p.Value == c.informed {
			continue
		}
		if err := c.opt.j.PutMeta(metaInformedCRURL, []byte(p.Value)); err != nil {
			c.opt.log.Warn().Err(err).Msg("informed ConnectionRequestURL not kept")
			return
		}
		c.informed = p.Value
	}
}

// announceIfMoved raises an active VALUE CHANGE of ConnectionRequestURL
// (forced active notification) when the agent, restarted without a boot
// and so without an Inform of its own, listens on a URL the ACS has not
// been told: an address that changed while it was down, another port.
// With no URL kept (no Inform of this boot acknowledged) it announces the
// URL, moved or not: the journal does not hold what an Inform carried
// (docs/decisions.md). Called once, after start and before the conductor
// runs.
func (c *connReqs) announceIfMoved(ctx context.Context) {
	b, _, _ := c.opt.j.GetMeta(metaInformedCRURL)
	c.informed = string(b)
	now := c.URL()
	if now == "" || now == c.informed {
		return
	}
	if _, err := c.opt.store.Append(ctx, event.ValueChanged{Active: true, Changes: []event.ParamValue{
		{Name: paramCRURL, Value: now, Type: "string"}}}); err != nil {
		c.opt.log.Error().Err(err).Msg("ConnectionRequestURL change not journaled")
		c.opt.journalErr(err)
	}
}
