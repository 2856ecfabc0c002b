package session

import (
	"io"
	"net/http"
	"testing"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/cwmp/datamodel"
	"github.com/cwmpd/cwmpd/cwmp/soap"
)

// An SPV whose values do not match their xsi:type reaches the data model,
// which names every offending parameter with its own code (D§12.2): a value
// typed boolean for an unsignedInt parameter is 9006, an unknown name 9005
// whatever its value, a read-only parameter 9008. The decoder used to answer
// first with 9007 for every value it could not parse, and leave the rest
// unlisted.
func TestSPVFaultsComeFromTheDataModel(t *testing.T) {
	f := newFixture(t)
	model := &datamodel.Model{Schema: datamodel.DefaultSchema(),
		Identity: func() datamodel.Identity { return datamodel.Identity{OUI: "00AB1F"} },
		Runtime:  func() datamodel.Runtime { return datamodel.Runtime{} }}
	h := &datamodel.Handler{Model: model, Store: f.store, Log: zerolog.Nop()}
	spv := `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:cwmp="urn:dslforum-org:cwmp-1-2">` +
		`<soap:Header><cwmp:ID soap:mustUnderstand="1">spv-1</cwmp:ID></soap:Header><soap:Body><cwmp:SetParameterValues>` +
		`<ParameterList soapenc:arrayType="cwmp:ParameterValueStruct[4]">` +
		`<ParameterValueStruct><Name>Device.ManagementServer.PeriodicInformInterval</Name><Value xsi:type="xsd:boolean">3600</Value></ParameterValueStruct>` +
		`<ParameterValueStruct><Name>Device.NoSuchObject.Foo</Name><Value xsi:type="xsd:unsignedInt">abc</Value></ParameterValueStruct>` +
		`<ParameterValueStruct><Name>Device.DeviceInfo.UpTime</Name><Value xsi:type="xsd:unsignedInt">5</Value></ParameterValueStruct>` +
		`<ParameterValueStruct><Name>Device.ManagementServer.PeriodicInformEnable</Name><Value xsi:type="xsd:boolean">yes</Value></ParameterValueStruct>` +
		`</ParameterList><ParameterKey>k1</ParameterKey></cwmp:SetParameterValues></soap:Body></soap:Envelope>`
	a, out := f.scripted(t, h, informResponse(soap.Header{}),
		func(w http.ResponseWriter, _ *soap.Envelope) { io.WriteString(w, spv) },
		noContent)
	if out.Failure != nil {
		t.Fatal(out.Failure)
	}
	fl, ok := a.got[2].Body.(*soap.Fault)
	if !ok || fl.Detail.FaultCode != soap.FaultInvalidArguments || a.got[2].Header.ID != "spv-1" {
		t.Fatalf("answer to the SPV: %s", a.raw[2])
	}
	got := map[string]soap.FaultCode{}
	for _, p := range fl.Detail.SetParameterValuesFault {
		got[p.ParameterName] = p.FaultCode
	}
	want := map[string]soap.FaultCode{
		"Device.ManagementServer.PeriodicInformInterval": soap.FaultInvalidParameterType,
		"Device.NoSuchObject.Foo":                        soap.FaultInvalidParameterName,
		"Device.DeviceInfo.UpTime":                       soap.FaultNonWritableParameter,
		"Device.ManagementServer.PeriodicInformEnable":   soap.FaultInvalidParameterValue,
	}
	if len(got) != len(want) {
		t.Errorf("listed %v, want %v", got, want)
	}
	for n, c := range want {
		if got[n] != c {
			t.Errorf("%s: fault %d, want %d", n, got[n], c)
		}
	}
}
