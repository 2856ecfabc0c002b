package projections

import (
	"sort"
	"strconv"
	"strings"

	"github.com/cwmpd/cwmpd/projections/event"
)

// Value is a journal-backed parameter value.
type Value struct {
	Value  string `json:"value"`
	Type   string `json:"type,omitempty"`
	Hidden bool   `json:"hidden,omitempty"`
}

// Attribute is a parameter's notification and access list, as set by the
// ACS. Parameters without an entry have their data-model defaults.
type Attribute struct {
	Notification int      `json:"notification"`
	AccessList   []string `json:"access_list,omitempty"`
}

// Table is one multi-instance object's instance numbers.
type Table struct {
	// Highest is the highest instance number ever used. Decision (digest
	// §17 leaves reuse [U]): numbers are never reused while the journal
	// lives, even across a factory reset, so an ACS holding an old path
	// never addresses a new object by mistake.
	Highest uint32   `json:"highest"`
	Live    []uint32 `json:"live,omitempty"`
}

// Params is the journal-backed part of the data model.
type Params struct {
	Values       map[string]Value     `json:"values,omitempty"`
	Attributes   map[string]Attribute `json:"attributes,omitempty"`
	Tables       map[string]*Table    `json:"tables,omitempty"`
	ParameterKey string               `json:"parameter_key"`
	// Applying is an ACS change journaled as an intent (ChangeApplying)
	// that the device has not yet confirmed or refused: nil almost always.
	Applying *Applying `json:"applying,omitempty"`
}

// Applying is an unresolved ChangeApplying and its sequence.
type Applying struct {
	Seq    uint64               `json:"seq"`
	Change event.ChangeApplying `json:"change"`
}

// Change operations the device's apply hook receives.
const (
	OpSet    = "set"
	OpAdd    = "add"
	OpDelete = "delete"
)

// DeviceChange is one line of what the device must carry out for an ACS
// change: set Name to Value, add the instance Name ("Device.Users.User.3.")
// or delete it. Hidden values are secrets (passwords): the device gets them,
// logs and fault strings never do.
type DeviceChange struct {
	Op     string
	Name   string
	Value  string
	Hidden bool
}

// AgentOwns reports a parameter that is the agent's own configuration, not
// the device's: the CWMP client's Device.ManagementServer. (the operator's
// settings such as URL, and journal-backed ones such as
// CWMPRetryMinimumWaitInterval, which the agent reads itself).
func AgentOwns(param string) bool {
	_, setting := SettingForParameter(param)
	return setting || strings.HasPrefix(param, "Device.ManagementServer.")
}

// DeviceChanges is what the device itself must do for the change c: the
// operations on its own configuration, not on the agent's (AgentOwns),
// which the agent applies by itself. Empty when the change is the agent's
// alone.
func DeviceChanges(c event.ChangeApplying) []DeviceChange {
	switch c.Kind {
	case event.ChangeAdd:
		return []DeviceChange{{Op: OpAdd, Name: c.Object + strconv.FormatUint(uint64(c.Instance), 10) + "."}}
	case event.ChangeDelete:
		return []DeviceChange{{Op: OpDelete, Name: c.Object}}
	}
	var out []DeviceChange
	for _, v := range c.Values {
		if AgentOwns(v.Name) {
			continue
		}
		out = append(out, DeviceChange{Op: OpSet, Name: v.Name, Value: v.Value, Hidden: v.Hidden})
	}
	return out
}

// applying records an intent; it reports false when another one was still
// unresolved (that one is replaced: only the newest can be carried out).
func (p *Params) applying(seq uint64, c event.ChangeApplying) bool {
	ok := p.Applying == nil
	p.Applying = &Applying{Seq: seq, Change: c}
	return ok
}

// resolved ends the intent seq (the outcome of a ChangeApplying); it
// reports false when that is not the unresolved intent.
func (p *Params) resolved(seq uint64) bool {
	if p.Applying == nil || p.Applying.Seq != seq {
		return false
	}
	p.Applying = nil
	return true
}

// notApplied is ChangeApplyFailed: nothing changes, except that an add's
// instance number is spent (the device was told of it; see Table.Highest).
func (p *Params) notApplied(seq uint64) bool {
	a := p.Applying
	if !p.resolved(seq) {
		return false
	}
	if a.Change.Kind == event.ChangeAdd {
		if p.Tables == nil {
			p.Tables = map[string]*Table{}
		}
		t := p.Tables[a.Change.Object]
		if t == nil {
			t = &Table{}
			p.Tables[a.Change.Object] = t
		}
		t.Highest = max(t.Highest, a.Change.Instance)
	}
	return true
}

// clientReset trims an unresolved intent to what outlives a client reset
// (reset-tr069-config, which the operator may run while the agent is down
// with one left by a crash): the device's part is still settled at the next
// start, since the device may hold it already and its configuration is kept;
// the agent's own settings and the ParameterKey of the request are not, as
// the reset has forgotten them since.
func (p *Params) clientReset() {
	a := p.Applying
	if a == nil {
		return
	}
	c := a.Change
	c.ParameterKey = ""
	c.Values = nil
	for _, v := range a.Change.Values {
		if !AgentOwns(v.Name) {
			c.Values = append(c.Values, v)
		}
	}
	p.Applying = &Applying{Seq: a.Seq, Change: c}
}

// Names returns the journal-backed parameter names, sorted.
func (p *Params) Names() []string {
	out := make([]string, 0, len(p.Values))
	for k := range p.Values {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (p *Params) set(v event.ParamValue) {
	if p.Values == nil {
		p.Values = map[string]Value{}
	}
	p.Values[v.Name] = Value{Value: v.Value, Type: v.Type, Hidden: v.Hidden}
}

func (p *Params) key(set bool, k string) {
	if set {
		p.ParameterKey = k
	}
}

func (p *Params) attributes(changes []event.AttributeChange) {
	if p.Attributes == nil {
		p.Attributes = map[string]Attribute{}
	}
	for _, c := range changes {
		a := p.Attributes[c.Name]
		if c.NotificationChange {
			a.Notification = c.Notification
		}
		if c.AccessListChange {
			a.AccessList = append([]string(nil), c.AccessList...)
		}
		p.Attributes[c.Name] = a
	}
}

// added records an instance; it reports false when the instance is already
// live or not above the highest number ever used (a reuse).
func (p *Params) added(object string, instance uint32) bool {
	if p.Tables == nil {
		p.Tables = map[string]*Table{}
	}
	t := p.Tables[object]
	if t == nil {
		t = &Table{}
		p.Tables[object] = t
	}
	ok := instance > t.Highest
	if instance > t.Highest {
		t.Highest = instance
	}
	i := sort.Search(len(t.Live), func(i int) bool { return t.Live[i] >= instance })
	if i < len(t.Live) && t.Live[i] == instance {
		return false
	}
	t.Live = append(t.Live, 0)
	copy(t.Live[i+1:], t.Live[i:])
	t.Live[i] = instance
	return ok
}

// deleted removes an instance path ("Device.Users.User.3.") with everything
// below it; it reports false when the instance was not live.
func (p *Params) deleted(path string) bool {
	table, inst, ok := splitInstance(path)
	if !ok {
		return false
	}
	t := p.Tables[table]
	if t == nil {
		return false
	}
	i := sort.Search(len(t.Live), func(i int) bool { return t.Live[i] >= inst })
	if i >= len(t.Live) || t.Live[i] != inst {
		return false
	}
	t.Live = append(t.Live[:i], t.Live[i+1:]...)
	for name := range p.Values {
		if strings.HasPrefix(name, path) {
			delete(p.Values, name)
		}
	}
	for name := range p.Attributes {
		if strings.HasPrefix(name, path) {
			delete(p.Attributes, name)
		}
	}
	for name, sub := range p.Tables {
		if strings.HasPrefix(name, path) {
			sub.Live = nil // nested tables go; their Highest stays
		}
	}
	return true
}

// splitInstance splits "Device.Users.User.3." into "Device.Users.User." and 3.
func splitInstance(path string) (string, uint32, bool) {
	if !strings.HasSuffix(path, ".") {
		return "", 0, false
	}
	trimmed := strings.TrimSuffix(path, ".")
	dot := strings.LastIndexByte(trimmed, '.')
	if dot < 0 {
		return "", 0, false
	}
	var n uint64
	num := trimmed[dot+1:]
	if num == "" {
		return "", 0, false
	}
	for _, c := range num {
		if c < '0' || c > '9' {
			return "", 0, false
		}
		n = n*10 + uint64(c-'0')
		if n > 1<<32-1 {
			return "", 0, false
		}
	}
	return trimmed[:dot+1], uint32(n), true
}

// factoryReset forgets the device configuration but keeps every table's
// highest instance number (see Table.Highest).
func (p *Params) factoryReset() {
	p.Values = nil
	p.Attributes = nil
	p.ParameterKey = ""
	p.Applying = nil // an ACS change not yet applied is forgotten with the rest
	for _, t := range p.Tables {
		t.Live = nil
	}
}
