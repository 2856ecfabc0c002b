package soap

import (
	"errors"
	"fmt"
	"strconv"
)

// FaultCode is a CWMP fault code: 9000–9899 from the CPE, 8000–8899 from the
// ACS, 0 for "no fault" in TransferComplete.
type FaultCode uint32

// CPE fault codes (TR-069 Table, cwmp-1-2.xsd CPEFaultCodeType).
const (
	FaultNone                       FaultCode = 0
	FaultMethodNotSupported         FaultCode = 9000
	FaultRequestDenied              FaultCode = 9001
	FaultInternalError              FaultCode = 9002
	FaultInvalidArguments           FaultCode = 9003
	FaultResourcesExceeded          FaultCode = 9004
	FaultInvalidParameterName       FaultCode = 9005
	FaultInvalidParameterType       FaultCode = 9006
	FaultInvalidParameterValue      FaultCode = 9007
	FaultNonWritableParameter       FaultCode = 9008
	FaultNotificationRejected       FaultCode = 9009
	FaultTransferFailure            FaultCode = 9010
	FaultUploadFailure              FaultCode = 9011
	FaultTransferAuthFailure        FaultCode = 9012
	FaultUnsupportedProtocol        FaultCode = 9013
	FaultTransferMulticastJoin      FaultCode = 9014
	FaultTransferContactServer      FaultCode = 9015
	FaultTransferAccessFile         FaultCode = 9016
	FaultTransferCompleteDownload   FaultCode = 9017
	FaultTransferFileCorrupted      FaultCode = 9018
	FaultTransferFileAuthentication FaultCode = 9019
	FaultTransferTimeWindows        FaultCode = 9020
	FaultCancelNotPermitted         FaultCode = 9021
	FaultInvalidUUID                FaultCode = 9022
	FaultUnknownExecutionEnv        FaultCode = 9023
	FaultDisabledExecutionEnv       FaultCode = 9024
	FaultDUExecutionEnvMismatch     FaultCode = 9025
	FaultDuplicateDU                FaultCode = 9026
	FaultSystemResourcesExceeded    FaultCode = 9027
	FaultUnknownDU                  FaultCode = 9028
	FaultInvalidDUState             FaultCode = 9029
	FaultDUDowngradeNotPermitted    FaultCode = 9030
	FaultDUVersionNotSpecified      FaultCode = 9031
	FaultDUVersionAlreadyExists     FaultCode = 9032
)

// ACS fault codes (cwmp-1-4.xsd ACSFaultCodeType; 8007+ are not defined).
const (
	FaultACSMethodNotSupported  FaultCode = 8000
	FaultACSRequestDenied       FaultCode = 8001
	FaultACSInternalError       FaultCode = 8002
	FaultACSInvalidArguments    FaultCode = 8003
	FaultACSResourcesExceeded   FaultCode = 8004
	FaultACSRetryRequest        FaultCode = 8005
	FaultACSVersionIncompatible FaultCode = 8006
)

type faultInfo struct {
	text   string
	client bool // SOAP faultcode Client (the requester erred) rather than Server
}

var faultTable = map[FaultCode]faultInfo{
	9000: {"Method not supported", false},
	9001: {"Request denied (no reason specified)", false},
	9002: {"Internal error", false},
	9003: {"Invalid arguments", true},
	9004: {"Resources exceeded", false},
	9005: {"Invalid parameter name", true},
	9006: {"Invalid parameter type", true},
	9007: {"Invalid parameter value", true},
	9008: {"Attempt to set a non-writable parameter", true},
	9009: {"Notification request rejected", false},
	9010: {"File transfer failure", false},
	9011: {"Upload failure", false},
	9012: {"File transfer server authentication failure", false},
	9013: {"Unsupported protocol for file transfer", false},
	9014: {"File transfer failure: unable to join multicast group", false},
	9015: {"File transfer failure: unable to contact file server", false},
	9016: {"File transfer failure: unable to access file", false},
	9017: {"File transfer failure: unable to complete download", false},
	9018: {"File transfer failure: file corrupted", false},
	9019: {"File transfer failure: file authentication failure", false},
	9020: {"File transfer failure: unable to complete download within specified time windows", false},
	// 9021–9025 have no type in the sources the digest checked; they
	// describe states of the CPE, so Server is the safer reading.
	9021: {"Cancelation of file transfer not permitted in current transfer state", false},
	9022: {"Invalid UUID format", false},
	9023: {"Unknown Execution Environment", false},
	9024: {"Disabled Execution Environment", false},
	9025: {"Deployment Unit to Execution Environment mismatch", false},
	9026: {"Duplicate Deployment Unit", false},
	9027: {"System resources exceeded", false},
	9028: {"Unknown Deployment Unit", false},
	9029: {"Invalid Deployment Unit state", false},
	9030: {"Invalid Deployment Unit update: downgrade not permitted", false},
	9031: {"Invalid Deployment Unit update: version not specified", false},
	9032: {"Invalid Deployment Unit update: version already exists", false},
	8000: {"Method not supported", false},
	8001: {"Request denied (no reason specified)", false},
	8002: {"Internal error", false},
	8003: {"Invalid arguments", true},
	8004: {"Resources exceeded", false},
	8005: {"Retry request", false},
	8006: {"ACS version incompatible with CPE", false},
}

// String returns the standard description of c, or "Fault <n>".
func (c FaultCode) String() string {
	if c == FaultNone {
		return "No fault"
	}
	if fi, ok := faultTable[c]; ok {
		return fi.text
	}
	switch {
	case c >= 9800 && c <= 9899, c >= 8800 && c <= 8899:
		return "Vendor fault " + strconv.Itoa(int(c))
	}
	return "Fault " + strconv.Itoa(int(c))
}

// SOAPFaultCode returns the SOAP 1.1 faultcode local name for c: "Client"
// when the requester was wrong, "Server" otherwise (vendor codes included).
func (c FaultCode) SOAPFaultCode() string {
	if faultTable[c].client {
		return SOAPClient
	}
	return SOAPServer
}

// IsCPE reports whether c lies in a CPE fault range (9000–9899).
func (c FaultCode) IsCPE() bool { return c >= 9000 && c <= 9899 }

// IsACS reports whether c lies in an ACS fault range (8000–8899).
func (c FaultCode) IsACS() bool { return c >= 8000 && c <= 8899 }

// SOAP 1.1 faultcode values (local names in the envelope namespace).
const (
	SOAPClient          = "Client"
	SOAPServer          = "Server"
	SOAPMustUnderstand  = "MustUnderstand"
	SOAPVersionMismatch = "VersionMismatch"
)

// CWMPFaultString is the faultstring TR-069 §3.5 prescribes for every CWMP
// fault.
const CWMPFaultString = "CWMP fault"

// Fault is a SOAP 1.1 Fault. CWMP faults carry Detail; the SOAP-level faults
// MustUnderstand and VersionMismatch have none. A *Fault is also a Message
// (it stands in the Body in place of a response) and an error.
type Fault struct {
	Code   string // SOAP faultcode local name: SOAPClient, SOAPServer, ...
	String string // faultstring
	Detail *CWMPFault
}

// CWMPFault is the cwmp:Fault element inside detail.
type CWMPFault struct {
	FaultCode   FaultCode
	FaultString string
	// SetParameterValuesFault lists per-parameter faults; only in a fault
	// answering SetParameterValues.
	SetParameterValuesFault []SetParameterValuesFault
}

// SetParameterValuesFault is one offending parameter of a
// SetParameterValues request.
type SetParameterValuesFault struct {
	ParameterName string
	FaultCode     FaultCode
	FaultString   string
}

// NewFault returns a CWMP fault with the standard SOAP faultcode for code and
// msg as FaultString (the standard description when msg is empty).
func NewFault(code FaultCode, msg string) *Fault {
	if msg == "" {
		msg = code.String()
	}
	return &Fault{
		Code:   code.SOAPFaultCode(),
		String: CWMPFaultString,
		Detail: &CWMPFault{FaultCode: code, FaultString: msg},
	}
}

// MethodName returns "Fault".
func (f *Fault) MethodName() string { return "Fault" }

// Error makes a received fault usable as an error.
func (f *Fault) Error() string {
	if f.Detail != nil {
		return fmt.Sprintf("soap: fault %d: %s", f.Detail.FaultCode, f.Detail.FaultString)
	}
	return fmt.Sprintf("soap: fault %s: %s", f.Code, f.String)
}

// Sentinel errors wrapped by *DecodeError; test with errors.Is.
var (
	// ErrSyntax: the bytes are not well-formed XML (or use a DTD, which
	// SOAP 1.1 forbids). No fault can be addressed; end the session.
	ErrSyntax = errors.New("malformed xml")
	// ErrNotEnvelope: well-formed XML that is not a SOAP 1.1 envelope.
	ErrNotEnvelope = errors.New("not a soap envelope")
	// ErrTooLarge: the envelope exceeds the decode limit (fault 9004).
	ErrTooLarge = errors.New("envelope too large")
	// ErrUnknownMethod: the body names no method this codec knows (9000).
	ErrUnknownMethod = errors.New("method not supported")
	// ErrInvalidArgument: a missing, malformed or over-long argument (9003).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrMustUnderstand: a header with mustUnderstand="1" that is not ours.
	ErrMustUnderstand = errors.New("header not understood")
	// ErrVersion: a SOAP envelope or CWMP version this codec does not speak.
	ErrVersion = errors.New("unsupported version")
)

// DecodeError says why an envelope could not be decoded and how to answer.
type DecodeError struct {
	// Code is the CWMP fault to answer with; FaultNone means no CWMP fault
	// fits (see SOAPCode, or end the session when that is empty too).
	Code FaultCode
	// SOAPCode is set for SOAP-level faults without CWMP detail
	// (SOAPMustUnderstand, SOAPVersionMismatch).
	SOAPCode string
	Method   string // body method when known
	Field    string // offending element path, e.g. "ParameterList/ParameterValueStruct[3]/Value"
	Err      error
}

func (e *DecodeError) Error() string {
	s := "soap: decode"
	if e.Method != "" {
		s += " " + e.Method
	}
	if e.Field != "" {
		s += " " + e.Field
	}
	return s + ": " + e.Err.Error()
}

func (e *DecodeError) Unwrap() error { return e.Err }

// Fault returns the fault to send back, or nil when the right reaction is to
// end the session (ErrSyntax, ErrNotEnvelope).
func (e *DecodeError) Fault() *Fault {
	switch {
	case e.SOAPCode != "":
		return &Fault{Code: e.SOAPCode, String: e.Error()}
	case e.Code == FaultNone:
		return nil
	}
	return NewFault(e.Code, e.faultString())
}

func (e *DecodeError) faultString() string {
	switch e.Code {
	case FaultMethodNotSupported:
		return "Method not supported: " + e.Method
	case FaultInvalidArguments:
		if e.Field != "" {
			return "Invalid arguments: " + e.Field + ": " + e.Err.Error()
		}
	}
	return e.Code.String()
}
