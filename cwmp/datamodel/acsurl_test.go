package datamodel

import (
	"strings"
	"testing"

	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/projections"
)

// The ACS cannot set ManagementServer.URL to a URL the transport refuses at
// every session (user-info above all: the device would be locked out and
// the password would reach logs and exports): 9007, nothing changed.
func TestSPVRefusesACSURLTheTransportRefuses(t *testing.T) {
	f := newFix(t)
	for _, bad := range []string{
		"http://cpe:acs-url-secret@acs.example/acs",
		"http://acs.example/c wmp",
		"http://bücher.example/cwmp",
		"http://acs.example/cwmp?a=b c",
	} {
		m := f.do(&soap.SetParameterValues{ParameterKey: "k", ParameterList: []soap.ParameterValueStruct{
			{Name: "Device.ManagementServer.URL", Value: bad, Type: soap.TypeString}}})
		fault, ok := m.(*soap.Fault)
		if !ok || fault.Detail == nil || len(fault.Detail.SetParameterValuesFault) != 1 ||
			fault.Detail.SetParameterValuesFault[0].FaultCode != soap.FaultInvalidParameterValue {
			t.Errorf("%q: got %#v, want a 9007 for the URL", bad, m)
			continue
		}
		if s := fault.Detail.SetParameterValuesFault[0].FaultString; strings.Contains(s, "secret") {
			t.Errorf("the fault quotes the password: %q", s)
		}
	}
	f.store.View(func(st *projections.State) {
		if u := st.Settings.Get(projections.SettingACSURL); u != "https://acs.example/" {
			t.Errorf("acs-url changed to %q", u)
		}
	})
	if c := faultCode(f.do(&soap.SetParameterValues{ParameterKey: "k", ParameterList: []soap.ParameterValueStruct{
		{Name: "Device.ManagementServer.URL", Value: "https://acs2.example/cwmp?x=%20y", Type: soap.TypeString}}})); c != 0 {
		t.Errorf("a good URL refused: %d", c)
	}
}
