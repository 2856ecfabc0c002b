package acsim

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// AuthMode selects how a listener authenticates its clients.
type AuthMode string

// Authentication modes.
const (
	AuthNone   AuthMode = "none"
	AuthBasic  AuthMode = "basic"
	AuthDigest AuthMode = "digest" // qop=auth, MD5, through cwmp/digest's Verifier
)

// ParseAuthMode accepts "none", "basic" and "digest" ("" is none).
func ParseAuthMode(s string) (AuthMode, error) {
	switch m := AuthMode(strings.ToLower(s)); m {
	case "", AuthNone:
		return AuthNone, nil
	case AuthBasic, AuthDigest:
		return m, nil
	}
	return "", fmt.Errorf("acsim: auth mode %q: want none, basic or digest", s)
}

// Auth is a listener's authentication setting.
type Auth struct {
	Mode     AuthMode
	Username string
	Password string
	Realm    string // default "acsim"
}

// SchemaMode says whether CPE bodies are validated with xmllint.
type SchemaMode string

// Schema modes.
const (
	SchemaAuto    SchemaMode = "auto"    // validate when xmllint and the schemas are found
	SchemaOff     SchemaMode = "off"     // codec checks only
	SchemaRequire SchemaMode = "require" // New fails when validation is impossible
)

// FaultPlan injects failures into one session. Posts are counted from 1
// (the Inform) among the authenticated POSTs of the session; an "At" of 0
// means "not at any post" except for Delay, where 0 means every post.
type FaultPlan struct {
	// InformFault answers the Inform with this CWMP fault (e.g. 8005).
	InformFault uint32 `json:"informFault,omitempty"`
	// HTTPStatus answers post HTTPStatusAt (default 1) with this status
	// and an empty body, and fails the session.
	HTTPStatus   int `json:"httpStatus,omitempty"`
	HTTPStatusAt int `json:"httpStatusAt,omitempty"`
	// HoldRequests sets HoldRequests=true on the InformResponse.
	HoldRequests bool `json:"holdRequests,omitempty"`
	// Redirect answers the first POST with 307 to this path on the same
	// listener; the redirected Inform then runs under the rest of the plan.
	Redirect string `json:"redirect,omitempty"`
	// DropAt closes the TCP connection instead of answering that post.
	DropAt int `json:"dropAt,omitempty"`
	// Delay waits before answering post DelayAt (every post when 0).
	Delay   Duration `json:"delay,omitempty"`
	DelayAt int      `json:"delayAt,omitempty"`
}

// Duration is a time.Duration that reads and writes "1.5s" in JSON.
type Duration time.Duration

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON accepts "1.5s" or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return fmt.Errorf("acsim: duration: want a string like \"2s\": %w", err)
		}
		*d = Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("acsim: duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// FileFault breaks the serving of one file.
type FileFault struct {
	NotFound  bool  `json:"notFound,omitempty"`  // answer 404
	DropAfter int64 `json:"dropAfter,omitempty"` // close the connection after this many body bytes
	Corrupt   bool  `json:"corrupt,omitempty"`   // serve the right length with a flipped last byte
}

// Config configures a Server. The zero value is a plain-HTTP ACS without
// authentication on 127.0.0.1 with random ports.
type Config struct {
	Listen      string // CWMP listener, default "127.0.0.1:0"
	AdminListen string // admin API listener, default "127.0.0.1:0"
	FilesListen string // file server listener, default "127.0.0.1:0"
	// Path is the CWMP path URL() names (default "/acs"). Every path on
	// the CWMP listener is served, so redirects can point anywhere.
	Path string
	// TLS, when set, serves CWMP and files over HTTPS with it (certificate
	// and, to require client certificates, ClientCAs + ClientAuth).
	TLS *tls.Config

	Auth Auth
	// CookieOptional lets POSTs after the Inform find their session by
	// connection alone; by default they must carry the session cookie.
	CookieOptional bool
	// RetryUnanswered sends a request again, at the head of its queue and
	// with its ID, when its session fails before the CPE answered it (the
	// device opened a new session because it crashed, rebooted or lost the
	// connection; a fault plan or a protocol violation ended the session),
	// as ACSes that retry a task until answered do. Off: a request sent is
	// never sent again (at most once).
	RetryUnanswered bool
	// UseCWMPVersion, when set, is sent in the InformResponse to every CPE
	// that announced SupportedCWMPVersions (D§5).
	UseCWMPVersion string
	// Faults applies to every session that has no queued plan (PushFaults).
	Faults FaultPlan

	Schema        SchemaMode // default auto
	BBFDir        string     // cwmp-1-*.xsd; default $CWMP_BBF_DIR, else <repo>/../shared/bbf
	SOAPSchemaDir string     // soap-envelope.xsd and soap-encoding.xsd; default <repo>/cwmp/soap/testdata/xsd
	BodyLimit     int64      // largest CPE envelope, default soap.DefaultLimit

	ConnReqUsername string
	ConnReqPassword string

	FilesDir   string // served besides files added with AddFile
	FileAuth   Auth
	UploadDir  string // uploads are also written here when set
	MaxEntries int    // newest transcript entries kept (up to a tenth more between trims), default 10000

	Logger zerolog.Logger // zero value logs nothing
}

// TLSConfig builds a server TLS config from PEM files; with clientCAFile
// set, clients must present a certificate signed by one of its CAs.
func TLSConfig(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("acsim: tls key pair: %w", err)
	}
	c := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if clientCAFile != "" {
		pem, err := os.ReadFile(clientCAFile)
		if err != nil {
			return nil, fmt.Errorf("acsim: tls client ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("acsim: tls client ca: no certificate in %s", clientCAFile)
		}
		c.ClientCAs = pool
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return c, nil
}

// StrictWhenPossible is the schema mode for tests: validation required
// wherever the BBF schemas are found (so CI can never pass with the check
// silently off), the codec alone where they are not.
func StrictWhenPossible() SchemaMode {
	// Without xmllint but with the schemas, Require makes New fail
	// loudly, which is what CI must do.
	if dir := defaultBBFDir(); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "cwmp-1-2.xsd")); err == nil {
			return SchemaRequire
		}
	}
	return SchemaAuto
}
