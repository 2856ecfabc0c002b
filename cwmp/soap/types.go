package soap

// Struct types of the cwmp schema. The `cwmp` tags drive the codec in
// codec.go: element name first, then constraints checked on decode:
//
//	max=N        at most N characters (strings, and each item of []string)
//	pat=NAME     a pattern from the schema (see patterns in codec.go)
//	range=LO:HI  integer bounds, either side may be empty
//	array=T      SOAP-ENC array; T is the arrayType item ("cwmp:EventStruct",
//	             "xsd:string"), the item element is T's local name
//	minitems=N, maxitems=N   array length bounds
//	opt          may be absent on decode (lenience for common ACS omissions)
//
// Field order is element order: the schema uses xs:sequence everywhere.

// DeviceIdStruct identifies the CPE in an Inform.
type DeviceIdStruct struct {
	Manufacturer string `cwmp:"Manufacturer,max=64"`
	OUI          string `cwmp:"OUI,pat=oui"`
	ProductClass string `cwmp:"ProductClass,max=64"`
	SerialNumber string `cwmp:"SerialNumber,max=64"`
}

// EventStruct is one Inform event, e.g. {"M Reboot", "key"}.
type EventStruct struct {
	EventCode  string `cwmp:"EventCode,max=64,pat=eventcode"`
	CommandKey string `cwmp:"CommandKey,max=32"`
}

// ParameterInfoStruct is one GetParameterNamesResponse entry.
type ParameterInfoStruct struct {
	Name     string `cwmp:"Name,max=256"`
	Writable bool   `cwmp:"Writable"`
}

// ParameterAttributeStruct is one GetParameterAttributesResponse entry.
type ParameterAttributeStruct struct {
	Name         string   `cwmp:"Name,max=256"`
	Notification int32    `cwmp:"Notification,range=0:6"`
	AccessList   []string `cwmp:"AccessList,array=xsd:string,max=64"`
}

// SetParameterAttributesStruct is one SetParameterAttributes entry.
type SetParameterAttributesStruct struct {
	Name               string   `cwmp:"Name,max=256"`
	NotificationChange bool     `cwmp:"NotificationChange"`
	Notification       int32    `cwmp:"Notification,range=0:6,when=NotificationChange"`
	AccessListChange   bool     `cwmp:"AccessListChange"`
	AccessList         []string `cwmp:"AccessList,array=xsd:string,max=64"`
}

// FaultStruct reports a transfer outcome; FaultCode 0 means success.
type FaultStruct struct {
	FaultCode   FaultCode `cwmp:"FaultCode"`
	FaultString string    `cwmp:"FaultString,max=256"`
}

// Transfer states in QueuedTransferStruct / AllQueuedTransferStruct.
const (
	TransferNotStarted = 1
	TransferInProgress = 2
	TransferCompleted  = 3
)

// QueuedTransferStruct is one GetQueuedTransfersResponse entry.
type QueuedTransferStruct struct {
	CommandKey string `cwmp:"CommandKey,max=32"`
	State      int32  `cwmp:"State,range=1:3"`
}

// AllQueuedTransferStruct is one GetAllQueuedTransfersResponse entry.
type AllQueuedTransferStruct struct {
	CommandKey     string `cwmp:"CommandKey,max=32"`
	State          int32  `cwmp:"State,range=1:3"`
	IsDownload     bool   `cwmp:"IsDownload"`
	FileType       string `cwmp:"FileType,max=64,pat=filetype"`
	FileSize       uint32 `cwmp:"FileSize"`
	TargetFileName string `cwmp:"TargetFileName,max=256"`
}

// TimeWindowStruct is one ScheduleDownload window; WindowStart and
// WindowEnd are seconds after the request was received.
type TimeWindowStruct struct {
	WindowStart uint32 `cwmp:"WindowStart"`
	WindowEnd   uint32 `cwmp:"WindowEnd"`
	WindowMode  string `cwmp:"WindowMode,max=64,pat=windowmode"`
	UserMessage string `cwmp:"UserMessage,max=256"`
	MaxRetries  int32  `cwmp:"MaxRetries"`
}

// ArgStruct is one RequestDownload FileTypeArg entry.
type ArgStruct struct {
	Name  string `cwmp:"Name,max=64"`
	Value string `cwmp:"Value,max=256"`
}
