package acsim

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/cwmpd/cwmpd/cwmp/soap"
)

// forcedInformDevice2 are the TR-181 Device:2 parameters flagged
// forcedInform="true" (identical in 2.11 and 2.17): D§7 item 1 [DM].
var forcedInformDevice2 = []string{
	"Device.RootDataModelVersion",
	"Device.DeviceInfo.HardwareVersion",
	"Device.DeviceInfo.SoftwareVersion",
	"Device.DeviceInfo.ProvisioningCode",
	"Device.ManagementServer.ParameterKey",
	"Device.ManagementServer.ConnectionRequestURL",
	"Device.ManagementServer.AliasBasedAddressing",
}

// checkForcedParams returns one error per forced Inform parameter missing
// from params (D§7 item 1), and a note when it cannot tell.
//
// Only the Device:2 list is checked: the digest and shared/bbf hold no
// verified list for the TR-098 InternetGatewayDevice root, so an Inform
// whose parameters all lie under InternetGatewayDevice. is noted, not
// judged. An Inform naming no root at all (e.g. an empty ParameterList)
// lacks the forced parameters of either root and is judged as Device:2.
func checkForcedParams(params []soap.ParameterValueStruct) (errs []string, note string) {
	have := map[string]bool{}
	igd, dev2 := false, false
	for _, p := range params {
		have[p.Name] = true
		switch {
		case strings.HasPrefix(p.Name, "Device."):
			dev2 = true
		case strings.HasPrefix(p.Name, "InternetGatewayDevice."):
			igd = true
		}
	}
	if igd && !dev2 {
		return nil, "InternetGatewayDevice root: forced Inform parameters not checked (no verified TR-098 list)"
	}
	for _, n := range forcedInformDevice2 {
		if !have[n] {
			errs = append(errs, "Inform ParameterList lacks the forced Inform parameter "+n+" (D§7)")
		}
	}
	return errs, ""
}

// checkEvents returns the Event array's violations of the pairings D§8.1
// states with a [T] tag or without a weaker one. Not enforced, because
// D§8.1 tags them [U] or [I]:
//   - the single/multiple ("Cum.") column, i.e. a numeric code at most once
//     and with an empty CommandKey: "Treat the exact Table 7 values as [U]";
//   - "M ScheduleDownload" needing "7 TRANSFER COMPLETE": [I];
//   - what BOOTSTRAP discards (events raised after it may ride along).
func checkEvents(events []soap.EventStruct) []string {
	count := map[string]int{}
	for _, e := range events {
		count[e.EventCode]++
	}
	var errs []string
	need := func(code string, with ...string) {
		if count[code] == 0 {
			return
		}
		for _, w := range with {
			if count[w] > 0 {
				return
			}
		}
		errs = append(errs, fmt.Sprintf("event %q sent without %s (D§8.1)", code, strings.Join(quoteAll(with), " or ")))
	}
	need("3 SCHEDULED", "M ScheduleInform")   // [T] "only ever sent together with"
	need("M ScheduleInform", "3 SCHEDULED")   // [T] "with 3 SCHEDULED"
	need("M Reboot", "1 BOOT")                // [T] "sent with 1 BOOT"
	need("7 TRANSFER COMPLETE", "M Download", // [T] "sent with M Download / M ScheduleDownload / M Upload"
		"M ScheduleDownload", "M Upload")
	need("M Download", "7 TRANSFER COMPLETE")              // table: "With 7 TRANSFER COMPLETE"
	need("M Upload", "7 TRANSFER COMPLETE")                // table: "With 7 TRANSFER COMPLETE"
	need("11 DU STATE CHANGE COMPLETE", "M ChangeDUState") // [T] "sent with M ChangeDUState"
	need("M ChangeDUState", "11 DU STATE CHANGE COMPLETE") // table: "With 11 DU STATE CHANGE COMPLETE"
	// 6 CONNECTION REQUEST: several requests coalesce into one (D§13.1 [T]).
	if count["6 CONNECTION REQUEST"] > 1 {
		errs = append(errs, fmt.Sprintf("event \"6 CONNECTION REQUEST\" sent %d times; requests coalesce into one (D§13.1)", count["6 CONNECTION REQUEST"]))
	}
	return errs
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}

func hasEvent(events []soap.EventStruct, code string) bool {
	for _, e := range events {
		if e.EventCode == code {
			return true
		}
	}
	return false
}

// rawFacts is what acsim needs from the envelope's bytes that the codec
// does not keep: mustUnderstand attributes of the cwmp header entries and
// the namespace of a fault's faultcode prefix.
type rawFacts struct {
	headerMU map[string][]string // cwmp header local name → its mustUnderstand values ("" = absent)
	// faultcode: the text, and whether its prefix (if any) is bound to the
	// SOAP envelope namespace.
	faultCode      string
	faultCodeFound bool
	faultCodeNSOK  bool
}

// scanRaw reads body's header entries and faultcode with their namespace
// bindings. It is only called on envelopes the codec accepted.
func scanRaw(body []byte) rawFacts {
	rf := rawFacts{headerMU: map[string][]string{}}
	dec := xml.NewDecoder(bytes.NewReader(body))
	var scopes []map[string]string // prefix → namespace, innermost last
	var path []xml.Name
	lookup := func(prefix string) (string, bool) {
		for i := len(scopes) - 1; i >= 0; i-- {
			if ns, ok := scopes[i][prefix]; ok {
				return ns, true
			}
		}
		return "", false
	}
	inFaultCode := false
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF || err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			sc := map[string]string{}
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "xmlns":
					sc[a.Name.Local] = a.Value
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					sc[""] = a.Value
				}
			}
			scopes = append(scopes, sc)
			path = append(path, t.Name)
			// Envelope/Header/<entry>
			if len(path) == 3 && path[1].Space == soap.NSEnvelope && path[1].Local == "Header" {
				if _, isCWMP := soap.VersionFromNamespace(t.Name.Space); isCWMP {
					mu := ""
					for _, a := range t.Attr {
						if a.Name.Space == soap.NSEnvelope && a.Name.Local == "mustUnderstand" {
							mu = strings.TrimSpace(a.Value)
						}
					}
					rf.headerMU[t.Name.Local] = append(rf.headerMU[t.Name.Local], mu)
				}
			}
			// Envelope/Body/Fault/faultcode (unqualified child)
			if len(path) == 4 && path[2].Space == soap.NSEnvelope && path[2].Local == "Fault" && t.Name.Local == "faultcode" {
				inFaultCode = true
				text.Reset()
			}
		case xml.CharData:
			if inFaultCode {
				text.Write(t)
			}
		case xml.EndElement:
			if inFaultCode && len(path) == 4 {
				inFaultCode = false
				rf.faultCodeFound = true
				rf.faultCode = strings.TrimSpace(text.String())
				rf.faultCodeNSOK = true
				if prefix, _, ok := strings.Cut(rf.faultCode, ":"); ok {
					ns, bound := lookup(prefix)
					rf.faultCodeNSOK = bound && ns == soap.NSEnvelope
				}
			}
			scopes = scopes[:len(scopes)-1]
			path = path[:len(path)-1]
		}
	}
	return rf
}

// checkHeaderMU returns the header entries whose mustUnderstand differs
// from the value the BBF schemas fix (D§2.2): ID "1" (fixed="1",
// required), SessionTimeout "0" (fixed="0", 1.3+), SupportedCWMPVersions
// "0" (cwmp-1-4.xsd: "implementations MUST use a value of 0"). xmllint does
// not enforce fixed on a referenced attribute, so acsim does.
func checkHeaderMU(rf rawFacts) []string {
	var errs []string
	for _, c := range []struct{ name, want string }{{"ID", "1"}, {"SessionTimeout", "0"}, {"SupportedCWMPVersions", "0"}} {
		for _, got := range rf.headerMU[c.name] {
			if got == "" && c.want == "0" {
				continue // optional; absent means 0
			}
			if got != c.want {
				errs = append(errs, fmt.Sprintf("cwmp:%s header has mustUnderstand=%q, the schema fixes %q (D§2.2)", c.name, got, c.want))
			}
		}
	}
	return errs
}

// spvParamFault reports whether c may stand in a SetParameterValuesFault
// entry: 9005–9008 (D§12.2 [T]; 9004 explicitly not, D§3.1 [T]), or a
// vendor code 9800–9899, which the schema's union admits there [S].
func spvParamFault(c soap.FaultCode) bool {
	return c >= 9005 && c <= 9008 || c >= 9800 && c <= 9899
}

// checkCPEFault returns what a CPE's fault answering method breaks
// (D§3, D§3.1, D§12.2).
func checkCPEFault(f *soap.Fault, rf rawFacts, method string) []string {
	var errs []string
	if f.String != soap.CWMPFaultString {
		errs = append(errs, fmt.Sprintf("fault faultstring is %q, must be the literal %q (D§3)", f.String, soap.CWMPFaultString))
	}
	if f.Code != soap.SOAPClient && f.Code != soap.SOAPServer {
		errs = append(errs, fmt.Sprintf("fault faultcode %q is neither Client nor Server (D§3)", rf.faultCode))
	} else if rf.faultCodeFound && !rf.faultCodeNSOK {
		errs = append(errs, fmt.Sprintf("fault faultcode %q is qualified with a prefix not bound to the SOAP envelope namespace (D§3)", rf.faultCode))
	}
	if f.Detail == nil {
		return errs
	}
	if !f.Detail.FaultCode.IsCPE() {
		errs = append(errs, fmt.Sprintf("CPE fault carries FaultCode %d, not a CPE code 9000–9899 (D§3.1)", f.Detail.FaultCode))
	}
	if len(f.Detail.SetParameterValuesFault) > 0 && method != "SetParameterValues" {
		errs = append(errs, fmt.Sprintf("SetParameterValuesFault entries in a fault answering %s (D§3: only in a SetParameterValues fault)", method))
	}
	for _, pf := range f.Detail.SetParameterValuesFault {
		if !spvParamFault(pf.FaultCode) {
			errs = append(errs, fmt.Sprintf("SetParameterValuesFault for %s carries FaultCode %d, allowed are 9005–9008 and vendor 98xx (D§12.2, D§3.1)", pf.ParameterName, pf.FaultCode))
		}
	}
	return errs
}

// setInformFacts keeps what the RetryCount and TransferComplete checks
// need from a session's Inform.
func setInformFacts(ss *session, inf *soap.Inform) {
	ss.retry, ss.retryKnown = inf.RetryCount, true
	ss.boot = hasEvent(inf.Event, "1 BOOT") || hasEvent(inf.Event, "0 BOOTSTRAP")
	ss.informEvents = inf.Event
}

// peekInformLocked decodes a first post that the fault plan answers before
// the Inform is handled (dropped, or a non-200 status), so that the failed
// attempt still counts for the device's next RetryCount.
func (s *Server) peekInformLocked(x *exchange) {
	if len(x.body) == 0 || int64(len(x.body)) > s.cfg.BodyLimit {
		return
	}
	env, err := soap.Decode(bytes.NewReader(x.body), s.cfg.BodyLimit)
	if err != nil {
		return
	}
	if inf, ok := env.Body.(*soap.Inform); ok {
		x.sess.device = DeviceKey(inf.DeviceId)
		x.in.Device = x.sess.device
		setInformFacts(x.sess, inf)
	}
}

// checkRetryLocked judges ss's RetryCount against the device's previous
// session attempt, where acsim can be sure (D§7, D§9):
//
//   - after an attempt acsim failed (a fault or an HTTP error answered, the
//     connection dropped, a protocol violation, or abandoned while open),
//     the CPE never got the 204 that ends a session successfully, so the
//     next Inform retries it: RetryCount must be at least the failed
//     Inform's RetryCount + 1;
//   - unless the new Inform carries 1 BOOT or 0 BOOTSTRAP: whether a reboot
//     resets the counter is [U] (D§9, "treat it as reset on reboot").
//
// Not judged: RetryCount > 0 after an attempt acsim completed. The CPE may
// have lost the final 204 (a failure only it saw), or have failed attempts
// acsim never saw (TCP/TLS set-up, authentication), each of which counts.
// Redirected attempts are part of the attempt that follows them.
func (s *Server) checkRetryLocked(ss *session) string {
	if ss.boot {
		return ""
	}
	for i := len(s.sessions) - 1; i >= 0; i-- {
		prev := s.sessions[i]
		if prev == ss || prev.device != ss.device || !prev.retryKnown || prev.state == StateRedirected {
			continue
		}
		if prev.state != StateFailed || prev.unsure {
			return ""
		}
		if ss.retry < prev.retry+1 {
			return fmt.Sprintf("Inform RetryCount is %d, but the previous attempt %s (RetryCount %d) failed (%s): a retry must count it, want >= %d (D§7, D§9)",
				ss.retry, prev.id, prev.retry, prev.reason, prev.retry+1)
		}
		return ""
	}
	return ""
}

// noteTransferLocked remembers the CommandKey of a transfer request sent
// to dev, which a later TransferComplete must name.
func (s *Server) noteTransferLocked(dev string, msg soap.Message) {
	d := s.devices[dev]
	if d == nil {
		return
	}
	var key string
	switch m := msg.(type) {
	case *soap.Download:
		key = m.CommandKey
	case *soap.Upload:
		key = m.CommandKey
	case *soap.ScheduleDownload:
		key = m.CommandKey
	default:
		return
	}
	if d.requested == nil {
		d.requested = map[string]string{}
	}
	d.requested[key] = msg.MethodName()
}
