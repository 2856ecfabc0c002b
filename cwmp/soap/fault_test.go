package soap

import (
	"strings"
	"testing"
)

func TestFaultTable(t *testing.T) {
	client := map[FaultCode]bool{9003: true, 9005: true, 9006: true, 9007: true, 9008: true, 8003: true}
	for c := FaultCode(9000); c <= 9032; c++ {
		if strings.HasPrefix(c.String(), "Fault ") {
			t.Errorf("%d has no name", c)
		}
		want := SOAPServer
		if client[c] {
			want = SOAPClient
		}
		if got := c.SOAPFaultCode(); got != want {
			t.Errorf("%d: %s, want %s", c, got, want)
		}
		if !c.IsCPE() || c.IsACS() {
			t.Errorf("%d range", c)
		}
	}
	for c := FaultCode(8000); c <= 8006; c++ {
		if strings.HasPrefix(c.String(), "Fault ") || !c.IsACS() {
			t.Errorf("%d", c)
		}
	}
	if FaultCode(9850).String() != "Vendor fault 9850" || FaultCode(8007).String() != "Fault 8007" {
		t.Errorf("%q %q", FaultCode(9850), FaultCode(8007))
	}
	f := NewFault(FaultInvalidParameterName, "")
	if f.Code != SOAPClient || f.String != CWMPFaultString || f.Detail.FaultString != "Invalid parameter name" {
		t.Errorf("%+v %+v", f, f.Detail)
	}
	if f.Error() != "soap: fault 9005: Invalid parameter name" {
		t.Errorf("%q", f.Error())
	}
}

func TestVersion(t *testing.T) {
	for v, ns := range map[Version]string{V1_0: "cwmp-1-0", V1_1: "cwmp-1-1", V1_2: "cwmp-1-2", V1_3: "cwmp-1-2", V1_4: "cwmp-1-2"} {
		if v.Namespace() != "urn:dslforum-org:"+ns {
			t.Errorf("%v: %s", v, v.Namespace())
		}
		p, err := ParseVersion(v.String())
		if err != nil || p != v {
			t.Errorf("%v: parse %v %v", v, p, err)
		}
	}
	if _, err := ParseVersion("2.0"); err == nil {
		t.Error("2.0 parsed")
	}
	if Version(0).Valid() || Version(9).Valid() {
		t.Error("invalid versions valid")
	}
}

func TestVersionStrings(t *testing.T) {
	want := map[Version]string{0: "Version(0)", V1_0: "1.0", V1_1: "1.1", V1_2: "1.2", V1_3: "1.3", V1_4: "1.4", V1_4 + 1: "Version(6)"}
	for v, s := range want {
		if got := v.String(); got != s {
			t.Errorf("Version(%d).String() = %q, want %q", uint8(v), got, s)
		}
	}
}
