package soap

import (
	"fmt"
	"time"
)

// sample is one envelope used by the round-trip, golden and conformance
// tests. cpe marks what the CPE side emits (everything cwmpd writes).
type sample struct {
	name string
	cpe  bool
	env  *Envelope
}

var (
	t1 = time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC)
	t2 = time.Date(2026, 11, 22, 1, 4, 5, 500000000, time.UTC)
)

func pv(name, value string, t ValueType) ParameterValueStruct {
	return ParameterValueStruct{Name: name, Value: value, Type: t}
}

func samples() []sample {
	id := Header{ID: "1234"}
	inform := &Inform{
		DeviceId: DeviceIdStruct{Manufacturer: "Acme & Sons", OUI: "00AB1F", ProductClass: "RT-1", SerialNumber: "SN<0001>"},
		Event: []EventStruct{
			{EventCode: "1 BOOT"}, {EventCode: "M Reboot", CommandKey: "reboot-7"},
			{EventCode: "7 TRANSFER COMPLETE"}, {EventCode: "X 00AB1F Custom"},
		},
		MaxEnvelopes: MaxEnvelopes,
		CurrentTime:  t1,
		RetryCount:   2,
		ParameterList: []ParameterValueStruct{
			pv("Device.RootDataModelVersion", "2.17", TypeString),
			pv("Device.DeviceInfo.SoftwareVersion", "1.2.3 \"beta\" <x> & 'y'", TypeString),
			pv("Device.ManagementServer.ParameterKey", "", TypeString),
			pv("Device.DeviceInfo.UpTime", "4294967295", TypeUnsignedInt),
			pv("Device.ManagementServer.DelayReboot", "-1", TypeInt),
			pv("Device.ManagementServer.AliasBasedAddressing", "false", TypeBoolean),
			pv("Device.ManagementServer.PeriodicInformTime", "0001-01-01T00:00:00Z", TypeDateTime),
			pv("Device.X_Blob", "aGVsbG8=", TypeBase64),
			pv("Device.X_Hex", "00ff10", TypeHexBinary),
			pv("Device.Ethernet.Interface.1.Stats.BytesSent", "18446744073709551615", TypeUnsignedLong),
			pv("Device.X_Long", "-9223372036854775808", TypeLong),
			pv("Device.X_Spaces", "  two  lines\n\tand a\rCR  ", TypeString),
			pv("Device.X_Unicode", "Grüße – 日本 \U0001F600", TypeString),
		},
	}
	tc := &TransferComplete{CommandKey: "dl-1", FaultStruct: FaultStruct{FaultCode: FaultTransferContactServer, FaultString: "connect: refused"}, StartTime: t1, CompleteTime: t2}
	gpv := &GetParameterValuesResponse{ParameterList: []ParameterValueStruct{
		pv("Device.DeviceInfo.Manufacturer", "Acme", TypeString),
		pv("Device.DeviceInfo.UpTime", "42", TypeUnsignedInt),
		pv("Device.ManagementServer.Password", "", TypeString),
	}}
	spvFault := NewFault(FaultInvalidArguments, "")
	spvFault.Detail.SetParameterValuesFault = []SetParameterValuesFault{
		{ParameterName: "Device.ManagementServer.PeriodicInformInterval", FaultCode: FaultInvalidParameterValue, FaultString: "must be >= 1"},
		{ParameterName: "Device.DeviceInfo.SerialNumber", FaultCode: FaultNonWritableParameter, FaultString: "read-only"},
	}
	v14 := Header{ID: "inform-1", SessionTimeout: 30, SupportedCWMPVersions: "1.0,1.1,1.2,1.3,1.4"}
	s := []sample{
		// CPE → ACS requests
		{"Inform", true, &Envelope{Version: V1_4, Header: v14, Body: inform}},
		{"Inform_cwmp-1-0", true, &Envelope{Version: V1_0, Body: &Inform{DeviceId: inform.DeviceId, Event: []EventStruct{{EventCode: "0 BOOTSTRAP"}}, MaxEnvelopes: 1, ParameterList: inform.ParameterList[:2]}}},
		{"Inform_cwmp-1-1", true, &Envelope{Version: V1_1, Header: id, Body: &Inform{DeviceId: inform.DeviceId, Event: []EventStruct{{EventCode: "2 PERIODIC"}}, MaxEnvelopes: 1, CurrentTime: t2, ParameterList: inform.ParameterList[:2]}}},
		{"Inform_noEvents", true, &Envelope{Version: V1_2, Body: &Inform{DeviceId: inform.DeviceId, MaxEnvelopes: 1, RetryCount: 1}}},
		{"TransferComplete", true, &Envelope{Version: V1_2, Header: id, Body: tc}},
		{"TransferComplete_ok", true, &Envelope{Version: V1_2, Body: &TransferComplete{CommandKey: "", StartTime: t1, CompleteTime: t2}}},
		{"AutonomousTransferComplete", true, &Envelope{Version: V1_2, Body: &AutonomousTransferComplete{
			AnnounceURL: "", TransferURL: "http://lan.example/fw.bin", IsDownload: true, FileType: "1 Firmware Upgrade Image",
			FileSize: 7340032, TargetFileName: "fw.bin", FaultStruct: FaultStruct{}, StartTime: t1, CompleteTime: t2}}},
		{"GetRPCMethods_cpe", true, &Envelope{Version: V1_2, Body: &GetRPCMethods{}}},
		{"RequestDownload", true, &Envelope{Version: V1_2, Body: &RequestDownload{FileType: "3 Vendor Configuration File",
			FileTypeArg: []ArgStruct{{Name: "Version", Value: "7"}}}}},
		// CPE responses
		{"GetRPCMethodsResponse", true, &Envelope{Version: V1_2, Header: id, Body: &GetRPCMethodsResponse{MethodList: []string{
			"GetRPCMethods", "SetParameterValues", "GetParameterValues", "GetParameterNames", "Reboot", "Download"}}}},
		{"SetParameterValuesResponse", true, &Envelope{Version: V1_2, Header: id, Body: &SetParameterValuesResponse{Status: StatusPending}}},
		{"GetParameterValuesResponse", true, &Envelope{Version: V1_2, Header: id, Body: gpv}},
		{"GetParameterValuesResponse_empty", true, &Envelope{Version: V1_2, Header: id, Body: &GetParameterValuesResponse{}}},
		{"GetParameterValuesResponse_cwmp-1-0", true, &Envelope{Version: V1_0, Header: id, Body: gpv}},
		{"GetParameterNamesResponse", true, &Envelope{Version: V1_2, Header: id, Body: &GetParameterNamesResponse{ParameterList: []ParameterInfoStruct{
			{Name: "Device.DeviceInfo.", Writable: false}, {Name: "Device.DeviceInfo.ProvisioningCode", Writable: true}}}}},
		{"SetParameterAttributesResponse", true, &Envelope{Version: V1_2, Header: id, Body: &SetParameterAttributesResponse{}}},
		{"GetParameterAttributesResponse", true, &Envelope{Version: V1_2, Header: id, Body: &GetParameterAttributesResponse{ParameterList: []ParameterAttributeStruct{
			{Name: "Device.DeviceInfo.SoftwareVersion", Notification: 2, AccessList: []string{"Subscriber"}},
			{Name: "Device.DeviceInfo.UpTime", Notification: 0}}}}},
		{"AddObjectResponse", true, &Envelope{Version: V1_2, Header: id, Body: &AddObjectResponse{InstanceNumber: 3, Status: StatusApplied}}},
		{"DeleteObjectResponse", true, &Envelope{Version: V1_2, Header: id, Body: &DeleteObjectResponse{Status: StatusApplied}}},
		{"RebootResponse", true, &Envelope{Version: V1_2, Header: id, Body: &RebootResponse{}}},
		{"DownloadResponse", true, &Envelope{Version: V1_2, Header: id, Body: &DownloadResponse{Status: StatusPending}}},
		{"UploadResponse", true, &Envelope{Version: V1_2, Header: id, Body: &UploadResponse{Status: StatusApplied, StartTime: t1, CompleteTime: t2}}},
		{"FactoryResetResponse", true, &Envelope{Version: V1_2, Header: id, Body: &FactoryResetResponse{}}},
		{"ScheduleInformResponse", true, &Envelope{Version: V1_2, Header: id, Body: &ScheduleInformResponse{}}},
		{"ScheduleDownloadResponse", true, &Envelope{Version: V1_2, Header: id, Body: &ScheduleDownloadResponse{}}},
		{"GetQueuedTransfersResponse", true, &Envelope{Version: V1_2, Header: id, Body: &GetQueuedTransfersResponse{TransferList: []QueuedTransferStruct{
			{CommandKey: "dl-1", State: TransferInProgress}, {CommandKey: "dl-2", State: TransferNotStarted}}}}},
		{"GetAllQueuedTransfersResponse", true, &Envelope{Version: V1_2, Header: id, Body: &GetAllQueuedTransfersResponse{TransferList: []AllQueuedTransferStruct{
			{CommandKey: "", State: TransferCompleted, IsDownload: false, FileType: "4 Vendor Log File 2", FileSize: 0, TargetFileName: ""},
			{CommandKey: "dl-1", State: TransferInProgress, IsDownload: true, FileType: "1 Firmware Upgrade Image", FileSize: 1 << 20, TargetFileName: "fw.bin"}}}}},
		{"CancelTransferResponse", true, &Envelope{Version: V1_2, Header: id, Body: &CancelTransferResponse{}}},
		// CPE faults
		{"Fault_9000", true, &Envelope{Version: V1_2, Header: id, Body: NewFault(FaultMethodNotSupported, "Method not supported: X_Frobnicate")}},
		{"Fault_SetParameterValues", true, &Envelope{Version: V1_2, Header: id, Body: spvFault}},
		{"Fault_MustUnderstand", true, &Envelope{Version: V1_2, Header: id, Body: &Fault{Code: SOAPMustUnderstand, String: "header not understood: {urn:x}Foo"}}},
		{"Fault_9021_cwmp-1-1", true, &Envelope{Version: V1_1, Header: id, Body: NewFault(FaultCancelNotPermitted, "")}},
		// ACS → CPE (decoded by the CPE; encoded here for the round trip)
		{"InformResponse", false, &Envelope{Version: V1_4, Header: Header{ID: "inform-1", UseCWMPVersion: "1.4", HoldRequests: true}, Body: &InformResponse{MaxEnvelopes: 1}}},
		{"TransferCompleteResponse", false, &Envelope{Version: V1_2, Header: id, Body: &TransferCompleteResponse{}}},
		{"AutonomousTransferCompleteResponse", false, &Envelope{Version: V1_2, Body: &AutonomousTransferCompleteResponse{}}},
		{"RequestDownloadResponse", false, &Envelope{Version: V1_2, Body: &RequestDownloadResponse{}}},
		{"GetRPCMethods_acs", false, &Envelope{Version: V1_2, Header: id, Body: &GetRPCMethods{}}},
		{"GetRPCMethodsResponse_acs", false, &Envelope{Version: V1_2, Body: &GetRPCMethodsResponse{MethodList: []string{"Inform", "GetRPCMethods", "TransferComplete"}}}},
		{"SetParameterValues", false, &Envelope{Version: V1_2, Header: id, Body: &SetParameterValues{ParameterList: []ParameterValueStruct{
			pv("Device.ManagementServer.PeriodicInformInterval", "300", TypeUnsignedInt),
			pv("Device.ManagementServer.PeriodicInformEnable", "true", TypeBoolean),
			pv("Device.DeviceInfo.ProvisioningCode", "a&b<c>", TypeString)}, ParameterKey: "pk-1"}}},
		{"GetParameterValues", false, &Envelope{Version: V1_2, Header: id, Body: &GetParameterValues{ParameterNames: []string{"Device.DeviceInfo.", "Device.ManagementServer.URL", ""}}}},
		{"GetParameterNames", false, &Envelope{Version: V1_2, Header: id, Body: &GetParameterNames{ParameterPath: "Device.", NextLevel: true}}},
		{"SetParameterAttributes", false, &Envelope{Version: V1_2, Header: id, Body: &SetParameterAttributes{ParameterList: []SetParameterAttributesStruct{
			{Name: "Device.DeviceInfo.ProvisioningCode", NotificationChange: true, Notification: 2, AccessListChange: true, AccessList: []string{"Subscriber"}},
			{Name: "Device.WiFi.", NotificationChange: true, Notification: 1}}}}},
		{"GetParameterAttributes", false, &Envelope{Version: V1_2, Header: id, Body: &GetParameterAttributes{ParameterNames: []string{"Device.DeviceInfo."}}}},
		{"AddObject", false, &Envelope{Version: V1_2, Header: id, Body: &AddObject{ObjectName: "Device.NAT.PortMapping.", ParameterKey: "pk-2"}}},
		{"DeleteObject", false, &Envelope{Version: V1_2, Header: id, Body: &DeleteObject{ObjectName: "Device.NAT.PortMapping.3.", ParameterKey: ""}}},
		{"Reboot", false, &Envelope{Version: V1_2, Header: id, Body: &Reboot{CommandKey: "reboot-7"}}},
		{"Download", false, &Envelope{Version: V1_2, Header: id, Body: &Download{CommandKey: "dl-1", FileType: "1 Firmware Upgrade Image",
			URL: "https://fw.example/rt1.bin?a=1&b=2", Username: "u", Password: "p", FileSize: 7340032, TargetFileName: "", DelaySeconds: 10}}},
		{"Upload", false, &Envelope{Version: V1_2, Header: id, Body: &Upload{CommandKey: "ul-1", FileType: "2 Vendor Log File", URL: "https://logs.example/up", DelaySeconds: 0}}},
		{"FactoryReset", false, &Envelope{Version: V1_2, Header: id, Body: &FactoryReset{}}},
		{"ScheduleInform", false, &Envelope{Version: V1_2, Header: id, Body: &ScheduleInform{DelaySeconds: 3600, CommandKey: "si-1"}}},
		{"ScheduleDownload", false, &Envelope{Version: V1_2, Header: id, Body: &ScheduleDownload{CommandKey: "sd-1", FileType: "1 Firmware Upgrade Image",
			URL: "http://fw.example/a.bin", FileSize: 100, TimeWindowList: []TimeWindowStruct{
				{WindowStart: 0, WindowEnd: 3600, WindowMode: "1 At Any Time", UserMessage: "", MaxRetries: -1},
				{WindowStart: 7200, WindowEnd: 9000, WindowMode: "4 Confirmation Needed", UserMessage: "Upgrade now?", MaxRetries: 3}}}}},
		{"GetQueuedTransfers", false, &Envelope{Version: V1_2, Header: id, Body: &GetQueuedTransfers{}}},
		{"GetAllQueuedTransfers", false, &Envelope{Version: V1_2, Header: id, Body: &GetAllQueuedTransfers{}}},
		{"CancelTransfer", false, &Envelope{Version: V1_2, Header: id, Body: &CancelTransfer{CommandKey: "dl-1"}}},
		{"Fault_ACS_8005", false, &Envelope{Version: V1_2, Body: NewFault(FaultACSRetryRequest, "")}},
		{"Fault_ACS_8006", false, &Envelope{Version: V1_4, Body: NewFault(FaultACSVersionIncompatible, "")}},
		{"EmptyBody", false, &Envelope{Version: V1_2, Header: Header{HoldRequests: true}}},
	}
	return s
}

// schemaFile picks the BBF schema an envelope claims: its namespace, and
// cwmp-1-4.xsd for the 1.3/1.4 headers and codes that only it declares.
func schemaFile(env *Envelope) string {
	switch env.Version {
	case V1_0:
		return "cwmp-1-0.xsd"
	case V1_1:
		return "cwmp-1-1.xsd"
	case V1_3, V1_4:
		return "cwmp-1-4.xsd"
	}
	return "cwmp-1-2.xsd"
}

func (s sample) String() string { return fmt.Sprintf("%s(%s)", s.name, s.env.Version) }
