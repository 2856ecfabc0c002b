package datamodel

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
	"github.com/cwmpd/cwmpd/projections/live"
)

// RequestHandler is what the session dispatches ACS requests to.
type RequestHandler interface {
	Handle(ctx context.Context, req soap.Message) soap.Message
}

// DefaultMaxInstances bounds a table's rows: AddObject past it gets 9004.
const DefaultMaxInstances = 256

// Handler serves the parameter RPCs; other requests go to Next (or get
// 9000 when Next is nil).
type Handler struct {
	Model *Model
	Store *live.Store
	// Watcher, when set, learns every value the ACS sets, so the change
	// is not reported back to it as VALUE CHANGE.
	Watcher *Watcher
	Next    RequestHandler
	// Methods are the RPC methods supported besides the parameter ones,
	// for GetRPCMethods.
	Methods      []string
	MaxInstances int
	Log          zerolog.Logger
	// Apply, when set, carries out on the device the ACS's changes of the
	// device's own configuration (journal-backed parameters, rows of
	// their tables): see change. Nil (the simulated device, whose
	// configuration is the journal's), they are journaled only.
	Apply Applier
}

// Applier carries out an ACS change on the device (a hooks platform's
// apply-parameters command). It returns only when the device has applied
// all of the changes (nil) or none of them; the error's text goes to the
// ACS's fault string and to the log (hidden values are withheld from it
// here as well).
type Applier interface {
	ApplyParameters(ctx context.Context, changes []projections.DeviceChange) error
}

var parameterMethods = []string{"GetRPCMethods", "GetParameterNames", "GetParameterValues", "SetParameterValues",
	"GetParameterAttributes", "SetParameterAttributes", "AddObject", "DeleteObject"}

// Handle implements the session's Handler contract: every change is
// journaled before the response is returned.
func (h *Handler) Handle(ctx context.Context, req soap.Message) soap.Message {
	switch r := req.(type) {
	case *soap.GetRPCMethods:
		return &soap.GetRPCMethodsResponse{MethodList: append(append([]string{}, parameterMethods...), h.Methods...)}
	case *soap.GetParameterValues:
		return h.getValues(r)
	case *soap.GetParameterNames:
		return h.getNames(r)
	case *soap.SetParameterValues:
		return h.setValues(ctx, r)
	case *soap.GetParameterAttributes:
		return h.getAttributes(r)
	case *soap.SetParameterAttributes:
		return h.setAttributes(ctx, r)
	case *soap.AddObject:
		return h.addObject(ctx, r)
	case *soap.DeleteObject:
		return h.deleteObject(ctx, r)
	}
	if h.Next != nil {
		return h.Next.Handle(ctx, req)
	}
	return soap.NewFault(soap.FaultMethodNotSupported, "method not supported: "+req.MethodName())
}

// view runs fn on a consistent reading. The host is read before the
// state's lock is taken: reading /proc must not block journal appends.
func (h *Handler) view(fn func(v *view)) {
	var host HostSnapshot
	if h.Model.Host != nil {
		host = h.Model.Host.Read()
	}
	h.Store.View(func(st *projections.State) { fn(h.Model.viewWith(st, host)) })
}

func fault(code soap.FaultCode, format string, args ...any) *soap.Fault {
	return soap.NewFault(code, fmt.Sprintf(format, args...))
}

func (h *Handler) getValues(r *soap.GetParameterValues) soap.Message {
	var out []soap.ParameterValueStruct
	var f *soap.Fault
	h.view(func(v *view) {
		for _, name := range r.ParameterNames {
			res, ok := v.resolve(name)
			if !ok {
				f = fault(soap.FaultInvalidParameterName, "invalid parameter name: %s", name)
				return
			}
			for _, np := range v.params(res) {
				out = append(out, soap.ParameterValueStruct{Name: np.name, Value: v.value(np.name, np.p), Type: np.p.Type.ValueType()})
			}
		}
	})
	if f != nil {
		return f
	}
	return &soap.GetParameterValuesResponse{ParameterList: out}
}

// getNames follows A.3.2.3: NextLevel false lists the path itself and
// everything below it; NextLevel true lists the next level only, and is
// invalid for a parameter (9003).
func (h *Handler) getNames(r *soap.GetParameterNames) soap.Message {
	var out []soap.ParameterInfoStruct
	var f *soap.Fault
	h.view(func(v *view) {
		if r.ParameterPath == "" && r.NextLevel {
			out = []soap.ParameterInfoStruct{{Name: "Device.", Writable: false}}
			return
		}
		res, ok := v.resolve(r.ParameterPath)
		if !ok {
			f = fault(soap.FaultInvalidParameterName, "invalid parameter name: %s", r.ParameterPath)
			return
		}
		if res.param != nil {
			if r.NextLevel {
				f = fault(soap.FaultInvalidArguments, "NextLevel true for the parameter %s", r.ParameterPath)
				return
			}
			out = append(out, soap.ParameterInfoStruct{Name: res.name, Writable: res.param.Write})
			return
		}
		if !r.NextLevel {
			out = append(out, soap.ParameterInfoStruct{Name: res.name, Writable: v.objectWritable(res.object)})
		}
		depth := strings.Count(res.name, ".")
		v.walk(res.pattern, res.name, func(name string, p *Param, o *Object) bool {
			if r.NextLevel && strings.Count(strings.TrimSuffix(name, "."), ".") != depth {
				return true
			}
			if p != nil {
				out = append(out, soap.ParameterInfoStruct{Name: name, Writable: p.Write})
			} else {
				out = append(out, soap.ParameterInfoStruct{Name: name, Writable: v.objectWritable(o)})
			}
			return true
		})
	})
	if f != nil {
		return f
	}
	return &soap.GetParameterNamesResponse{ParameterList: out}
}

// setValues is all-or-nothing (A.3.2.1): every parameter is checked first;
// any fault answers 9003 with one SetParameterValuesFault per offending
// parameter and changes nothing. On success the values and the
// ParameterKey are journaled in one record before the response.
func (h *Handler) setValues(ctx context.Context, r *soap.SetParameterValues) soap.Message {
	var faults []soap.SetParameterValuesFault
	var values []event.ParamValue
	seen := map[string]bool{}
	h.view(func(v *view) {
		for _, pv := range r.ParameterList {
			add := func(code soap.FaultCode, msg string) {
				faults = append(faults, soap.SetParameterValuesFault{ParameterName: pv.Name, FaultCode: code, FaultString: msg})
			}
			if seen[pv.Name] {
				add(soap.FaultInvalidParameterValue, "parameter set twice in one request")
				continue
			}
			seen[pv.Name] = true
			res, ok := v.resolve(pv.Name)
			if !ok || res.param == nil {
				add(soap.FaultInvalidParameterName, "no such parameter")
				continue
			}
			p := res.param
			if !p.Write {
				add(soap.FaultNonWritableParameter, "parameter is read-only")
				continue
			}
			val, err := p.Canonical(pv.Value, pv.Type)
			if err != nil {
				code := soap.FaultInvalidParameterValue
				if ve, ok := err.(*valueError); ok {
					code = ve.code
				}
				add(code, err.Error())
				continue
			}
			if h.Apply != nil && !projections.AgentOwns(pv.Name) && strings.ContainsFunc(val, isControl) {
				// The device's apply hook reads one change per line:
				// a newline or tab in a value would forge another.
				add(soap.FaultInvalidParameterValue, "this device takes no control characters (newline, tab, …) in a value")
				continue
			}
			values = append(values, event.ParamValue{Name: pv.Name, Value: val, Type: string(p.Type), Hidden: p.Hidden})
		}
	})
	if len(faults) > 0 {
		f := soap.NewFault(soap.FaultInvalidArguments, "")
		f.Detail.SetParameterValuesFault = faults
		return f
	}
	if f := h.change(ctx, event.ChangeApplying{Kind: event.ChangeSet, Values: values, ParameterKey: r.ParameterKey}); f != nil {
		return f
	}
	return &soap.SetParameterValuesResponse{Status: soap.StatusApplied}
}

// isControl reports a character no value the device applies may hold.
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// change journals a validated ACS change (SetParameterValues, AddObject,
// DeleteObject) before its response. When it is the agent's alone (no
// Apply, or only values of Device.ManagementServer., see
// projections.AgentOwns) its record is journaled at once, as always. When the device must carry it
// out, journal first, then act: the intent (ChangeApplying), which changes
// nothing yet, then the device's apply hook, then the outcome — the
// change's own record, which sets every value of the request (settings
// included: an SPV stays all or nothing) and the ParameterKey at once, or
// ChangeApplyFailed, after which nothing has changed and the ACS gets
// 9002 (digest §12.2: the ParameterKey changes only if the RPC succeeds).
// Decision (docs/decisions.md): an intent and its outcome rather than the
// change then a compensating record, because an ACS URL change (BOOTSTRAP,
// dropped transfers), a forgotten owed change or a deleted row (its values,
// attributes and sub-tables) cannot be taken back by a later record.
func (h *Handler) change(ctx context.Context, c event.ChangeApplying) *soap.Fault {
	if h.Apply == nil || len(projections.DeviceChanges(c)) == 0 {
		done, values, derived := h.completion(0, c)
		if err := h.journal(ctx, done, values, derived...); err != nil {
			return recordFault(err)
		}
		return nil
	}
	var unresolved uint64
	h.Store.View(func(st *projections.State) {
		if a := st.Params.Applying; a != nil {
			unresolved = a.Seq
		}
	})
	if unresolved != 0 {
		// Only after a refused append (a full disk): the next start
		// settles it before anything else.
		return fault(soap.FaultInternalError, "an earlier change (#%d) is not settled yet", unresolved)
	}
	recs, err := h.Store.Append(ctx, c)
	if err != nil {
		h.Log.Error().Err(err).Msg("journal append failed; request refused")
		return recordFault(err)
	}
	f, err := h.carryOut(ctx, recs[0].Seq, c)
	if err != nil {
		return recordFault(err)
	}
	return f
}

// carryOut runs the apply hook for the intent seq and journals its
// outcome. The fault is the ACS's answer when the device did not apply the
// change; the error is a refused append (the intent then stays, and the
// next start carries it out again).
func (h *Handler) carryOut(ctx context.Context, seq uint64, c event.ChangeApplying) (*soap.Fault, error) {
	changes := projections.DeviceChanges(c)
	var err error
	if h.Apply == nil {
		err = errors.New("no apply-parameters hook is configured")
	} else {
		err = h.Apply.ApplyParameters(ctx, changes)
	}
	if err != nil && ctx.Err() != nil {
		// The agent is stopping and the hook was stopped with it: whether
		// the device applied the change is unknown, so the intent stays
		// and the next start runs the hook again.
		h.Log.Warn().Uint64("change", seq).Msg("change not applied: the agent is stopping; the next start applies it")
		return fault(soap.FaultInternalError, "the device is stopping; the change was not applied"), nil
	}
	if err != nil {
		msg := faultText(withheld(err.Error(), changes))
		h.Log.Warn().Uint64("change", seq).Str("error", msg).Msg("the device did not apply the ACS's change: nothing changed")
		if _, err := h.Store.Append(ctx, event.ChangeApplyFailed{Change: seq, Error: msg}); err != nil {
			h.Log.Error().Err(err).Uint64("change", seq).Msg("journal append failed; the change is applied again at the next start")
			return nil, err
		}
		return fault(soap.FaultInternalError, "%s", msg), nil
	}
	// The intent as the journal holds it now: a client reset since it was
	// journaled has taken the agent's own part out of it.
	h.Store.View(func(st *projections.State) {
		if a := st.Params.Applying; a != nil && a.Seq == seq {
			c = a.Change
		}
	})
	done, values, derived := h.completion(seq, c)
	if err := h.journal(ctx, done, values, derived...); err != nil {
		return nil, err
	}
	h.Log.Info().Uint64("change", seq).Str("kind", c.Kind).Int("changes", len(changes)).Msg("change applied to the device")
	return nil, nil
}

// Resume settles a change whose intent the journal holds without an
// outcome: the agent stopped or crashed while the device applied it. The
// hook runs again (it must be idempotent) and its outcome is journaled as
// for the ACS's request, whose answer was never sent: a retrying ACS sends
// it again and finds it done. Without an Applier it is recorded as not
// applied. Called before any session; an error is a refused append.
func (h *Handler) Resume(ctx context.Context) error {
	var a projections.Applying
	h.Store.View(func(st *projections.State) {
		if st.Params.Applying != nil {
			a = *st.Params.Applying
		}
	})
	if a.Seq == 0 {
		return nil
	}
	h.Log.Info().Uint64("change", a.Seq).Str("kind", a.Change.Kind).Msg("a change the agent stopped applying: applying it again")
	if _, err := h.carryOut(ctx, a.Seq, a.Change); err != nil {
		return fmt.Errorf("datamodel: settle change #%d: %w", a.Seq, err)
	}
	return ctx.Err()
}

// completion is the record of the change c once the device applied it
// (applies: its intent's sequence; 0 without one), with the values the ACS
// set and the parameters it moves besides, for the watcher.
func (h *Handler) completion(applies uint64, c event.ChangeApplying) (event.Event, []event.ParamValue, []string) {
	switch c.Kind {
	case event.ChangeAdd:
		var count string
		h.Store.View(func(st *projections.State) {
			v := h.Model.viewWith(st, HostSnapshot{})
			if res, ok := v.resolve(c.Object); ok {
				row, _ := v.m.Schema.Object(res.pattern + "{i}.")
				count = countParamOf(row, c.Object)
			}
		})
		return event.ObjectAdded{Object: c.Object, Instance: c.Instance, ParameterKey: c.ParameterKey, SetKey: true, Source: event.SourceACS, Applies: applies},
			nil, []string{paramParameterKey, count}
	case event.ChangeDelete:
		var count string
		h.Store.View(func(st *projections.State) {
			v := h.Model.viewWith(st, HostSnapshot{})
			if res, ok := v.resolve(c.Object); ok && res.object != nil {
				table := strings.TrimSuffix(c.Object, ".")
				count = countParamOf(res.object, table[:strings.LastIndex(table, ".")+1])
			}
		})
		return event.ObjectDeleted{Object: c.Object, ParameterKey: c.ParameterKey, SetKey: true, Source: event.SourceACS, Applies: applies},
			nil, []string{paramParameterKey, count}
	}
	return event.ParametersSet{Values: c.Values, ParameterKey: c.ParameterKey, SetKey: true, Source: event.SourceACS, Applies: applies},
		c.Values, []string{paramParameterKey}
}

// withheld removes the hidden values (passwords) of changes from msg.
func withheld(msg string, changes []projections.DeviceChange) string {
	for _, c := range changes {
		if c.Hidden && c.Value != "" {
			msg = strings.ReplaceAll(msg, c.Value, event.Redacted)
		}
	}
	return msg
}

// faultText makes a hook's message fit a fault string: one line of valid
// UTF-8 without control characters (XML 1.0 cannot carry most of them), at
// most 256 bytes, cut at a character.
func faultText(s string) string {
	s = strings.Map(func(r rune) rune {
		if isControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	const max = 256
	if len(s) <= max {
		return s
	}
	cut := max - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// paramParameterKey is written by every successful SPV, AddObject and
// DeleteObject.
const paramParameterKey = "Device.ManagementServer.ParameterKey"

// journal appends an ACS change and tells the watcher, atomically with
// respect to its polls, so the change is never reported back: values are
// what the ACS set, derived the parameters the change moves besides.
func (h *Handler) journal(ctx context.Context, e event.Event, values []event.ParamValue, derived ...string) error {
	do := func() error {
		_, err := h.Store.Append(ctx, e)
		if err != nil {
			h.Log.Error().Err(err).Str("event", e.Type().String()).Msg("journal append failed; request refused")
		}
		return err
	}
	if h.Watcher == nil {
		return do()
	}
	return h.Watcher.acceptWhile(values, derived, do)
}

// notification returns a parameter's effective notification attribute.
func (v *view) notification(name string, p *Param) int {
	if p.Notify == NotifyForceEnabled {
		return 2
	}
	if a, ok := v.st.Params.Attributes[name]; ok {
		return a.Notification
	}
	if p.Notify == NotifyForceDefaultEnabled {
		return 2
	}
	return 0
}

func (h *Handler) getAttributes(r *soap.GetParameterAttributes) soap.Message {
	var out []soap.ParameterAttributeStruct
	var f *soap.Fault
	h.view(func(v *view) {
		for _, name := range r.ParameterNames {
			res, ok := v.resolve(name)
			if !ok {
				f = fault(soap.FaultInvalidParameterName, "invalid parameter name: %s", name)
				return
			}
			for _, np := range v.params(res) {
				acl := v.st.Params.Attributes[np.name].AccessList
				if acl == nil {
					acl = []string{}
				}
				out = append(out, soap.ParameterAttributeStruct{Name: np.name, Notification: int32(v.notification(np.name, np.p)), AccessList: acl})
			}
		}
	})
	if f != nil {
		return f
	}
	return &soap.GetParameterAttributesResponse{ParameterList: out}
}

// setAttributes applies A.3.2.4. Decisions: notification 0-2 are
// supported (3-6 are lightweight notifications, not implemented: 9003);
// a forceEnabled parameter named explicitly refuses a change (9009) and is
// left alone when reached through a partial path; active notification on a
// canDeny parameter is refused (9009) either way; the AccessList may only
// be empty or "Subscriber".
func (h *Handler) setAttributes(ctx context.Context, r *soap.SetParameterAttributes) soap.Message {
	var changes []event.AttributeChange
	var watched []event.ParamValue // their values now: the baseline of the watch
	var f *soap.Fault
	h.view(func(v *view) {
		for _, s := range r.ParameterList {
			res, ok := v.resolve(s.Name)
			if !ok {
				f = fault(soap.FaultInvalidParameterName, "invalid parameter name: %s", s.Name)
				return
			}
			if s.NotificationChange && (s.Notification < 0 || s.Notification > 2) {
				f = fault(soap.FaultInvalidArguments, "notification %d not supported", s.Notification)
				return
			}
			if s.AccessListChange {
				for _, a := range s.AccessList {
					if a != "Subscriber" {
						f = fault(soap.FaultInvalidArguments, "access list entry %q not supported", a)
						return
					}
				}
			}
			explicit := res.param != nil
			for _, np := range v.params(res) {
				c := event.AttributeChange{Name: np.name, AccessListChange: s.AccessListChange, AccessList: s.AccessList}
				if s.NotificationChange {
					switch {
					case np.p.Notify == NotifyForceEnabled && s.Notification != 2:
						if explicit {
							f = fault(soap.FaultNotificationRejected, "notification of %s is always active", np.name)
							return
						}
					case np.p.Notify == NotifyCanDeny && s.Notification == 2:
						f = fault(soap.FaultNotificationRejected, "active notification refused for %s", np.name)
						return
					default:
						c.NotificationChange, c.Notification = true, int(s.Notification)
					}
				}
				if c.NotificationChange || c.AccessListChange {
					changes = append(changes, c)
				}
				if c.NotificationChange && c.Notification > 0 {
					watched = append(watched, event.ParamValue{Name: np.name, Value: v.rawValue(np.name, np.p)})
				}
			}
		}
	})
	if f != nil {
		return f
	}
	if len(changes) > 0 {
		// A parameter starts being watched from its value now: a change
		// right after the SPA, before the next poll, is still a change.
		do := func() error { _, err := h.Store.Append(ctx, event.AttributesSet{Changes: changes}); return err }
		var err error
		if h.Watcher != nil {
			err = h.Watcher.watchWhile(watched, do)
		} else {
			err = do()
		}
		if err != nil {
			return recordFault(err)
		}
	}
	return &soap.SetParameterAttributesResponse{}
}

func (h *Handler) addObject(ctx context.Context, r *soap.AddObject) soap.Message {
	var c event.ChangeApplying
	var f *soap.Fault
	h.view(func(v *view) {
		res, ok := v.resolve(r.ObjectName)
		if !ok || res.object == nil {
			f = fault(soap.FaultInvalidParameterName, "no such object: %s", r.ObjectName)
			return
		}
		row, isTable := v.m.Schema.Object(res.pattern + "{i}.")
		if !isTable {
			f = fault(soap.FaultInvalidParameterName, "%s is not a table", r.ObjectName)
			return
		}
		if !row.Write {
			f = fault(soap.FaultRequestDenied, "rows of %s cannot be added", r.ObjectName)
			return
		}
		var highest uint32
		var live int
		if t := v.st.Params.Tables[res.name]; t != nil {
			highest, live = t.Highest, len(t.Live)
		}
		max := h.MaxInstances
		if max == 0 {
			max = DefaultMaxInstances
		}
		if live >= max || highest == 1<<32-1 {
			f = fault(soap.FaultResourcesExceeded, "%s is full (%d rows)", r.ObjectName, live)
			return
		}
		c = event.ChangeApplying{Kind: event.ChangeAdd, Object: res.name, Instance: highest + 1, ParameterKey: r.ParameterKey}
	})
	if f != nil {
		return f
	}
	if f := h.change(ctx, c); f != nil {
		return f
	}
	return &soap.AddObjectResponse{InstanceNumber: c.Instance, Status: soap.StatusApplied}
}

func (h *Handler) deleteObject(ctx context.Context, r *soap.DeleteObject) soap.Message {
	var f *soap.Fault
	h.view(func(v *view) {
		res, ok := v.resolve(r.ObjectName)
		if !ok || res.object == nil || !IsTableInstance(res.pattern) {
			f = fault(soap.FaultInvalidParameterName, "no such instance: %s", r.ObjectName)
			return
		}
		if !res.object.Write {
			f = fault(soap.FaultRequestDenied, "%s cannot be deleted", r.ObjectName)
		}
	})
	if f != nil {
		return f
	}
	if f := h.change(ctx, event.ChangeApplying{Kind: event.ChangeDelete, Object: r.ObjectName, ParameterKey: r.ParameterKey}); f != nil {
		return f
	}
	return &soap.DeleteObjectResponse{Status: soap.StatusApplied}
}

// InformParameters returns the Inform's ParameterList (digest §7): every
// forced-inform parameter, then every changed parameter owed with
// "4 VALUE CHANGE" with its current value.
func (m *Model) InformParameters(st *projections.State, host HostSnapshot) []soap.ParameterValueStruct {
	v := m.viewWith(st, host)
	var out []soap.ParameterValueStruct
	seen := map[string]bool{}
	for _, p := range m.Schema.Params {
		if p.ForcedInform {
			out = append(out, soap.ParameterValueStruct{Name: p.Path, Value: v.value(p.Path, p), Type: p.Type.ValueType()})
			seen[p.Path] = true
		}
	}
	if st.Pending.Has(projections.EventValueChange, "") {
		for _, name := range sortedKeys(st.Pending.Changed) {
			if seen[name] {
				continue
			}
			res, ok := v.resolve(name)
			if !ok || res.param == nil {
				continue // the parameter is gone (its object was deleted)
			}
			out = append(out, soap.ParameterValueStruct{Name: name, Value: v.value(name, res.param), Type: res.param.Type.ValueType()})
		}
	}
	return out
}

// recordFault answers a change the journal refused: 9004 when its storage
// reserve is reached (the ACS learns the device is full), else 9002.
func recordFault(err error) *soap.Fault {
	if errors.Is(err, journal.ErrDiskFull) {
		return fault(soap.FaultResourcesExceeded, "storage full: the change cannot be recorded")
	}
	return fault(soap.FaultInternalError, "cannot record the change")
}

// countParamOf names the NumberOfEntries parameter of the concrete table
// ("Device.Users.User." counted by "Device.Users.UserNumberOfEntries"),
// row being the table's row object; "" when it has none.
func countParamOf(row *Object, table string) string {
	if row == nil || row.CountParam == "" {
		return ""
	}
	leaf := row.CountParam[strings.LastIndex(row.CountParam, ".")+1:]
	t := strings.TrimSuffix(table, ".")
	return t[:strings.LastIndex(t, ".")+1] + leaf
}
