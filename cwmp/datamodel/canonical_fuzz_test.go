package datamodel

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/projections"
)

// xsdDateTime is the form a canonical dateTime takes: UTC, seconds,
// optional fraction. Year 0000 is outside XML Schema 1.0's dateTime
// (what xmllint checks the envelopes against), and a year of five digits
// is outside what ParseDateTime reads back.
var xsdDateTime = regexp.MustCompile(`^(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]*[1-9])?Z$`)

// FuzzParamCanonical feeds any value, sent with any xsi:type, to the value
// parser of every parameter of the schema, one TR-181 type after another.
// A refusal is a 9006 (wrong type) or 9007 (bad value) fault and never
// quotes a hidden parameter's value; an accepted value is canonical (it
// parses again to itself, sent as its own type or as xsd:string), is in
// the lexical space of the xsi:type it is written with, respects the
// parameter's range, length and enumeration, and, for a parameter that
// mirrors an operator setting, is a value `cwmpd set` accepts unchanged:
// the ACS and the operator write one value and neither may store what the
// other refuses.
func FuzzParamCanonical(f *testing.F) {
	schema := DefaultSchema()
	params := schema.Params
	seeds := []struct {
		param uint16
		value string
		sent  uint8
	}{
		{0, "x", 0},
	}
	for i, p := range params {
		var vals []string
		switch p.Type {
		case TypeBoolean:
			vals = []string{"true", " 0 ", "yes"}
		case TypeUnsignedInt, TypeUnsignedLong:
			vals = []string{"3600", "+7", "-1", "18446744073709551616", "0"}
		case TypeInt, TypeLong:
			vals = []string{"-5", "+2147483648", "9223372036854775807"}
		case TypeDateTime:
			vals = []string{"2026-12-07T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-14:00", "2026-12-07T00:00:00.500", "0000-01-01T00:00:00Z"}
		case TypeBase64:
			vals = []string{"YWJj", "YWJj\n", "%%"}
		case TypeHexBinary:
			vals = []string{"0aFF", "abc", " 61"}
		default:
			vals = []string{"", "a\nb", "http://acs.example/", "https://u:p@acs.example/", "HTTP,STUN", "Static", strings.Repeat("x", 257)}
		}
		for j, v := range vals {
			seeds = append(seeds, struct {
				param uint16
				value string
				sent  uint8
			}{uint16(i), v, uint8(j)})
		}
	}
	for _, s := range seeds {
		f.Add(s.param, s.value, s.sent)
	}
	sentTypes := []soap.ValueType{"", soap.TypeString, soap.TypeUnsignedInt, soap.TypeInt, soap.TypeUnsignedLong, soap.TypeLong,
		soap.TypeBoolean, soap.TypeDateTime, soap.TypeBase64, soap.TypeHexBinary, "xsd:anyURI", "xsd:decimal"}
	f.Fuzz(func(t *testing.T, param uint16, value string, sent uint8) {
		p := params[int(param)%len(params)]
		st := sentTypes[int(sent)%len(sentTypes)]
		if p.Hidden {
			// A marker, so that finding it in a message means it was quoted.
			value = "pw<" + value + ">5e1d"
		}
		out, err := p.Canonical(value, st)
		if err != nil {
			var ve *valueError
			if !errors.As(err, &ve) {
				t.Fatalf("%s = %q (%s): error %T is no fault: %v", p.Path, value, st, err, err)
			}
			wantType := st != "" && st != soap.TypeString && st != p.Type.ValueType()
			if wantType != (ve.code == soap.FaultInvalidParameterType) ||
				ve.code != soap.FaultInvalidParameterType && ve.code != soap.FaultInvalidParameterValue {
				t.Fatalf("%s = %q sent as %q: fault %d (%v)", p.Path, value, st, ve.code, err)
			}
			if p.Hidden && strings.Contains(err.Error(), value) {
				t.Fatalf("%s: the fault quotes the hidden value: %v", p.Path, err)
			}
			return
		}
		for _, again := range []soap.ValueType{p.Type.ValueType(), soap.TypeString, ""} {
			if out2, err := p.Canonical(out, again); err != nil || out2 != out {
				t.Fatalf("%s = %q: canonical %q sent again as %q gives %q, %v", p.Path, value, out, again, out2, err)
			}
		}
		pv := soap.ParameterValueStruct{Name: p.Path, Value: out, Type: p.Type.ValueType()}
		if err := pv.CheckValue(); err != nil {
			t.Fatalf("%s = %q: canonical %q is not a valid %s: %v", p.Path, value, out, pv.Type, err)
		}
		switch p.Type {
		case TypeDateTime:
			if !xsdDateTime.MatchString(out) {
				t.Fatalf("%s = %q: canonical %q is not an xsd:dateTime a strict ACS reads", p.Path, value, out)
			}
		case TypeUnsignedInt, TypeUnsignedLong, TypeInt, TypeLong:
			if p.Min != nil || p.Max != nil {
				n, err := strconv.ParseInt(out, 10, 64)
				if err != nil && !strings.HasPrefix(out, "-") {
					n, err = 1<<63-1, nil // above int64: above any Max the schema has
				}
				if err != nil || p.Min != nil && n < *p.Min || p.Max != nil && n > *p.Max {
					t.Fatalf("%s = %q: canonical %q out of range", p.Path, value, out)
				}
			}
		case TypeString:
			if p.MaxLen > 0 && utf8.RuneCountInString(out) > p.MaxLen {
				t.Fatalf("%s = %q: canonical longer than %d", p.Path, value, p.MaxLen)
			}
			if len(p.Enum) > 0 {
				items := []string{out}
				if p.List {
					items = strings.Split(out, ",")
				}
				for _, it := range items {
					if !contains(p.Enum, strings.TrimSpace(it)) {
						t.Fatalf("%s = %q: %q not in %v", p.Path, value, it, p.Enum)
					}
				}
			}
		}
		if p.Setting != "" {
			v, err := projections.ValidateSetting(p.Setting, out)
			if err != nil || v != out {
				t.Fatalf("%s = %q accepted as %q, but the setting %s takes it as %q, %v", p.Path, value, out, p.Setting, v, err)
			}
		}
	})
}
