package acsim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	stdlog "log"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/digest"
	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/rs/zerolog"
)

// Server is a running (or ready to run) simulated ACS with its admin API
// and file server. All methods are safe for concurrent use.
type Server struct {
	cfg    Config
	log    zerolog.Logger
	schema *schemaChecker

	cwmpAuth  *authenticator
	filesAuth *authenticator

	cwmpSrv, adminSrv, filesSrv *http.Server
	cwmpLn, adminLn, filesLn    net.Listener
	connSeq                     atomic.Int64

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every state change
	closed    bool
	seq       int64 // transcript sequence
	entries   []Entry
	sessions  []*session
	byCookie  map[string]*session
	devices   map[string]*device
	queues    map[string][]queued // device key → pending RPCs; "" is the default queue
	plans     []FaultPlan
	pending   *FaultPlan // rest of a plan whose redirect was just served
	rpcSeq    int
	files     map[string][]byte
	fileFault map[string]FileFault
	fileStats map[string]*FileStats
	uploads   []*upload
}

type queued struct {
	id  string
	msg soap.Message
}

// New checks cfg and prepares a Server; Start opens the listeners.
func New(cfg Config) (*Server, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.AdminListen == "" {
		cfg.AdminListen = "127.0.0.1:0"
	}
	if cfg.FilesListen == "" {
		cfg.FilesListen = "127.0.0.1:0"
	}
	if cfg.Path == "" {
		cfg.Path = "/acs"
	}
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = soap.DefaultLimit
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 10000
	}
	if cfg.UseCWMPVersion != "" {
		if _, err := soap.ParseVersion(cfg.UseCWMPVersion); err != nil {
			return nil, fmt.Errorf("acsim: use cwmp version: %w", err)
		}
	}
	s := &Server{
		cfg: cfg, log: cfg.Logger, changed: make(chan struct{}),
		byCookie: map[string]*session{}, devices: map[string]*device{}, queues: map[string][]queued{},
		files: map[string][]byte{}, fileFault: map[string]FileFault{}, fileStats: map[string]*FileStats{},
	}
	var err error
	if s.cwmpAuth, err = newAuthenticator(cfg.Auth); err != nil {
		return nil, err
	}
	if s.filesAuth, err = newAuthenticator(cfg.FileAuth); err != nil {
		return nil, err
	}
	sc, why, err := newSchemaChecker(&s.cfg)
	if err != nil {
		return nil, err
	}
	s.schema = sc
	if sc == nil {
		s.log.Warn().Str("reason", why).Msg("acsim: CPE bodies are checked by the codec only")
	}
	return s, nil
}

// SchemaValidation reports whether CPE bodies are validated with xmllint.
func (s *Server) SchemaValidation() bool { return s.schema != nil }

// Start opens the three listeners and serves them in the background.
func (s *Server) Start() error {
	listen := func(addr string) (net.Listener, error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("acsim: listen %s: %w", addr, err)
		}
		return ln, nil
	}
	var err error
	if s.cwmpLn, err = listen(s.cfg.Listen); err != nil {
		return err
	}
	if s.adminLn, err = listen(s.cfg.AdminListen); err != nil {
		s.cwmpLn.Close()
		return err
	}
	if s.filesLn, err = listen(s.cfg.FilesListen); err != nil {
		s.cwmpLn.Close()
		s.adminLn.Close()
		return err
	}
	s.filesLn = smallSendBuffer{s.filesLn}
	cwmpLn, filesLn := s.cwmpLn, s.filesLn
	if s.cfg.TLS != nil {
		// tls.NewListener offers no ALPN, so clients stay on HTTP/1.1 as
		// CWMP requires.
		cwmpLn = tlsListener(cwmpLn, s.cfg.TLS)
		filesLn = tlsListener(filesLn, s.cfg.TLS)
	}
	s.cwmpSrv = &http.Server{
		Handler:           http.HandlerFunc(s.serveCWMP),
		ReadHeaderTimeout: 30 * time.Second,
		ConnContext:       s.connContext,
		// TLS handshake failures and the like go to our logger.
		ErrorLog: stdlog.New(s.log, "", 0),
	}
	s.adminSrv = &http.Server{Handler: s.adminHandler(), ReadHeaderTimeout: 30 * time.Second}
	s.filesSrv = &http.Server{Handler: http.HandlerFunc(s.serveFiles), ReadHeaderTimeout: 30 * time.Second}
	for _, p := range []struct {
		srv *http.Server
		ln  net.Listener
	}{{s.cwmpSrv, cwmpLn}, {s.adminSrv, s.adminLn}, {s.filesSrv, filesLn}} {
		go func() {
			if err := p.srv.Serve(p.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error().Err(err).Msg("acsim: serve")
			}
		}()
	}
	s.log.Info().Str("cwmp", s.URL()).Str("admin", s.AdminURL()).Str("files", s.FilesURL()).
		Bool("schema", s.schema != nil).Str("auth", string(s.cwmpAuth.mode)).Msg("acsim: listening")
	return nil
}

func (s *Server) scheme() string {
	if s.cfg.TLS != nil {
		return "https"
	}
	return "http"
}

// URL is the ACS URL to give the CPE.
func (s *Server) URL() string { return s.scheme() + "://" + s.cwmpLn.Addr().String() + s.cfg.Path }

// AdminURL is the base URL of the admin API.
func (s *Server) AdminURL() string { return "http://" + s.adminLn.Addr().String() }

// FilesURL is the base URL of the file server: files are under
// FilesURL()+"/files/NAME", uploads go to FilesURL()+"/upload/NAME".
func (s *Server) FilesURL() string { return s.scheme() + "://" + s.filesLn.Addr().String() }

// Close stops the listeners and drops open connections.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.notifyLocked()
	s.mu.Unlock()
	var errs []error
	for _, srv := range []*http.Server{s.cwmpSrv, s.adminSrv, s.filesSrv} {
		if srv != nil {
			errs = append(errs, srv.Close())
		}
	}
	s.schema.close()
	return errors.Join(errs...)
}

// notifyLocked wakes every waiter; they re-check their condition.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitFor blocks until cond (called with s.mu held) is true.
func (s *Server) waitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ok, closed, ch := cond(), s.closed, s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		if closed {
			return errors.New("acsim: wait: server closed")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("acsim: wait: %w", ctx.Err())
		case <-ch:
		}
	}
}

// Counts are the totals the wait helpers compare against, optionally for
// one device.
type Counts struct {
	Sessions  int `json:"sessions"`  // completed (ended by 204)
	Informs   int `json:"informs"`   // Informs accepted
	Transfers int `json:"transfers"` // TransferComplete + AutonomousTransferComplete received
	Uploads   int `json:"uploads"`   // files received by the upload endpoint
	Errors    int `json:"errors"`    // transcript entries carrying errors
}

func (s *Server) countsLocked(dev string) Counts {
	var c Counts
	for k, d := range s.devices {
		if dev != "" && k != dev {
			continue
		}
		c.Sessions += d.completed
		c.Informs += d.informs
		c.Transfers += len(d.transfers)
	}
	if dev == "" {
		c.Uploads = len(s.uploads)
	}
	for i := range s.entries {
		if len(s.entries[i].Errors) > 0 && (dev == "" || s.entries[i].Device == dev) {
			c.Errors++
		}
	}
	return c
}

// Counts returns the current totals (dev "" = all devices).
func (s *Server) Counts(dev string) Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.countsLocked(dev)
}

// WaitCounts blocks until every non-zero field of min is reached for dev
// ("" = all devices).
func (s *Server) WaitCounts(ctx context.Context, dev string, min Counts) error {
	return s.waitFor(ctx, func() bool {
		c := s.countsLocked(dev)
		return c.Sessions >= min.Sessions && c.Informs >= min.Informs && c.Transfers >= min.Transfers &&
			c.Uploads >= min.Uploads && c.Errors >= min.Errors
	})
}

// WaitSessions blocks until n sessions in total have completed.
func (s *Server) WaitSessions(ctx context.Context, n int) error {
	return s.WaitCounts(ctx, "", Counts{Sessions: n})
}

// Enqueue queues a typed ACS request for device ("" = the default queue,
// served to any device whose own queue is empty) after checking it against
// the schema's lengths and patterns. It returns the cwmp:ID it will carry.
func (s *Server) Enqueue(device string, msg soap.Message) (string, error) {
	if err := checkMessage(msg); err != nil {
		return "", err
	}
	return s.enqueue(device, "", msg), nil
}

// EnqueueUnchecked queues msg without the schema checks, to test how the
// CPE refuses a bad request. It must still be an ACS request type.
func (s *Server) EnqueueUnchecked(device string, msg soap.Message) (string, error) {
	if _, ok := acsRequests[msg.MethodName()]; !ok {
		return "", fmt.Errorf("acsim: enqueue: %w: %s is not an ACS request", ErrBadRPC, msg.MethodName())
	}
	return s.enqueue(device, "", msg), nil
}

// EnqueueRPC queues the JSON form of a request; r.Device is used when
// device is empty.
func (s *Server) EnqueueRPC(device string, r RPC) (string, error) {
	msg, err := ParseRPC(r)
	if err != nil {
		return "", err
	}
	if device == "" {
		device = r.Device
	}
	return s.enqueue(device, r.ID, msg), nil
}

func (s *Server) enqueue(device, id string, msg soap.Message) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rpcSeq++
	if id == "" {
		id = "acsim-" + strconv.Itoa(s.rpcSeq)
	}
	s.queues[device] = append(s.queues[device], queued{id: id, msg: msg})
	s.log.Debug().Str("device", device).Str("method", msg.MethodName()).Str("id", id).Msg("acsim: queued")
	s.notifyLocked()
	return id
}

// Queued reports how many requests wait for device ("" = default queue).
func (s *Server) Queued(device string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queues[device])
}

// PushFaults queues fault plans; each new session takes the next one, and
// sessions find Config.Faults when the queue is empty.
func (s *Server) PushFaults(plans ...FaultPlan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.plans = append(s.plans, plans...)
}

// nextPlanLocked picks the plan for a new session attempt.
func (s *Server) nextPlanLocked() FaultPlan {
	if s.pending != nil {
		p := *s.pending
		s.pending = nil
		return p
	}
	if len(s.plans) > 0 {
		p := s.plans[0]
		s.plans = s.plans[1:]
		return p
	}
	return s.cfg.Faults
}

// Transcript returns a copy of every recorded entry, oldest first.
func (s *Server) Transcript() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Entry(nil), s.entries...)
}

// recordLocked appends e to the transcript, stamping its sequence and time.
func (s *Server) recordLocked(e Entry) {
	s.seq++
	e.Seq = s.seq
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	s.entries = append(s.entries, e)
	// Trim in steps of a tenth so a full transcript is not copied on
	// every record.
	if over := len(s.entries) - s.cfg.MaxEntries; over > s.cfg.MaxEntries/10 {
		s.entries = append(s.entries[:0:0], s.entries[over:]...)
	}
	ev := s.log.Debug()
	if len(e.Errors) > 0 {
		ev = s.log.Warn().Strs("errors", e.Errors)
	}
	// Method, status and ids only: bodies may carry credentials.
	ev.Int64("seq", e.Seq).Str("kind", e.Kind).Str("dir", e.Direction).Str("session", e.Session).
		Str("device", e.Device).Int("status", e.Status).Str("method", e.Method).Str("path", e.Path).Msg("acsim: exchange")
	s.notifyLocked()
}

func (s *Server) record(e Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordLocked(e)
}

// Sessions lists every session attempt, oldest first.
func (s *Server) Sessions() []SessionInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SessionInfo, len(s.sessions))
	for i, ss := range s.sessions {
		out[i] = ss.info()
	}
	return out
}

// Devices lists the devices that have sent an Inform, by key.
func (s *Server) Devices() []DeviceInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]DeviceInfo, 0, len(s.devices))
	for _, d := range s.devices {
		out = append(out, d.info(len(s.queues[d.key])))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Device returns one device's record.
func (s *Server) Device(key string) (DeviceInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[key]
	if !ok {
		return DeviceInfo{}, false
	}
	return d.info(len(s.queues[key])), true
}

func randomToken() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("acsim: crypto/rand: " + err.Error()) // never fails on Linux
	}
	return hex.EncodeToString(b[:])
}

// authenticator checks one listener's credentials.
type authenticator struct {
	mode     AuthMode
	user     string
	pass     string
	realm    string
	verifier *digest.Verifier
}

func newAuthenticator(a Auth) (*authenticator, error) {
	mode, err := ParseAuthMode(string(a.Mode))
	if err != nil {
		return nil, err
	}
	au := &authenticator{mode: mode, user: a.Username, pass: a.Password, realm: a.Realm}
	if au.realm == "" {
		au.realm = "acsim"
	}
	if mode != AuthNone && (a.Username == "" || a.Password == "") {
		return nil, fmt.Errorf("acsim: auth %s needs a username and a password", mode)
	}
	if mode == AuthDigest {
		if au.verifier, err = digest.NewVerifier(digest.VerifierConfig{Realm: au.realm}); err != nil {
			return nil, fmt.Errorf("acsim: digest verifier: %w", err)
		}
	}
	return au, nil
}

// check returns "" when r may pass. Otherwise it has written the 401 and
// returns the reason; wrong is true when credentials were sent and refused
// (a missing Authorization header is just the first leg of the handshake).
func (a *authenticator) check(w http.ResponseWriter, r *http.Request) (reason string, wrong bool) {
	h := r.Header.Get("Authorization")
	switch a.mode {
	case AuthNone:
		return "", false
	case AuthBasic:
		if h == "" {
			reason = "no credentials"
			break
		}
		au, err := digest.ParseAuthorization(h)
		if err != nil {
			reason, wrong = "malformed Authorization header", true
			break
		}
		u, p, ok := au.Basic()
		if !ok || !constEq(u, a.user) || !constEq(p, a.pass) {
			reason, wrong = "wrong Basic credentials", true
			break
		}
		return "", false
	case AuthDigest:
		err := a.verifier.Verify(r.Method, r.RequestURI, h, a.user, a.pass)
		if err == nil {
			return "", false
		}
		stale := errors.Is(err, digest.ErrStale)
		w.Header().Set("WWW-Authenticate", a.verifier.Challenge(stale))
		w.WriteHeader(http.StatusUnauthorized)
		switch {
		case errors.Is(err, digest.ErrNoCredentials):
			return "no credentials", false
		case stale:
			return "stale nonce", false
		}
		// err never holds the password (cwmp/digest promises that).
		return err.Error(), true
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="`+a.realm+`"`)
	w.WriteHeader(http.StatusUnauthorized)
	return reason, wrong
}

// smallSendBuffer keeps the file server from pushing a whole file into
// kernel buffers at once, as a real network path would: its byte counters
// then count bytes the CPE actually took, which crash tests compare with
// the file sizes.
type smallSendBuffer struct{ net.Listener }

func (l smallSendBuffer) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(32 << 10)
	}
	return c, err
}
