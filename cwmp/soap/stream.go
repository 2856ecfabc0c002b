package soap

import (
	"bufio"
	"fmt"
	"io"
	"iter"
	"strconv"
	"unicode/utf8"
)

// List is a sequence whose length is known before the first item: the
// SOAP-ENC arrayType ("cwmp:ParameterValueStruct[10000]") precedes the items,
// and a streaming writer cannot go back to patch it.
type List[T any] struct {
	Len   int
	Items iter.Seq[T]
}

// Slice wraps a slice as a List.
func Slice[T any](s []T) List[T] {
	return List[T]{Len: len(s), Items: func(yield func(T) bool) {
		for _, x := range s {
			if !yield(x) {
				return
			}
		}
	}}
}

// EncodeGetParameterValuesResponse writes a whole envelope holding a
// GetParameterValuesResponse straight to w, one parameter at a time, so
// memory stays flat however many parameters there are. The output is
// byte-identical to what the etree path would produce. If params yields a
// different number of items than params.Len, or an item breaks a schema
// limit (a name over 256 characters), the output is invalid and an error is
// returned: discard what was written.
func EncodeGetParameterValuesResponse(w io.Writer, v Version, h *Header, params List[ParameterValueStruct]) error {
	return stream(w, v, h, "GetParameterValuesResponse", "ParameterList", "cwmp:ParameterValueStruct", params.Len,
		func(sw *streamWriter, emit func()) {
			for p := range params.Items {
				emit()
				sw.checkName(p.Name)
				sw.open(4, "ParameterValueStruct")
				sw.leaf(5, "Name", "", p.Name)
				t := p.Type
				if t == "" {
					t = TypeString
				}
				sw.leaf(5, "Value", string(t), p.Value)
				sw.close(4, "ParameterValueStruct")
			}
		})
}

// EncodeGetParameterNamesResponse is the GetParameterNamesResponse
// counterpart of EncodeGetParameterValuesResponse.
func EncodeGetParameterNamesResponse(w io.Writer, v Version, h *Header, params List[ParameterInfoStruct]) error {
	return stream(w, v, h, "GetParameterNamesResponse", "ParameterList", "cwmp:ParameterInfoStruct", params.Len,
		func(sw *streamWriter, emit func()) {
			for p := range params.Items {
				emit()
				sw.checkName(p.Name)
				sw.open(4, "ParameterInfoStruct")
				sw.leaf(5, "Name", "", p.Name)
				sw.leaf(5, "Writable", "", strconv.FormatBool(p.Writable))
				sw.close(4, "ParameterInfoStruct")
			}
		})
}

// EncodeGetParameterAttributesResponse is the GetParameterAttributesResponse
// counterpart of EncodeGetParameterValuesResponse.
func EncodeGetParameterAttributesResponse(w io.Writer, v Version, h *Header, params List[ParameterAttributeStruct]) error {
	return stream(w, v, h, "GetParameterAttributesResponse", "ParameterList", "cwmp:ParameterAttributeStruct", params.Len,
		func(sw *streamWriter, emit func()) {
			for p := range params.Items {
				emit()
				sw.checkName(p.Name)
				if p.Notification < 0 || p.Notification > 6 {
					sw.fail("Notification %d out of range", p.Notification)
				}
				for _, a := range p.AccessList {
					if utf8.RuneCountInString(a) > 64 {
						sw.fail("AccessList entry longer than 64 characters")
					}
				}
				sw.open(4, "ParameterAttributeStruct")
				sw.leaf(5, "Name", "", p.Name)
				sw.leafInt(5, "Notification", int64(p.Notification))
				sw.indent(5)
				sw.raw(`<AccessList SOAP-ENC:arrayType="xsd:string[`)
				sw.int(int64(len(p.AccessList)))
				if len(p.AccessList) == 0 {
					sw.raw(`]"/>`)
				} else {
					sw.raw(`]">`)
					for _, a := range p.AccessList {
						sw.leaf(6, "string", "", a)
					}
					sw.close(5, "AccessList")
				}
				sw.close(4, "ParameterAttributeStruct")
			}
		})
}

func stream(w io.Writer, v Version, h *Header, method, list, arrayType string, n int, items func(*streamWriter, func())) error {
	if v == 0 {
		v = V1_2
	}
	if !v.Valid() {
		return fmt.Errorf("soap: encode %s: %w: %v", method, ErrVersion, v)
	}
	if n < 0 {
		return fmt.Errorf("soap: encode %s: negative length %d", method, n)
	}
	bw, ok := w.(*bufio.Writer)
	if !ok {
		bw = bufio.NewWriterSize(w, 32<<10)
	}
	sw := &streamWriter{w: bw}
	sw.envelopeOpen(v)
	if h != nil {
		sw.header(h)
	}
	sw.open(1, "SOAP-ENV:Body")
	sw.open(2, "cwmp:"+method)
	sw.indent(3)
	sw.raw("<" + list + ` SOAP-ENC:arrayType="` + arrayType + "[")
	sw.int(int64(n))
	count := 0
	if n == 0 {
		sw.raw(`]"/>`)
		items(sw, func() { count++ })
	} else {
		sw.raw(`]">`)
		items(sw, func() { count++ })
		sw.close(3, list)
	}
	sw.close(2, "cwmp:"+method)
	sw.close(1, "SOAP-ENV:Body")
	sw.raw("\n</SOAP-ENV:Envelope>\n")
	if count != n {
		return fmt.Errorf("soap: encode %s: list yielded %d items, Len says %d", method, count, n)
	}
	if sw.err != nil {
		return fmt.Errorf("soap: encode %s: %w", method, sw.err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("soap: encode %s: %w", method, err)
	}
	return nil
}

// streamWriter writes XML in exactly the layout etree's IndentWithSettings
// (one space per level) produces. bufio.Writer errors are sticky, so they
// are checked once at Flush.
type streamWriter struct {
	w       *bufio.Writer
	scratch [24]byte
	n       int   // items emitted so far, for error positions
	err     error // first constraint violation; output goes on regardless
}

// envelopeOpen writes the XML declaration and the Envelope start tag with
// every namespace declaration, as etree writes them.
func (s *streamWriter) envelopeOpen(v Version) {
	s.raw(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<SOAP-ENV:Envelope xmlns:SOAP-ENV="` + NSEnvelope + `" xmlns:SOAP-ENC="` + NSEncoding +
		`" xmlns:xsd="` + NSXSD + `" xmlns:xsi="` + NSXSI + `" xmlns:cwmp="` + v.Namespace() + `">`)
}

func (s *streamWriter) fail(format string, a ...any) {
	if s.err == nil {
		s.err = fmt.Errorf("%w: item %d: "+format, append([]any{ErrInvalidArgument, s.n}, a...)...)
	}
}

// checkName enforces the schema's 256-character limit on parameter names.
func (s *streamWriter) checkName(name string) {
	s.n++
	if len(name) > 256 && utf8.RuneCountInString(name) > 256 {
		s.fail("Name longer than 256 characters")
	}
}

const spaces = "\n                "

func (s *streamWriter) raw(x string) { s.w.WriteString(x) }

func (s *streamWriter) indent(depth int) { s.w.WriteString(spaces[:depth+1]) }

func (s *streamWriter) int(n int64) { s.w.Write(strconv.AppendInt(s.scratch[:0], n, 10)) }

func (s *streamWriter) open(depth int, name string) {
	s.indent(depth)
	s.w.WriteByte('<')
	s.w.WriteString(name)
	s.w.WriteByte('>')
}

func (s *streamWriter) close(depth int, name string) {
	s.indent(depth)
	s.w.WriteString("</")
	s.w.WriteString(name)
	s.w.WriteByte('>')
}

// leaf writes <name xsi:type="typ">text</name>, or <name/> when text is empty
// (as etree does).
func (s *streamWriter) leaf(depth int, name, typ, text string) {
	s.indent(depth)
	s.w.WriteByte('<')
	s.w.WriteString(name)
	if typ != "" {
		s.w.WriteString(` xsi:type="`)
		escape(s.w, typ, true)
		s.w.WriteByte('"')
	}
	if text == "" {
		s.w.WriteString("/>")
		return
	}
	s.w.WriteByte('>')
	escape(s.w, text, false)
	s.w.WriteString("</")
	s.w.WriteString(name)
	s.w.WriteByte('>')
}

func (s *streamWriter) leafInt(depth int, name string, n int64) {
	s.indent(depth)
	s.w.WriteByte('<')
	s.w.WriteString(name)
	s.w.WriteByte('>')
	s.int(n)
	s.w.WriteString("</")
	s.w.WriteString(name)
	s.w.WriteByte('>')
}

func (s *streamWriter) header(h *Header) {
	if h.ID == "" && !h.HoldRequests && h.SessionTimeout == 0 && h.SupportedCWMPVersions == "" && h.UseCWMPVersion == "" {
		return
	}
	s.open(1, "SOAP-ENV:Header")
	add := func(name, text, mu string) {
		s.indent(2)
		s.raw("<cwmp:" + name + ` SOAP-ENV:mustUnderstand="` + mu + `"`)
		if text == "" {
			s.raw("/>")
			return
		}
		s.raw(">")
		escape(s.w, text, false)
		s.raw("</cwmp:" + name + ">")
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
	s.close(1, "SOAP-ENV:Header")
}

// plainText and plainAttr mark the ASCII bytes escape writes unchanged in
// character data and in an attribute value.
var plainText, plainAttr = plainBytes(false), plainBytes(true)

func plainBytes(attr bool) (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '&' && c != '<' && (c != '>' || attr) && (c != '"' || !attr)
	}
	t['\n'], t['\t'] = !attr, !attr
	return t
}

// escape writes s as XML character data (attr: as a double-quoted attribute
// value). '\r' is written as a reference because a parser would turn a
// literal one into '\n'; characters XML 1.0 cannot carry at all (most C0
// controls, invalid UTF-8, U+FFFE/U+FFFF) become U+FFFD. The rules match
// etree's canonical modes so both encoders agree byte for byte.
func escape(w *bufio.Writer, s string, attr bool) {
	plain := &plainText
	if attr {
		plain = &plainAttr
	}
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plain[c] {
			// Most bytes of a value are written as they are; one lookup
			// instead of the comparisons below.
			i++
			continue
		}
		var esc string
		width := 1
		if c < utf8.RuneSelf {
			switch {
			case c == '&':
				esc = "&amp;"
			case c == '<':
				esc = "&lt;"
			case c == '>' && !attr:
				esc = "&gt;"
			case c == '"' && attr:
				esc = "&quot;"
			case c == '\r':
				esc = "&#xD;"
			case c == '\n' && attr:
				esc = "&#xA;"
			case c == '\t' && attr:
				esc = "&#x9;"
			case c < 0x20 && c != '\n' && c != '\t':
				esc = "\uFFFD"
			default:
				i++
				continue
			}
		} else {
			r, n := utf8.DecodeRuneInString(s[i:])
			width = n
			if (r == utf8.RuneError && n == 1) || r == 0xFFFE || r == 0xFFFF {
				esc = "\uFFFD"
			} else {
				i += n
				continue
			}
		}
		w.WriteString(s[last:i])
		w.WriteString(esc)
		i += width
		last = i
	}
	w.WriteString(s[last:])
}
