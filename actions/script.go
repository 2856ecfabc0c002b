package actions

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

// The configuration script of the simulated device (and of any platform
// whose configuration is the journal-backed parameters), one command a
// line:
//
//	# a comment
//	set Device.Time.NTPServer1=pool.ntp.org
//	add Device.Users.User.
//	set Device.Users.User.+.Username=alice
//	del Device.Users.User.2.
//
// "set NAME=VALUE" sets a parameter (VALUE is the rest of the line, taken
// as is); "add TABLE." adds an instance, numbered after the highest ever
// used; "del TABLE.N." deletes one. In a name, a "+" instance segment is
// the instance most recently added to that table by the same script, so an
// export (which renumbers nothing it cannot) reads back into fresh
// instances. Names start with "Device.". A script applies completely or
// not at all.

// Limits of a configuration script.
const (
	maxScriptSize  = 1 << 20
	maxScriptLines = 10000
)

type scriptOp struct {
	line  int
	verb  string // set, add, del
	name  string
	value string
}

// parseScript reads a script; syntax errors are *Fault 9018.
func parseScript(data []byte) ([]scriptOp, error) {
	if len(data) > maxScriptSize {
		return nil, faultf(FaultCorrupted, nil, "configuration file larger than %d bytes", maxScriptSize)
	}
	var ops []scriptOp
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	n := 0
	for sc.Scan() {
		n++
		if n > maxScriptLines {
			return nil, faultf(FaultCorrupted, nil, "configuration file longer than %d lines", maxScriptLines)
		}
		line := strings.TrimRight(sc.Text(), "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		verb, rest, _ := strings.Cut(trimmed, " ")
		rest = strings.TrimLeft(rest, " ")
		op := scriptOp{line: n, verb: verb}
		switch verb {
		case "set":
			name, value, ok := strings.Cut(rest, "=")
			if !ok || !validName(name, false) {
				return nil, faultf(FaultCorrupted, nil, "configuration line %d: want set Device.NAME=VALUE", n)
			}
			op.name, op.value = name, value
		case "add", "del":
			if !validName(rest, true) {
				return nil, faultf(FaultCorrupted, nil, "configuration line %d: want %s Device.PATH.", n, verb)
			}
			op.name = rest
		default:
			return nil, faultf(FaultCorrupted, nil, "configuration line %d: unknown command %q", n, truncateFault(verb))
		}
		ops = append(ops, op)
	}
	if err := sc.Err(); err != nil {
		return nil, faultf(FaultCorrupted, err, "configuration file: %v", err)
	}
	return ops, nil
}

func validName(s string, object bool) bool {
	if !strings.HasPrefix(s, "Device.") || strings.HasSuffix(s, ".") != object || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		if !(r == '.' || r == '_' || r == '-' || r == '+' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// cfgModel is a working copy of the journal-backed configuration that a
// script is applied to, producing the events that do the same.
type cfgModel struct {
	values map[string]projections.Value
	tables map[string]*projections.Table
	last   map[string]uint32 // table → instance most recently added by the script
	check  func(name, value string) (event.ParamValue, error)
	events []event.Event
}

func newModel(cur projections.Params, check func(name, value string) (event.ParamValue, error)) *cfgModel {
	m := &cfgModel{values: map[string]projections.Value{}, tables: map[string]*projections.Table{}, last: map[string]uint32{}, check: check}
	for k, v := range cur.Values {
		m.values[k] = v
	}
	for k, t := range cur.Tables {
		m.tables[k] = &projections.Table{Highest: t.Highest, Live: append([]uint32(nil), t.Live...)}
	}
	return m
}

func (m *cfgModel) live(table string, inst uint32) bool {
	t := m.tables[table]
	if t == nil {
		return false
	}
	for _, n := range t.Live {
		if n == inst {
			return true
		}
	}
	return false
}

// resolve replaces "+" segments and checks every instance segment names a
// live instance.
func (m *cfgModel) resolve(name string, line int) (string, error) {
	segs := strings.Split(name, ".")
	var b strings.Builder
	for i, s := range segs {
		if i > 0 {
			b.WriteByte('.')
		}
		prefix := b.String()
		switch {
		case s == "+":
			n, ok := m.last[prefix]
			if !ok {
				return "", faultf(FaultTransfer, nil, "configuration line %d: no instance added to %s before", line, prefix)
			}
			b.WriteString(strconv.FormatUint(uint64(n), 10))
		case s != "" && s[0] >= '0' && s[0] <= '9':
			n, err := strconv.ParseUint(s, 10, 32)
			if err != nil || !m.live(prefix, uint32(n)) {
				return "", faultf(FaultTransfer, nil, "configuration line %d: no instance %s%s", line, prefix, s)
			}
			b.WriteString(s)
		default:
			b.WriteString(s)
		}
	}
	return b.String(), nil
}

func (m *cfgModel) apply(ops []scriptOp) error {
	var sets []event.ParamValue
	flush := func() {
		if len(sets) > 0 {
			m.events = append(m.events, event.ParametersSet{Values: sets, Source: event.SourcePlatform})
			sets = nil
		}
	}
	for _, op := range ops {
		name, err := m.resolve(op.name, op.line)
		if err != nil {
			return err
		}
		switch op.verb {
		case "set":
			pv := event.ParamValue{Name: name, Value: op.value}
			if old, ok := m.values[name]; ok {
				pv.Type, pv.Hidden = old.Type, old.Hidden
			}
			if m.check != nil {
				if pv, err = m.check(name, op.value); err != nil {
					return faultf(FaultTransfer, err, "configuration line %d: %v", op.line, err)
				}
			}
			m.values[name] = projections.Value{Value: pv.Value, Type: pv.Type, Hidden: pv.Hidden}
			sets = append(sets, pv)
		case "add":
			flush()
			t := m.tables[name]
			if t == nil {
				t = &projections.Table{}
				m.tables[name] = t
			}
			if t.Highest == 1<<32-1 {
				return faultf(FaultTransfer, nil, "configuration line %d: %s is out of instance numbers", op.line, name)
			}
			t.Highest++
			t.Live = append(t.Live, t.Highest)
			m.last[name] = t.Highest
			m.events = append(m.events, event.ObjectAdded{Object: name, Instance: t.Highest, Source: event.SourcePlatform})
		case "del":
			flush()
			table, inst, ok := splitPath(name)
			if !ok || !m.live(table, inst) {
				return faultf(FaultTransfer, nil, "configuration line %d: %s is not an instance", op.line, name)
			}
			m.remove(name)
			m.events = append(m.events, event.ObjectDeleted{Object: name, Source: event.SourcePlatform})
		}
	}
	flush()
	return nil
}

// remove drops an instance and everything below it from the model.
func (m *cfgModel) remove(path string) {
	table, inst, _ := splitPath(path)
	t := m.tables[table]
	for i, n := range t.Live {
		if n == inst {
			t.Live = append(t.Live[:i], t.Live[i+1:]...)
			break
		}
	}
	for k := range m.values {
		if strings.HasPrefix(k, path) {
			delete(m.values, k)
		}
	}
	for k, sub := range m.tables {
		if strings.HasPrefix(k, path) {
			sub.Live = nil
		}
	}
}

// clearAll is the start of a full replacement: every live instance is
// deleted (top-most ones; the fold takes their children) and every other
// journal-backed value is set to "" unless the script sets it again.
func (m *cfgModel) clearAll(ops []scriptOp) {
	var paths []string
	for table, t := range m.tables {
		for _, n := range t.Live {
			paths = append(paths, table+strconv.FormatUint(uint64(n), 10)+".")
		}
	}
	sort.Strings(paths)
	var deleted []string
	for _, p := range paths {
		covered := false
		for _, d := range deleted {
			if strings.HasPrefix(p, d) {
				covered = true
				break
			}
		}
		if covered {
			continue
		}
		deleted = append(deleted, p)
		m.remove(p)
		m.events = append(m.events, event.ObjectDeleted{Object: p, Source: event.SourcePlatform})
	}
	setLater := map[string]bool{}
	for _, op := range ops {
		if op.verb == "set" {
			setLater[op.name] = true
		}
	}
	var blanks []event.ParamValue
	for _, name := range sortedKeys(m.values) {
		v := m.values[name]
		if setLater[name] || v.Value == "" {
			continue
		}
		blanks = append(blanks, event.ParamValue{Name: name, Value: "", Type: v.Type, Hidden: v.Hidden})
		m.values[name] = projections.Value{Type: v.Type, Hidden: v.Hidden}
	}
	if len(blanks) > 0 {
		m.events = append(m.events, event.ParametersSet{Values: blanks, Source: event.SourcePlatform})
	}
}

func splitPath(path string) (string, uint32, bool) {
	trimmed := strings.TrimSuffix(path, ".")
	dot := strings.LastIndexByte(trimmed, '.')
	if dot < 0 || !strings.HasSuffix(path, ".") {
		return "", 0, false
	}
	n, err := strconv.ParseUint(trimmed[dot+1:], 10, 32)
	if err != nil {
		return "", 0, false
	}
	return trimmed[:dot+1], uint32(n), true
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// configEvents turns a script into the events that apply it to cur.
func configEvents(data []byte, alter bool, cur projections.Params, check func(name, value string) (event.ParamValue, error)) ([]event.Event, error) {
	ops, err := parseScript(data)
	if err != nil {
		return nil, err
	}
	m := newModel(cur, check)
	if !alter {
		m.clearAll(ops)
	}
	if err := m.apply(ops); err != nil {
		return nil, err
	}
	return m.events, nil
}

// writeScript exports cur as a script: plain values first, then each
// table's live instances as "add" followed by their values with "+" for
// the instance numbers. Hidden values (passwords) are not exported; a
// comment names them.
func writeScript(w io.Writer, cur projections.Params, header string) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# %s\n", header)
	inTable := func(name string) bool {
		segs := strings.Split(name, ".")
		for _, s := range segs {
			if s != "" && s[0] >= '0' && s[0] <= '9' {
				return true
			}
		}
		return false
	}
	emit := func(name, shown string, v projections.Value) {
		if v.Hidden {
			fmt.Fprintf(bw, "# hidden, not exported: %s\n", shown)
			return
		}
		fmt.Fprintf(bw, "set %s=%s\n", shown, strings.NewReplacer("\n", " ", "\r", " ").Replace(v.Value))
	}
	for _, name := range sortedKeys(cur.Values) {
		if !inTable(name) {
			emit(name, name, cur.Values[name])
		}
	}
	// Tables in name order put a table before the tables nested in its
	// instances; export recursively from the top-level ones.
	var walk func(table, shownTable string)
	walk = func(table, shownTable string) {
		t := cur.Tables[table]
		live := append([]uint32(nil), t.Live...)
		sort.Slice(live, func(i, j int) bool { return live[i] < live[j] })
		for _, n := range live {
			inst := table + strconv.FormatUint(uint64(n), 10) + "."
			shownInst := shownTable + "+."
			fmt.Fprintf(bw, "add %s\n", shownTable)
			for _, name := range sortedKeys(cur.Values) {
				rest, ok := strings.CutPrefix(name, inst)
				if ok && !inTable(rest) {
					emit(name, shownInst+rest, cur.Values[name])
				}
			}
			for _, sub := range sortedKeys(cur.Tables) {
				rest, ok := strings.CutPrefix(sub, inst)
				if ok && !inTable(rest) {
					walk(sub, shownInst+rest)
				}
			}
		}
	}
	for _, table := range sortedKeys(cur.Tables) {
		if !inTable(strings.TrimSuffix(table, ".")) {
			walk(table, table)
		}
	}
	return bw.Flush()
}
