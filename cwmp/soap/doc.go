// Package soap is cwmpd's CWMP SOAP codec: the typed messages of TR-069
// (both directions), the SOAP 1.1 envelope with the cwmp headers, faults,
// and the encoders and decoder that turn them into bytes and back. It does
// no I/O beyond the io.Reader/io.Writer it is given and knows nothing of
// sessions, HTTP or the data model; the session state machine sits on top.
//
// # What it owns
//
//   - Message types: one struct per RPC and response (Inform, TransferComplete,
//     GetParameterValues, Download, ScheduleDownload, ...), all implementing
//     Message. A *Fault is also a Message, standing in the Body in place of a
//     response. Struct field order is the schema's element order.
//   - Envelope and Header: ID (echoed with mustUnderstand="1"), HoldRequests,
//     SessionTimeout, SupportedCWMPVersions, UseCWMPVersion; headers marked
//     mustUnderstand="1" that are not ours are reported (SOAP 1.1 §4.2.3).
//   - Version: 1.0–1.4. 1.3 and 1.4 are written in the cwmp-1-2 namespace;
//     the non-standard cwmp-1-3/-1-4 namespaces are accepted on decode and
//     answered in cwmp-1-2. Set the reply's Version to the request's.
//   - Fault codes 9000–9032 and 8000–8006 as FaultCode constants with their
//     text and SOAP faultcode (Client/Server); NewFault builds a CWMP fault.
//
// # Decoding
//
// Decode(r, limit) reads at most limit bytes (default DefaultLimit, never
// below the 32768 bytes TR-069 §3.5 requires), refuses DTDs, bounds nesting,
// and matches elements by namespace URI and local name, never by prefix.
// Argument elements are matched by local name in any order; the schema's
// length limits (CommandKey/ParameterKey ≤ 32, names and URLs ≤ 256, ...),
// patterns, ranges and array bounds are enforced. One leniency: a
// SetParameterAttributesStruct's Notification must be there but is not
// read when NotificationChange is false (tag option when=), because its
// value then means nothing and GenieACS sends it empty. Every failure is a
// *DecodeError whose Fault method gives the answer to send:
//
//	ErrSyntax, ErrNotEnvelope   no fault (nil): end the session
//	ErrTooLarge                 9004 Resources exceeded
//	ErrUnknownMethod            9000 Method not supported: <name>
//	ErrInvalidArgument          9003 Invalid arguments (for SetParameterValues
//	                            with a SetParameterValuesFault 9007 per value
//	                            that does not match its xsi:type)
//	ErrMustUnderstand           SOAP MustUnderstand fault, no CWMP detail
//	ErrVersion                  SOAP VersionMismatch (not a SOAP 1.1 envelope)
//
// When the header was readable the *Envelope is returned alongside the error
// so the fault can echo the ID and use the request's Version.
//
// # Encoding
//
// Encode writes ordinary messages through etree. GetParameterValuesResponse,
// GetParameterNamesResponse and GetParameterAttributesResponse always go
// through a hand-written streaming writer (also callable directly as
// EncodeGetParameterValuesResponse etc. with a List, i.e. a length and an
// iterator) so a 10,000-parameter answer needs no tree in memory; its output
// is byte-identical to the etree path. Values carry their xsi:type
// (TypeString, TypeUnsignedInt, ...); base64 is written as xsd:base64Binary
// because XML Schema has no xsd:base64 and the BBF schemas reject it.
// Times are xsd:dateTime in UTC; the zero time.Time is TR-106's Unknown
// Time, 0001-01-01T00:00:00Z.
//
// # Serving one ACS request
//
//	env, err := soap.Decode(httpResp.Body, 0)
//	var reply soap.Envelope
//	if env != nil {
//		reply.Version, reply.Header.ID = env.Version, env.Header.ID
//	}
//	var de *soap.DecodeError
//	switch {
//	case errors.As(err, &de) && de.Fault() == nil:
//		return endSession(err)
//	case err != nil:
//		reply.Body = de.Fault()
//	default:
//		reply.Body = handle(env.Body) // a response struct or soap.NewFault(...)
//	}
//	return soap.Encode(postBody, &reply)
//
// Conformance: the tests validate every envelope the codec emits with
// xmllint against the BBF schemas (see conformance_test.go and
// testdata/xsd for the local SOAP schemas that make this work offline).
package soap
