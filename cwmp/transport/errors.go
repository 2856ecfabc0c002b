package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
)

// ErrorKind tells the session logic what went wrong.
type ErrorKind int

const (
	KindConfig     ErrorKind = iota + 1 // bad Config; the session cannot start
	KindAuth                            // authentication cannot succeed
	KindTLS                             // handshake or certificate failure
	KindTimeout                         // connect or exchange timeout
	KindNetwork                         // refused, reset, closed, DNS…
	KindHTTPStatus                      // a status other than 200/204/401/3xx
	KindRedirect                        // redirect loop or unusable Location
	KindBody                            // response body too large or unreadable, too many cookies
	KindCanceled                        // the caller's context ended
)

func (k ErrorKind) String() string {
	switch k {
	case KindConfig:
		return "config"
	case KindAuth:
		return "auth"
	case KindTLS:
		return "tls"
	case KindTimeout:
		return "timeout"
	case KindNetwork:
		return "network"
	case KindHTTPStatus:
		return "http-status"
	case KindRedirect:
		return "redirect"
	case KindBody:
		return "body"
	case KindCanceled:
		return "canceled"
	}
	return fmt.Sprintf("ErrorKind(%d)", int(k))
}

// Error is every error the Client returns.
type Error struct {
	Kind ErrorKind
	// Status is the HTTP status for KindHTTPStatus and KindAuth (401).
	Status int
	msg    string
	Err    error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return "transport: " + e.msg
	}
	return "transport: " + e.msg + ": " + e.Err.Error()
}

// UserMessage is a short sentence for last-session-error, without
// Go-internal detail such as addresses or wrapped error chains.
func (e *Error) UserMessage() string { return e.msg }

func (e *Error) Unwrap() error { return e.Err }

func newError(kind ErrorKind, err error, format string, args ...any) *Error {
	return &Error{Kind: kind, msg: fmt.Sprintf(format, args...), Err: err}
}

// classify maps an error from net/http onto an Error. exchange is the
// per-exchange context, parent the caller's.
func classify(err error, parent, exchange context.Context, haveClientCert bool) *Error {
	var (
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		verifyErr *tls.CertificateVerificationError
		recErr    tls.RecordHeaderError
		alertErr  tls.AlertError
		opErr     *net.OpError
		dnsErr    *net.DNSError
		netErr    net.Error
	)
	switch {
	case parent.Err() != nil && !errors.Is(parent.Err(), context.DeadlineExceeded):
		return newError(KindCanceled, err, "session cancelled")
	case parent.Err() != nil || exchange.Err() != nil:
		return newError(KindTimeout, err, "timeout waiting for ACS response")
	case errors.As(err, &unknownCA):
		return newError(KindTLS, err, "TLS: certificate signed by unknown authority")
	case errors.As(err, &hostErr):
		return newError(KindTLS, err, "TLS: certificate is not valid for host %s", hostErr.Host)
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired {
			return newError(KindTLS, err, "TLS: certificate has expired or is not yet valid")
		}
		return newError(KindTLS, err, "TLS: invalid ACS certificate")
	case errors.As(err, &verifyErr):
		return newError(KindTLS, err, "TLS: cannot verify ACS certificate")
	case errors.As(err, &recErr):
		return newError(KindTLS, err, "TLS: ACS did not answer with TLS")
	case errors.As(err, &alertErr):
		return newError(KindTLS, err, "TLS: handshake failed (%s)", alertErr.Error())
	case errors.As(err, &opErr) && opErr.Op == "remote error":
		alert := opErr.Err.Error()
		if strings.Contains(alert, "certificate") {
			if !haveClientCert {
				return newError(KindTLS, err, "TLS: ACS requires a client certificate")
			}
			return newError(KindTLS, err, "TLS: ACS rejected the client certificate (%s)", alert)
		}
		return newError(KindTLS, err, "TLS: ACS refused the handshake (%s)", alert)
	case errors.As(err, &dnsErr):
		return newError(KindNetwork, err, "cannot resolve ACS host name %s", dnsErr.Name)
	case errors.As(err, &opErr) && opErr.Op == "dial":
		switch {
		case opErr.Timeout():
			return newError(KindTimeout, err, "timeout connecting to ACS")
		case errors.Is(err, syscall.ECONNREFUSED):
			return newError(KindNetwork, err, "cannot connect to ACS: connection refused")
		case errors.Is(err, syscall.EHOSTUNREACH):
			return newError(KindNetwork, err, "cannot connect to ACS: host unreachable")
		case errors.Is(err, syscall.ENETUNREACH):
			return newError(KindNetwork, err, "cannot connect to ACS: network unreachable")
		}
		return newError(KindNetwork, err, "cannot connect to ACS")
	case errors.Is(err, syscall.ECONNRESET):
		return newError(KindNetwork, err, "connection reset by ACS")
	case errors.Is(err, syscall.EPIPE):
		return newError(KindNetwork, err, "connection closed by ACS")
	case errors.Is(err, errHeaderTooLarge):
		return newError(KindNetwork, err, "ACS response headers larger than 64 KiB")
	case errors.Is(err, errCookieLimit):
		return newError(KindBody, err, "ACS set more cookies than a session keeps (at most %d, %d KiB together)", maxCookies, maxCookieBytes>>10)
	case errors.Is(err, errTooManyInterim):
		return newError(KindNetwork, err, "ACS sent more than 5 interim (1xx) responses")
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return newError(KindNetwork, err, "connection closed by ACS")
	case errors.Is(err, errHandshakeTimeout):
		return newError(KindTimeout, err, "timeout during TLS handshake with ACS")
	case errors.As(err, &netErr) && netErr.Timeout():
		return newError(KindTimeout, err, "timeout waiting for ACS response")
	}
	return newError(KindNetwork, err, "network error talking to ACS")
}
