package soap

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ValueType is the xsi:type of a ParameterValueStruct value, written as a
// QName with the xsd prefix, e.g. "xsd:unsignedInt".
type ValueType string

// Value types of the TR-069 data-model types (Table 12).
//
// TypeBase64 is written as xsd:base64Binary: many stacks write "xsd:base64",
// but XML Schema has no such type and xmllint rejects it against the cwmp
// XSDs (xsi:type must name a type). On decode "base64", "base64Binary" and
// SOAP-ENC:base64 all map to TypeBase64.
const (
	TypeString       ValueType = "xsd:string"
	TypeUnsignedInt  ValueType = "xsd:unsignedInt"
	TypeInt          ValueType = "xsd:int"
	TypeBoolean      ValueType = "xsd:boolean"
	TypeDateTime     ValueType = "xsd:dateTime"
	TypeBase64       ValueType = "xsd:base64Binary"
	TypeHexBinary    ValueType = "xsd:hexBinary"
	TypeLong         ValueType = "xsd:long"
	TypeUnsignedLong ValueType = "xsd:unsignedLong"
)

// ParameterValueStruct is a parameter name and its value in lexical form.
// Type is the xsi:type; empty means none was sent (treat as string) and
// writes xsd:string.
type ParameterValueStruct struct {
	Name  string
	Value string
	Type  ValueType
}

// errBadValue is wrapped when a value does not match its xsi:type.
var errBadValue = errors.New("value does not match its type")

// CheckValue reports whether Value is in the lexical space of Type, as the
// schema requires of whoever sends it. The decoder leaves a
// SetParameterValues list unchecked (the CPE's data model judges it); an
// ACS calls this before sending one.
func (pv ParameterValueStruct) CheckValue() error {
	if err := checkValue(pv.Type, pv.Value); err != nil {
		return fmt.Errorf("%s: value is not a valid %s: %w", pv.Name, pv.Type, err)
	}
	return nil
}

// checkValue validates v against the lexical space of t. Unknown types pass:
// the data model, not the codec, decides what it accepts.
func checkValue(t ValueType, v string) error {
	s := strings.TrimSpace(v)
	var err error
	switch t {
	case TypeUnsignedInt:
		_, err = strconv.ParseUint(trimPlus(s), 10, 32)
	case TypeInt:
		_, err = strconv.ParseInt(trimPlus(s), 10, 32)
	case TypeLong:
		_, err = strconv.ParseInt(trimPlus(s), 10, 64)
	case TypeUnsignedLong:
		_, err = strconv.ParseUint(trimPlus(s), 10, 64)
	case TypeBoolean:
		_, err = parseBool(s)
	case TypeDateTime:
		_, err = ParseDateTime(s)
	case TypeBase64:
		_, err = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	case TypeHexBinary:
		if len(s)%2 != 0 {
			return errBadValue
		}
		_, err = hex.DecodeString(s)
	}
	if err != nil {
		return errBadValue
	}
	return nil
}

// trimPlus drops the leading '+' xsd integers allow and strconv does not.
func trimPlus(s string) string {
	if strings.HasPrefix(s, "+") && !strings.HasPrefix(s, "+-") {
		return s[1:]
	}
	return s
}

// parseBool accepts exactly the xsd:boolean lexical space.
func parseBool(s string) (bool, error) {
	switch s {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, errBadValue
}

// canonicalType maps an xsi:type local name to a ValueType, whatever prefix
// the sender bound (xs:, xsd:, SOAP-ENC:). Types without a constant (e.g.
// decimal) are kept as "xsd:<name>" and not checked.
func canonicalType(local string) ValueType {
	if local == "base64" || local == "base64Binary" {
		return TypeBase64
	}
	return ValueType("xsd:" + local)
}

// UnknownTime is TR-106's "Unknown Time", 0001-01-01T00:00:00Z. It equals
// the zero time.Time, so an unset time field encodes as Unknown Time.
var UnknownTime = time.Time{}

// FormatDateTime writes t as xsd:dateTime in UTC, with fractional seconds
// only when t has them. The zero time is written as Unknown Time.
func FormatDateTime(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

var dateTimeLayouts = []string{
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04:05.999999999",
}

// ParseDateTime parses xsd:dateTime with or without fractional seconds and
// zone. A time without zone is taken as UTC: TR-069 times are UTC unless
// stated and a CPE has no better reference. The result is in UTC, and
// Unknown Time (any zone) comes back as the zero time.Time.
//
// A time whose UTC form falls outside the years 0001–9999 is refused:
// FormatDateTime would write it with year 0000 (outside XML Schema 1.0's
// dateTime, which xmllint and strict ACSs check) or with five digits
// (which this function cannot read back), so it could be neither sent nor
// journaled and read again. Only a zone offset moves a four-digit year
// there: "0001-01-01T00:30:00+01:00" or "9999-12-31T23:00:00-14:00".
func ParseDateTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range dateTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			// Unknown Time is judged on the time as written: in a zone
			// east of UTC it is in year 0000 once converted.
			if t.Year() == 1 && t.YearDay() == 1 && t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
				return time.Time{}, nil
			}
			t = t.UTC()
			if t.Year() < 1 || t.Year() > 9999 {
				return time.Time{}, errDateTimeRange
			}
			return t, nil
		}
	}
	return time.Time{}, errors.New("not an xsd:dateTime")
}

var errDateTimeRange = errors.New("xsd:dateTime outside the years 0001-9999 in UTC")
