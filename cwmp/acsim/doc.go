// Package acsim is a scriptable ACS (the TR-069 server side) for cwmpd's
// tests and demo: a test peer, not a product ACS. It owns the CWMP session
// as the ACS sees it (cwmp-digest.md D§2.1), a per-device queue of ACS→CPE
// requests, a transcript of everything exchanged, fault injection, a file
// server for Download/Upload tests and an HTTP connection-request client
// (D§13.1). SOAP encoding and decoding belong to cwmp/soap, Digest
// arithmetic to cwmp/digest; acsim only wires them.
//
// Everything runs in-process on loopback, so a Go test can drive it:
//
//	srv, err := acsim.New(acsim.Config{Auth: acsim.Auth{Mode: acsim.AuthDigest, Username: "cpe", Password: "pw"}})
//	if err != nil { ... }
//	if err := srv.Start(); err != nil { ... }
//	defer srv.Close()
//	srv.Enqueue("00AB1F-Router-SN0001", &soap.GetParameterValues{ParameterNames: []string{"Device.DeviceInfo."}})
//	// point the CPE at srv.URL(), let it run, then:
//	srv.WaitSessions(ctx, 1)
//	for _, e := range srv.Transcript() { ... }
//
// cmd/acsim wraps the same Server in a binary for shell scripts.
//
// # Three listeners
//
//   - CWMP (Config.Listen, URL()): HTTP or HTTPS (Config.TLS, optionally
//     requiring client certificates), auth none, Basic or Digest
//     (qop=auth, MD5, cwmp/digest's Verifier). Every path is served; URL()
//     names Config.Path.
//   - Admin (Config.AdminListen, AdminURL()): the JSON API below, plain
//     HTTP, no auth: keep it on loopback.
//   - Files (Config.FilesListen, FilesURL()): GET/HEAD /files/NAME serves
//     files added with AddFile or found in Config.FilesDir, with Range
//     (206) support, per-file counters and FileFault injection (404, drop
//     the connection after N body bytes, corrupt last byte).
//     PUT/POST /upload/NAME receives uploads (the first part of a
//     multipart/form-data POST, else the raw body) into memory and
//     Config.UploadDir. Auth per Config.FileAuth. HTTPS when Config.TLS is
//     set.
//
// # Session rules (what acsim enforces)
//
// A session opens with the first POST that does not belong to an open
// session; it is found again by its cookie (acsim_session, set on the
// InformResponse and required on every later POST unless
// Config.CookieOptional), or by the TCP connection when cookies are
// optional.
//
//   - POST Inform → InformResponse with MaxEnvelopes 1, the Inform's
//     cwmp:ID echoed, in the Inform's namespace version, with
//     UseCWMPVersion when Config.UseCWMPVersion is set and the Inform
//     announced SupportedCWMPVersions (the header is mustUnderstand="1").
//   - TransferComplete, AutonomousTransferComplete, GetRPCMethods and
//     RequestDownload from the CPE get their responses (transfers are
//     recorded on the device).
//   - The empty POST gets the device's next queued request (then the
//     default queue's), with a cwmp:ID header, or 204 No Content, which
//     completes the session.
//   - A response or fault must carry the ID of the outstanding request and
//     be that method's response (or a fault with a cwmp:Fault detail); the
//     next request or 204 follows.
//   - A new session of a device abandons its open one (the CPE crashed,
//     rebooted or lost the connection). A request that a failed or
//     abandoned session still awaited the answer to is dropped (sent at
//     most once), or, with Config.RetryUnanswered, goes back to the head of
//     its queue with its ID and is sent again, as ACSes that retry a task
//     until answered do.
//
// Violations are recorded as transcript errors, fail the session and are
// answered with a CWMP fault in HTTP 500 (SOAP 1.1 §6.2): 8003 Invalid
// arguments, 8000 for a method the CPE must not send, 8004 for an
// oversized envelope, a SOAP MustUnderstand fault for an unknown
// mustUnderstand header. Checked: a first POST that is not an Inform; a
// second Inform; MaxEnvelopes ≠ 1; more than 64 events; a CPE request
// while HoldRequests is in force or while an ACS request awaits its
// answer; an empty POST while a request awaits its answer; a response
// with the wrong ID, to nothing, or of the wrong method; an empty POST
// with a body, a Content-Type, a SOAPAction or without Content-Length: 0;
// a SOAP POST without SOAPAction, with a SOAPAction value on a response or
// fault, or with a Content-Type other than text/xml (charset utf-8); an
// envelope with an empty Body; a non-standard cwmp-1-3/cwmp-1-4 namespace
// or a namespace change mid-session; a missing or unknown session cookie;
// and anything cwmp/soap's decoder refuses (types, lengths, patterns,
// array bounds).
//
// STRICT schema check: the decoder matches arguments by name, so element
// order and required-but-unknown elements are only caught by the schema.
// When xmllint is on PATH and the schemas are found, every CPE body is
// also validated with xmllint against the BBF schema of the session's
// version: cwmp-1-0/1-1 by namespace; within the shared cwmp-1-2
// namespace the UseCWMPVersion sent, else the highest version the
// Inform's SupportedCWMPVersions lists, else 1.3 if it sent
// SessionTimeout, else 1.2. The Inform itself is checked against the
// CPE's own version (it is sent before any negotiation). The BBF directory is Config.BBFDir, else $CWMP_BBF_DIR, else
// ../shared/bbf from the repository root; the SOAP envelope/encoding
// schemas are cwmp/soap's testdata/xsd (referenced by path, as
// cwmp/soap's conformance test does, through an XML catalog and
// --nonet). Config.Schema is auto (validate when possible), off, or
// require (New fails without it). New validates a known-good envelope
// against every schema first, so a broken set-up fails at start, not
// mid-session.
//
// # Fault injection (FaultPlan)
//
// Each session attempt takes the next plan queued with PushFaults (or
// POST /faults), else Config.Faults. Posts count from 1 (the Inform):
// informFault (answer the Inform with that CWMP fault, e.g. 8005),
// httpStatus at httpStatusAt (default 1), holdRequests (on the
// InformResponse), redirect (307 of the first POST to a path; the
// redirected Inform runs under the rest of the plan), dropAt (close the
// TCP connection instead of answering that post), delay at delayAt (every
// post when 0).
//
// # RPC JSON mapping
//
// An ACS→CPE request is {"method": NAME, "args": {...}} with optional "id"
// (the cwmp:ID to send, generated as "acsim-N" otherwise), "device" (the
// queue; "" is the default queue, served to any device after its own) and
// "unchecked" (skip the length/pattern checks, to test the CPE's
// refusals). args holds the arguments under their schema names, exactly
// the exported fields of the matching cwmp/soap struct; unknown names are
// errors and omitted ones take the zero value. Values: strings as
// strings, xsd:unsignedInt/int as numbers, booleans as true/false,
// dateTime as RFC 3339 strings, arrays as JSON arrays. A
// ParameterValueStruct is {"Name", "Value", "Type"} where Type is the
// xsi:type ("xsd:unsignedInt", or just "unsignedInt"; empty means
// xsd:string). Every RPC is run through cwmp/soap's encoder and decoder
// before it is queued, so what the schema refuses is refused at enqueue
// time. One example per method (each line is checked by the tests):
//
//	{"method":"GetRPCMethods"}
//	{"method":"SetParameterValues","args":{"ParameterList":[{"Name":"Device.ManagementServer.PeriodicInformInterval","Value":"60","Type":"unsignedInt"},{"Name":"Device.DeviceInfo.ProvisioningCode","Value":"lab"}],"ParameterKey":"pk-1"}}
//	{"method":"GetParameterValues","args":{"ParameterNames":["Device.DeviceInfo.","Device.ManagementServer.PeriodicInformInterval"]}}
//	{"method":"GetParameterNames","args":{"ParameterPath":"Device.DeviceInfo.","NextLevel":true}}
//	{"method":"SetParameterAttributes","args":{"ParameterList":[{"Name":"Device.DeviceInfo.SoftwareVersion","NotificationChange":true,"Notification":2,"AccessListChange":false,"AccessList":[]}]}}
//	{"method":"GetParameterAttributes","args":{"ParameterNames":["Device.DeviceInfo.SoftwareVersion"]}}
//	{"method":"AddObject","args":{"ObjectName":"Device.NAT.PortMapping.","ParameterKey":"pk-2"}}
//	{"method":"DeleteObject","args":{"ObjectName":"Device.NAT.PortMapping.3.","ParameterKey":"pk-3"}}
//	{"method":"Reboot","args":{"CommandKey":"reboot-1"}}
//	{"method":"Download","args":{"CommandKey":"fw-1","FileType":"1 Firmware Upgrade Image","URL":"http://127.0.0.1:7559/files/fw.bin","Username":"dl","Password":"dlpass","FileSize":1048576,"TargetFileName":"fw.bin","DelaySeconds":0}}
//	{"method":"Upload","args":{"CommandKey":"up-1","FileType":"2 Vendor Log File","URL":"http://127.0.0.1:7559/upload/log.txt","Username":"","Password":"","DelaySeconds":0}}
//	{"method":"FactoryReset"}
//	{"method":"ScheduleInform","args":{"DelaySeconds":30,"CommandKey":"si-1"}}
//	{"method":"ScheduleDownload","args":{"CommandKey":"sd-1","FileType":"3 Vendor Configuration File","URL":"http://127.0.0.1:7559/files/cfg.xml","FileSize":0,"TargetFileName":"","TimeWindowList":[{"WindowStart":0,"WindowEnd":3600,"WindowMode":"1 At Any Time","UserMessage":"","MaxRetries":-1}]}}
//	{"method":"GetQueuedTransfers"}
//	{"method":"GetAllQueuedTransfers"}
//	{"method":"CancelTransfer","args":{"CommandKey":"fw-1"}}
//
// Arguments left out take their zero value and are still sent: e.g.
// Download's SuccessURL/FailureURL go out as empty elements, as the schema
// requires them.
//
// # Scenario file
//
// JSON read at start-up (cmd/acsim --scenario) or POSTed to /scenario:
//
//	{"rpcs":   [{"device":"00AB1F-Router-SN0001","method":"Reboot","args":{"CommandKey":"r1"}}],
//	 "faults": [{"informFault":8005},{}],
//	 "files":  {"fw.bin":{"text":"..."},"img.bin":{"base64":"..."},"big.bin":{"path":"/tmp/big.bin"}},
//	 "fileFaults": {"fw.bin":{"dropAfter":4096}}}
//
// Unknown fields are errors; nothing is applied when any part is invalid.
//
// # Admin API (JSON; errors are {"error": "..."} with a 4xx/5xx status)
//
//	GET  /                       URLs, schema validation on/off, auth mode, methods
//	POST /rpc[?device=KEY]       one RPC or an array → {"ids":[...]}; all checked before any is queued
//	GET  /transcript             [Entry]; filters since=SEQ, session=ID, device=KEY, kind=cwmp|file|upload|connreq, errors=1, raw=0
//	GET  /devices, /devices/KEY  sessions completed, last Inform (events, parameters, RetryCount), TransferCompletes, queue length
//	GET  /sessions               every attempt: state open|completed|failed|redirected, reason, errors, answered requests
//	GET  /counts[?device=KEY]    {"sessions","informs","transfers","uploads","errors"}
//	GET  /wait?sessions=N&informs=N&transfers=N&uploads=N&errors=N&device=KEY&timeout=10s
//	                             200 {"ok":true,"counts":...} once every given count is reached, 408 on timeout
//	POST /connreq?device=KEY[&url=URL]   GET the device's ConnectionRequestURL (Digest with
//	                             ConnReqUsername/Password) → {"url","status","challenged","error"}
//	POST /faults                 one FaultPlan or an array, queued for the next sessions
//	POST /scenario               a scenario document
//	PUT  /files/NAME             register a file; GET /files → per-file counters
//	POST /filefaults/NAME        a FileFault ({} mends the file)
//	GET  /uploads, /uploads/NAME list uploads / the latest upload's bytes
//
// A shell test:
//
//	curl -s -XPOST localhost:7558/rpc -d '{"method":"Reboot","args":{"CommandKey":"r1"}}'
//	curl -s -XPOST "localhost:7558/connreq?device=00AB1F-Router-SN0001"
//	curl -sf "localhost:7558/wait?sessions=2&timeout=60s" || exit 1
//	curl -s "localhost:7558/transcript?errors=1&raw=0"
//
// Passwords are never logged; the transcript's parsed summaries mask the
// Password of Download/Upload/ScheduleDownload, but the raw XML is kept
// as sent.
package acsim
