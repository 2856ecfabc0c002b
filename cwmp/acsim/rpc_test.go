package acsim

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cwmpd/cwmpd/cwmp/soap"
)

// TestDocExamples parses every RPC example in doc.go, so the documented
// mapping cannot drift from the code, and requires one per ACS method.
func TestDocExamples(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(string(src), "\n") {
		ex, ok := strings.CutPrefix(line, "//\t{\"method\":")
		if !ok {
			continue
		}
		var r RPC
		if err := json.Unmarshal([]byte(`{"method":`+ex), &r); err != nil {
			t.Errorf("doc example is not JSON: %v\n%s", err, ex)
			continue
		}
		msg, err := ParseRPC(r)
		if err != nil {
			t.Errorf("doc example refused: %v", err)
			continue
		}
		if msg.MethodName() != r.Method {
			t.Errorf("%s parsed as %s", r.Method, msg.MethodName())
		}
		seen[r.Method] = true
	}
	for _, m := range ACSMethods() {
		if !seen[m] {
			t.Errorf("doc.go has no example for %s", m)
		}
	}
	if len(ACSMethods()) != 17 {
		t.Errorf("%d ACS methods, the brief lists 17", len(ACSMethods()))
	}
}

func TestParseRPC(t *testing.T) {
	msg, err := ParseRPC(RPC{Method: "SetParameterValues", Args: json.RawMessage(
		`{"ParameterList":[{"Name":"Device.A","Value":"1","Type":"boolean"},{"Name":"Device.B","Value":"x"}],"ParameterKey":"k"}`)})
	if err != nil {
		t.Fatal(err)
	}
	want := &soap.SetParameterValues{ParameterList: []soap.ParameterValueStruct{
		{Name: "Device.A", Value: "1", Type: soap.TypeBoolean}, {Name: "Device.B", Value: "x"}}, ParameterKey: "k"}
	if !reflect.DeepEqual(msg, want) {
		t.Fatalf("got %+v", msg)
	}
	for name, r := range map[string]RPC{
		"unknown method":     {Method: "Inform"},
		"unknown arg":        {Method: "Reboot", Args: json.RawMessage(`{"Commandkey":"x"}`)},
		"wrong type":         {Method: "ScheduleInform", Args: json.RawMessage(`{"DelaySeconds":"soon"}`)},
		"too long":           {Method: "Reboot", Args: json.RawMessage(`{"CommandKey":"` + strings.Repeat("x", 33) + `"}`)},
		"not an object path": {Method: "AddObject", Args: json.RawMessage(`{"ObjectName":"Device.NAT.PortMapping"}`)},
		"bad value type":     {Method: "SetParameterValues", Args: json.RawMessage(`{"ParameterList":[{"Name":"A","Value":"x","Type":"unsignedInt"}]}`)},
		"no names":           {Method: "GetParameterValues", Args: json.RawMessage(`{"ParameterNames":[]}`)},
		"bad file type":      {Method: "Download", Args: json.RawMessage(`{"FileType":"Firmware"}`)},
		"trailing data":      {Method: "Reboot", Args: json.RawMessage(`{} {}`)},
	} {
		if _, err := ParseRPC(r); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Unchecked lets a test send what a CPE must refuse.
	if _, err := ParseRPC(RPC{Method: "Reboot", Args: json.RawMessage(`{"CommandKey":"` + strings.Repeat("x", 33) + `"}`), Unchecked: true}); err != nil {
		t.Fatalf("unchecked: %v", err)
	}
	if !slices.IsSorted(ACSMethods()) {
		t.Fatal("ACSMethods not sorted")
	}
}
