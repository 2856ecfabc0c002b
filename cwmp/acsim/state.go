package acsim

import (
	"crypto/subtle"
	"crypto/tls"
	"net"
	"strings"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/soap"
)

// Entry is one transcript record: a message in one direction, a file
// served, an upload received or a connection request sent.
type Entry struct {
	Seq  int64     `json:"seq"`
	Time time.Time `json:"time"`
	// Kind is "cwmp", "file", "upload" or "connreq".
	Kind string `json:"kind"`
	// Direction is "cpe->acs" or "acs->cpe".
	Direction  string `json:"direction"`
	Session    string `json:"session,omitempty"`
	Device     string `json:"device,omitempty"`
	Conn       int64  `json:"conn,omitempty"` // TCP connection number on the CWMP listener
	HTTPMethod string `json:"httpMethod,omitempty"`
	Path       string `json:"path,omitempty"`
	// Status is the HTTP status of an answer (acs->cpe, files, connreq).
	Status int `json:"status,omitempty"`
	// Method is the SOAP body's method ("Fault" for a fault, "" for an
	// empty message).
	Method  string   `json:"method,omitempty"`
	ID      string   `json:"id,omitempty"` // cwmp:ID header
	Summary any      `json:"summary,omitempty"`
	Raw     string   `json:"raw,omitempty"`
	Errors  []string `json:"errors,omitempty"` // protocol violations and failures
	Notes   []string `json:"notes,omitempty"`  // injected faults and other remarks
}

// Session states.
const (
	StateOpen       = "open"
	StateCompleted  = "completed"  // ended by the ACS's 204
	StateFailed     = "failed"     // protocol error, injected fault or abandoned
	StateRedirected = "redirected" // first POST answered with a redirect
)

// SessionInfo describes one session attempt.
type SessionInfo struct {
	ID       string    `json:"id"`
	Device   string    `json:"device,omitempty"`
	State    string    `json:"state"`
	Reason   string    `json:"reason,omitempty"` // why it failed
	Started  time.Time `json:"started"`
	Ended    time.Time `json:"ended,omitzero"`
	Posts    int       `json:"posts"`
	Version  string    `json:"version,omitempty"` // CWMP version spoken
	Events   []string  `json:"events,omitempty"`
	Plan     FaultPlan `json:"plan,omitzero"`
	Errors   []string  `json:"errors,omitempty"`
	Answered []string  `json:"answered,omitempty"` // ACS requests the CPE answered, "ID Method -> Response"
}

type outstanding struct {
	id     string
	method string
	queue  string // the queue it came from, to go back to if never answered
	msg    soap.Message
}

type session struct {
	id      string
	cookie  string
	conn    int64
	device  string
	version soap.Version // namespace version of the Inform
	spoken  soap.Version // negotiated version, picks the schema
	plan    FaultPlan
	state   string
	reason  string
	started time.Time
	ended   time.Time
	posts   int
	events  []string
	informs int
	// retry is the RetryCount of the session's Inform, when retryKnown;
	// boot is set when that Inform carried 0 BOOTSTRAP or 1 BOOT.
	retry      uint32
	retryKnown bool
	boot       bool
	// informEvents are the Inform's events, for the TransferComplete check.
	informEvents []soap.EventStruct
	// unsure marks a failure the CPE need not have seen as one (an injected
	// 3xx, 401 or 407), so the next RetryCount is not judged by it.
	unsure  bool
	hold    bool
	out     *outstanding
	errors  []string
	answers []string
}

func (ss *session) info() SessionInfo {
	i := SessionInfo{
		ID: ss.id, Device: ss.device, State: ss.state, Reason: ss.reason, Started: ss.started,
		Ended: ss.ended, Posts: ss.posts, Events: ss.events, Plan: ss.plan,
		Errors: append([]string(nil), ss.errors...), Answered: append([]string(nil), ss.answers...),
	}
	if ss.spoken != 0 {
		i.Version = ss.spoken.String()
	}
	return i
}

// TransferRecord is one TransferComplete or AutonomousTransferComplete.
type TransferRecord struct {
	Received     time.Time `json:"received"`
	Session      string    `json:"session"`
	Autonomous   bool      `json:"autonomous,omitempty"`
	CommandKey   string    `json:"commandKey"`
	FaultCode    uint32    `json:"faultCode"`
	FaultString  string    `json:"faultString,omitempty"`
	StartTime    time.Time `json:"startTime"`
	CompleteTime time.Time `json:"completeTime"`
	TransferURL  string    `json:"transferURL,omitempty"` // autonomous only
}

// DeviceInfo is what acsim knows about one CPE.
type DeviceInfo struct {
	Key               string                      `json:"key"`
	DeviceID          soap.DeviceIdStruct         `json:"deviceId"`
	Sessions          int                         `json:"sessions"` // completed
	Informs           int                         `json:"informs"`
	LastInform        time.Time                   `json:"lastInform"`
	LastEvents        []soap.EventStruct          `json:"lastEvents"`
	LastParameters    []soap.ParameterValueStruct `json:"lastParameters,omitempty"`
	LastRetryCount    uint32                      `json:"lastRetryCount"`
	ConnectionRequest string                      `json:"connectionRequestURL,omitempty"`
	Transfers         []TransferRecord            `json:"transfers,omitempty"`
	Queued            int                         `json:"queued"`
}

type device struct {
	key        string
	id         soap.DeviceIdStruct
	completed  int
	informs    int
	lastInform time.Time
	last       *soap.Inform
	transfers  []TransferRecord
	// requested maps the CommandKey of every Download, Upload and
	// ScheduleDownload sent to the device to the method's name.
	requested map[string]string
}

func (d *device) info(queued int) DeviceInfo {
	i := DeviceInfo{
		Key: d.key, DeviceID: d.id, Sessions: d.completed, Informs: d.informs, LastInform: d.lastInform,
		Transfers: append([]TransferRecord(nil), d.transfers...), Queued: queued,
	}
	if d.last != nil {
		i.LastEvents = append([]soap.EventStruct{}, d.last.Event...)
		i.LastParameters = append([]soap.ParameterValueStruct(nil), d.last.ParameterList...)
		i.LastRetryCount = d.last.RetryCount
		i.ConnectionRequest = connReqURL(d.last.ParameterList)
	}
	return i
}

// DeviceKey is the queue key of a CPE: OUI-ProductClass-SerialNumber.
func DeviceKey(id soap.DeviceIdStruct) string {
	return id.OUI + "-" + id.ProductClass + "-" + id.SerialNumber
}

// connReqURL finds the ConnectionRequestURL among Inform parameters, for
// the Device:2 and the older InternetGatewayDevice root alike.
func connReqURL(params []soap.ParameterValueStruct) string {
	for _, p := range params {
		if strings.HasSuffix(p.Name, ".ManagementServer.ConnectionRequestURL") {
			return p.Value
		}
	}
	return ""
}

func constEq(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func tlsListener(ln net.Listener, c *tls.Config) net.Listener { return tls.NewListener(ln, c) }
