package soap

import (
	"reflect"
	"sort"
	"time"
)

// Message is the typed content of a SOAP Body: one of the RPC structs below
// or a *Fault.
type Message interface {
	MethodName() string
}

// Status values of SetParameterValues/AddObject/DeleteObject/Download/Upload
// responses.
const (
	StatusApplied = 0 // done and applied
	StatusPending = 1 // applied later (e.g. after reboot), or committed later
)

// MaxEnvelopes is the only value TR-069 allows in Inform/InformResponse.
const MaxEnvelopes = 1

// ---- CPE → ACS requests and their responses ----

// Inform opens every session.
type Inform struct {
	DeviceId      DeviceIdStruct         `cwmp:"DeviceId"`
	Event         []EventStruct          `cwmp:"Event,array=cwmp:EventStruct,maxitems=64"`
	MaxEnvelopes  uint32                 `cwmp:"MaxEnvelopes"`
	CurrentTime   time.Time              `cwmp:"CurrentTime"`
	RetryCount    uint32                 `cwmp:"RetryCount"`
	ParameterList []ParameterValueStruct `cwmp:"ParameterList,array=cwmp:ParameterValueStruct"`
}

type InformResponse struct {
	MaxEnvelopes uint32 `cwmp:"MaxEnvelopes"`
}

type TransferComplete struct {
	CommandKey   string      `cwmp:"CommandKey,max=32"`
	FaultStruct  FaultStruct `cwmp:"FaultStruct"`
	StartTime    time.Time   `cwmp:"StartTime"`
	CompleteTime time.Time   `cwmp:"CompleteTime"`
}

type TransferCompleteResponse struct{}

type AutonomousTransferComplete struct {
	AnnounceURL    string      `cwmp:"AnnounceURL,max=1024"`
	TransferURL    string      `cwmp:"TransferURL,max=1024"`
	IsDownload     bool        `cwmp:"IsDownload"`
	FileType       string      `cwmp:"FileType,max=64,pat=filetype"`
	FileSize       uint32      `cwmp:"FileSize"`
	TargetFileName string      `cwmp:"TargetFileName,max=256"`
	FaultStruct    FaultStruct `cwmp:"FaultStruct"`
	StartTime      time.Time   `cwmp:"StartTime"`
	CompleteTime   time.Time   `cwmp:"CompleteTime"`
}

type AutonomousTransferCompleteResponse struct{}

type RequestDownload struct {
	FileType    string      `cwmp:"FileType,max=64,pat=filetype"`
	FileTypeArg []ArgStruct `cwmp:"FileTypeArg,array=cwmp:ArgStruct,maxitems=16"`
}

type RequestDownloadResponse struct{}

// GetRPCMethods goes both ways: the ACS asks the CPE and the CPE may ask the
// ACS.
type GetRPCMethods struct{}

type GetRPCMethodsResponse struct {
	MethodList []string `cwmp:"MethodList,array=xsd:string,max=64"`
}

// ---- ACS → CPE requests and their responses ----

type SetParameterValues struct {
	ParameterList []ParameterValueStruct `cwmp:"ParameterList,array=cwmp:ParameterValueStruct,unchecked"`
	ParameterKey  string                 `cwmp:"ParameterKey,max=32"`
}

type SetParameterValuesResponse struct {
	Status int32 `cwmp:"Status,range=0:1"`
}

type GetParameterValues struct {
	ParameterNames []string `cwmp:"ParameterNames,array=xsd:string,max=256,minitems=1"`
}

// GetParameterValuesResponse is written by the streaming encoder (see
// EncodeGetParameterValuesResponse) whatever its size.
type GetParameterValuesResponse struct {
	ParameterList []ParameterValueStruct `cwmp:"ParameterList,array=cwmp:ParameterValueStruct"`
}

type GetParameterNames struct {
	ParameterPath string `cwmp:"ParameterPath,max=256"`
	NextLevel     bool   `cwmp:"NextLevel"`
}

type GetParameterNamesResponse struct {
	ParameterList []ParameterInfoStruct `cwmp:"ParameterList,array=cwmp:ParameterInfoStruct"`
}

type SetParameterAttributes struct {
	ParameterList []SetParameterAttributesStruct `cwmp:"ParameterList,array=cwmp:SetParameterAttributesStruct,minitems=1"`
}

type SetParameterAttributesResponse struct{}

type GetParameterAttributes struct {
	ParameterNames []string `cwmp:"ParameterNames,array=xsd:string,max=256,minitems=1"`
}

type GetParameterAttributesResponse struct {
	ParameterList []ParameterAttributeStruct `cwmp:"ParameterList,array=cwmp:ParameterAttributeStruct"`
}

type AddObject struct {
	ObjectName   string `cwmp:"ObjectName,max=256,pat=objpath"`
	ParameterKey string `cwmp:"ParameterKey,max=32"`
}

type AddObjectResponse struct {
	InstanceNumber uint32 `cwmp:"InstanceNumber,range=1:"`
	Status         int32  `cwmp:"Status,range=0:1"`
}

type DeleteObject struct {
	ObjectName   string `cwmp:"ObjectName,max=256,pat=objpath"`
	ParameterKey string `cwmp:"ParameterKey,max=32"`
}

type DeleteObjectResponse struct {
	Status int32 `cwmp:"Status,range=0:1"`
}

type Reboot struct {
	CommandKey string `cwmp:"CommandKey,max=32"`
}

type RebootResponse struct{}

// Download: SuccessURL and FailureURL are required by the schema but many
// ACSs leave them out; they are only used with Kicked, so their absence is
// accepted.
type Download struct {
	CommandKey     string `cwmp:"CommandKey,max=32"`
	FileType       string `cwmp:"FileType,max=64,pat=filetype"`
	URL            string `cwmp:"URL,max=256"`
	Username       string `cwmp:"Username,max=256"`
	Password       string `cwmp:"Password,max=256"`
	FileSize       uint32 `cwmp:"FileSize"`
	TargetFileName string `cwmp:"TargetFileName,max=256"`
	DelaySeconds   uint32 `cwmp:"DelaySeconds"`
	SuccessURL     string `cwmp:"SuccessURL,max=256,opt"`
	FailureURL     string `cwmp:"FailureURL,max=256,opt"`
}

type DownloadResponse struct {
	Status       int32     `cwmp:"Status,range=0:1"`
	StartTime    time.Time `cwmp:"StartTime"`
	CompleteTime time.Time `cwmp:"CompleteTime"`
}

type Upload struct {
	CommandKey   string `cwmp:"CommandKey,max=32"`
	FileType     string `cwmp:"FileType,max=64,pat=filetype"`
	URL          string `cwmp:"URL,max=256"`
	Username     string `cwmp:"Username,max=256"`
	Password     string `cwmp:"Password,max=256"`
	DelaySeconds uint32 `cwmp:"DelaySeconds"`
}

type UploadResponse struct {
	Status       int32     `cwmp:"Status,range=0:1"`
	StartTime    time.Time `cwmp:"StartTime"`
	CompleteTime time.Time `cwmp:"CompleteTime"`
}

type FactoryReset struct{}

type FactoryResetResponse struct{}

type ScheduleInform struct {
	DelaySeconds uint32 `cwmp:"DelaySeconds"`
	CommandKey   string `cwmp:"CommandKey,max=32"`
}

type ScheduleInformResponse struct{}

type ScheduleDownload struct {
	CommandKey     string             `cwmp:"CommandKey,max=32"`
	FileType       string             `cwmp:"FileType,max=64,pat=filetype"`
	URL            string             `cwmp:"URL,max=256"`
	Username       string             `cwmp:"Username,max=256"`
	Password       string             `cwmp:"Password,max=256"`
	FileSize       uint32             `cwmp:"FileSize"`
	TargetFileName string             `cwmp:"TargetFileName,max=256"`
	TimeWindowList []TimeWindowStruct `cwmp:"TimeWindowList,array=cwmp:TimeWindowStruct,minitems=1,maxitems=2"`
}

type ScheduleDownloadResponse struct{}

type GetQueuedTransfers struct{}

type GetQueuedTransfersResponse struct {
	TransferList []QueuedTransferStruct `cwmp:"TransferList,array=cwmp:QueuedTransferStruct,maxitems=16"`
}

type GetAllQueuedTransfers struct{}

type GetAllQueuedTransfersResponse struct {
	TransferList []AllQueuedTransferStruct `cwmp:"TransferList,array=cwmp:AllQueuedTransferStruct,maxitems=16"`
}

type CancelTransfer struct {
	CommandKey string `cwmp:"CommandKey,max=32"`
}

type CancelTransferResponse struct{}

func (*Inform) MethodName() string                     { return "Inform" }
func (*InformResponse) MethodName() string             { return "InformResponse" }
func (*TransferComplete) MethodName() string           { return "TransferComplete" }
func (*TransferCompleteResponse) MethodName() string   { return "TransferCompleteResponse" }
func (*AutonomousTransferComplete) MethodName() string { return "AutonomousTransferComplete" }
func (*AutonomousTransferCompleteResponse) MethodName() string {
	return "AutonomousTransferCompleteResponse"
}
func (*RequestDownload) MethodName() string                { return "RequestDownload" }
func (*RequestDownloadResponse) MethodName() string        { return "RequestDownloadResponse" }
func (*GetRPCMethods) MethodName() string                  { return "GetRPCMethods" }
func (*GetRPCMethodsResponse) MethodName() string          { return "GetRPCMethodsResponse" }
func (*SetParameterValues) MethodName() string             { return "SetParameterValues" }
func (*SetParameterValuesResponse) MethodName() string     { return "SetParameterValuesResponse" }
func (*GetParameterValues) MethodName() string             { return "GetParameterValues" }
func (*GetParameterValuesResponse) MethodName() string     { return "GetParameterValuesResponse" }
func (*GetParameterNames) MethodName() string              { return "GetParameterNames" }
func (*GetParameterNamesResponse) MethodName() string      { return "GetParameterNamesResponse" }
func (*SetParameterAttributes) MethodName() string         { return "SetParameterAttributes" }
func (*SetParameterAttributesResponse) MethodName() string { return "SetParameterAttributesResponse" }
func (*GetParameterAttributes) MethodName() string         { return "GetParameterAttributes" }
func (*GetParameterAttributesResponse) MethodName() string { return "GetParameterAttributesResponse" }
func (*AddObject) MethodName() string                      { return "AddObject" }
func (*AddObjectResponse) MethodName() string              { return "AddObjectResponse" }
func (*DeleteObject) MethodName() string                   { return "DeleteObject" }
func (*DeleteObjectResponse) MethodName() string           { return "DeleteObjectResponse" }
func (*Reboot) MethodName() string                         { return "Reboot" }
func (*RebootResponse) MethodName() string                 { return "RebootResponse" }
func (*Download) MethodName() string                       { return "Download" }
func (*DownloadResponse) MethodName() string               { return "DownloadResponse" }
func (*Upload) MethodName() string                         { return "Upload" }
func (*UploadResponse) MethodName() string                 { return "UploadResponse" }
func (*FactoryReset) MethodName() string                   { return "FactoryReset" }
func (*FactoryResetResponse) MethodName() string           { return "FactoryResetResponse" }
func (*ScheduleInform) MethodName() string                 { return "ScheduleInform" }
func (*ScheduleInformResponse) MethodName() string         { return "ScheduleInformResponse" }
func (*ScheduleDownload) MethodName() string               { return "ScheduleDownload" }
func (*ScheduleDownloadResponse) MethodName() string       { return "ScheduleDownloadResponse" }
func (*GetQueuedTransfers) MethodName() string             { return "GetQueuedTransfers" }
func (*GetQueuedTransfersResponse) MethodName() string     { return "GetQueuedTransfersResponse" }
func (*GetAllQueuedTransfers) MethodName() string          { return "GetAllQueuedTransfers" }
func (*GetAllQueuedTransfersResponse) MethodName() string  { return "GetAllQueuedTransfersResponse" }
func (*CancelTransfer) MethodName() string                 { return "CancelTransfer" }
func (*CancelTransferResponse) MethodName() string         { return "CancelTransferResponse" }

// methods maps a body element's local name to its message type.
var methods = func() map[string]reflect.Type {
	all := []Message{
		&Inform{}, &InformResponse{}, &TransferComplete{}, &TransferCompleteResponse{},
		&AutonomousTransferComplete{}, &AutonomousTransferCompleteResponse{},
		&RequestDownload{}, &RequestDownloadResponse{},
		&GetRPCMethods{}, &GetRPCMethodsResponse{},
		&SetParameterValues{}, &SetParameterValuesResponse{},
		&GetParameterValues{}, &GetParameterValuesResponse{},
		&GetParameterNames{}, &GetParameterNamesResponse{},
		&SetParameterAttributes{}, &SetParameterAttributesResponse{},
		&GetParameterAttributes{}, &GetParameterAttributesResponse{},
		&AddObject{}, &AddObjectResponse{}, &DeleteObject{}, &DeleteObjectResponse{},
		&Reboot{}, &RebootResponse{}, &Download{}, &DownloadResponse{},
		&Upload{}, &UploadResponse{}, &FactoryReset{}, &FactoryResetResponse{},
		&ScheduleInform{}, &ScheduleInformResponse{},
		&ScheduleDownload{}, &ScheduleDownloadResponse{},
		&GetQueuedTransfers{}, &GetQueuedTransfersResponse{},
		&GetAllQueuedTransfers{}, &GetAllQueuedTransfersResponse{},
		&CancelTransfer{}, &CancelTransferResponse{},
	}
	m := make(map[string]reflect.Type, len(all))
	for _, msg := range all {
		m[msg.MethodName()] = reflect.TypeOf(msg).Elem()
		planFor(reflect.TypeOf(msg).Elem()) // panics at init on a bad tag, not mid-session
	}
	return m
}()

// Methods returns the names of all messages the codec knows, for
// GetRPCMethodsResponse building and tests.
func Methods() []string {
	out := make([]string, 0, len(methods))
	for name := range methods {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}
