package soap

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/beevik/etree"
)

type kind uint8

const (
	kString kind = iota
	kBool
	kUint32
	kInt32
	kTime
	kStruct
	kStrings
	kStructs
)

type field struct {
	index      int
	name       string
	kind       kind
	max        int
	pat        func(string) bool // a schema pattern (patterns.go)
	lo, hi     int64
	hasLo      bool
	hasHi      bool
	optional   bool
	arrayType  string // "cwmp:EventStruct" / "xsd:string"
	item       string // item element name
	minItems   int
	maxItems   int
	elem       *plan // struct or item struct
	structType reflect.Type
	// unchecked: a ParameterValueStruct list whose values are not checked
	// against their xsi:type here (see decodePVSList).
	unchecked bool
	// when is the index of an earlier boolean field (when=Name) that says
	// whether this field's content means anything; -1 for none. When that
	// field is false the element must still be there, but its content is
	// not decoded or checked (see decodeStruct).
	when int
}

type plan struct{ fields []field }

var (
	plansMu sync.Mutex
	plans   = map[reflect.Type]*plan{}
)

var (
	timeType = reflect.TypeOf(time.Time{})
	pvsType  = reflect.TypeOf(ParameterValueStruct{})
)

// planFor builds (once) the field plan of a tagged struct type. A bad tag is
// a programming error in this package, hence the panic.
func planFor(t reflect.Type) *plan {
	plansMu.Lock()
	defer plansMu.Unlock()
	return planLocked(t)
}

func planLocked(t reflect.Type) *plan {
	if p, ok := plans[t]; ok {
		return p
	}
	p := &plan{}
	plans[t] = p
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag, ok := sf.Tag.Lookup("cwmp")
		if !ok {
			panic("soap: untagged field " + t.Name() + "." + sf.Name)
		}
		parts := strings.Split(tag, ",")
		f := field{index: i, name: parts[0], maxItems: -1, when: -1}
		for _, o := range parts[1:] {
			k, v, _ := strings.Cut(o, "=")
			switch k {
			case "max":
				f.max = atoi(v)
			case "pat":
				f.pat = patterns[v]
				if f.pat == nil {
					panic("soap: unknown pattern " + v)
				}
			case "range":
				lo, hi, _ := strings.Cut(v, ":")
				if lo != "" {
					f.lo, f.hasLo = int64(atoi(lo)), true
				}
				if hi != "" {
					f.hi, f.hasHi = int64(atoi(hi)), true
				}
			case "array":
				f.arrayType = v
				_, f.item, _ = strings.Cut(v, ":")
			case "minitems":
				f.minItems = atoi(v)
			case "maxitems":
				f.maxItems = atoi(v)
			case "opt":
				f.optional = true
			case "unchecked":
				f.unchecked = true
			case "when":
				for _, g := range p.fields {
					if g.name == v && g.kind == kBool {
						f.when = g.index
					}
				}
				if f.when < 0 {
					panic("soap: when= names no earlier boolean field: " + v)
				}
			default:
				panic("soap: unknown tag option " + o)
			}
		}
		ft := sf.Type
		switch {
		case ft == timeType:
			f.kind = kTime
		case ft.Kind() == reflect.String:
			f.kind = kString
		case ft.Kind() == reflect.Bool:
			f.kind = kBool
		case ft.Kind() == reflect.Uint32:
			f.kind = kUint32
		case ft.Kind() == reflect.Int32:
			f.kind = kInt32
		case ft.Kind() == reflect.Struct:
			f.kind, f.elem = kStruct, planLocked(ft)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.String:
			f.kind = kStrings
		case ft.Kind() == reflect.Slice && ft.Elem() == pvsType:
			f.kind = kStructs
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			f.kind, f.elem = kStructs, planLocked(ft.Elem())
		default:
			panic("soap: unsupported field type " + ft.String())
		}
		if (f.kind == kStrings || f.kind == kStructs) && f.arrayType == "" {
			panic("soap: slice without array= in " + t.Name())
		}
		if f.kind == kStructs {
			f.structType = ft.Elem()
		}
		p.fields = append(p.fields, f)
	}
	return p
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic("soap: bad number in tag: " + s)
	}
	return n
}

// ---- encoding (etree) ----

// encodeStruct appends v's fields to parent. The schema constraints that
// Decode enforces are checked here too, so the CPE cannot emit an envelope
// the ACS would have to reject (e.g. a FaultString over 256 characters).
func encodeStruct(parent *etree.Element, p *plan, v reflect.Value, path string) *fieldErr {
	for i := range p.fields {
		f := &p.fields[i]
		fv := v.Field(f.index)
		fp := join(path, f.name)
		el := parent.CreateElement(f.name)
		switch f.kind {
		case kString:
			if err := checkString(f, fv.String()); err != nil {
				return argErr(fp, "%v", err)
			}
			el.SetText(fv.String())
		case kBool:
			el.SetText(strconv.FormatBool(fv.Bool()))
		case kUint32:
			if err := checkRange(f, int64(fv.Uint())); err != nil {
				return argErr(fp, "%v", err)
			}
			el.SetText(strconv.FormatUint(fv.Uint(), 10))
		case kInt32:
			if err := checkRange(f, fv.Int()); err != nil {
				return argErr(fp, "%v", err)
			}
			el.SetText(strconv.FormatInt(fv.Int(), 10))
		case kTime:
			el.SetText(FormatDateTime(fv.Interface().(time.Time)))
		case kStruct:
			if err := encodeStruct(el, f.elem, fv, fp); err != nil {
				return err
			}
		case kStrings:
			if err := checkItems(f, fv.Len()); err != nil {
				return argErr(fp, "%v", err)
			}
			el.CreateAttr("SOAP-ENC:arrayType", f.arrayType+"["+strconv.Itoa(fv.Len())+"]")
			for j := 0; j < fv.Len(); j++ {
				if err := checkString(f, fv.Index(j).String()); err != nil {
					return argErr(fmt.Sprintf("%s/%s[%d]", fp, f.item, j+1), "%v", err)
				}
				el.CreateElement(f.item).SetText(fv.Index(j).String())
			}
		case kStructs:
			if err := checkItems(f, fv.Len()); err != nil {
				return argErr(fp, "%v", err)
			}
			el.CreateAttr("SOAP-ENC:arrayType", f.arrayType+"["+strconv.Itoa(fv.Len())+"]")
			for j := 0; j < fv.Len(); j++ {
				item := el.CreateElement(f.item)
				if f.elem == nil {
					pv := fv.Index(j).Interface().(ParameterValueStruct)
					if utf8.RuneCountInString(pv.Name) > 256 {
						return argErr(fmt.Sprintf("%s/%s[%d]/Name", fp, f.item, j+1), "longer than 256 characters")
					}
					encodePVSFields(item, pv)
				} else if err := encodeStruct(item, f.elem, fv.Index(j), fmt.Sprintf("%s/%s[%d]", fp, f.item, j+1)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func encodePVSFields(el *etree.Element, pv ParameterValueStruct) {
	el.CreateElement("Name").SetText(pv.Name)
	val := el.CreateElement("Value")
	t := pv.Type
	if t == "" {
		t = TypeString
	}
	val.CreateAttr("xsi:type", string(t))
	val.SetText(pv.Value)
}

// ---- decoding (etree) ----

// fieldErr is an argument error with the path to the offending element.
type fieldErr struct {
	path string
	err  error
}

func (e *fieldErr) Error() string { return e.path + ": " + e.err.Error() }

func (e *fieldErr) Unwrap() error { return e.err }

func argErr(path, format string, a ...any) *fieldErr {
	return &fieldErr{path: path, err: fmt.Errorf("%w: "+format, append([]any{ErrInvalidArgument}, a...)...)}
}

// children indexes the child elements of el by local name, first wins:
// argument elements are unqualified in the schema but some ACSs qualify
// them, so the prefix is ignored.
func children(el *etree.Element) map[string]*etree.Element {
	m := make(map[string]*etree.Element, len(el.Child))
	for _, c := range el.Child {
		if ce, ok := c.(*etree.Element); ok {
			if _, dup := m[ce.Tag]; !dup {
				m[ce.Tag] = ce
			}
		}
	}
	return m
}

func childElements(el *etree.Element) []*etree.Element {
	var out []*etree.Element
	for _, c := range el.Child {
		if ce, ok := c.(*etree.Element); ok {
			out = append(out, ce)
		}
	}
	return out
}

func decodeStruct(el *etree.Element, p *plan, v reflect.Value, path string) *fieldErr {
	kids := children(el)
	for i := range p.fields {
		f := &p.fields[i]
		fp := join(path, f.name)
		c := kids[f.name]
		if c == nil {
			if f.optional {
				continue
			}
			return argErr(fp, "missing")
		}
		if f.when >= 0 && !v.Field(f.when).Bool() {
			// The flag says the value is not used: whatever it holds (an
			// empty element, from GenieACS) is no reason to refuse the
			// request. The field keeps its zero value.
			continue
		}
		if err := decodeField(c, f, v.Field(f.index), fp); err != nil {
			return err
		}
	}
	return nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "/" + name
}

func decodeField(c *etree.Element, f *field, fv reflect.Value, fp string) *fieldErr {
	switch f.kind {
	case kString:
		s := c.Text()
		if err := checkString(f, s); err != nil {
			return argErr(fp, "%v", err)
		}
		fv.SetString(s)
	case kBool:
		b, err := parseBool(strings.TrimSpace(c.Text()))
		if err != nil {
			return argErr(fp, "%q is not an xsd:boolean", c.Text())
		}
		fv.SetBool(b)
	case kUint32:
		n, err := strconv.ParseUint(trimPlus(strings.TrimSpace(c.Text())), 10, 32)
		if err != nil {
			return argErr(fp, "%q is not an xsd:unsignedInt", c.Text())
		}
		if err := checkRange(f, int64(n)); err != nil {
			return argErr(fp, "%v", err)
		}
		fv.SetUint(n)
	case kInt32:
		n, err := strconv.ParseInt(trimPlus(strings.TrimSpace(c.Text())), 10, 32)
		if err != nil {
			return argErr(fp, "%q is not an xsd:int", c.Text())
		}
		if err := checkRange(f, n); err != nil {
			return argErr(fp, "%v", err)
		}
		fv.SetInt(n)
	case kTime:
		t, err := ParseDateTime(c.Text())
		if err != nil {
			return argErr(fp, "%q is not an xsd:dateTime", c.Text())
		}
		fv.Set(reflect.ValueOf(t))
	case kStruct:
		return decodeStruct(c, f.elem, fv, fp)
	case kStrings:
		items := childElements(c)
		if err := checkItems(f, len(items)); err != nil {
			return argErr(fp, "%v", err)
		}
		if len(items) == 0 {
			return nil // nil, not empty: decode(encode(x)) == x for unset lists
		}
		out := make([]string, len(items))
		for j, it := range items {
			s := it.Text()
			if err := checkString(f, s); err != nil {
				return argErr(fmt.Sprintf("%s/%s[%d]", fp, f.item, j+1), "%v", err)
			}
			out[j] = s
		}
		fv.Set(reflect.ValueOf(out))
	case kStructs:
		items := childElements(c)
		if err := checkItems(f, len(items)); err != nil {
			return argErr(fp, "%v", err)
		}
		if len(items) == 0 {
			return nil
		}
		if f.elem == nil {
			out, err := decodePVSList(items, fp, !f.unchecked)
			if err != nil {
				return err
			}
			fv.Set(reflect.ValueOf(out))
			return nil
		}
		out := reflect.MakeSlice(fv.Type(), len(items), len(items))
		for j, it := range items {
			if err := decodeStruct(it, f.elem, out.Index(j), fmt.Sprintf("%s/%s[%d]", fp, f.item, j+1)); err != nil {
				return err
			}
		}
		fv.Set(out)
	}
	return nil
}

func checkString(f *field, s string) error {
	if f.max > 0 && len(s) > f.max && utf8.RuneCountInString(s) > f.max {
		return fmt.Errorf("longer than %d characters", f.max)
	}
	if f.pat != nil && !f.pat(s) {
		return fmt.Errorf("%q does not match the schema pattern", truncate(s))
	}
	return nil
}

func checkRange(f *field, n int64) error {
	if (f.hasLo && n < f.lo) || (f.hasHi && n > f.hi) {
		return fmt.Errorf("%d out of range", n)
	}
	return nil
}

func checkItems(f *field, n int) error {
	if n < f.minItems {
		return fmt.Errorf("at least %d items required, got %d", f.minItems, n)
	}
	if f.maxItems >= 0 && n > f.maxItems {
		return fmt.Errorf("at most %d items allowed, got %d", f.maxItems, n)
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// decodePVSList decodes a ParameterValueStruct array. With check, a value
// that does not match its xsi:type is an argument error (the first one
// found): that is what a strict ACS wants of a CPE's Inform or
// GetParameterValuesResponse. A SetParameterValues list is decoded without
// the check: only the CPE's data model knows each parameter's type, so only
// it can tell an unknown name (9005), a wrong type (9006), a bad value
// (9007) and a read-only parameter (9008) apart, and list every offending
// parameter in one fault (D§12.2).
func decodePVSList(items []*etree.Element, fp string, check bool) ([]ParameterValueStruct, *fieldErr) {
	out := make([]ParameterValueStruct, len(items))
	for j, it := range items {
		pv, err := decodePVS(it, check)
		if err != nil {
			// The path is built only on error: Sprintf per item would cost
			// more than the rest of the item's decoding.
			err.path = fmt.Sprintf("%s/ParameterValueStruct[%d]%s", fp, j+1, err.path)
			return nil, err
		}
		out[j] = pv
	}
	return out, nil
}

// decodePVS decodes one ParameterValueStruct; error paths are relative to
// it (decodePVSList prefixes them).
func decodePVS(el *etree.Element, check bool) (ParameterValueStruct, *fieldErr) {
	var name, value *etree.Element
	for _, c := range el.Child {
		if ce, ok := c.(*etree.Element); ok {
			switch ce.Tag {
			case "Name":
				if name == nil {
					name = ce
				}
			case "Value":
				if value == nil {
					value = ce
				}
			}
		}
	}
	if name == nil {
		return ParameterValueStruct{}, argErr("/Name", "missing")
	}
	if value == nil {
		return ParameterValueStruct{}, argErr("/Value", "missing")
	}
	pv := ParameterValueStruct{Name: name.Text(), Value: value.Text()}
	if len(pv.Name) > 256 && utf8.RuneCountInString(pv.Name) > 256 {
		return pv, argErr("/Name", "longer than 256 characters")
	}
	for _, a := range value.Attr {
		if a.Key == "type" && a.Space != "" && a.Space != "xmlns" && a.NamespaceURI() == NSXSI {
			_, local, found := strings.Cut(strings.TrimSpace(a.Value), ":")
			if !found {
				local = strings.TrimSpace(a.Value)
			}
			pv.Type = canonicalType(local)
		}
	}
	if check {
		if err := checkValue(pv.Type, pv.Value); err != nil {
			// The value itself stays out of the message: it may be a password.
			return pv, argErr("/Value", "value is not a valid %s", pv.Type)
		}
	}
	return pv, nil
}
