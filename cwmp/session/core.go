package session

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/projections/event"
)

// OwedTransfer is a TransferComplete the ACS has not acknowledged.
type OwedTransfer struct {
	ID uint64 // the transfer's ID (sequence of its TransferQueued)
	// Message is the outcome as journaled; its fault code is mapped to one
	// the negotiated version knows only when sent (see sendTransfer).
	Message soap.TransferComplete
	// Upload says the transfer was an Upload: its fault falls back to 9011
	// rather than 9010 in a version that lacks the precise code.
	Upload bool
}

// Input is everything a session needs to know when it starts, taken from
// the projections by the caller.
type Input struct {
	Version  soap.Version // highest version to offer (default 1.4)
	DeviceID soap.DeviceIdStruct
	Events   []event.InformEvent
	// Triggers are journaled in the same durable append as SessionStarted,
	// before it: the periodic or scheduled inform the session starts on
	// (one sync instead of two). Events already holds what they raise.
	Triggers   []event.Event
	RetryCount int
	// Composed is the journal sequence Events and Parameters were read
	// at. Records journaled after it and before SessionStarted (a value
	// change the watcher found meanwhile) are not in this Inform, so its
	// InformResponse must not deliver them. 0: the SessionStarted itself.
	Composed       uint64
	CurrentTime    time.Time
	Parameters     []soap.ParameterValueStruct
	Transfers      []OwedTransfer
	SessionTimeout uint32 // seconds, sent in 1.3+ Informs
}

// Send says what the next POST carries.
type Send struct {
	Envelope *soap.Envelope // nil: the empty POST
	Response bool           // a response or fault to an ACS request
	Method   string         // for logs
}

// Failure is a failed session, with the operator's message.
type Failure struct {
	Message   string // last-session-error
	Delivered bool   // the InformResponse had arrived
	Err       error
}

func (f *Failure) Error() string { return f.Message }
func (f *Failure) Unwrap() error { return f.Err }

// Step is what the driver must do next, in this order: journal Journal,
// then serve Request (if any) and feed its answer to Core.Answer, else post
// Send (if any) and feed the reply to Core.Received; Done ends the session
// (successfully when Failed is nil).
type Step struct {
	Journal []event.Event
	// JournalWithNext marks a Journal that only records the ACS's
	// InformResponse (InformAccepted): nothing sent next depends on it, so
	// it rides with the session's next durable append — before any ACS
	// request is served, or with the session's end — instead of costing a
	// sync of its own (see doc.go).
	JournalWithNext bool
	Request         soap.Message // an ACS request to serve
	Send            *Send
	Done            bool
	Failed          *Failure
}

type phase int

const (
	phaseNew       phase = iota
	phaseInform          // Inform sent, waiting for InformResponse
	phaseTransfer        // TransferComplete sent, waiting for its response
	phaseEmpty           // empty POST sent, waiting for an ACS request or the end
	phaseServing         // an ACS request handed to the driver
	phaseResponded       // a response sent, waiting for the next request or the end
	phaseDone
)

// Core is the session state machine. It is not safe for concurrent use.
type Core struct {
	in        Input
	id        uint64
	phase     phase
	version   soap.Version // for the CPE's own requests
	hold      bool
	delivered bool
	owed      []OwedTransfer
	reqID     string       // cwmp:ID of the ACS request being served
	reqVer    soap.Version // its version
	method    string
	served    int
}

// NewCore prepares a session.
func NewCore(in Input) *Core {
	if !in.Version.Valid() {
		in.Version = soap.V1_4
	}
	return &Core{in: in, version: in.Version, owed: append([]OwedTransfer(nil), in.Transfers...)}
}

// Start returns the first step: journal the triggers and SessionStarted
// (last), then send Inform. The driver passes the SessionStarted record's
// sequence to SetID.
func (c *Core) Start() Step {
	c.phase = phaseInform
	evs := append(append(make([]event.Event, 0, len(c.in.Triggers)+1), c.in.Triggers...),
		event.SessionStarted{Events: c.in.Events, RetryCount: c.in.RetryCount, Composed: c.in.Composed})
	return Step{
		Journal: evs,
		Send:    &Send{Envelope: c.inform(), Method: "Inform"},
	}
}

// SetID records the session's ID (the sequence of SessionStarted).
func (c *Core) SetID(id uint64) { c.id = id }

// ID returns the session's ID.
func (c *Core) ID() uint64 { return c.id }

// Version returns the negotiated version.
func (c *Core) Version() soap.Version { return c.version }

// Served counts ACS requests answered.
func (c *Core) Served() int { return c.served }

func (c *Core) inform() *soap.Envelope {
	evs := make([]soap.EventStruct, len(c.in.Events))
	for i, e := range c.in.Events {
		evs[i] = soap.EventStruct{EventCode: e.Code, CommandKey: e.CommandKey}
	}
	h := soap.Header{ID: "cwmpd-" + strconv.Itoa(c.in.RetryCount)}
	if c.in.Version >= soap.V1_3 && c.in.SessionTimeout > 0 {
		h.SessionTimeout = c.in.SessionTimeout
	}
	if c.in.Version >= soap.V1_4 {
		h.SupportedCWMPVersions = "1.0,1.1,1.2,1.3,1.4"
	}
	return &soap.Envelope{Version: c.in.Version, Header: h, Body: &soap.Inform{
		DeviceId:      c.in.DeviceID,
		Event:         evs,
		MaxEnvelopes:  soap.MaxEnvelopes,
		CurrentTime:   c.in.CurrentTime,
		RetryCount:    uint32(c.in.RetryCount),
		ParameterList: c.in.Parameters,
	}}
}

func (c *Core) fail(msg string, err error) Step {
	c.phase = phaseDone
	return Step{Done: true, Failed: &Failure{Message: oneLine(msg, maxFailureMessage), Delivered: c.delivered, Err: err}}
}

// maxFailureMessage bounds last-session-error, in bytes. Much of a
// failure message is the ACS's own words (a fault string, a decode error
// quoting its XML), which nothing else bounds: it is journaled with every
// failed session and shown by cwmpd print.
const maxFailureMessage = 400

// oneLine makes s one line of valid UTF-8 of at most max bytes: control
// characters (a newline in a fault string would start a row of its own in
// cwmpd print) become spaces, bytes that are no UTF-8 become U+FFFD, and a
// longer text is cut at a character boundary and ends in "…".
func oneLine(s string, max int) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) {
			clean = false
			break
		}
	}
	if clean && len(s) <= max {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			r = ' '
		}
		b.WriteRune(r) // an invalid byte comes as RuneError: U+FFFD
	}
	out := b.String()
	if len(out) <= max {
		return out
	}
	cut := max - len("…")
	for cut > 0 && !utf8.RuneStart(out[cut]) {
		cut--
	}
	return out[:cut] + "…"
}

// TransportFailed is fed when a POST could not complete: userMsg is the
// transport's operator message, timeout whether it was a timeout.
func (c *Core) TransportFailed(userMsg string, timeout bool, err error) Step {
	if timeout {
		switch c.phase {
		case phaseInform:
			userMsg = "timeout waiting for InformResponse"
		case phaseTransfer:
			userMsg = "timeout waiting for TransferCompleteResponse"
		}
	}
	return c.fail(userMsg, err)
}

// Received is fed the ACS's answer to the last POST: its HTTP status and
// body (empty for 204 or an empty 200).
func (c *Core) Received(status int, body []byte) Step {
	empty := len(strings.TrimSpace(string(body))) == 0
	if status != 200 && status != 204 {
		// SOAP 1.1 sends faults with HTTP 500: read one if it is there.
		if !empty {
			if env, err := soap.Decode(strings.NewReader(string(body)), 0); err == nil {
				if f, ok := env.Body.(*soap.Fault); ok {
					return c.fail(fmt.Sprintf("ACS answered the %s with %s", c.awaiting(), faultText(f)), f)
				}
			}
		}
		return c.fail(fmt.Sprintf("ACS returned HTTP %d", status), nil)
	}
	switch c.phase {
	case phaseInform:
		if empty {
			return c.fail("ACS sent no InformResponse (empty reply to Inform)", nil)
		}
		env, err := soap.Decode(strings.NewReader(string(body)), 0)
		if err != nil {
			return c.fail("ACS sent an invalid InformResponse: "+shortErr(err), err)
		}
		switch m := env.Body.(type) {
		case *soap.Fault:
			return c.fail("ACS answered the Inform with "+faultText(m), m)
		case *soap.InformResponse:
			c.negotiate(env)
			c.hold = env.Header.HoldRequests
			c.delivered = true
			step := c.next()
			step.JournalWithNext = len(step.Journal) == 0
			step.Journal = append([]event.Event{event.InformAccepted{
				Session: c.id, Events: c.in.Events, CWMPVersion: c.version.String()}}, step.Journal...)
			return step
		default:
			return c.fail(fmt.Sprintf("ACS answered the Inform with %s", methodOf(env)), nil)
		}
	case phaseTransfer:
		if empty {
			return c.fail("ACS sent no TransferCompleteResponse", nil)
		}
		env, err := soap.Decode(strings.NewReader(string(body)), 0)
		if err != nil {
			return c.fail("ACS sent an invalid TransferCompleteResponse: "+shortErr(err), err)
		}
		switch m := env.Body.(type) {
		case *soap.Fault:
			return c.fail("ACS answered TransferComplete with "+faultText(m), m)
		case *soap.TransferCompleteResponse:
			acked := c.owed[0]
			c.owed = c.owed[1:]
			c.hold = env.Header.HoldRequests
			step := c.next()
			step.Journal = append([]event.Event{event.TransferCompleteAcked{Transfer: acked.ID}}, step.Journal...)
			return step
		default:
			return c.fail(fmt.Sprintf("ACS answered TransferComplete with %s", methodOf(env)), nil)
		}
	case phaseEmpty, phaseResponded:
		if empty {
			// The ACS has nothing more. Decision (see doc.go): HoldRequests
			// ends with the ACS's turn, so owed TransferCompletes go now.
			c.hold = false
			if len(c.owed) > 0 {
				return c.sendTransfer()
			}
			c.phase = phaseDone
			return Step{Done: true, Journal: []event.Event{event.SessionSucceeded{Session: c.id}}}
		}
		return c.request(body)
	}
	return c.fail(fmt.Sprintf("session: unexpected reply in phase %d", c.phase), nil)
}

// awaiting names what the last POST was, for messages.
func (c *Core) awaiting() string {
	switch c.phase {
	case phaseInform:
		return "Inform"
	case phaseTransfer:
		return "TransferComplete"
	case phaseResponded:
		return "response"
	}
	return "empty POST"
}

// request handles an ACS request arriving in answer to our last POST.
func (c *Core) request(body []byte) Step {
	env, err := soap.Decode(strings.NewReader(string(body)), 0)
	var de *soap.DecodeError
	if err != nil && !errors.As(err, &de) {
		return c.fail("ACS sent an unreadable request: "+shortErr(err), err)
	}
	if err != nil {
		f := de.Fault()
		if f == nil || env == nil {
			// Not even an envelope: no fault can be addressed.
			return c.fail("ACS sent malformed XML: "+shortErr(err), err)
		}
		if de.Code == soap.FaultMethodNotSupported && de.Method != "" {
			f = soap.NewFault(soap.FaultMethodNotSupported, "method not supported: "+de.Method)
		}
		c.reqID, c.reqVer, c.method = env.Header.ID, env.Version, de.Method
		c.hold = env.Header.HoldRequests
		return c.Answer(f)
	}
	if f, ok := env.Body.(*soap.Fault); ok {
		return c.fail("ACS sent a fault instead of a request: "+faultText(f), f)
	}
	if env.Body == nil {
		// An envelope with an empty Body: treated like an empty response.
		return c.Received(204, nil)
	}
	c.reqID, c.reqVer, c.method = env.Header.ID, env.Version, env.Body.MethodName()
	c.hold = env.Header.HoldRequests
	c.phase = phaseServing
	return Step{Request: env.Body}
}

// Answer is fed the response (or *soap.Fault) to the request of the last
// Step; the driver calls it after the handler journaled its intent.
func (c *Core) Answer(resp soap.Message) Step {
	c.served++
	c.phase = phaseResponded
	v := c.reqVer
	if !v.Valid() {
		v = c.version
	}
	method := "Fault"
	if resp != nil {
		method = resp.MethodName()
	}
	if resp == nil {
		resp = soap.NewFault(soap.FaultInternalError, "no response")
	}
	return Step{Send: &Send{Envelope: &soap.Envelope{Version: v, Header: soap.Header{ID: c.reqID}, Body: resp},
		Response: true, Method: method}}
}

// next is what the CPE does after InformResponse or a TransferComplete
// acknowledgement: its own requests unless the ACS holds them, else the
// empty POST.
func (c *Core) next() Step {
	if len(c.owed) > 0 && !c.hold {
		return c.sendTransfer()
	}
	c.phase = phaseEmpty
	return Step{Send: &Send{Method: "empty"}}
}

func (c *Core) sendTransfer() Step {
	c.phase = phaseTransfer
	tc := c.owed[0].Message
	// The actions report 9015–9020, which cwmp-1-0.xsd does not allow: a
	// strict ACS of an older version would reject the whole message. Only
	// the wire copy changes; the journal keeps the precise code.
	tc.FaultStruct = tc.FaultStruct.ForVersion(c.version, c.owed[0].Upload)
	return Step{Send: &Send{Method: "TransferComplete", Envelope: &soap.Envelope{Version: c.version,
		Header: soap.Header{ID: fmt.Sprintf("cwmpd-tc-%d", c.owed[0].ID)}, Body: &tc}}}
}

// negotiate settles the version for the rest of the session (digest §5).
func (c *Core) negotiate(env *soap.Envelope) {
	if env.Header.UseCWMPVersion != "" {
		if v, err := soap.ParseVersion(env.Header.UseCWMPVersion); err == nil && v <= c.in.Version {
			c.version = v
			return
		}
	}
	v := env.Version
	if v == soap.V1_2 && c.in.Version > soap.V1_2 {
		// The shared 1.2 namespace without UseCWMPVersion: an ACS of 1.2
		// or one that does not negotiate; 1.2 is what both surely speak.
		v = soap.V1_2
	}
	if v.Valid() && v < c.in.Version {
		c.version = v
	}
}

func methodOf(env *soap.Envelope) string {
	if env.Body == nil {
		return "an empty body"
	}
	return env.Body.MethodName()
}

// faultText is an ACS fault for a failure message: its strings are the
// ACS's and cut to 200 bytes, so the message keeps its own words.
func faultText(f *soap.Fault) string {
	if f.Detail != nil {
		return fmt.Sprintf("fault %d (%s)", f.Detail.FaultCode, oneLine(f.Detail.FaultString, 200))
	}
	return fmt.Sprintf("SOAP fault %s (%s)", oneLine(f.Code, 64), oneLine(f.String, 200))
}

func shortErr(err error) string {
	return oneLine(err.Error(), 160)
}
