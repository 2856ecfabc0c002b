package datamodel

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/cwmp/transport"
	"github.com/cwmpd/cwmpd/projections"
)

// ValueType maps a schema type to the xsi:type written on the wire.
func (t Type) ValueType() soap.ValueType {
	switch t {
	case TypeUnsignedInt:
		return soap.TypeUnsignedInt
	case TypeInt:
		return soap.TypeInt
	case TypeUnsignedLong:
		return soap.TypeUnsignedLong
	case TypeLong:
		return soap.TypeLong
	case TypeBoolean:
		return soap.TypeBoolean
	case TypeDateTime:
		return soap.TypeDateTime
	case TypeBase64:
		return soap.TypeBase64
	case TypeHexBinary:
		return soap.TypeHexBinary
	}
	return soap.TypeString
}

// typeOfValue is the inverse of ValueType for types an ACS sends.
func typeOfValue(v soap.ValueType) (Type, bool) {
	for _, t := range []Type{TypeString, TypeUnsignedInt, TypeInt, TypeUnsignedLong, TypeLong, TypeBoolean, TypeDateTime, TypeBase64, TypeHexBinary} {
		if t.ValueType() == v {
			return t, true
		}
	}
	return "", false
}

// errType and errValue distinguish fault 9006 from 9007.
type valueError struct {
	code soap.FaultCode
	msg  string
}

func (e *valueError) Error() string { return e.msg }

func badType(format string, args ...any) error {
	return &valueError{soap.FaultInvalidParameterType, fmt.Sprintf(format, args...)}
}
func badValue(format string, args ...any) error {
	return &valueError{soap.FaultInvalidParameterValue, fmt.Sprintf(format, args...)}
}

// Canonical checks a value sent for p (with the xsi:type the ACS gave) and
// returns it in canonical lexical form. A value sent as xsd:string is
// accepted for any type when it parses: many ACSs type everything as string.
//
// A parameter that mirrors an operator setting (ManagementServer.Username,
// …) also takes only what the setting takes: the ACS and `cwmpd set` write
// one value, and a value the operator's tools refuse (a username with a
// newline) must not reach the journal through the other door.
func (p *Param) Canonical(v string, sent soap.ValueType) (string, error) {
	out, err := p.canonical(v, sent)
	if err != nil || p.Setting == "" {
		return out, err
	}
	set, err := projections.ValidateSetting(p.Setting, out)
	if err != nil {
		// The setting's reason only: its value may be a password.
		why := err.Error()
		var se *projections.SettingError
		if errors.As(err, &se) && se.Why != "" {
			why = se.Why
		}
		return "", badValue("%s: %s", p.Path, why)
	}
	return set, nil
}

func (p *Param) canonical(v string, sent soap.ValueType) (string, error) {
	if sent != "" && sent != soap.TypeString {
		t, ok := typeOfValue(sent)
		if !ok || t != p.Type {
			return "", badType("%s is %s, not %s", p.Path, p.Type, sent)
		}
	}
	switch p.Type {
	case TypeBoolean:
		switch strings.TrimSpace(v) {
		case "true", "1":
			return "true", nil
		case "false", "0":
			return "false", nil
		}
		return "", badValue("%s takes true or false", p.Path)
	case TypeUnsignedInt, TypeUnsignedLong:
		bits := 32
		if p.Type == TypeUnsignedLong {
			bits = 64
		}
		n, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(v), "+"), 10, bits)
		if err != nil {
			return "", badValue("%s takes an unsigned number", p.Path)
		}
		if err := p.inRange(int64Clamp(n)); err != nil {
			return "", err
		}
		return strconv.FormatUint(n, 10), nil
	case TypeInt, TypeLong:
		bits := 32
		if p.Type == TypeLong {
			bits = 64
		}
		n, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(v), "+"), 10, bits)
		if err != nil {
			return "", badValue("%s takes a number", p.Path)
		}
		if err := p.inRange(n); err != nil {
			return "", err
		}
		return strconv.FormatInt(n, 10), nil
	case TypeDateTime:
		t, err := soap.ParseDateTime(strings.TrimSpace(v))
		if err != nil {
			return "", badValue("%s takes a dateTime", p.Path)
		}
		return soap.FormatDateTime(t), nil
	case TypeBase64:
		if _, err := base64.StdEncoding.DecodeString(v); err != nil {
			return "", badValue("%s takes base64", p.Path)
		}
		return v, nil
	case TypeHexBinary:
		if _, err := hex.DecodeString(v); err != nil {
			return "", badValue("%s takes hex", p.Path)
		}
		return strings.ToLower(v), nil
	}
	if p.MaxLen > 0 && len(v) > p.MaxLen {
		return "", badValue("%s takes at most %d characters", p.Path, p.MaxLen)
	}
	if len(p.Enum) > 0 {
		items := []string{v}
		if p.List {
			items = strings.Split(v, ",")
		}
		for _, it := range items {
			if !contains(p.Enum, strings.TrimSpace(it)) {
				return "", badValue("%s takes one of %s", p.Path, strings.Join(p.Enum, ", "))
			}
		}
	}
	if p.Path == ms+"URL" && v != "" {
		// The transport's own checks (those cwmpd set applies too): a URL
		// it would refuse at every session, one with user-info above all,
		// would lock the device out of its ACS.
		if err := transport.CheckURL(v); err != nil {
			return "", badValue("%s takes an http:// or https:// URL without credentials: %s", p.Path, strings.TrimPrefix(err.Error(), "transport: "))
		}
	}
	return v, nil
}

func int64Clamp(n uint64) int64 {
	if n > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(n)
}

func (p *Param) inRange(n int64) error {
	if p.Min != nil && n < *p.Min || p.Max != nil && n > *p.Max {
		lo, hi := "", ""
		if p.Min != nil {
			lo = strconv.FormatInt(*p.Min, 10)
		}
		if p.Max != nil {
			hi = strconv.FormatInt(*p.Max, 10)
		}
		return badValue("%s takes %s..%s", p.Path, lo, hi)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func formatTime(t time.Time) string { return soap.FormatDateTime(t) }
