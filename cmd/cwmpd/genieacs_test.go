package main

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/soap"
)

// genieACS is an ACS that answers the way GenieACS 1.2 does, reconstructed
// from its source (lib/cwmp.ts, lib/soap.ts, lib/session.ts, lib/auth.ts,
// lib/connection-request.ts; see docs/genieacs.md), not from acsim. It is
// not a strict ACS: it is as lenient as GenieACS where GenieACS is, and
// exactly as picky where GenieACS is (a Digest nonce bound to the TCP
// connection, the session found by socket or by its cookie, a CPE request
// in the wrong state answered "400 Bad session state", the ID of each
// response compared with the request's). What it sends comes from the
// envelope builders below, whose output is pinned byte for byte by the
// files in testdata/genieacs.
type genieACS struct {
	t   *testing.T
	srv *httptest.Server
	fs  *httptest.Server // genieacs-fs: GET /<file name>
	// auth is cwmp.auth = AUTH(user, pass); nil is GenieACS's default, no
	// CPE authentication at all.
	auth *[2]string

	mu       sync.Mutex
	sessions map[string]*genieSession // by cookie, for a session that moves to a new connection
	queue    []genieRPC               // due tasks: the next session takes them all
	later    []genieRPC               // tasks for the session after the next
	informs  []genieInform
	tcs      []*soap.TransferComplete
	ended    int // sessions ended with the 204
	errs     []string
	posts    []geniePost
	files    map[string][]byte
	// dropAfter closes the TCP connection after the response to the ACS
	// request with this ID, as a worker restart or the socket timeout does.
	dropAfter string
	cur       *genieSession // the session whose POST is being answered
}

type genieInform struct {
	version  string    // the namespace GenieACS answers in
	deviceID [3]string // OUI, ProductClass, SerialNumber of DeviceId
	// sessionTimeout: the Inform had the schema's SessionTimeout header,
	// which GenieACS does not see (it looks for "sessionTimeout").
	sessionTimeout bool
	events         []string
	params         map[string]string
	id             string
}

type geniePost struct {
	conn   int    // connection number
	method string // local name of the body's first element, "" for an empty POST
	status int
	auth   bool // carried an Authorization header
	cookie string
}

// genieRPC is one ACS request of a task or provision. build makes the
// body (the envelope comes from genieEnvelope); check judges the CPE's
// answer, which GenieACS decodes by local names.
type genieRPC struct {
	id    string
	build func(g *genieACS) string
	check func(g *genieACS, resp *genieEl) error
}

type genieSession struct {
	id        string
	state     int // 0 before the InformResponse, 1 CPE's turn, 2 ACS's turn
	authState int // 0 not yet, 1 challenged, 2 authenticated
	version   string
	rpcs      []genieRPC
	cur       *genieRPC
	deviceNS  string
}

// genieConn is what GenieACS keeps per socket: the nonce of its challenge
// and the session last answered on it.
type genieConn struct {
	n     int
	nonce string
	sess  *genieSession
	raw   net.Conn
}

type genieConnKey struct{}

const genieServer = "GenieACS/1.2.13+240606fc3d"

// newGenieACS starts the ACS on loopback, over TLS (httptest's own
// certificate, see caFile) when tls is set, as CWMP_SSL_CERT does.
func newGenieACS(t *testing.T, auth *[2]string, tls bool) *genieACS {
	g := &genieACS{t: t, auth: auth, sessions: map[string]*genieSession{}, files: map[string][]byte{}}
	var conns int
	var cmu sync.Mutex
	g.srv = httptest.NewUnstartedServer(http.HandlerFunc(g.serve))
	g.srv.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		cmu.Lock()
		conns++
		n := conns
		cmu.Unlock()
		return context.WithValue(ctx, genieConnKey{}, &genieConn{n: n, raw: c})
	}
	if tls {
		g.srv.StartTLS()
	} else {
		g.srv.Start()
	}
	t.Cleanup(g.srv.Close)
	g.fs = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		data, ok := g.files[strings.TrimPrefix(r.URL.Path, "/")]
		g.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(data)
	}))
	t.Cleanup(g.fs.Close)
	return g
}

func (g *genieACS) URL() string { return g.srv.URL + "/" }

// caFile writes the TLS server's certificate for the agent's
// ca-certificate setting.
func (g *genieACS) caFile(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "genieacs-ca.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: g.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// add queues tasks for the next session.
func (g *genieACS) add(rpcs ...genieRPC) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.queue = append(g.queue, rpcs...)
}

// addLater queues tasks for the session after the next one.
func (g *genieACS) addLater(rpcs ...genieRPC) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.later = append(g.later, rpcs...)
}

func (g *genieACS) errorf(format string, a ...any) {
	g.errs = append(g.errs, fmt.Sprintf(format, a...))
}

func (g *genieACS) errors() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.errs...)
}

func (g *genieACS) endedSessions() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ended
}

func (g *genieACS) lastInform() genieInform {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.informs) == 0 {
		return genieInform{}
	}
	return g.informs[len(g.informs)-1]
}

func (g *genieACS) waitEnded(t *testing.T, n int, a *agent) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if g.endedSessions() >= n {
			return
		}
	}
	t.Fatalf("%d sessions ended, want %d; ACS errors %v\nagent log:\n%s", g.endedSessions(), n, g.errors(), a.logs())
}

// reply writes a response as lib/cwmp.ts writeResponse does: Server and
// SOAPServer headers, Content-Length, never chunked.
func (g *genieACS) reply(w http.ResponseWriter, code int, headers map[string]string, body string) {
	h := w.Header()
	h.Set("Server", genieServer)
	h.Set("SOAPServer", genieServer)
	for k, v := range headers {
		h.Set(k, v)
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(code)
	io.WriteString(w, body)
}

func (g *genieACS) plain(w http.ResponseWriter, code int, headers map[string]string, body string) {
	for k, v := range headers {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(code)
	io.WriteString(w, body)
}

func (g *genieACS) serve(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	gc := r.Context().Value(genieConnKey{}).(*genieConn)
	post := geniePost{conn: gc.n, auth: r.Header.Get("Authorization") != ""}
	defer func() { g.posts = append(g.posts, post) }()
	if r.Method != http.MethodPost {
		post.status = 405
		g.plain(w, 405, map[string]string{"Allow": "POST", "Connection": "close"}, "405 Method Not Allowed")
		return
	}
	// GenieACS's cookie regular expression: "session" among ';' or ','
	// separated pairs, quotes allowed.
	for _, part := range strings.FieldsFunc(r.Header.Get("Cookie"), func(c rune) bool { return c == ';' || c == ',' }) {
		if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok && strings.TrimSpace(k) == "session" {
			post.cookie = strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	sess := gc.sess
	gc.sess = nil
	if sess != nil && sess.id != post.cookie && sess.state != 0 {
		g.errorf("POST %d: session cookie %q, session %q", len(g.posts), post.cookie, sess.id)
		post.status = 400
		g.plain(w, 400, map[string]string{"Connection": "close"}, "Invalid session")
		return
	}
	env, err := parseGenie(body)
	if err != nil {
		g.errorf("XML parse error: %v", err)
		post.status = 400
		g.plain(w, 400, map[string]string{"Connection": "close"}, err.Error())
		return
	}
	method := ""
	if env != nil {
		method = env.method().name()
	}
	post.method = method
	if sess == nil && post.cookie != "" && method != "Inform" {
		// A new connection: the session comes back from the cache and
		// must authenticate again.
		if s, ok := g.sessions[post.cookie]; ok {
			sess = s
			if sess.authState != 1 {
				sess.authState = 0
			}
		}
	}
	if sess == nil {
		if method != "Inform" {
			g.errorf("POST %d (%s) outside a session (cookie %q)", len(g.posts), method, post.cookie)
			post.status = 400
			g.plain(w, 400, map[string]string{"Connection": "close"}, "Invalid session")
			return
		}
		sess = &genieSession{id: randHex(8)}
	}
	g.cur = sess
	post.status = g.process(w, r, gc, sess, env, body)
	g.cur = nil
}

// then puts ACS requests next in the current session: a check calls it,
// as GenieACS follows a GetParameterNames with the GetParameterValues of
// what it found, or an AddObject with the values of the new instance.
func (g *genieACS) then(rpcs ...genieRPC) {
	g.cur.rpcs = append(append([]genieRPC(nil), rpcs...), g.cur.rpcs...)
}

// process is lib/cwmp.ts processRequest.
func (g *genieACS) process(w http.ResponseWriter, r *http.Request, gc *genieConn, sess *genieSession, env *genieEl, body []byte) int {
	method := ""
	if env != nil {
		method = env.method().name()
	}
	badState := func() int {
		g.errorf("bad session state: %s in state %d", orEmpty(method), sess.state)
		g.plain(w, 400, map[string]string{"Connection": "close"}, "Bad session state")
		delete(g.sessions, sess.id)
		return 400
	}
	if sess.state == 0 {
		if method != "Inform" {
			return badState()
		}
		if !g.authenticate(r, gc, body) {
			return g.unauthorized(w, r, gc, sess)
		}
		inf, err := g.inform(env)
		if err != nil {
			g.errorf("Inform: %v", err)
			g.plain(w, 400, map[string]string{"Connection": "close"}, err.Error())
			return 400
		}
		sess.version, sess.state, sess.authState = inf.version, 1, 2
		sess.rpcs, g.queue, g.later = g.queue, g.later, nil
		g.informs = append(g.informs, inf)
		g.sessions[sess.id] = sess
		gc.sess = sess
		g.reply(w, 200, map[string]string{"Content-Type": `text/xml; charset="utf-8"`, "Set-Cookie": "session=" + sess.id},
			genieEnvelope(sess.version, inf.id, genieInformResponse()))
		return 200
	}
	if sess.authState != 2 {
		if !g.authenticate(r, gc, body) {
			return g.unauthorized(w, r, gc, sess)
		}
		sess.authState = 2
	}
	switch {
	case method == "TransferComplete" || method == "GetRPCMethods":
		if sess.state != 1 {
			return badState()
		}
		if method == "TransferComplete" {
			m, err := soap.Decode(strings.NewReader(string(body)), 0)
			if err != nil {
				g.errorf("TransferComplete: %v", err)
			} else {
				g.tcs = append(g.tcs, m.Body.(*soap.TransferComplete))
			}
		}
		resp := genieTransferCompleteResponse()
		if method == "GetRPCMethods" {
			resp = genieGetRPCMethodsResponse("Inform", "GetRPCMethods", "TransferComplete")
		}
		gc.sess = sess
		g.reply(w, 200, map[string]string{"Content-Type": `text/xml; charset="utf-8"`}, genieEnvelope(sess.version, env.header("ID"), resp))
		return 200
	case method == "Inform" || method == "AutonomousTransferComplete" || method == "Kicked" || method == "RequestDownload":
		if sess.state != 1 || method == "Inform" {
			return badState()
		}
		g.errorf("CPE request %s: ACS method not supported", method)
		g.plain(w, 500, map[string]string{"Connection": "close"}, "Error: ACS method not supported")
		return 500
	case method == "":
		// The empty POST: the ACS's turn.
		if sess.state != 1 {
			return badState()
		}
		sess.state = 2
	default:
		// A response or a fault to the ACS's request.
		if sess.state != 2 {
			return badState()
		}
		cur := sess.cur
		sess.cur = nil
		if cur == nil {
			g.errorf("%s without a request", method)
		} else {
			if id := env.header("ID"); id != cur.id {
				g.errorf("%s: Request ID not recognized (%q, sent %q)", method, id, cur.id)
			}
			if err := cur.check(g, env.method()); err != nil {
				g.errorf("response to %s: %v", cur.id, err)
			}
		}
	}
	if len(sess.rpcs) == 0 {
		g.ended++
		delete(g.sessions, sess.id)
		g.reply(w, 204, map[string]string{"Connection": "close"}, "")
		return 204
	}
	next := sess.rpcs[0]
	sess.rpcs = sess.rpcs[1:]
	sess.cur = &next
	gc.sess = sess
	g.reply(w, 200, map[string]string{"Content-Type": `text/xml; charset="utf-8"`}, genieEnvelope(sess.version, next.id, next.build(g)))
	if g.dropAfter != "" && g.dropAfter == next.id {
		// GenieACS keeps the session in its cache when a socket closes;
		// the CPE comes back on a new connection with the cookie.
		g.dropAfter = ""
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		gc.sess = nil
		gc.raw.Close()
	}
	return 200
}

// authenticate is lib/cwmp.ts authenticate with cwmp.auth = AUTH(u, p):
// Basic is compared as is; Digest needs the nonce this socket was given,
// a cnonce and nc with a qop, and the MD5 response over POST and the uri
// the CPE names (the body too for auth-int). The algorithm parameter is
// not looked at.
func (g *genieACS) authenticate(r *http.Request, gc *genieConn, body []byte) bool {
	if g.auth == nil {
		return true
	}
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if h == "" {
		return false
	}
	scheme, rest, _ := strings.Cut(h, " ")
	switch scheme {
	case "Basic":
		u, p, ok := r.BasicAuth()
		return ok && u == g.auth[0] && p == g.auth[1]
	case "Digest":
		f, err := genieFields(rest)
		if err != nil {
			g.errorf("Authorization: %v", err)
			return false
		}
		if gc.nonce == "" || f["nonce"] != gc.nonce || f["qop"] != "" && (f["cnonce"] == "" || f["nc"] == "") {
			return false
		}
		return f["username"] == g.auth[0] &&
			genieDigest(g.auth[0], "GenieACS", g.auth[1], f["nonce"], "POST", f["uri"], f["qop"], body, f["cnonce"], f["nc"]) == f["response"]
	}
	return false
}

// unauthorized is lib/cwmp.ts responseUnauthorized: the first failure of a
// session gets a challenge, Basic over TLS and otherwise Digest with a
// nonce that belongs to this socket; the second a bare 401 that closes the
// connection.
func (g *genieACS) unauthorized(w http.ResponseWriter, r *http.Request, gc *genieConn, sess *genieSession) int {
	if sess.authState == 0 {
		sess.authState = 1
		gc.sess = sess
		challenge := `Basic realm="GenieACS"`
		if r.TLS == nil {
			gc.nonce = randHex(16)
			challenge = `Digest realm="GenieACS",qop="auth,auth-int",nonce="` + gc.nonce + `"`
		}
		g.plain(w, 401, map[string]string{"WWW-Authenticate": challenge}, "Unauthorized")
		return 401
	}
	g.errorf("authentication failure")
	delete(g.sessions, sess.id)
	g.plain(w, 401, map[string]string{"Connection": "close"}, "Unauthorized")
	return 401
}

// inform reads an Inform as lib/soap.ts does, with its checks: DeviceId
// with OUI and SerialNumber, every Value with an xsi:type (GenieACS 1.2.0
// to 1.2.8 throw on one without), values that parse as their type. The
// answer's version comes from the method's namespace: cwmp-1-2 is 1.2
// unless a "sessionTimeout" header (so spelt) is there.
func (g *genieACS) inform(env *genieEl) (genieInform, error) {
	m := env.method()
	inf := genieInform{id: env.header("ID"), params: map[string]string{}, sessionTimeout: env.child("Header").child("SessionTimeout") != nil}
	if inf.id == "" {
		return inf, errors.New("no cwmp:ID: GenieACS would echo \"null\"")
	}
	switch m.XMLName.Space {
	case "urn:dslforum-org:cwmp-1-0", "urn:dslforum-org:cwmp-1-1", "urn:dslforum-org:cwmp-1-2":
		inf.version = m.XMLName.Space
	case "urn:dslforum-org:cwmp-1-3":
		inf.version = m.XMLName.Space
	default:
		return inf, fmt.Errorf("Unrecognized CWMP version %q", m.XMLName.Space)
	}
	id := m.child("DeviceId")
	if id == nil || id.text("OUI") == "" || id.text("SerialNumber") == "" {
		return inf, errors.New("Missing or invalid DeviceId element")
	}
	inf.deviceID = [3]string{id.text("OUI"), id.text("ProductClass"), id.text("SerialNumber")}
	ev := m.child("Event")
	if ev == nil {
		return inf, errors.New("no Event")
	}
	for _, e := range ev.children("EventStruct") {
		inf.events = append(inf.events, e.text("EventCode"))
	}
	pl := m.child("ParameterList")
	if pl == nil {
		return inf, errors.New("no ParameterList")
	}
	vals, err := genieValues(pl)
	if err != nil {
		return inf, err
	}
	for _, v := range vals {
		inf.params[v[0]] = v[1]
	}
	return inf, nil
}

// genieValues reads a ParameterValueStruct list: each Value must have a
// type attribute, and booleans, ints and dateTimes must parse the way
// GenieACS parses them (a boolean only as true, false, 1 or 0, untrimmed).
func genieValues(list *genieEl) ([][3]string, error) {
	var out [][3]string
	for _, p := range list.children("ParameterValueStruct") {
		name := p.text("Name")
		v := p.child("Value")
		if v == nil {
			return nil, fmt.Errorf("%s: no Value", name)
		}
		typ, ok := v.attr("type")
		if !ok {
			return nil, fmt.Errorf("%s: Value without xsi:type", name)
		}
		switch typ {
		case "xsd:boolean":
			if v.Text != "true" && v.Text != "false" && v.Text != "1" && v.Text != "0" {
				return nil, fmt.Errorf("%s: Invalid value attribute %q", name, v.Text)
			}
		case "xsd:int", "xsd:unsignedInt":
			if _, err := fmt.Sscanf(v.Text, "%d", new(int64)); err != nil {
				return nil, fmt.Errorf("%s: Invalid value attribute %q", name, v.Text)
			}
		case "xsd:dateTime":
			if _, err := soap.ParseDateTime(v.Text); err != nil {
				return nil, fmt.Errorf("%s: Invalid value attribute %q", name, v.Text)
			}
		}
		out = append(out, [3]string{name, v.Text, typ})
	}
	return out, nil
}

// genieFields is lib/auth.ts parseHeaderFeilds: comma-separated name=value
// pairs, a quoted value read as a JSON string.
func genieFields(s string) (map[string]string, error) {
	out := map[string]string{}
	parts := strings.Split(s, ",")
	for len(parts) > 0 {
		part := parts[0]
		parts = parts[1:]
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			if strings.TrimSpace(part) == "" {
				continue
			}
			return nil, errors.New("Unable to parse auth header")
		}
		if strings.HasPrefix(strings.TrimLeft(value, " \t"), `"`) {
			for !(len(strings.TrimRight(value, " \t")) >= 2 && strings.HasSuffix(strings.TrimRight(value, " \t"), `"`) &&
				strings.TrimRight(value, " \t")[len(strings.TrimRight(value, " \t"))-2] != '\\') {
				if len(parts) == 0 {
					return nil, errors.New("Unable to parse auth header")
				}
				value += "," + parts[0]
				parts = parts[1:]
			}
			var v string
			if err := json.Unmarshal([]byte(strings.TrimSpace(value)), &v); err != nil {
				return nil, errors.New("Unable to parse auth header")
			}
			value = v
		} else {
			value = strings.TrimSpace(value)
		}
		out[strings.TrimSpace(name)] = value
	}
	return out, nil
}

// genieDigest is lib/auth.ts digest: always MD5.
func genieDigest(user, realm, pass, nonce, method, uri, qop string, body []byte, cnonce, nc string) string {
	h := func(s string) string { x := md5.Sum([]byte(s)); return hex.EncodeToString(x[:]) }
	ha1 := h(user + ":" + realm + ":" + pass)
	a2 := method + ":" + uri
	if qop == "auth-int" {
		a2 += ":" + h(string(body))
	}
	if qop != "" {
		return h(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":" + qop + ":" + h(a2))
	}
	return h(ha1 + ":" + nonce + ":" + h(a2))
}

// connectionRequest is lib/connection-request.ts httpConnectionRequest:
// http only, a GET without credentials, then one with the answer to the
// challenge (Basic refused, as CONNECTION_REQUEST_ALLOW_BASIC_AUTH is off
// by default), on a keep-alive agent of one socket with a 2 s socket
// timeout (CONNECTION_REQUEST_TIMEOUT). 200 and 204 are success.
func genieConnectionRequest(rawURL, user, pass string) error {
	if !strings.HasPrefix(rawURL, "http://") {
		return errors.New("Invalid connection request URL or protocol")
	}
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
	for attempt := 0; attempt < 2; attempt++ {
		res, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("Connection request error: %w", err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		switch {
		case res.StatusCode == 200 || res.StatusCode == 204:
			return nil
		case res.StatusCode == 503:
			return errors.New("Device is offline")
		case res.StatusCode != 401 || res.Header.Get("WWW-Authenticate") == "":
			return fmt.Errorf("Connection request error: Unexpected status code %d", res.StatusCode)
		case attempt == 1:
			return errors.New("Connection request error: Incorrect connection request credentials")
		}
		// Node joins repeated headers with ", " before GenieACS parses them.
		wa := strings.TrimSpace(strings.Join(res.Header.Values("WWW-Authenticate"), ", "))
		scheme, rest, _ := strings.Cut(wa, " ")
		f, err := genieFields(rest)
		if err != nil {
			return errors.New("Connection request error: Error parsing www-authenticate header")
		}
		if scheme != "Digest" {
			return fmt.Errorf("connection request: %s HTTP authentication not allowed", scheme)
		}
		u := req.URL.Path
		if req.URL.RawQuery != "" {
			u += "?" + req.URL.RawQuery
		}
		qop := f["qop"]
		if strings.Contains(qop, ",") {
			qop = "auth"
		}
		cnonce := randHex(8)
		a := `Digest username="` + user + `",realm="` + f["realm"] + `",nonce="` + f["nonce"] + `",uri="` + u + `"`
		if f["algorithm"] != "" {
			a += ",algorithm=" + f["algorithm"]
		}
		if qop != "" {
			a += ",qop=" + qop + ",nc=00000001,cnonce=\"" + cnonce + `"`
		}
		a += `,response="` + genieDigest(user, f["realm"], pass, f["nonce"], "GET", u, qop, nil, cnonce, "00000001") + `"`
		if f["opaque"] != "" {
			a += `,opaque="` + f["opaque"] + `"`
		}
		req, _ = http.NewRequest(http.MethodGet, rawURL, nil)
		req.Header.Set("Authorization", a)
	}
	return errors.New("unreachable")
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func orEmpty(s string) string {
	if s == "" {
		return "empty POST"
	}
	return s
}

// genieEl is an element as lib/xml-parser.ts gives it: local name,
// namespace, attributes, children and text.
type genieEl struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Kids    []genieEl  `xml:",any"`
	Text    string     `xml:",chardata"`
}

// parseGenie parses a POST body; nil for an empty one.
func parseGenie(body []byte) (*genieEl, error) {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, nil
	}
	var env genieEl
	if err := xml.Unmarshal(body, &env); err != nil {
		return nil, err
	}
	if env.child("Body") == nil || len(env.child("Body").Kids) == 0 {
		return nil, errors.New("no Body")
	}
	return &env, nil
}

func (e *genieEl) name() string {
	if e == nil {
		return ""
	}
	return e.XMLName.Local
}

func (e *genieEl) child(local string) *genieEl {
	if e == nil {
		return nil
	}
	for i := range e.Kids {
		if e.Kids[i].XMLName.Local == local {
			return &e.Kids[i]
		}
	}
	return nil
}

func (e *genieEl) children(local string) []*genieEl {
	var out []*genieEl
	for i := range e.Kids {
		if e.Kids[i].XMLName.Local == local {
			out = append(out, &e.Kids[i])
		}
	}
	return out
}

func (e *genieEl) text(local string) string {
	if c := e.child(local); c != nil {
		return c.Text
	}
	return ""
}

func (e *genieEl) attr(local string) (string, bool) {
	for _, a := range e.Attrs {
		if a.Name.Local == local {
			return strings.TrimSpace(a.Value), true
		}
	}
	return "", false
}

func (e *genieEl) method() *genieEl { return &e.child("Body").Kids[0] }

func (e *genieEl) header(local string) string { return e.child("Header").text(local) }

// genieDefaults writes factory settings for an agent of this ACS.
func genieDefaults(t *testing.T, acsURL string, extra ...string) string {
	return defaultsAt(t, acsURL, extra...)
}
