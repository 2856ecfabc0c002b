package acsim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/soap"
)

const (
	dirIn  = "cpe->acs"
	dirOut = "acs->cpe"

	cookieName = "acsim_session"
)

// acsMethods is what GetRPCMethods from the CPE is answered with.
var acsMethods = []string{"Inform", "GetRPCMethods", "TransferComplete", "AutonomousTransferComplete", "RequestDownload"}

type connKey struct{}

// connState is per TCP connection; sess is guarded by Server.mu. It lets a
// session continue on a kept-alive connection when cookies are optional,
// and tells a missing cookie apart from a new session.
type connState struct {
	id   int64
	sess *session
}

func (s *Server) connContext(ctx context.Context, _ net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, &connState{id: s.connSeq.Add(1)})
}

// reply is the answer decided under the lock and written after it.
type reply struct {
	status  int
	body    []byte
	header  http.Header
	cookies []*http.Cookie
	abort   bool // drop the connection instead
}

// exchange carries one CPE POST through the handler.
type exchange struct {
	r      *http.Request
	cs     *connState
	sess   *session
	body   []byte
	env    *soap.Envelope
	derr   error
	schema []string // xmllint complaints
	raw    rawFacts // what the codec does not keep, see scanRaw
	in     Entry
	plan   FaultPlan // the session's plan and this post's number,
	idx    int       // copied under the lock
}

func (s *Server) serveCWMP(w http.ResponseWriter, r *http.Request) {
	cs, _ := r.Context().Value(connKey{}).(*connState)
	if cs == nil {
		cs = &connState{}
	}
	x := &exchange{r: r, cs: cs, in: Entry{Kind: "cwmp", Direction: dirIn, Conn: cs.id, HTTPMethod: r.Method, Path: r.URL.Path}}
	if r.Method != http.MethodPost {
		x.in.Errors = append(x.in.Errors, "CWMP messages must be POSTed, got "+r.Method)
		s.finish(w, x, reply{status: http.StatusMethodNotAllowed, header: http.Header{"Allow": {"POST"}}})
		return
	}
	if reason, wrong := s.cwmpAuth.check(w, r); reason != "" {
		if wrong {
			x.in.Errors = append(x.in.Errors, "authentication failed: "+reason)
		} else {
			x.in.Notes = append(x.in.Notes, "challenged: "+reason)
		}
		s.mu.Lock()
		s.recordLocked(x.in)
		s.recordLocked(Entry{Kind: "cwmp", Direction: dirOut, Conn: cs.id, Path: r.URL.Path, Status: http.StatusUnauthorized})
		s.mu.Unlock()
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, s.cfg.BodyLimit+1))
	if err != nil {
		x.in.Errors = append(x.in.Errors, "reading the body: "+err.Error())
		s.record(x.in)
		return
	}
	x.body = body
	x.in.Raw = string(body)

	s.mu.Lock()
	rep, done := s.beginLocked(x)
	s.mu.Unlock()
	if done {
		s.write(w, rep)
		return
	}

	plan, idx := x.plan, x.idx
	if plan.Delay > 0 && (plan.DelayAt == 0 || plan.DelayAt == idx) {
		x.in.Notes = append(x.in.Notes, "answer delayed "+time.Duration(plan.Delay).String()+" by fault plan")
		t := time.NewTimer(time.Duration(plan.Delay))
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}

	if len(body) > 0 && int64(len(body)) <= s.cfg.BodyLimit {
		x.env, x.derr = soap.Decode(bytes.NewReader(body), s.cfg.BodyLimit)
		if x.derr == nil && x.env.Body != nil && s.schema != nil && standardNamespace(x.env) {
			v := s.schemaVersion(x)
			errs, err := s.schema.validate(r.Context(), v, body)
			if err != nil {
				errs = []string{"schema check could not run: " + err.Error()}
			}
			x.schema = errs
		}
	}

	s.mu.Lock()
	rep = s.handleLocked(x)
	s.mu.Unlock()
	s.write(w, rep)
}

// finish records an exchange outside any session and writes its reply.
func (s *Server) finish(w http.ResponseWriter, x *exchange, rep reply) {
	s.mu.Lock()
	s.recordLocked(x.in)
	s.recordOutLocked(x, rep, "", "", nil)
	s.mu.Unlock()
	s.write(w, rep)
}

func (s *Server) write(w http.ResponseWriter, rep reply) {
	if rep.abort {
		// The server closes the connection without writing a response.
		panic(http.ErrAbortHandler)
	}
	for k, v := range rep.header {
		w.Header()[k] = v
	}
	for _, c := range rep.cookies {
		http.SetCookie(w, c)
	}
	if len(rep.body) > 0 {
		w.Header().Set("Content-Type", `text/xml; charset="utf-8"`)
		w.Header().Set("Content-Length", strconv.Itoa(len(rep.body)))
	}
	w.WriteHeader(rep.status)
	w.Write(rep.body)
}

// beginLocked finds or opens the session and applies the fault plan's
// transport-level faults. done means rep is the whole answer.
func (s *Server) beginLocked(x *exchange) (rep reply, done bool) {
	r, cs := x.r, x.cs
	var cookieErr string
	if c, err := r.Cookie(cookieName); err == nil {
		if ss := s.byCookie[c.Value]; ss != nil && ss.state == StateOpen {
			x.sess = ss
		} else if cs.sess != nil && cs.sess.state == StateOpen {
			x.sess, cookieErr = cs.sess, "unknown session cookie on a connection with an open session"
		}
	} else if cs.sess != nil && cs.sess.state == StateOpen {
		x.sess = cs.sess
		if !s.cfg.CookieOptional {
			cookieErr = "session cookie " + cookieName + " missing"
		}
	}
	if x.sess == nil {
		x.sess = &session{id: "s" + strconv.Itoa(len(s.sessions)+1), conn: cs.id, plan: s.nextPlanLocked(),
			state: StateOpen, started: time.Now().UTC()}
		s.sessions = append(s.sessions, x.sess)
	}
	ss := x.sess
	cs.sess = ss
	ss.posts++
	idx := ss.posts
	x.in.Session, x.in.Device = ss.id, ss.device
	plan := ss.plan
	x.plan, x.idx = plan, idx
	if cookieErr != "" {
		rep = s.violationLocked(x, cookieErr, soap.FaultACSInvalidArguments)
		return rep, true
	}
	if idx == 1 && plan.Redirect != "" && r.URL.Path != plan.Redirect {
		rest := plan
		rest.Redirect = ""
		s.pending = &rest
		ss.state, ss.ended, ss.reason = StateRedirected, time.Now().UTC(), "redirected to "+plan.Redirect
		x.in.Notes = append(x.in.Notes, "redirected by fault plan")
		loc := s.scheme() + "://" + r.Host + plan.Redirect
		rep = reply{status: http.StatusTemporaryRedirect, header: http.Header{"Location": {loc}}}
		s.recordLocked(x.in)
		s.recordOutLocked(x, rep, "", "", []string{"Location: " + loc})
		return rep, true
	}
	if idx == 1 && (plan.DropAt == 1 || plan.HTTPStatus != 0 && plan.HTTPStatusAt <= 1) {
		s.peekInformLocked(x)
	}
	if plan.DropAt == idx {
		x.in.Notes = append(x.in.Notes, "connection dropped by fault plan")
		s.failLocked(ss, "connection dropped by fault plan at post "+strconv.Itoa(idx))
		s.recordLocked(x.in)
		return reply{abort: true}, true
	}
	if plan.HTTPStatus != 0 && (plan.HTTPStatusAt == idx || plan.HTTPStatusAt == 0 && idx == 1) {
		x.in.Notes = append(x.in.Notes, "answered HTTP "+strconv.Itoa(plan.HTTPStatus)+" by fault plan")
		// A redirect or an authentication challenge may be followed within
		// the same session attempt: not a failure the CPE must count.
		ss.unsure = plan.HTTPStatus < 400 || plan.HTTPStatus == http.StatusUnauthorized || plan.HTTPStatus == http.StatusProxyAuthRequired
		s.failLocked(ss, "HTTP "+strconv.Itoa(plan.HTTPStatus)+" by fault plan at post "+strconv.Itoa(idx))
		rep = reply{status: plan.HTTPStatus}
		s.recordLocked(x.in)
		s.recordOutLocked(x, rep, "", "", nil)
		return rep, true
	}
	return reply{}, false
}

func standardNamespace(env *soap.Envelope) bool {
	return env.Version == soap.V1_0 || env.Version == soap.V1_1 || env.Version == soap.V1_2
}

// schemaVersion picks the schema for x's body: the session's negotiated
// version; for the Inform, which is sent before any negotiation, the
// CPE's own version as its headers declare it.
func (s *Server) schemaVersion(x *exchange) soap.Version {
	s.mu.Lock()
	spoken := x.sess.spoken
	s.mu.Unlock()
	if spoken != 0 {
		return spoken
	}
	return cpeVersion(x.env)
}

// cpeVersion is the highest version env's sender speaks (D§5): the
// namespace's for 1.0/1.1; within the shared 1.2 namespace the highest
// SupportedCWMPVersions entry, else 1.3 when it sent SessionTimeout (1.3's
// addition), else 1.2.
func cpeVersion(env *soap.Envelope) soap.Version {
	if env.Version != soap.V1_2 {
		return env.Version
	}
	best := soap.Version(0)
	for _, p := range strings.Split(env.Header.SupportedCWMPVersions, ",") {
		if v, err := soap.ParseVersion(p); err == nil && v > best {
			best = v
		}
	}
	if best >= soap.V1_2 {
		return best
	}
	if env.Header.SessionTimeout != 0 {
		return soap.V1_3
	}
	return soap.V1_2
}

// useVersion reports whether the InformResponse to env carries
// UseCWMPVersion: only to a CPE that announced SupportedCWMPVersions,
// since the header is mustUnderstand="1" and an older CPE would have to
// fault it.
func (s *Server) useVersion(env *soap.Envelope) bool {
	return s.cfg.UseCWMPVersion != "" && env.Version == soap.V1_2 && env.Header.SupportedCWMPVersions != ""
}

// negotiate returns the version a session opened by env speaks after the
// InformResponse: the UseCWMPVersion sent, else the CPE's own.
func (s *Server) negotiate(env *soap.Envelope) soap.Version {
	if s.useVersion(env) {
		v, _ := soap.ParseVersion(s.cfg.UseCWMPVersion)
		return v
	}
	return cpeVersion(env)
}

// failLocked ends an open session as failed.
func (s *Server) failLocked(ss *session, reason string) {
	if ss.state != StateOpen {
		return
	}
	ss.state, ss.reason, ss.ended = StateFailed, reason, time.Now().UTC()
	delete(s.byCookie, ss.cookie)
	if s.cfg.RetryUnanswered {
		s.requeueLocked(ss)
	}
	s.notifyLocked()
}

// requeueLocked puts a request that never got its answer back at the head
// of its queue, with its ID, as an ACS retries a task whose session died
// (the CPE crashed, rebooted or lost the connection): the answer, when it
// comes, is recorded under the ID the RPC was queued with.
func (s *Server) requeueLocked(ss *session) {
	if ss.out == nil || ss.out.msg == nil {
		return
	}
	s.queues[ss.out.queue] = append([]queued{{id: ss.out.id, msg: ss.out.msg}}, s.queues[ss.out.queue]...)
	ss.errors = append(ss.errors, ss.out.method+" (ID "+ss.out.id+") got no answer: queued again")
	ss.out = nil
}

// violationLocked records a protocol violation, fails the session and
// answers with a CWMP fault (the session is over either way).
func (s *Server) violationLocked(x *exchange, msg string, code soap.FaultCode) reply {
	x.in.Errors = append(x.in.Errors, msg)
	if x.sess != nil {
		x.sess.errors = append(x.sess.errors, msg)
		s.failLocked(x.sess, msg)
	}
	return s.faultLocked(x, soap.NewFault(code, msg))
}

// faultLocked records x.in and answers f in HTTP 500, as SOAP 1.1 §6.2
// wants for a fault.
func (s *Server) faultLocked(x *exchange, f *soap.Fault) reply {
	// The session's version once the Inform fixed it, else the
	// envelope's own, else 1.2.
	v := soap.V1_2
	if x.sess != nil && x.sess.version != 0 {
		v = x.sess.version
	} else if x.env != nil && standardNamespace(x.env) {
		v = x.env.Version
	}
	id := ""
	if x.env != nil {
		id = x.env.Header.ID
	}
	return s.envelopeLocked(x, http.StatusInternalServerError, &soap.Envelope{Version: v, Header: soap.Header{ID: id}, Body: f}, nil)
}

// envelopeLocked records x.in and the outgoing envelope, and builds the reply.
func (s *Server) envelopeLocked(x *exchange, status int, env *soap.Envelope, cookies []*http.Cookie) reply {
	var buf bytes.Buffer
	if err := soap.Encode(&buf, env); err != nil {
		// Only a bug in acsim gets here: every queued message was encoded
		// once already by checkMessage or comes from acsim itself.
		x.in.Errors = append(x.in.Errors, "acsim: encode answer: "+err.Error())
		s.recordLocked(x.in)
		rep := reply{status: http.StatusInternalServerError}
		s.recordOutLocked(x, rep, "", "", nil)
		return rep
	}
	rep := reply{status: status, body: buf.Bytes(), cookies: cookies}
	s.recordLocked(x.in)
	out := Entry{Kind: "cwmp", Direction: dirOut, Session: x.in.Session, Device: x.in.Device, Conn: x.cs.id,
		Path: x.r.URL.Path, Status: status, Method: env.Body.MethodName(), ID: env.Header.ID,
		Summary: summary(env.Body), Raw: buf.String()}
	if env.Header.HoldRequests {
		out.Notes = append(out.Notes, "HoldRequests=true")
	}
	s.recordLocked(out)
	return rep
}

func (s *Server) recordOutLocked(x *exchange, rep reply, method, id string, notes []string) {
	s.recordLocked(Entry{Kind: "cwmp", Direction: dirOut, Session: x.in.Session, Device: x.in.Device, Conn: x.cs.id,
		Path: x.r.URL.Path, Status: rep.status, Method: method, ID: id, Notes: notes})
}

// handleLocked runs the session state machine on a decoded POST.
func (s *Server) handleLocked(x *exchange) reply {
	ss, r := x.sess, x.r
	if ss.state != StateOpen {
		return s.violationLocked(x, "session "+ss.id+" already ended ("+ss.reason+")", soap.FaultACSInvalidArguments)
	}
	if len(x.body) == 0 {
		return s.emptyPostLocked(x)
	}
	if int64(len(x.body)) > s.cfg.BodyLimit {
		return s.violationLocked(x, fmt.Sprintf("envelope larger than %d bytes", s.cfg.BodyLimit), soap.FaultACSResourcesExceeded)
	}
	if mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "text/xml" {
		return s.violationLocked(x, fmt.Sprintf("Content-Type %q is not text/xml", r.Header.Get("Content-Type")), soap.FaultACSInvalidArguments)
	} else if cs := params["charset"]; cs != "" && !strings.EqualFold(cs, "utf-8") {
		return s.violationLocked(x, "charset "+cs+" is not utf-8", soap.FaultACSInvalidArguments)
	}
	actions := r.Header.Values("SOAPAction")
	if len(actions) == 0 {
		return s.violationLocked(x, "SOAPAction header missing on a SOAP POST", soap.FaultACSInvalidArguments)
	}
	if x.derr != nil {
		x.in.Summary = nil
		var de *soap.DecodeError
		if errors.As(x.derr, &de) {
			x.in.Method = de.Method
			if de.SOAPCode != "" {
				msg := "undecodable envelope: " + x.derr.Error()
				x.in.Errors = append(x.in.Errors, msg)
				ss.errors = append(ss.errors, msg)
				s.failLocked(ss, msg)
				return s.faultLocked(x, &soap.Fault{Code: de.SOAPCode, String: x.derr.Error()})
			}
		}
		code := soap.FaultACSInvalidArguments
		if errors.Is(x.derr, soap.ErrUnknownMethod) {
			code = soap.FaultACSMethodNotSupported
		}
		return s.violationLocked(x, "undecodable envelope: "+x.derr.Error(), code)
	}
	env := x.env
	x.in.ID = env.Header.ID
	if env.Body == nil {
		return s.violationLocked(x, "envelope with an empty Body: an empty message must be an empty POST", soap.FaultACSInvalidArguments)
	}
	x.in.Method = env.Body.MethodName()
	x.in.Summary = summary(env.Body)
	if !standardNamespace(env) {
		return s.violationLocked(x, "non-standard cwmp namespace "+env.Namespace+" (1.3 and 1.4 use urn:dslforum-org:cwmp-1-2)", soap.FaultACSInvalidArguments)
	}
	if ss.informs > 0 && env.Version != ss.version {
		return s.violationLocked(x, fmt.Sprintf("namespace %s differs from the Inform's %s", env.Namespace, ss.version.Namespace()), soap.FaultACSInvalidArguments)
	}
	if len(x.schema) > 0 {
		x.in.Errors = append(x.in.Errors, x.schema[1:]...)
		return s.violationLocked(x, x.schema[0], soap.FaultACSInvalidArguments)
	}
	isResponse := strings.HasSuffix(env.Body.MethodName(), "Response") || env.Body.MethodName() == "Fault"
	if isResponse {
		// Every SOAPAction field counts, not only the first (D§2.1).
		for _, a := range actions {
			if a != "" {
				return s.violationLocked(x, fmt.Sprintf("SOAPAction must be empty on a response or fault, got %q among %d SOAPAction header(s)", a, len(actions)), soap.FaultACSInvalidArguments)
			}
		}
	}
	x.raw = scanRaw(x.body)
	if errs := checkHeaderMU(x.raw); len(errs) > 0 {
		x.in.Errors = append(x.in.Errors, errs[1:]...)
		return s.violationLocked(x, errs[0], soap.FaultACSInvalidArguments)
	}
	if inf, ok := env.Body.(*soap.Inform); ok {
		return s.informLocked(x, inf)
	}
	if ss.informs == 0 {
		return s.violationLocked(x, "first POST of a session must carry an Inform, got "+env.Body.MethodName(), soap.FaultACSInvalidArguments)
	}
	if isResponse {
		return s.responseLocked(x)
	}
	switch env.Body.(type) {
	case *soap.TransferComplete, *soap.AutonomousTransferComplete, *soap.GetRPCMethods, *soap.RequestDownload:
		return s.cpeRequestLocked(x)
	}
	return s.violationLocked(x, env.Body.MethodName()+" is not a message a CPE sends", soap.FaultACSMethodNotSupported)
}

func (s *Server) emptyPostLocked(x *exchange) reply {
	ss, r := x.sess, x.r
	x.in.Method = ""
	switch {
	case r.ContentLength != 0 || r.Header.Get("Content-Length") != "0":
		return s.violationLocked(x, "empty POST without Content-Length: 0", soap.FaultACSInvalidArguments)
	case len(r.Header.Values("Content-Type")) > 0:
		return s.violationLocked(x, "empty POST with a Content-Type header", soap.FaultACSInvalidArguments)
	case len(r.Header.Values("SOAPAction")) > 0:
		return s.violationLocked(x, "empty POST with a SOAPAction header", soap.FaultACSInvalidArguments)
	case ss.informs == 0:
		return s.violationLocked(x, "first POST of a session must carry an Inform, got an empty POST", soap.FaultACSInvalidArguments)
	case ss.out != nil:
		return s.violationLocked(x, fmt.Sprintf("empty POST while %s (ID %s) awaits its response", ss.out.method, ss.out.id), soap.FaultACSInvalidArguments)
	}
	return s.nextLocked(x)
}

func (s *Server) informLocked(x *exchange, inf *soap.Inform) reply {
	ss, env := x.sess, x.env
	if ss.informs > 0 {
		return s.violationLocked(x, "second Inform in one session", soap.FaultACSInvalidArguments)
	}
	if inf.MaxEnvelopes != soap.MaxEnvelopes {
		return s.violationLocked(x, fmt.Sprintf("Inform MaxEnvelopes is %d, must be 1", inf.MaxEnvelopes), soap.FaultACSInvalidArguments)
	}
	if len(inf.Event) > 64 { // the codec refuses this already; kept as the rule's statement
		return s.violationLocked(x, fmt.Sprintf("Inform carries %d events, at most 64 allowed", len(inf.Event)), soap.FaultACSInvalidArguments)
	}
	key := DeviceKey(inf.DeviceId)
	ss.informs++
	ss.device, ss.version, ss.spoken = key, env.Version, s.negotiate(env)
	x.in.Device = key
	for _, e := range inf.Event {
		ss.events = append(ss.events, e.EventCode)
	}
	for _, other := range s.sessions {
		if other != ss && other.device == key && other.state == StateOpen {
			other.errors = append(other.errors, "abandoned: the CPE opened "+ss.id)
			s.failLocked(other, "abandoned: the CPE opened "+ss.id)
		}
	}
	d := s.devices[key]
	if d == nil {
		d = &device{key: key}
		s.devices[key] = d
	}
	d.id, d.informs, d.last, d.lastInform = inf.DeviceId, d.informs+1, inf, time.Now().UTC()
	s.notifyLocked()
	setInformFacts(ss, inf)
	var errs []string
	ferrs, note := checkForcedParams(inf.ParameterList)
	if note != "" {
		x.in.Notes = append(x.in.Notes, note)
	}
	errs = append(errs, ferrs...)
	errs = append(errs, checkEvents(inf.Event)...)
	if msg := s.checkRetryLocked(ss); msg != "" {
		errs = append(errs, msg)
	}
	if len(errs) > 0 {
		x.in.Errors = append(x.in.Errors, errs[1:]...)
		ss.errors = append(ss.errors, errs[1:]...)
		return s.violationLocked(x, errs[0], soap.FaultACSInvalidArguments)
	}
	if code := ss.plan.InformFault; code != 0 {
		x.in.Notes = append(x.in.Notes, "Inform answered with fault "+strconv.Itoa(int(code))+" by fault plan")
		s.failLocked(ss, "Inform answered with fault "+strconv.Itoa(int(code))+" by fault plan")
		return s.faultLocked(x, soap.NewFault(soap.FaultCode(code), ""))
	}
	ss.cookie = randomToken()
	s.byCookie[ss.cookie] = ss
	ss.hold = ss.plan.HoldRequests
	h := soap.Header{ID: env.Header.ID, HoldRequests: ss.hold}
	if s.useVersion(env) {
		h.UseCWMPVersion = s.cfg.UseCWMPVersion
	}
	cookie := &http.Cookie{Name: cookieName, Value: ss.cookie, Path: "/", HttpOnly: true}
	return s.envelopeLocked(x, http.StatusOK, &soap.Envelope{Version: ss.version, Header: h, Body: &soap.InformResponse{MaxEnvelopes: 1}}, []*http.Cookie{cookie})
}

func (s *Server) cpeRequestLocked(x *exchange) reply {
	ss, env := x.sess, x.env
	if ss.hold {
		return s.violationLocked(x, env.Body.MethodName()+" sent while HoldRequests is true", soap.FaultACSInvalidArguments)
	}
	if ss.out != nil {
		return s.violationLocked(x, fmt.Sprintf("%s sent while %s (ID %s) awaits its response", env.Body.MethodName(), ss.out.method, ss.out.id), soap.FaultACSInvalidArguments)
	}
	d := s.devices[ss.device]
	var resp soap.Message
	switch m := env.Body.(type) {
	case *soap.TransferComplete:
		// D§8.1/D§11.3-11.4: a TransferComplete reports a transfer the ACS
		// requested, in a session whose Inform carries 7 TRANSFER COMPLETE.
		var errs []string
		if !hasEvent(ss.informEvents, "7 TRANSFER COMPLETE") {
			errs = append(errs, "TransferComplete in a session whose Inform lacks \"7 TRANSFER COMPLETE\" (D§8.1, D§11.3)")
		}
		if _, ok := d.requested[m.CommandKey]; !ok {
			errs = append(errs, fmt.Sprintf("TransferComplete for CommandKey %q, but acsim sent this device no Download, Upload or ScheduleDownload with that key (D§11.4)", m.CommandKey))
		}
		if len(errs) > 0 {
			x.in.Errors = append(x.in.Errors, errs[1:]...)
			ss.errors = append(ss.errors, errs[1:]...)
			return s.violationLocked(x, errs[0], soap.FaultACSInvalidArguments)
		}
		d.transfers = append(d.transfers, TransferRecord{Received: time.Now().UTC(), Session: ss.id, CommandKey: m.CommandKey,
			FaultCode: uint32(m.FaultStruct.FaultCode), FaultString: m.FaultStruct.FaultString, StartTime: m.StartTime, CompleteTime: m.CompleteTime})
		resp = &soap.TransferCompleteResponse{}
	case *soap.AutonomousTransferComplete:
		d.transfers = append(d.transfers, TransferRecord{Received: time.Now().UTC(), Session: ss.id, Autonomous: true,
			FaultCode: uint32(m.FaultStruct.FaultCode), FaultString: m.FaultStruct.FaultString, StartTime: m.StartTime,
			CompleteTime: m.CompleteTime, TransferURL: m.TransferURL})
		resp = &soap.AutonomousTransferCompleteResponse{}
	case *soap.GetRPCMethods:
		resp = &soap.GetRPCMethodsResponse{MethodList: acsMethods}
	case *soap.RequestDownload:
		resp = &soap.RequestDownloadResponse{}
	}
	s.notifyLocked()
	return s.envelopeLocked(x, http.StatusOK, &soap.Envelope{Version: ss.version, Header: soap.Header{ID: env.Header.ID}, Body: resp}, nil)
}

func (s *Server) responseLocked(x *exchange) reply {
	ss, env := x.sess, x.env
	name := env.Body.MethodName()
	if ss.out == nil {
		return s.violationLocked(x, name+" but no ACS request is outstanding", soap.FaultACSInvalidArguments)
	}
	if env.Header.ID != ss.out.id {
		return s.violationLocked(x, fmt.Sprintf("%s carries ID %q, the outstanding %s has ID %q", name, env.Header.ID, ss.out.method, ss.out.id), soap.FaultACSInvalidArguments)
	}
	if f, ok := env.Body.(*soap.Fault); ok {
		if f.Detail == nil {
			return s.violationLocked(x, "fault without a cwmp:Fault detail", soap.FaultACSInvalidArguments)
		}
		if errs := checkCPEFault(f, x.raw, ss.out.method); len(errs) > 0 {
			x.in.Errors = append(x.in.Errors, errs[1:]...)
			ss.errors = append(ss.errors, errs[1:]...)
			return s.violationLocked(x, errs[0], soap.FaultACSInvalidArguments)
		}
		name = fmt.Sprintf("Fault %d", f.Detail.FaultCode)
	} else if name != ss.out.method+"Response" {
		return s.violationLocked(x, fmt.Sprintf("%s answers %s (ID %s)", name, ss.out.method, ss.out.id), soap.FaultACSInvalidArguments)
	}
	ss.answers = append(ss.answers, ss.out.id+" "+ss.out.method+" -> "+name)
	ss.out = nil
	return s.nextLocked(x)
}

// nextLocked sends the device's next queued request, or 204 to end the
// session.
func (s *Server) nextLocked(x *exchange) reply {
	ss := x.sess
	ss.hold = false // every envelope after the InformResponse goes without it
	for _, key := range []string{ss.device, ""} {
		q := s.queues[key]
		if len(q) == 0 {
			continue
		}
		next := q[0]
		s.queues[key] = q[1:]
		s.noteTransferLocked(ss.device, next.msg)
		ss.out = &outstanding{id: next.id, method: next.msg.MethodName(), queue: key, msg: next.msg}
		return s.envelopeLocked(x, http.StatusOK, &soap.Envelope{Version: ss.version, Header: soap.Header{ID: next.id}, Body: next.msg}, nil)
	}
	ss.state, ss.ended = StateCompleted, time.Now().UTC()
	delete(s.byCookie, ss.cookie)
	if d := s.devices[ss.device]; d != nil {
		d.completed++
	}
	s.notifyLocked()
	rep := reply{status: http.StatusNoContent, cookies: []*http.Cookie{{Name: cookieName, Value: "", Path: "/", MaxAge: -1}}}
	s.recordLocked(x.in)
	s.recordOutLocked(x, rep, "", "", []string{"session completed"})
	return rep
}
