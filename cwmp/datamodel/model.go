package datamodel

import (
	"strconv"
	"strings"

	"github.com/cwmpd/cwmpd/projections"
)

// Identity is the device's identity (DeviceId and DeviceInfo).
type Identity struct {
	Manufacturer    string
	OUI             string
	ModelName       string
	Description     string
	ProductClass    string
	SerialNumber    string
	HardwareVersion string
	SoftwareVersion string
}

// Runtime is what the running agent publishes.
type Runtime struct {
	ConnectionRequestURL string
}

// Model is the parameter tree over its providers.
type Model struct {
	Schema   *Schema
	Identity func() Identity
	Host     Host
	Runtime  func() Runtime
}

// view is one consistent reading: the state (under the store's lock), one
// host snapshot, identity and runtime.
type view struct {
	m    *Model
	st   *projections.State
	host HostSnapshot
	id   Identity
	rt   Runtime
}

// viewWith builds a view on a host snapshot taken outside the state lock
// (reading /proc and /sys must not hold up journal appends).
func (m *Model) viewWith(st *projections.State, host HostSnapshot) *view {
	v := &view{m: m, st: st, host: host}
	if m.Identity != nil {
		v.id = m.Identity()
	}
	if m.Runtime != nil {
		v.rt = m.Runtime()
	}
	return v
}

// resolved is a concrete name matched to its schema.
type resolved struct {
	name    string
	pattern string
	param   *Param  // nil for an object
	object  *Object // nil for a parameter
}

// resolve matches a concrete parameter or object name ("Device.Users.
// User.3.Username", "Device.Users.User.3.") and checks that every instance
// on the way exists. The empty path is "Device.".
func (v *view) resolve(name string) (resolved, bool) {
	if name == "" {
		name = "Device."
	}
	isObj := strings.HasSuffix(name, ".")
	segs := strings.Split(strings.TrimSuffix(name, "."), ".")
	if len(segs) == 0 || segs[0] != "Device" {
		return resolved{}, false
	}
	pattern := "Device."
	concrete := "Device."
	for i := 1; i < len(segs); i++ {
		seg := segs[i]
		last := i == len(segs)-1
		if isNumber(seg) {
			if _, ok := v.m.Schema.Object(pattern + "{i}."); !ok {
				return resolved{}, false
			}
			n, _ := strconv.ParseUint(seg, 10, 32)
			if !containsU32(v.instances(pattern, concrete), uint32(n)) {
				return resolved{}, false
			}
			pattern += "{i}."
			concrete += seg + "."
			continue
		}
		if seg == "" {
			return resolved{}, false
		}
		if last && !isObj {
			p, ok := v.m.Schema.Param(pattern + seg)
			if !ok {
				return resolved{}, false
			}
			return resolved{name: name, pattern: p.Path, param: p}, true
		}
		pattern += seg + "."
		concrete += seg + "."
		if _, ok := v.m.Schema.Object(pattern); !ok {
			return resolved{}, false
		}
	}
	if !isObj {
		return resolved{}, false // "Device" or a name ending in an instance number
	}
	o, _ := v.m.Schema.Object(pattern)
	return resolved{name: name, pattern: pattern, object: o}, true
}

func isNumber(s string) bool {
	if s == "" || len(s) > 10 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s[0] != '0'
}

func containsU32(list []uint32, n uint32) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}

// instances lists the instance numbers of a table: tablePattern
// "Device.IP.Interface.{i}.IPv4Address." with its concrete path
// "Device.IP.Interface.3.IPv4Address.".
func (v *view) instances(tablePattern, tableConcrete string) []uint32 {
	o, ok := v.m.Schema.Object(tablePattern + "{i}.")
	if !ok {
		return nil
	}
	switch o.Source {
	case SourceJournal:
		if t := v.st.Params.Tables[tableConcrete]; t != nil {
			return t.Live
		}
		return nil
	case SourceHost:
		switch tablePattern {
		case "Device.Ethernet.Interface.":
			var out []uint32
			for _, ifc := range v.host.Interfaces {
				if ifc.Ethernet {
					out = append(out, uint32(ifc.Index))
				}
			}
			return out
		case "Device.IP.Interface.":
			var out []uint32
			for _, ifc := range v.host.Interfaces {
				out = append(out, uint32(ifc.Index))
			}
			return out
		case "Device.IP.Interface.{i}.IPv4Address.", "Device.IP.Interface.{i}.IPv6Address.":
			ifc := v.hostIf(instanceAt(tableConcrete, 3))
			if ifc == nil {
				return nil
			}
			n := len(ifc.IPv4)
			if strings.HasSuffix(tablePattern, "IPv6Address.") {
				n = len(ifc.IPv6)
			}
			out := make([]uint32, n)
			for i := range out {
				out[i] = uint32(i + 1)
			}
			return out
		}
	}
	return nil
}

// instanceAt returns the number at segment i (0-based) of a concrete path.
func instanceAt(path string, i int) uint32 {
	segs := strings.Split(path, ".")
	if i >= len(segs) {
		return 0
	}
	n, _ := strconv.ParseUint(segs[i], 10, 32)
	return uint32(n)
}

func (v *view) hostIf(index uint32) *HostInterface {
	for i := range v.host.Interfaces {
		if uint32(v.host.Interfaces[i].Index) == index {
			return &v.host.Interfaces[i]
		}
	}
	return nil
}

// value returns a parameter's value as sent to the ACS (hidden ones empty).
func (v *view) value(name string, p *Param) string {
	if p.Hidden {
		return ""
	}
	return v.rawValue(name, p)
}

// rawValue is the value including secrets, for comparisons.
func (v *view) rawValue(name string, p *Param) string {
	leaf := name[strings.LastIndexByte(name, '.')+1:]
	switch p.Source {
	case SourceSettings:
		if s, ok := v.st.Settings[p.Setting]; ok {
			return s
		}
		return p.Default
	case SourceJournal:
		if p.Path == ms+"ParameterKey" {
			return v.st.Params.ParameterKey
		}
		if val, ok := v.st.Params.Values[name]; ok {
			return val.Value
		}
		return p.Default
	case SourceIdentity:
		switch leaf {
		case "Manufacturer":
			return v.id.Manufacturer
		case "ManufacturerOUI":
			return v.id.OUI
		case "ModelName":
			return v.id.ModelName
		case "Description":
			return v.id.Description
		case "ProductClass":
			return v.id.ProductClass
		case "SerialNumber":
			return v.id.SerialNumber
		case "HardwareVersion":
			return v.id.HardwareVersion
		case "SoftwareVersion":
			return v.id.SoftwareVersion
		}
		return p.Default
	case SourceRuntime:
		if p.Path == ms+"ConnectionRequestURL" {
			return v.rt.ConnectionRequestURL
		}
	case SourceDerived:
		table := strings.TrimSuffix(name, "NumberOfEntries")
		tablePattern := strings.TrimSuffix(p.Path, "NumberOfEntries")
		// "UserNumberOfEntries" counts "User.": the table name is the
		// prefix of the count parameter's leaf.
		return strconv.Itoa(len(v.instances(tablePattern+".", table+".")))
	case SourceHost:
		return v.hostValue(name, p, leaf)
	}
	return p.Default
}

func (v *view) hostValue(name string, p *Param, leaf string) string {
	h := v.host
	switch p.Path {
	case "Device.DeviceInfo.UpTime":
		return strconv.FormatUint(uint64(h.UpTime), 10)
	case "Device.DeviceInfo.MemoryStatus.Total":
		return strconv.FormatUint(uint64(h.MemTotal), 10)
	case "Device.DeviceInfo.MemoryStatus.Free":
		return strconv.FormatUint(uint64(h.MemFree), 10)
	case "Device.DeviceInfo.ProcessStatus.CPUUsage":
		return strconv.FormatUint(uint64(h.CPUUsage), 10)
	case "Device.Time.CurrentLocalTime":
		return formatTime(h.Now)
	}
	ifc := v.hostIf(instanceAt(name, 3))
	if ifc == nil {
		return p.Default
	}
	switch {
	case strings.Contains(p.Path, ".IPv4Address."):
		i := int(instanceAt(name, 5)) - 1
		if i < 0 || i >= len(ifc.IPv4) {
			return ""
		}
		if leaf == "SubnetMask" {
			return ifc.IPv4[i].Mask
		}
		return ifc.IPv4[i].Address
	case strings.Contains(p.Path, ".IPv6Address."):
		i := int(instanceAt(name, 5)) - 1
		if i < 0 || i >= len(ifc.IPv6) {
			return ""
		}
		return ifc.IPv6[i]
	}
	switch leaf {
	case "Name":
		return ifc.Name
	case "Status":
		if ifc.Up {
			return "Up"
		}
		return "Down"
	case "MACAddress":
		return ifc.MAC
	case "BytesSent":
		return strconv.FormatUint(ifc.Stats.BytesSent, 10)
	case "BytesReceived":
		return strconv.FormatUint(ifc.Stats.BytesReceived, 10)
	case "PacketsSent":
		return strconv.FormatUint(ifc.Stats.PacketsSent, 10)
	case "PacketsReceived":
		return strconv.FormatUint(ifc.Stats.PacketsReceived, 10)
	case "ErrorsSent":
		return strconv.FormatUint(min(ifc.Stats.ErrorsSent, 1<<32-1), 10)
	case "ErrorsReceived":
		return strconv.FormatUint(min(ifc.Stats.ErrorsReceived, 1<<32-1), 10)
	}
	return p.Default
}

// walk visits every concrete object and parameter under the object
// (pattern, concrete), depth first, objects before their content, in a
// stable order. fn returns false to stop.
func (v *view) walk(pattern, concrete string, fn func(name string, p *Param, o *Object) bool) bool {
	for _, p := range v.m.Schema.childParams[pattern] {
		if !fn(concrete+p.Path[len(pattern):], p, nil) {
			return false
		}
	}
	for _, o := range v.m.Schema.childObjs[pattern] {
		if IsTableInstance(o.Path) {
			for _, n := range v.instances(pattern, concrete) {
				c := concrete + strconv.FormatUint(uint64(n), 10) + "."
				if !fn(c, nil, o) || !v.walk(o.Path, c, fn) {
					return false
				}
			}
			continue
		}
		c := concrete + o.Path[len(pattern):]
		if !fn(c, nil, o) || !v.walk(o.Path, c, fn) {
			return false
		}
	}
	return true
}

// params lists the concrete parameters under an object path (or the one
// parameter a full name resolves to).
func (v *view) params(r resolved) []namedParam {
	if r.param != nil {
		return []namedParam{{r.name, r.param}}
	}
	var out []namedParam
	v.walk(r.pattern, r.name, func(name string, p *Param, _ *Object) bool {
		if p != nil {
			out = append(out, namedParam{name, p})
		}
		return true
	})
	return out
}

type namedParam struct {
	name string
	p    *Param
}

// objectWritable: a table container allows AddObject, a row DeleteObject.
func (v *view) objectWritable(o *Object) bool {
	if IsTableInstance(o.Path) {
		return o.Write
	}
	if t, ok := v.m.Schema.Object(o.Path + "{i}."); ok {
		return t.Write
	}
	return false
}
