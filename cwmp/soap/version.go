package soap

import (
	"fmt"
	"strings"
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

// Namespaces other than cwmp.
const (
	NSEnvelope = "http://schemas.xmlsoap.org/soap/envelope/"
	NSEncoding = "http://schemas.xmlsoap.org/soap/encoding/"
	NSXSD      = "http://www.w3.org/2001/XMLSchema"
	NSXSI      = "http://www.w3.org/2001/XMLSchema-instance"
)
