package actions

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// CWMP fault codes a transfer can end with. Only codes allowed in a
// TransferComplete FaultStruct (cwmp-digest.md §3.1) appear here.
const (
	FaultNone             = 0
	FaultInternal         = 9002 // the agent itself failed (a bug, a bad local file)
	FaultTransfer         = 9010 // download failure: disk full, too large, install/apply failed, other
	FaultUpload           = 9011 // upload failure
	FaultServerAuth       = 9012 // file server refused our credentials (401/403)
	FaultContact          = 9015 // unable to contact the file server (DNS, connect, TLS)
	FaultAccess           = 9016 // unable to access the file (404 and other 4xx)
	FaultIncomplete       = 9017 // the download kept dropping beyond the retries
	FaultCorrupted        = 9018 // size or sha256 mismatch, invalid firmware manifest
	FaultWindow           = 9020 // a ScheduleDownload's time windows ended
	maxFaultStringLength  = 256
	faultStringTruncation = "…"
)

// Fault is a transfer failure as TransferComplete reports it: a CWMP fault
// code and a short operator message. Msg never contains a password (URLs
// are shown without their user info). Err, when set, is the cause, for
// errors.Is/As; it is not part of Error().
type Fault struct {
	Code int
	Msg  string
	Err  error
	// Permanent marks a fault that repeating the attempt cannot change
	// (an unsupported file type, a file over the size limit, an unusable
	// URL): a ScheduleDownload's MaxRetries do not retry it (retry.go).
	Permanent bool
}

func (f *Fault) Error() string { return fmt.Sprintf("actions: fault %d: %s", f.Code, f.Msg) }

// Unwrap returns the cause.
func (f *Fault) Unwrap() error { return f.Err }

func faultf(code int, err error, format string, args ...any) *Fault {
	return &Fault{Code: code, Msg: fmt.Sprintf(format, args...), Err: err}
}

// permanentf is faultf for a fault no later attempt can change.
func permanentf(code int, err error, format string, args ...any) *Fault {
	f := faultf(code, err, format, args...)
	f.Permanent = true
	return f
}

// FaultOf maps any error to the fault TransferComplete reports: a *Fault
// in the chain gives its own code; anything else is fallback (9010 for a
// download, 9011 for an upload) with the error's text.
func FaultOf(err error, fallback int) (int, string) {
	if err == nil {
		return FaultNone, ""
	}
	var f *Fault
	if errors.As(err, &f) {
		return f.Code, truncateFault(f.Msg)
	}
	return fallback, truncateFault(err.Error())
}

// truncateFault bounds a FaultString to 256 characters (bytes, cut at a
// rune boundary), the schema's limit, and makes it valid UTF-8: it is
// journaled, whose encoding keeps nothing else (the state folded live
// and the state replayed would differ), and a hook's stderr or a file
// name may carry any bytes.
func truncateFault(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= maxFaultStringLength {
		return s
	}
	cut := maxFaultStringLength - len(faultStringTruncation)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + faultStringTruncation
}
