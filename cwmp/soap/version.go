package soap

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Version is a CWMP protocol version. Versions 1.2, 1.3 and 1.4 share the
// namespace urn:dslforum-org:cwmp-1-2; the version actually spoken past 1.2
// is negotiated with the SupportedCWMPVersions / UseCWMPVersion headers.
type Version uint8

// Protocol versions. The zero value is not a version, so a forgotten field
// shows up as an error rather than as a silent 1.0.
const (
	V1_0 Version = iota + 1
	V1_1
	V1_2
	V1_3
	V1_4
)

const nsPrefix = "urn:dslforum-org:cwmp-"

// Namespace returns the cwmp namespace to write for v. 1.3 and 1.4 use the
// 1.2 namespace (TR-069 Amd 4+), never the non-standard cwmp-1-3/-1-4 some
// stacks emit.
func (v Version) Namespace() string {
	switch v {
	case V1_0:
		return nsPrefix + "1-0"
	case V1_1:
		return nsPrefix + "1-1"
	default:
		return nsPrefix + "1-2"
	}
}

// String returns the dotted form used in SupportedCWMPVersions, e.g. "1.4".
func (v Version) String() string {
	if v < V1_0 || v > V1_4 {
		return fmt.Sprintf("Version(%d)", uint8(v))
	}
	// A table, not fmt: every session journals its version.
	return [...]string{"1.0", "1.1", "1.2", "1.3", "1.4"}[v-V1_0]
}

// Valid reports whether v is one of the defined versions.
func (v Version) Valid() bool { return v >= V1_0 && v <= V1_4 }

// ParseVersion parses "1.0".."1.4" (as in UseCWMPVersion).
func ParseVersion(s string) (Version, error) {
	s = strings.TrimSpace(s)
	for v := V1_0; v <= V1_4; v++ {
		if v.String() == s {
			return v, nil
		}
	}
	return 0, fmt.Errorf("soap: parse version %q: %w", s, ErrVersion)
}

// VersionFromNamespace maps a cwmp namespace URI to a version. The
// non-standard cwmp-1-3 and cwmp-1-4 namespaces are accepted because real
// ACSs and CPEs send them; a reply to them is written in cwmp-1-2.
func VersionFromNamespace(ns string) (Version, bool) {
	switch ns {
	case nsPrefix + "1-0":
		return V1_0, true
	case nsPrefix + "1-1":
		return V1_1, true
	case nsPrefix + "1-2":
		return V1_2, true
	case nsPrefix + "1-3":
		return V1_3, true
	case nsPrefix + "1-4":
		return V1_4, true
	}
	return 0, false
}

// KnowsTransferFault reports whether v's schema allows c as the FaultCode of
// a TransferComplete or AutonomousTransferComplete FaultStruct. The sets
// are the schemas' own (0 is success in every version):
//
//   - cwmp-1-0.xsd FaultStruct: 9001, 9002, 9010, 9011, 9012 only;
//   - cwmp-1-1.xsd FaultStruct: those, 9014–9019, the future range
//     9020–9799 and vendor 9800–9899;
//   - cwmp-1-2.xsd TransferCompleteFaultStruct (1.3 and 1.4 include it
//     unchanged): those of 1.0, 9014–9020, 9033–9799 and 9800–9899.
//
// The zero Version is taken as V1_2, as Encode does.
func (v Version) KnowsTransferFault(c FaultCode) bool {
	switch c {
	case FaultNone, FaultRequestDenied, FaultInternalError, FaultTransferFailure, FaultUploadFailure, FaultTransferAuthFailure:
		return true
	}
	switch v {
	case V1_0:
		return false
	case V1_1:
		return c >= 9014 && c <= 9899
	}
	return c >= 9014 && c <= 9020 || c >= 9033 && c <= 9899
}

// ForVersion returns fs as a FaultStruct v's schema accepts, so that a strict
// ACS of an older version does not reject the whole TransferComplete. A code
// v does not know becomes the nearest one it does, 9010 ("Download failure"
// in 1.0/1.1) or 9011 ("Upload failure") after the transfer's direction; the
// FaultString then starts with the precise code ("9016: HTTP 404") so the
// operator keeps it, within the schema's 256 characters. Known codes are
// returned as they are.
func (fs FaultStruct) ForVersion(v Version, upload bool) FaultStruct {
	if v.KnowsTransferFault(fs.FaultCode) {
		return fs
	}
	msg := fs.FaultString
	if msg == "" {
		msg = fs.FaultCode.String()
	}
	out := FaultStruct{FaultCode: FaultTransferFailure, FaultString: truncateRunes(strconv.FormatUint(uint64(fs.FaultCode), 10)+": "+msg, 256)}
	if upload {
		out.FaultCode = FaultUploadFailure
	}
	return out
}

// truncateRunes cuts s to at most n characters, the last one "…" when cut
// (the schemas count maxLength in characters).
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// Namespaces other than cwmp.
const (
	NSEnvelope = "http://schemas.xmlsoap.org/soap/envelope/"
	NSEncoding = "http://schemas.xmlsoap.org/soap/encoding/"
	NSXSD      = "http://www.w3.org/2001/XMLSchema"
	NSXSI      = "http://www.w3.org/2001/XMLSchema-instance"
)
