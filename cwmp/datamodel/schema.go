package datamodel

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cwmpd/cwmpd/projections/event"
)

// Type is a TR-181 base type, named as in the BBF XML and as xsd types.
type Type string

const (
	TypeString       Type = "string"
	TypeUnsignedInt  Type = "unsignedInt"
	TypeInt          Type = "int"
	TypeUnsignedLong Type = "unsignedLong"
	TypeLong         Type = "long"
	TypeBoolean      Type = "boolean"
	TypeDateTime     Type = "dateTime"
	TypeBase64       Type = "base64"
	TypeHexBinary    Type = "hexBinary"
)

// Notify is a parameter's activeNotify rule (TR-181).
type Notify string

const (
	NotifyNormal              Notify = "normal"
	NotifyCanDeny             Notify = "canDeny"             // active notification may be refused (9009)
	NotifyForceEnabled        Notify = "forceEnabled"        // always active; SPA cannot change it
	NotifyForceDefaultEnabled Notify = "forceDefaultEnabled" // active by default; may be changed
)

// Source says where a parameter's value comes from (see doc.go).
type Source string

const (
	SourceSettings Source = "settings"
	SourceJournal  Source = "journal"
	SourceIdentity Source = "identity"
	SourceHost     Source = "host"
	SourceRuntime  Source = "runtime"
	SourceDerived  Source = "derived" // computed from the tree itself (NumberOfEntries)
)

// Param is the schema of one parameter. Path uses "{i}" for instance
// numbers, as TR-181 does.
type Param struct {
	Path   string
	Type   Type
	Write  bool
	Hidden bool // read back as "" (passwords)

	MaxLen   int      // strings: maximum length (0: none)
	Min, Max *int64   // numbers: range
	Enum     []string // allowed values (strings)
	List     bool     // comma-separated list of Enum values / strings

	ForcedInform bool
	Notify       Notify
	Default      string // value before anything sets it

	Source  Source
	Setting string // for SourceSettings: the setting's name
	// Restricted explains a deliberate read-only restriction of a
	// parameter TR-181 defines as writable.
	Restricted string
	// Doc is a short line for the parameter reference.
	Doc string
}

// Object is the schema of an object. A table (MultiInstance) has
// instances; Write means AddObject/DeleteObject are allowed on it.
type Object struct {
	Path          string
	MultiInstance bool
	Write         bool
	// CountParam is the "…NumberOfEntries" parameter counting instances.
	CountParam string
	Source     Source // of the instance list: journal or host
	Restricted string
}

// Schema is the whole supported tree.
type Schema struct {
	Params  []*Param
	Objects []*Object

	params  map[string]*Param
	objects map[string]*Object
	// children maps an object path to its direct child objects and params,
	// in schema order, for name walks.
	childObjs   map[string][]*Object
	childParams map[string][]*Param
	// forcedFromHost: a parameter watched by default (forced notification)
	// depends on the host's reading, so every value-change poll reads it.
	forcedFromHost bool
}

func newSchema(objs []*Object, params []*Param) *Schema {
	s := &Schema{Params: params, Objects: objs, params: map[string]*Param{}, objects: map[string]*Object{},
		childObjs: map[string][]*Object{}, childParams: map[string][]*Param{}}
	for _, o := range objs {
		s.objects[o.Path] = o
	}
	// Every ancestor of a parameter or object is an object, single-instance
	// unless declared.
	ensure := func(path string) {
		for p := parentObject(path); p != ""; p = parentObject(p) {
			if _, ok := s.objects[p]; !ok {
				o := &Object{Path: p}
				s.objects[p] = o
				s.Objects = append(s.Objects, o)
			}
		}
	}
	for _, o := range objs {
		ensure(o.Path)
	}
	for _, p := range params {
		s.params[p.Path] = p
		ensure(p.Path)
	}
	sort.Slice(s.Objects, func(i, j int) bool { return s.Objects[i].Path < s.Objects[j].Path })
	for _, o := range s.Objects {
		if parent := parentObject(o.Path); parent != "" {
			s.childObjs[parent] = append(s.childObjs[parent], o)
		}
	}
	for _, p := range params {
		parent := parentObject(p.Path)
		s.childParams[parent] = append(s.childParams[parent], p)
	}
	for _, p := range params {
		if (p.Notify == NotifyForceEnabled || p.Notify == NotifyForceDefaultEnabled) && s.dependsOnHost(p.Path) {
			s.forcedFromHost = true
		}
	}
	return s
}

// Param returns the schema of a parameter path ("Device.Users.User.{i}.Username").
func (s *Schema) Param(path string) (*Param, bool) { p, ok := s.params[path]; return p, ok }

// Object returns the schema of an object path ("Device.Users.User.{i}.").
func (s *Schema) Object(path string) (*Object, bool) { o, ok := s.objects[path]; return o, ok }

// parentObject returns the object containing path: "Device.A.B" → "Device.A.",
// "Device.A.{i}." → "Device.A." (the table), "Device.A." → "Device.".
func parentObject(path string) string {
	trimmed := strings.TrimSuffix(path, ".")
	i := strings.LastIndexByte(trimmed, '.')
	if i < 0 {
		return ""
	}
	return trimmed[:i+1]
}

// IsTableInstance reports whether an object path is a table row pattern
// ("….{i}.").
func IsTableInstance(path string) bool { return strings.HasSuffix(path, ".{i}.") }

func i64(v int64) *int64 { return &v }

// Check validates a value for a concrete parameter name outside any RPC (a
// configuration script applied by the platform): the name must match a
// writable parameter of the schema (instance numbers where the schema has
// tables); it returns the canonical value and its type.
func (s *Schema) Check(name, value string) (event.ParamValue, error) {
	segs := strings.Split(name, ".")
	pattern := ""
	for i, seg := range segs {
		if i > 0 {
			pattern += "."
		}
		if isNumber(seg) {
			if _, ok := s.Object(pattern + "{i}."); ok {
				pattern += "{i}"
				continue
			}
		}
		pattern += seg
	}
	p, ok := s.Param(pattern)
	if !ok {
		return event.ParamValue{}, fmt.Errorf("datamodel: %s: no such parameter", name)
	}
	if !p.Write {
		return event.ParamValue{}, fmt.Errorf("datamodel: %s: read-only", name)
	}
	v, err := p.Canonical(value, "")
	if err != nil {
		return event.ParamValue{}, fmt.Errorf("datamodel: %w", err)
	}
	return event.ParamValue{Name: name, Value: v, Type: string(p.Type), Hidden: p.Hidden}, nil
}
