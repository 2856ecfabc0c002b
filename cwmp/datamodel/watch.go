package datamodel

import (
	"sort"
	"strings"
	"sync"

	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
	"github.com/cwmpd/cwmpd/projections/live"
)

// Watcher finds value changes by an external cause: it compares, poll
// after poll, the values of every parameter whose notification is passive
// or active (including the forced-active ones). Changes the ACS makes
// through SetParameterValues are accepted as the new baseline and never
// reported (digest §8.2).
//
// The first poll only takes the baseline: a value is a change relative to
// what the agent saw, and at start it has seen nothing.
type Watcher struct {
	Model *Model
	Store *live.Store

	mu       sync.Mutex
	baseline map[string]string
	started  bool
}

// Poll reads the watched parameters and hands the ones that changed since
// the last poll, and whether any of them has active notification, to
// record (which journals them). They become the baseline only once record
// succeeds: a change the journal refused (a full disk) is found again by
// the next poll instead of being lost. The first poll only takes the
// baseline.
func (w *Watcher) Poll(record func(changes []event.ParamValue, active bool) error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	// Reading the host (/proc, every interface's counters, its addresses)
	// is most of a poll's cost, and by default nothing watched comes from
	// it: read it only when a watched parameter may.
	var host HostSnapshot
	if w.Model.Host != nil {
		var need bool
		w.Store.View(func(st *projections.State) { need = w.Model.watchesHost(st) })
		if need {
			host = w.Model.Host.Read()
		} else if cs, ok := w.Model.Host.(CPUSampler); ok {
			cs.SampleCPU()
		}
	}
	current := map[string]string{}
	notify := map[string]int{}
	params := map[string]*Param{}
	w.Store.View(func(st *projections.State) {
		v := w.Model.viewWith(st, host)
		v.walk("Device.", "Device.", func(name string, p *Param, _ *Object) bool {
			if p == nil {
				return true
			}
			if n := v.notification(name, p); n > 0 {
				current[name] = v.rawValue(name, p)
				notify[name] = n
				params[name] = p
			}
			return true
		})
	})
	if !w.started {
		w.baseline, w.started = current, true
		return nil
	}
	var changes []event.ParamValue
	active := false
	for _, name := range sortedKeys(current) {
		old, had := w.baseline[name]
		if had && old != current[name] {
			p := params[name]
			changes = append(changes, event.ParamValue{Name: name, Value: current[name], Type: string(p.Type), Hidden: p.Hidden})
			if notify[name] == 2 {
				active = true
			}
		}
	}
	if len(changes) > 0 {
		if err := record(changes, active); err != nil {
			// Parameters that stopped being watched or appeared still
			// take their place in the baseline; the changed ones keep
			// their old value.
			for _, c := range changes {
				current[c.Name] = w.baseline[c.Name]
			}
			w.baseline = current
			return err
		}
	}
	w.baseline = current
	return nil
}

// acceptWhile runs do (which journals an ACS change) with polls held off,
// then makes the ACS's values the baseline of the watched parameters, and
// with them the values of derived, read after do: what the change also
// moved (ParameterKey, a table's NumberOfEntries), which only the journal
// feeds. The ACS's own change is never reported back (digest §8.2).
func (w *Watcher) acceptWhile(values []event.ParamValue, derived []string, do func() error) error {
	return w.rebaseWhile(values, true, func() error {
		if err := do(); err != nil {
			return err
		}
		if w.baseline == nil || len(derived) == 0 {
			return nil
		}
		w.Store.View(func(st *projections.State) {
			v := w.Model.viewWith(st, HostSnapshot{})
			for _, name := range derived {
				if _, watched := w.baseline[name]; !watched {
					continue
				}
				if r, ok := v.resolve(name); ok && r.param != nil {
					w.baseline[name] = v.rawValue(name, r.param)
				}
			}
		})
		return nil
	})
}

// watchWhile runs do (which journals an SPA) with polls held off, then
// makes values the baseline of the parameters it starts watching.
func (w *Watcher) watchWhile(values []event.ParamValue, do func() error) error {
	return w.rebaseWhile(values, false, do)
}

// rebaseWhile runs do with polls held off, then sets the baseline of the
// parameters already watched (watched true) or not yet watched (false).
func (w *Watcher) rebaseWhile(values []event.ParamValue, watched bool, do func() error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := do(); err != nil {
		return err
	}
	if w.baseline != nil {
		for _, v := range values {
			if _, ok := w.baseline[v.Name]; ok == watched {
				w.baseline[v.Name] = v.Value
			}
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// watchesHost reports whether a parameter whose notification is on in st
// may depend on the host's reading. It errs towards yes: a name it cannot
// place in the schema counts as depending on the host.
func (m *Model) watchesHost(st *projections.State) bool {
	for name, a := range st.Params.Attributes {
		if a.Notification > 0 && m.Schema.dependsOnHost(name) {
			return true
		}
	}
	return m.Schema.forcedFromHost
}

// dependsOnHost reports whether the parameter name (concrete or pattern)
// is read from the host, counts a table (which may be one of the host's),
// or lies in a table whose instances the host lists.
func (s *Schema) dependsOnHost(name string) bool {
	segs := strings.Split(name, ".")
	for i, seg := range segs {
		if seg != "" && strings.Trim(seg, "0123456789") == "" {
			segs[i] = "{i}"
		}
	}
	p, ok := s.Param(strings.Join(segs, "."))
	if !ok || p.Source == SourceHost || p.Source == SourceDerived {
		return true
	}
	for i, seg := range segs {
		if seg != "{i}" {
			continue
		}
		if o, ok := s.Object(strings.Join(segs[:i+1], ".") + "."); !ok || o.Source == SourceHost {
			return true
		}
	}
	return false
}
