package datamodel

import (
	"io"
	"strings"
	"testing"

	"github.com/cwmpd/cwmpd/cwmp/soap"
)

// FuzzHandleRPC drives the parameter RPCs the way an ACS can: any method,
// any names (valid ones mutated), any value, a type from the schema's set
// or off it, any attributes, against a real
// journal whose state the earlier inputs changed. A request the decoder
// would refuse (it enforces the same schema rules as the encoder) is
// skipped; every other one must be answered, without a panic, by a
// response or fault that encodes as a valid envelope.
func FuzzHandleRPC(f *testing.F) {
	seeds := []struct {
		method     uint8
		names      string
		value      string
		typ        uint8
		flag       bool
		notify     int32
		paramKey   string
		accessList string
	}{
		{0, "Device.", "", 0, false, 0, "", ""},
		{0, "Device.ManagementServer.PeriodicInformInterval\nDevice.DeviceInfo.", "", 0, false, 0, "", ""},
		{1, "Device.Users.", "", 0, true, 0, "", ""},
		{1, "", "", 0, false, 0, "", ""},
		{2, "Device.ManagementServer.PeriodicInformInterval", "300", 1, false, 0, "k1", ""},
		{2, "Device.ManagementServer.PeriodicInformEnable", "true", 3, false, 0, "", ""},
		{2, "Device.ManagementServer.PeriodicInformTime", "2026-12-07T00:00:00Z", 4, false, 0, "", ""},
		{2, "Device.Users.User.1.Username\nDevice.Users.User.1.Password", "x", 0, false, 0, "", ""},
		{3, "Device.ManagementServer.", "", 0, false, 0, "", ""},
		{4, "Device.DeviceInfo.SoftwareVersion", "", 0, true, 2, "", "Subscriber"},
		{5, "Device.Users.User.", "", 0, false, 0, "k2", ""},
		{6, "Device.Users.User.1.", "", 0, false, 0, "k3", ""},
		{7, "", "", 0, false, 0, "", ""},
		{0, "Device.IP.Interface.*.IPv4Address.", "", 0, false, 0, "", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.names, s.value, s.typ, s.flag, s.notify, s.paramKey, s.accessList)
	}
	fx := newFix(f)
	types := []soap.ValueType{soap.TypeString, soap.TypeUnsignedInt, soap.TypeInt, soap.TypeBoolean, soap.TypeDateTime,
		soap.TypeBase64, soap.TypeHexBinary, soap.TypeLong, soap.TypeUnsignedLong, "xsd:anyURI", ""}
	f.Fuzz(func(t *testing.T, method uint8, names, value string, typ uint8, flag bool, notify int32, paramKey, accessList string) {
		list := strings.Split(names, "\n")
		first := list[0]
		var req soap.Message
		switch method % 8 {
		case 0:
			req = &soap.GetParameterValues{ParameterNames: list}
		case 1:
			req = &soap.GetParameterNames{ParameterPath: first, NextLevel: flag}
		case 2:
			r := &soap.SetParameterValues{ParameterKey: paramKey}
			for _, n := range list {
				r.ParameterList = append(r.ParameterList, soap.ParameterValueStruct{Name: n, Value: value, Type: types[int(typ)%len(types)]})
			}
			req = r
		case 3:
			req = &soap.GetParameterAttributes{ParameterNames: list}
		case 4:
			r := &soap.SetParameterAttributes{}
			for _, n := range list {
				a := soap.SetParameterAttributesStruct{Name: n, NotificationChange: flag, Notification: notify, AccessListChange: !flag}
				if accessList != "" {
					a.AccessList = strings.Split(accessList, ",")
				}
				r.ParameterList = append(r.ParameterList, a)
			}
			req = r
		case 5:
			req = &soap.AddObject{ObjectName: first, ParameterKey: paramKey}
		case 6:
			req = &soap.DeleteObject{ObjectName: first, ParameterKey: paramKey}
		default:
			req = &soap.GetRPCMethods{}
		}
		if err := soap.Encode(io.Discard, &soap.Envelope{Header: soap.Header{ID: "f"}, Body: req}); err != nil {
			return // the decoder would have refused it before any handler
		}
		resp := fx.do(req)
		if resp == nil {
			t.Fatalf("%s %+v: no answer", req.MethodName(), req)
		}
		if err := soap.Encode(io.Discard, &soap.Envelope{Header: soap.Header{ID: "f"}, Body: resp}); err != nil {
			t.Fatalf("%s %+v: the answer %T does not encode: %v", req.MethodName(), req, resp, err)
		}
	})
}
