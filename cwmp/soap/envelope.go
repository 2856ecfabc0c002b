package soap

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// Envelope is one SOAP message. Body is nil for an envelope with an empty
// Body (some ACSs send that instead of an empty HTTP response).
type Envelope struct {
	// Version selects the cwmp namespace on Encode; after Decode it is the
	// version the namespace names (V1_3/V1_4 for the non-standard
	// cwmp-1-3/-1-4 namespaces, which Encode writes as cwmp-1-2).
	Version Version
	// Namespace is the cwmp namespace URI seen on Decode; ignored by Encode.
	Namespace string
	Header    Header
	Body      Message
}

// Header holds the cwmp SOAP headers. Zero values mean "absent".
type Header struct {
	// ID is echoed in the response and written with mustUnderstand="1".
	// An empty ID is indistinguishable from none and is not written.
	ID                    string
	HoldRequests          bool   // ACS→CPE
	SessionTimeout        uint32 // CPE→ACS in Inform, seconds (1.3+)
	SupportedCWMPVersions string // CPE→ACS in Inform, e.g. "1.0,1.1,1.2,1.3,1.4" (1.4)
	UseCWMPVersion        string // ACS→CPE in InformResponse (1.4)
	// NotUnderstood lists headers marked mustUnderstand="1" that this codec
	// does not know; Decode then also returns a MustUnderstand DecodeError.
	NotUnderstood []xml.Name
}

// DefaultLimit is the envelope size Decode allows when given limit <= 0.
// TR-069 §3.5 requires at least 32768 bytes; a 10,000-parameter
// SetParameterValues is 1–2 MB. Decoding allocates roughly 13 times the
// envelope size (etree tree plus encoding/xml tokens), so a device short of
// memory should pass a smaller limit.
const DefaultLimit = 4 << 20

// MinLimit is the smallest limit Decode honours (TR-069 §3.5).
const MinLimit = 32768

// maxDepth bounds element nesting; CWMP needs 7 levels.
const maxDepth = 32

// Decode reads one envelope of at most limit bytes (DefaultLimit when
// limit <= 0, never less than MinLimit). Errors are *DecodeError; when the
// header could be read the returned Envelope is non-nil even with an error,
// so a fault can echo its ID and use its Version.
func Decode(r io.Reader, limit int64) (*Envelope, error) {
	if limit <= 0 {
		limit = DefaultLimit
	} else if limit < MinLimit {
		limit = MinLimit
	}
	buf, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, &DecodeError{Err: fmt.Errorf("read: %w", err)}
	}
	if int64(len(buf)) > limit {
		return nil, &DecodeError{Code: FaultResourcesExceeded, Err: fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)}
	}
	return decodeBytes(buf)
}

func decodeBytes(buf []byte) (*Envelope, error) {
	// SOAP 1.1 §3 forbids a DTD; refusing it outright keeps entity tricks
	// out (encoding/xml would not expand them anyway).
	if bytes.Contains(buf, []byte("<!DOCTYPE")) || bytes.Contains(buf, []byte("<!ENTITY")) {
		return nil, &DecodeError{Err: fmt.Errorf("%w: DTD not allowed", ErrSyntax)}
	}
	doc := etree.NewDocument()
	doc.ReadSettings.MaxDepth = maxDepth
	if err := doc.ReadFromBytes(buf); err != nil {
		return nil, &DecodeError{Err: fmt.Errorf("%w: %v", ErrSyntax, err)}
	}
	var root *etree.Element
	for _, t := range doc.Child {
		switch t := t.(type) {
		case *etree.Element:
			if root != nil {
				return nil, &DecodeError{Err: fmt.Errorf("%w: more than one root element", ErrSyntax)}
			}
			root = t
		case *etree.Directive:
			return nil, &DecodeError{Err: fmt.Errorf("%w: DTD not allowed", ErrSyntax)}
		case *etree.CharData:
			if !t.IsWhitespace() {
				return nil, &DecodeError{Err: fmt.Errorf("%w: text outside the root element", ErrSyntax)}
			}
		}
	}
	if root == nil {
		return nil, &DecodeError{Err: fmt.Errorf("%w: no root element", ErrSyntax)}
	}
	if root.Tag != "Envelope" {
		return nil, &DecodeError{Err: fmt.Errorf("%w: root is %q", ErrNotEnvelope, root.Tag)}
	}
	if ns := root.NamespaceURI(); ns != NSEnvelope {
		// SOAP 1.1 §4.4: an envelope in another namespace gets VersionMismatch.
		return nil, &DecodeError{SOAPCode: SOAPVersionMismatch, Err: fmt.Errorf("%w: envelope namespace %q", ErrVersion, ns)}
	}

	env := &Envelope{}
	var header, body *etree.Element
	for _, c := range childElements(root) {
		if c.NamespaceURI() != NSEnvelope {
			continue
		}
		switch c.Tag {
		case "Header":
			if header == nil {
				header = c
			}
		case "Body":
			if body == nil {
				body = c
			}
		}
	}
	if body == nil {
		return nil, &DecodeError{Err: fmt.Errorf("%w: no Body", ErrNotEnvelope)}
	}
	if header != nil {
		if err := decodeHeader(header, env); err != nil {
			return env, err
		}
	}
	var method *etree.Element
	kids := childElements(body)
	if len(kids) > 0 {
		method = kids[0]
	}
	if method != nil {
		ns := method.NamespaceURI()
		if v, ok := VersionFromNamespace(ns); ok {
			env.Version, env.Namespace = v, ns
		}
	}
	if env.Version == 0 {
		env.Version = V1_2 // nothing cwmp in sight: answer in the current namespace
	}
	if len(env.Header.NotUnderstood) > 0 {
		n := env.Header.NotUnderstood[0]
		return env, &DecodeError{SOAPCode: SOAPMustUnderstand,
			Err: fmt.Errorf("%w: {%s}%s", ErrMustUnderstand, n.Space, n.Local)}
	}
	if method == nil {
		return env, nil
	}
	if len(kids) > 1 {
		// One RPC per envelope (MaxEnvelopes is 1, D§2.1): serving the
		// first and dropping the rest would leave the ACS believing they
		// were done, so the whole envelope is refused (9003 to a request).
		names := make([]string, 0, 3)
		for _, k := range kids[:min(len(kids), 3)] {
			names = append(names, truncateRunes(k.Tag, 40))
		}
		return env, &DecodeError{Code: FaultInvalidArguments, Method: method.Tag, Field: "Body",
			Err: fmt.Errorf("%w: %d methods in one envelope (%s)", ErrInvalidArgument, len(kids), strings.Join(names, ", "))}
	}
	msg, err := decodeBody(method)
	if err != nil {
		return env, err
	}
	env.Body = msg
	return env, nil
}

func isTrue(s string) bool {
	s = strings.TrimSpace(s)
	return s == "1" || s == "true"
}

// decodeHeader reads every header entry, even past a bad one, and returns
// the first error: SOAP 1.1 leaves header entries unordered, and the fault
// for a bad header must still echo the request's cwmp:ID (D§3) wherever
// the ID stands.
func decodeHeader(h *etree.Element, env *Envelope) error {
	var first error
	for _, c := range childElements(h) {
		ns := c.NamespaceURI()
		v, isCWMP := VersionFromNamespace(ns)
		mu, actor := "", ""
		for _, a := range c.Attr {
			if a.Space != "" && a.Space != "xmlns" && a.NamespaceURI() == NSEnvelope {
				switch a.Key {
				case "mustUnderstand":
					mu = a.Value
				case "actor":
					actor = a.Value
				}
			}
		}
		if isCWMP {
			if env.Namespace == "" {
				env.Version, env.Namespace = v, ns
			}
			text := strings.TrimSpace(c.Text())
			bad := func(what string) {
				if first == nil {
					first = &DecodeError{Code: FaultInvalidArguments, Field: "Header/" + c.Tag,
						Err: fmt.Errorf("%w: %q is not %s", ErrInvalidArgument, truncate(text), what)}
				}
			}
			switch c.Tag {
			case "ID":
				env.Header.ID = c.Text()
				continue
			case "HoldRequests":
				b, err := parseBool(text)
				if err != nil {
					bad("an xsd:boolean")
					continue
				}
				env.Header.HoldRequests = b
				continue
			case "SessionTimeout":
				n, err := strconv.ParseUint(text, 10, 32)
				if err != nil {
					bad("an xsd:unsignedInt")
					continue
				}
				env.Header.SessionTimeout = uint32(n)
				continue
			case "SupportedCWMPVersions":
				env.Header.SupportedCWMPVersions = text
				continue
			case "UseCWMPVersion":
				if _, err := ParseVersion(text); err != nil {
					bad("a CWMP version")
					continue
				}
				env.Header.UseCWMPVersion = text
				continue
			}
		}
		// SOAP 1.1 §4.2.2: only headers aimed at us (no actor, or "next")
		// must be understood.
		if isTrue(mu) && (actor == "" || actor == "http://schemas.xmlsoap.org/soap/actor/next") {
			env.Header.NotUnderstood = append(env.Header.NotUnderstood, xml.Name{Space: ns, Local: c.Tag})
		}
	}
	return first
}

func decodeBody(method *etree.Element) (Message, error) {
	ns := method.NamespaceURI()
	if ns == NSEnvelope && method.Tag == "Fault" {
		f, err := decodeFault(method)
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	t, known := methods[method.Tag]
	if _, isCWMP := VersionFromNamespace(ns); !isCWMP || !known {
		return nil, &DecodeError{Code: FaultMethodNotSupported, Method: method.Tag,
			Err: fmt.Errorf("%w: {%s}%s", ErrUnknownMethod, ns, method.Tag)}
	}
	v := reflect.New(t)
	if ferr := decodeStruct(method, planFor(t), v.Elem(), ""); ferr != nil {
		return nil, &DecodeError{Code: FaultInvalidArguments, Method: method.Tag, Field: ferr.path, Err: ferr.err}
	}
	return v.Interface().(Message), nil
}

func decodeFault(el *etree.Element) (*Fault, error) {
	kids := children(el)
	f := &Fault{}
	if c := kids["faultcode"]; c != nil {
		code := strings.TrimSpace(c.Text())
		if _, local, ok := strings.Cut(code, ":"); ok {
			code = local
		}
		f.Code = code
	}
	if c := kids["faultstring"]; c != nil {
		f.String = c.Text()
	}
	detail := kids["detail"]
	if detail == nil {
		return f, nil
	}
	cf := children(detail)["Fault"]
	if cf == nil {
		return f, nil
	}
	d := &CWMPFault{}
	// A fault cannot be answered with a fault: a malformed one ends the
	// session (Code FaultNone).
	bad := func(path, what string) error {
		return &DecodeError{Method: "Fault", Field: path,
			Err: fmt.Errorf("%w: %s", ErrInvalidArgument, what)}
	}
	fk := children(cf)
	code, err := parseFaultCode(fk["FaultCode"])
	if err != nil {
		return nil, bad("detail/Fault/FaultCode", err.Error())
	}
	d.FaultCode = code
	if c := fk["FaultString"]; c != nil {
		d.FaultString = c.Text()
	}
	for i, c := range childElements(cf) {
		if c.Tag != "SetParameterValuesFault" {
			continue
		}
		k := children(c)
		pf := SetParameterValuesFault{}
		if n := k["ParameterName"]; n != nil {
			pf.ParameterName = n.Text()
		}
		code, err := parseFaultCode(k["FaultCode"])
		if err != nil {
			return nil, bad(fmt.Sprintf("detail/Fault/SetParameterValuesFault[%d]/FaultCode", i), err.Error())
		}
		pf.FaultCode = code
		if s := k["FaultString"]; s != nil {
			pf.FaultString = s.Text()
		}
		d.SetParameterValuesFault = append(d.SetParameterValuesFault, pf)
	}
	f.Detail = d
	return f, nil
}

func parseFaultCode(el *etree.Element) (FaultCode, error) {
	if el == nil {
		return 0, errors.New("missing")
	}
	n, err := strconv.ParseUint(strings.TrimSpace(el.Text()), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%q is not a fault code", truncate(el.Text()))
	}
	return FaultCode(n), nil
}

// ---- Encode ----

// Encode writes env as a SOAP 1.1 envelope in env.Version's namespace
// (V1_2 when unset). The three potentially huge responses
// (GetParameterValues/Names/Attributes) are streamed to w item by item;
// every other message is written by the same streaming writer into memory
// first (structstream.go); only faults and empty bodies still go through
// etree. All paths produce the bytes etree would.
func Encode(w io.Writer, env *Envelope) error {
	v := env.Version
	if v == 0 {
		v = V1_2
	}
	if !v.Valid() {
		return fmt.Errorf("soap: encode: %w: %v", ErrVersion, v)
	}
	switch m := env.Body.(type) {
	case *GetParameterValuesResponse:
		return EncodeGetParameterValuesResponse(w, v, &env.Header, Slice(m.ParameterList))
	case *GetParameterNamesResponse:
		return EncodeGetParameterNamesResponse(w, v, &env.Header, Slice(m.ParameterList))
	case *GetParameterAttributesResponse:
		return EncodeGetParameterAttributesResponse(w, v, &env.Header, Slice(m.ParameterList))
	case nil, *Fault:
		return encodeTree(w, v, env)
	default:
		return encodeStructStream(w, v, env, m)
	}
}

// encodeTree is the etree path of Encode, kept separate so tests can check
// the streaming encoder against it byte for byte.
func encodeTree(w io.Writer, v Version, env *Envelope) error {
	doc := etree.NewDocument()
	doc.WriteSettings = etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true}
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	root := doc.CreateElement("SOAP-ENV:Envelope")
	root.CreateAttr("xmlns:SOAP-ENV", NSEnvelope)
	root.CreateAttr("xmlns:SOAP-ENC", NSEncoding)
	root.CreateAttr("xmlns:xsd", NSXSD)
	root.CreateAttr("xmlns:xsi", NSXSI)
	root.CreateAttr("xmlns:cwmp", v.Namespace())
	encodeHeader(root, &env.Header)
	body := root.CreateElement("SOAP-ENV:Body")
	switch m := env.Body.(type) {
	case nil:
	case *Fault:
		encodeFault(body, m)
	default:
		v, err := messageValue(m)
		if err != nil {
			return err
		}
		el := body.CreateElement("cwmp:" + m.MethodName())
		if ferr := encodeStruct(el, planFor(v.Type()), v, ""); ferr != nil {
			return fmt.Errorf("soap: encode %s: %w", m.MethodName(), ferr)
		}
	}
	is := etree.NewIndentSettings()
	is.Spaces = 1
	is.PreserveLeafWhitespace = true // a value of "  " is data, not indentation
	doc.IndentWithSettings(is)
	if _, err := doc.WriteTo(w); err != nil {
		return fmt.Errorf("soap: encode: %w", err)
	}
	return nil
}

// messageValue is the struct a message body points to, once it is known to
// be one of the methods' types.
func messageValue(m Message) (reflect.Value, error) {
	rv := reflect.ValueOf(m)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return reflect.Value{}, fmt.Errorf("soap: encode: body %T is not a non-nil pointer", m)
	}
	if methods[m.MethodName()] != rv.Elem().Type() {
		return reflect.Value{}, fmt.Errorf("soap: encode: %w: %T", ErrUnknownMethod, m)
	}
	return rv.Elem(), nil
}

func encodeHeader(root *etree.Element, h *Header) {
	if h.ID == "" && !h.HoldRequests && h.SessionTimeout == 0 && h.SupportedCWMPVersions == "" && h.UseCWMPVersion == "" {
		return
	}
	he := root.CreateElement("SOAP-ENV:Header")
	add := func(name, text, mu string) {
		e := he.CreateElement("cwmp:" + name)
		e.CreateAttr("SOAP-ENV:mustUnderstand", mu)
		e.SetText(text)
	}
	if h.ID != "" {
		add("ID", h.ID, "1")
	}
	if h.HoldRequests {
		add("HoldRequests", "true", "1")
	}
	if h.SessionTimeout != 0 {
		add("SessionTimeout", strconv.FormatUint(uint64(h.SessionTimeout), 10), "0")
	}
	if h.SupportedCWMPVersions != "" {
		add("SupportedCWMPVersions", h.SupportedCWMPVersions, "0")
	}
	if h.UseCWMPVersion != "" {
		add("UseCWMPVersion", h.UseCWMPVersion, "1")
	}
}

func encodeFault(body *etree.Element, f *Fault) {
	fe := body.CreateElement("SOAP-ENV:Fault")
	code := f.Code
	if code == "" {
		code = SOAPServer
	}
	fe.CreateElement("faultcode").SetText("SOAP-ENV:" + code)
	fe.CreateElement("faultstring").SetText(f.String)
	if f.Detail == nil {
		return
	}
	cf := fe.CreateElement("detail").CreateElement("cwmp:Fault")
	cf.CreateElement("FaultCode").SetText(strconv.FormatUint(uint64(f.Detail.FaultCode), 10))
	cf.CreateElement("FaultString").SetText(f.Detail.FaultString)
	for _, p := range f.Detail.SetParameterValuesFault {
		pe := cf.CreateElement("SetParameterValuesFault")
		pe.CreateElement("ParameterName").SetText(p.ParameterName)
		pe.CreateElement("FaultCode").SetText(strconv.FormatUint(uint64(p.FaultCode), 10))
		pe.CreateElement("FaultString").SetText(p.FaultString)
	}
}
