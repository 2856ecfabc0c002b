package soap

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"time"
	"unicode/utf8"
)

// encodeStructStream writes env, whose body is a tagged message struct (not
// a Fault, not empty), with the streaming writer instead of building an
// etree document: the same bytes (TestStructStreamMatchesTree), checked by
// the same schema rules, for a fraction of the allocations. It is the path
// of every Inform, so of every session. The envelope is built in memory and
// written to w only when it is complete and valid, as with etree.
func encodeStructStream(w io.Writer, v Version, env *Envelope, m Message) error {
	mv, err := messageValue(m)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	bw := bufio.NewWriterSize(&buf, 4<<10)
	sw := &streamWriter{w: bw}
	sw.envelopeOpen(v)
	sw.header(&env.Header)
	sw.open(1, "SOAP-ENV:Body")
	if ferr := sw.element(2, "cwmp:"+m.MethodName(), planFor(mv.Type()), mv); ferr != nil {
		return fmt.Errorf("soap: encode %s: %w", m.MethodName(), ferr)
	}
	sw.close(1, "SOAP-ENV:Body")
	sw.raw("\n</SOAP-ENV:Envelope>\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("soap: encode: %w", err)
	}
	if _, err := buf.WriteTo(w); err != nil {
		return fmt.Errorf("soap: encode: %w", err)
	}
	return nil
}

// element writes <name>fields</name> at depth, or <name/> when p has no
// fields. v is addressable (the message is passed by pointer), so fields
// are read through pointers rather than copied into interfaces.
//
// A *fieldErr from here carries the path below v only; each level prefixes
// its own part on the way out (under), so that a valid message, every
// session's case, builds no path strings at all.
func (s *streamWriter) element(depth int, name string, p *plan, v reflect.Value) *fieldErr {
	s.indent(depth)
	s.w.WriteByte('<')
	s.w.WriteString(name)
	if len(p.fields) == 0 {
		s.w.WriteString("/>")
		return nil
	}
	s.w.WriteByte('>')
	if err := s.fields(depth+1, p, v); err != nil {
		return err
	}
	s.close(depth, name)
	return nil
}

// under puts prefix in front of the error's path.
func (e *fieldErr) under(prefix string) *fieldErr {
	if e.path == "" {
		e.path = prefix
	} else {
		e.path = prefix + "/" + e.path
	}
	return e
}

// fields mirrors encodeStruct field by field.
func (s *streamWriter) fields(depth int, p *plan, v reflect.Value) *fieldErr {
	for i := range p.fields {
		f := &p.fields[i]
		fv := v.Field(f.index)
		switch f.kind {
		case kString:
			if err := checkString(f, fv.String()); err != nil {
				return argErr(f.name, "%v", err)
			}
			s.leaf(depth, f.name, "", fv.String())
		case kBool:
			s.leaf(depth, f.name, "", strconv.FormatBool(fv.Bool()))
		case kUint32:
			if err := checkRange(f, int64(fv.Uint())); err != nil {
				return argErr(f.name, "%v", err)
			}
			s.leafInt(depth, f.name, int64(fv.Uint()))
		case kInt32:
			if err := checkRange(f, fv.Int()); err != nil {
				return argErr(f.name, "%v", err)
			}
			s.leafInt(depth, f.name, fv.Int())
		case kTime:
			s.leaf(depth, f.name, "", FormatDateTime(*fv.Addr().Interface().(*time.Time)))
		case kStruct:
			if err := s.element(depth, f.name, f.elem, fv); err != nil {
				return err.under(f.name)
			}
		case kStrings, kStructs:
			if err := s.array(depth, f, fv); err != nil {
				return err.under(f.name)
			}
		}
	}
	return nil
}

// array writes a SOAP-ENC array field and its items.
func (s *streamWriter) array(depth int, f *field, fv reflect.Value) *fieldErr {
	n := fv.Len()
	if err := checkItems(f, n); err != nil {
		return argErr("", "%v", err)
	}
	s.indent(depth)
	s.w.WriteByte('<')
	s.w.WriteString(f.name)
	s.w.WriteString(` SOAP-ENC:arrayType="`)
	escape(s.w, f.arrayType, true)
	s.w.WriteByte('[')
	s.int(int64(n))
	if n == 0 {
		s.w.WriteString(`]"/>`)
		return nil
	}
	s.w.WriteString(`]">`)
	itemPath := func(j int) string { return f.item + "[" + strconv.Itoa(j+1) + "]" }
	for j := range n {
		item := fv.Index(j)
		switch {
		case f.kind == kStrings:
			if err := checkString(f, item.String()); err != nil {
				return argErr(itemPath(j), "%v", err)
			}
			s.leaf(depth+1, f.item, "", item.String())
		case f.elem == nil:
			pv := item.Addr().Interface().(*ParameterValueStruct)
			if utf8.RuneCountInString(pv.Name) > 256 {
				return argErr(itemPath(j)+"/Name", "longer than 256 characters")
			}
			s.open(depth+1, f.item)
			s.leaf(depth+2, "Name", "", pv.Name)
			t := pv.Type
			if t == "" {
				t = TypeString
			}
			s.leaf(depth+2, "Value", string(t), pv.Value)
			s.close(depth+1, f.item)
		default:
			if err := s.element(depth+1, f.item, f.elem, item); err != nil {
				return err.under(itemPath(j))
			}
		}
	}
	s.close(depth, f.name)
	return nil
}
