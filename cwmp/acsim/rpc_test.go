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

// The admin API sends a ScheduleDownload's MaxRetries per window as given
// (a count, 0; -1 is doc.go's example), through the SOAP encoder and
// decoder.
func TestParseRPCScheduleDownloadKeepsMaxRetries(t *testing.T) {
	msg, err := ParseRPC(RPC{Method: "ScheduleDownload", Args: json.RawMessage(`{"CommandKey":"sd-2","FileType":"1 Firmware Upgrade Image",` +
		`"URL":"http://127.0.0.1:7559/files/fw.bin","TimeWindowList":[` +
		`{"WindowStart":0,"WindowEnd":600,"WindowMode":"1 At Any Time","MaxRetries":3},` +
		`{"WindowStart":3600,"WindowEnd":7200,"WindowMode":"2 Immediately","MaxRetries":0}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	sd, ok := msg.(*soap.ScheduleDownload)
	if !ok {
		t.Fatalf("parsed as %T", msg)
	}
	var got []int32
	for _, w := range sd.TimeWindowList {
		got = append(got, w.MaxRetries)
	}
	if !reflect.DeepEqual(got, []int32{3, 0}) {
		t.Fatalf("MaxRetries %v, want [3 0]", got)
	}
}
