package acsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/soap"
)

// RPC is the JSON form of one ACS→CPE request (see doc.go for the mapping).
type RPC struct {
	// Device is the queue the RPC goes to; empty means the default queue.
	// Only read from scenario files and admin bodies; the Go API takes the
	// device as an argument.
	Device string `json:"device,omitempty"`
	// Method is the CWMP method name, e.g. "GetParameterValues".
	Method string `json:"method"`
	// Args holds the method's arguments under their schema names.
	Args json.RawMessage `json:"args,omitempty"`
	// ID is the cwmp:ID header to send; empty means one is generated.
	ID string `json:"id,omitempty"`
	// Unchecked skips the schema-length and pattern checks, so a test can
	// send a CPE something it must refuse (e.g. a 40-character CommandKey).
	Unchecked bool `json:"unchecked,omitempty"`
}

// acsRequests are the methods an ACS may send to a CPE.
var acsRequests = map[string]func() soap.Message{
	"GetRPCMethods":          func() soap.Message { return &soap.GetRPCMethods{} },
	"SetParameterValues":     func() soap.Message { return &soap.SetParameterValues{} },
	"GetParameterValues":     func() soap.Message { return &soap.GetParameterValues{} },
	"GetParameterNames":      func() soap.Message { return &soap.GetParameterNames{} },
	"SetParameterAttributes": func() soap.Message { return &soap.SetParameterAttributes{} },
	"GetParameterAttributes": func() soap.Message { return &soap.GetParameterAttributes{} },
	"AddObject":              func() soap.Message { return &soap.AddObject{} },
	"DeleteObject":           func() soap.Message { return &soap.DeleteObject{} },
	"Reboot":                 func() soap.Message { return &soap.Reboot{} },
	"Download":               func() soap.Message { return &soap.Download{} },
	"Upload":                 func() soap.Message { return &soap.Upload{} },
	"FactoryReset":           func() soap.Message { return &soap.FactoryReset{} },
	"ScheduleInform":         func() soap.Message { return &soap.ScheduleInform{} },
	"ScheduleDownload":       func() soap.Message { return &soap.ScheduleDownload{} },
	"GetQueuedTransfers":     func() soap.Message { return &soap.GetQueuedTransfers{} },
	"GetAllQueuedTransfers":  func() soap.Message { return &soap.GetAllQueuedTransfers{} },
	"CancelTransfer":         func() soap.Message { return &soap.CancelTransfer{} },
}

// ACSMethods lists the methods an RPC may name, sorted.
func ACSMethods() []string {
	out := make([]string, 0, len(acsRequests))
	for m := range acsRequests {
		out = append(out, m)
	}
	slices.Sort(out)
	return out
}

// ErrBadRPC is wrapped by every error about an RPC that cannot be queued.
var ErrBadRPC = errors.New("bad rpc")

// ParseRPC turns the JSON form into the typed message. Unknown argument
// names are refused so that a typo in a scenario file fails loudly instead
// of sending an empty argument.
func ParseRPC(r RPC) (soap.Message, error) {
	ctor, ok := acsRequests[r.Method]
	if !ok {
		return nil, fmt.Errorf("acsim: parse rpc: %w: unknown method %q (one of %s)", ErrBadRPC, r.Method, strings.Join(ACSMethods(), ", "))
	}
	msg := ctor()
	if args := bytes.TrimSpace(r.Args); len(args) > 0 && !bytes.Equal(args, []byte("null")) {
		dec := json.NewDecoder(bytes.NewReader(args))
		dec.DisallowUnknownFields()
		if err := dec.Decode(msg); err != nil {
			return nil, fmt.Errorf("acsim: parse rpc %s args: %w: %v", r.Method, ErrBadRPC, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("acsim: parse rpc %s args: %w: trailing data", r.Method, ErrBadRPC)
		}
		// encoding/json matches names case-insensitively; a scenario
		// written "Commandkey" should fail, not work by accident.
		if err := exactNames(args, reflect.TypeOf(msg).Elem(), "args"); err != nil {
			return nil, fmt.Errorf("acsim: parse rpc %s: %w: %v", r.Method, ErrBadRPC, err)
		}
	}
	normalizeTypes(msg)
	if !r.Unchecked {
		if err := checkMessage(msg); err != nil {
			return nil, err
		}
	}
	return msg, nil
}

var timeType = reflect.TypeOf(time.Time{})

// exactNames checks that every object key in raw is spelled exactly like a
// field of t, recursing into nested structs and arrays.
func exactNames(raw json.RawMessage, t reflect.Type, path string) error {
	switch {
	case t.Kind() == reflect.Slice:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil // not an array: the decoder already said so
		}
		for i, it := range items {
			if err := exactNames(it, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Struct && t != timeType:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil
		}
		for k, v := range obj {
			f, ok := t.FieldByName(k)
			if !ok || !f.IsExported() {
				return fmt.Errorf("%s: unknown argument %q", path, k)
			}
			if err := exactNames(v, f.Type, path+"."+k); err != nil {
				return err
			}
		}
	}
	return nil
}

// normalizeTypes lets a scenario write "unsignedInt" for "xsd:unsignedInt".
func normalizeTypes(msg soap.Message) {
	spv, ok := msg.(*soap.SetParameterValues)
	if !ok {
		return
	}
	for i := range spv.ParameterList {
		t := string(spv.ParameterList[i].Type)
		if t != "" && !strings.Contains(t, ":") {
			spv.ParameterList[i].Type = soap.ValueType("xsd:" + t)
		}
	}
}

// checkMessage runs msg through the codec both ways: the decoder enforces
// the schema's lengths, patterns and ranges, which the encoder does not.
func checkMessage(msg soap.Message) error {
	if _, ok := acsRequests[msg.MethodName()]; !ok {
		return fmt.Errorf("acsim: check rpc: %w: %s is not an ACS request", ErrBadRPC, msg.MethodName())
	}
	if spv, ok := msg.(*soap.SetParameterValues); ok {
		// The decoder below leaves SPV values to the CPE's data model;
		// the schema still wants each to match its xsi:type.
		for _, pv := range spv.ParameterList {
			if err := pv.CheckValue(); err != nil {
				return fmt.Errorf("acsim: check rpc %s: %w: %v", msg.MethodName(), ErrBadRPC, err)
			}
		}
	}
	var buf bytes.Buffer
	if err := soap.Encode(&buf, &soap.Envelope{Version: soap.V1_2, Header: soap.Header{ID: "check"}, Body: msg}); err != nil {
		return fmt.Errorf("acsim: check rpc %s: %w: %v", msg.MethodName(), ErrBadRPC, err)
	}
	if _, err := soap.Decode(&buf, 0); err != nil {
		return fmt.Errorf("acsim: check rpc %s: %w: %v", msg.MethodName(), ErrBadRPC, err)
	}
	return nil
}

// summary is what the transcript shows of a message: the typed struct, with
// file-server passwords masked (the raw XML still has them; the transcript
// is test evidence, the logs are what must stay clean).
func summary(msg soap.Message) any {
	switch m := msg.(type) {
	case nil:
		return nil
	case *soap.Download:
		c := *m
		c.Password = mask(c.Password)
		return &c
	case *soap.Upload:
		c := *m
		c.Password = mask(c.Password)
		return &c
	case *soap.ScheduleDownload:
		c := *m
		c.Password = mask(c.Password)
		return &c
	}
	return msg
}

func mask(s string) string {
	if s == "" {
		return ""
	}
	return "***"
}
