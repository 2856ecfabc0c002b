package soap

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

const envOpen = `<?xml version="1.0"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:cwmp="urn:dslforum-org:cwmp-1-2" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
<soapenv:Header><cwmp:ID soapenv:mustUnderstand="1">req-9</cwmp:ID></soapenv:Header>
<soapenv:Body>`

const envClose = `</soapenv:Body></soapenv:Envelope>`

func wrap(body string) string { return envOpen + body + envClose }

func decodeString(s string) (*Envelope, error) { return Decode(strings.NewReader(s), 0) }

func TestDecodeErrors(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	cases := []struct {
		name     string
		in       string
		sentinel error
		code     FaultCode
		soapCode string
		field    string // substring of DecodeError.Field
	}{
		{"not xml", "hello", ErrSyntax, 0, "", ""},
		{"empty", "", ErrSyntax, 0, "", ""},
		{"truncated", envOpen + "<cwmp:Reboot><CommandKey>x</CommandKey>", ErrSyntax, 0, "", ""},
		{"mismatched tags", wrap("<cwmp:Reboot><CommandKey>x</Command></cwmp:Reboot>"), ErrSyntax, 0, "", ""},
		{"two roots", wrap("") + "<x/>", ErrSyntax, 0, "", ""},
		{"text after root", wrap("") + "junk", ErrSyntax, 0, "", ""},
		{"root not envelope", "<html><body/></html>", ErrNotEnvelope, 0, "", ""},
		{"no body", `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Header/></e:Envelope>`, ErrNotEnvelope, 0, "", ""},
		{"soap 1.2 envelope", `<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>`, ErrVersion, 0, SOAPVersionMismatch, ""},
		{"unknown method", wrap("<cwmp:X_Frobnicate/>"), ErrUnknownMethod, FaultMethodNotSupported, "", ""},
		{"method in foreign namespace", wrap(`<x:Reboot xmlns:x="urn:example"><CommandKey/></x:Reboot>`), ErrUnknownMethod, FaultMethodNotSupported, "", ""},
		{"unsignedInt abc", wrap("<cwmp:ScheduleInform><DelaySeconds>abc</DelaySeconds><CommandKey/></cwmp:ScheduleInform>"), ErrInvalidArgument, FaultInvalidArguments, "", "DelaySeconds"},
		{"unsignedInt negative", wrap("<cwmp:ScheduleInform><DelaySeconds>-1</DelaySeconds><CommandKey/></cwmp:ScheduleInform>"), ErrInvalidArgument, FaultInvalidArguments, "", "DelaySeconds"},
		{"unsignedInt overflow", wrap("<cwmp:ScheduleInform><DelaySeconds>4294967296</DelaySeconds><CommandKey/></cwmp:ScheduleInform>"), ErrInvalidArgument, FaultInvalidArguments, "", "DelaySeconds"},
		{"boolean yes", wrap("<cwmp:GetParameterNames><ParameterPath>Device.</ParameterPath><NextLevel>yes</NextLevel></cwmp:GetParameterNames>"), ErrInvalidArgument, FaultInvalidArguments, "", "NextLevel"},
		{"missing CommandKey", wrap("<cwmp:Reboot/>"), ErrInvalidArgument, FaultInvalidArguments, "", "CommandKey"},
		{"missing ParameterKey", wrap(`<cwmp:SetParameterValues><ParameterList soapenc:arrayType="cwmp:ParameterValueStruct[0]" xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/"/></cwmp:SetParameterValues>`), ErrInvalidArgument, FaultInvalidArguments, "", "ParameterKey"},
		{"CommandKey 33", wrap("<cwmp:Reboot><CommandKey>" + long(33) + "</CommandKey></cwmp:Reboot>"), ErrInvalidArgument, FaultInvalidArguments, "", "CommandKey"},
		{"ParameterKey 33", wrap("<cwmp:AddObject><ObjectName>Device.A.</ObjectName><ParameterKey>" + long(33) + "</ParameterKey></cwmp:AddObject>"), ErrInvalidArgument, FaultInvalidArguments, "", "ParameterKey"},
		{"name 257", wrap("<cwmp:GetParameterValues><ParameterNames><string>" + long(257) + "</string></ParameterNames></cwmp:GetParameterValues>"), ErrInvalidArgument, FaultInvalidArguments, "", "ParameterNames/string[1]"},
		{"no names", wrap("<cwmp:GetParameterValues><ParameterNames/></cwmp:GetParameterValues>"), ErrInvalidArgument, FaultInvalidArguments, "", "ParameterNames"},
		{"URL 257", wrap(download("1 Firmware Upgrade Image", "http://x/"+long(248))), ErrInvalidArgument, FaultInvalidArguments, "", "URL"},
		{"bad file type", wrap(download("firmware", "http://x/")), ErrInvalidArgument, FaultInvalidArguments, "", "FileType"},
		{"object name without dot", wrap("<cwmp:AddObject><ObjectName>Device.A</ObjectName><ParameterKey/></cwmp:AddObject>"), ErrInvalidArgument, FaultInvalidArguments, "", "ObjectName"},
		{"notification 7", wrap(`<cwmp:SetParameterAttributes><ParameterList><SetParameterAttributesStruct><Name>A</Name><NotificationChange>1</NotificationChange><Notification>7</Notification><AccessListChange>0</AccessListChange><AccessList/></SetParameterAttributesStruct></ParameterList></cwmp:SetParameterAttributes>`), ErrInvalidArgument, FaultInvalidArguments, "", "Notification"},
		{"three time windows", wrap(scheduleDownload(3)), ErrInvalidArgument, FaultInvalidArguments, "", "TimeWindowList"},
		{"no time window", wrap(scheduleDownload(0)), ErrInvalidArgument, FaultInvalidArguments, "", "TimeWindowList"},
		{"struct without value", wrap("<cwmp:SetParameterValues><ParameterList><ParameterValueStruct><Name>A</Name></ParameterValueStruct></ParameterList><ParameterKey/></cwmp:SetParameterValues>"), ErrInvalidArgument, FaultInvalidArguments, "", "Value"},
		{"bad dateTime", wrap("<cwmp:TransferComplete><CommandKey/><FaultStruct><FaultCode>0</FaultCode><FaultString/></FaultStruct><StartTime>yesterday</StartTime><CompleteTime>0001-01-01T00:00:00Z</CompleteTime></cwmp:TransferComplete>"), ErrInvalidArgument, FaultInvalidArguments, "", "StartTime"},
		{"HoldRequests maybe", strings.Replace(wrap("<cwmp:GetRPCMethods/>"), `<cwmp:ID soapenv:mustUnderstand="1">req-9</cwmp:ID>`, `<cwmp:HoldRequests soapenv:mustUnderstand="1">maybe</cwmp:HoldRequests>`, 1), ErrInvalidArgument, FaultInvalidArguments, "", "HoldRequests"},
		{"unknown mustUnderstand header", strings.Replace(wrap("<cwmp:GetRPCMethods/>"), "</soapenv:Header>", `<x:Foo xmlns:x="urn:x" soapenv:mustUnderstand="1">1</x:Foo></soapenv:Header>`, 1), ErrMustUnderstand, 0, SOAPMustUnderstand, ""},
		{"obsolete NoMoreRequests with mustUnderstand", strings.Replace(wrap("<cwmp:GetRPCMethods/>"), "</soapenv:Header>", `<cwmp:NoMoreRequests soapenv:mustUnderstand="true">1</cwmp:NoMoreRequests></soapenv:Header>`, 1), ErrMustUnderstand, 0, SOAPMustUnderstand, ""},
		{"DTD", `<?xml version="1.0"?><!DOCTYPE e [<!ENTITY a "x">]>` + wrap("<cwmp:GetRPCMethods/>"), ErrSyntax, 0, "", ""},
		{"billion laughs", billionLaughs(), ErrSyntax, 0, "", ""},
		{"external entity", `<?xml version="1.0"?><!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` + wrap("<cwmp:Reboot><CommandKey>&xxe;</CommandKey></cwmp:Reboot>"), ErrSyntax, 0, "", ""},
		{"undeclared entity", wrap("<cwmp:Reboot><CommandKey>&xxe;</CommandKey></cwmp:Reboot>"), ErrSyntax, 0, "", ""},
		{"ACS fault without code", wrap("<soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>CWMP fault</faultstring><detail><cwmp:Fault><FaultString>x</FaultString></cwmp:Fault></detail></soapenv:Fault>"), ErrInvalidArgument, 0, "", "FaultCode"},
		{"deep nesting", wrap("<cwmp:Reboot>" + strings.Repeat("<a>", 5000) + strings.Repeat("</a>", 5000) + "</cwmp:Reboot>"), ErrSyntax, 0, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, err := decodeString(c.in)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("got %v (%T), want *DecodeError", err, err)
			}
			if !errors.Is(err, c.sentinel) {
				t.Errorf("got %v, want it to wrap %v", err, c.sentinel)
			}
			if de.Code != c.code || de.SOAPCode != c.soapCode {
				t.Errorf("code %d/%q, want %d/%q (%v)", de.Code, de.SOAPCode, c.code, c.soapCode, err)
			}
			if !strings.Contains(de.Field, c.field) {
				t.Errorf("field %q, want it to contain %q", de.Field, c.field)
			}
			if !strings.HasPrefix(err.Error(), "soap: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			f := de.Fault()
			switch {
			case c.code == 0 && c.soapCode == "":
				if f != nil {
					t.Errorf("fault %+v for an unanswerable message", f)
				}
			case c.soapCode != "":
				if f == nil || f.Code != c.soapCode || f.Detail != nil {
					t.Errorf("fault %+v, want SOAP %s without detail", f, c.soapCode)
				}
			default:
				if f == nil || f.Detail == nil || f.Detail.FaultCode != c.code || f.Code != c.code.SOAPFaultCode() {
					t.Errorf("fault %+v, want CWMP %d", f, c.code)
				}
			}
			// Anything past the header must leave the ID for the fault's echo.
			if (c.code != 0 || c.soapCode == SOAPMustUnderstand) && !strings.HasPrefix(c.name, "HoldRequests") {
				if env == nil || env.Header.ID != "req-9" {
					t.Errorf("envelope %+v: want the request ID kept for the fault", env)
				}
			}
		})
	}
}

// The fault for a bad header echoes the request's cwmp:ID (D§3) whatever
// the order of the header entries, which SOAP 1.1 leaves free; the error
// reported is the first bad header's.
func TestDecodeBadHeaderKeepsID(t *testing.T) {
	const id = `<cwmp:ID soapenv:mustUnderstand="1">req-7</cwmp:ID>`
	hold := `<cwmp:HoldRequests soapenv:mustUnderstand="1">yes</cwmp:HoldRequests>`
	timeout := `<cwmp:SessionTimeout soapenv:mustUnderstand="0">soon</cwmp:SessionTimeout>`
	use := `<cwmp:UseCWMPVersion soapenv:mustUnderstand="1">2.0</cwmp:UseCWMPVersion>`
	foreign := `<x:Foo xmlns:x="urn:x" soapenv:mustUnderstand="1">1</x:Foo>`
	cases := []struct {
		name     string
		header   string
		sentinel error
		soapCode string
		field    string
	}{
		{"HoldRequests before ID", hold + id, ErrInvalidArgument, "", "Header/HoldRequests"},
		{"HoldRequests after ID", id + hold, ErrInvalidArgument, "", "Header/HoldRequests"},
		{"SessionTimeout before ID", timeout + id, ErrInvalidArgument, "", "Header/SessionTimeout"},
		{"UseCWMPVersion before ID", use + id, ErrInvalidArgument, "", "Header/UseCWMPVersion"},
		{"first of two bad headers", timeout + hold + id, ErrInvalidArgument, "", "Header/SessionTimeout"},
		{"first of two bad headers, swapped", hold + id + timeout, ErrInvalidArgument, "", "Header/HoldRequests"},
		{"unknown mustUnderstand before ID", foreign + id, ErrMustUnderstand, SOAPMustUnderstand, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := strings.Replace(wrap("<cwmp:GetRPCMethods/>"),
				`<cwmp:ID soapenv:mustUnderstand="1">req-9</cwmp:ID>`, c.header, 1)
			env, err := decodeString(in)
			var de *DecodeError
			if !errors.As(err, &de) || !errors.Is(err, c.sentinel) || de.SOAPCode != c.soapCode || de.Field != c.field {
				t.Fatalf("got %v, want %v at %q (SOAP %q)", err, c.sentinel, c.field, c.soapCode)
			}
			if env == nil || env.Header.ID != "req-7" {
				t.Fatalf("envelope %+v: want ID req-7 kept for the fault", env)
			}
			if env.Version != V1_2 {
				t.Errorf("version %v, want the header's 1.2", env.Version)
			}
		})
	}
}

func download(fileType, url string) string {
	return "<cwmp:Download><CommandKey>k</CommandKey><FileType>" + fileType + "</FileType><URL>" + url +
		"</URL><Username/><Password/><FileSize>0</FileSize><TargetFileName/><DelaySeconds>0</DelaySeconds></cwmp:Download>"
}

func scheduleDownload(windows int) string {
	var b strings.Builder
	b.WriteString("<cwmp:ScheduleDownload><CommandKey>k</CommandKey><FileType>1 Firmware Upgrade Image</FileType><URL>http://x/</URL><Username/><Password/><FileSize>0</FileSize><TargetFileName/><TimeWindowList>")
	for i := 0; i < windows; i++ {
		fmt.Fprintf(&b, "<TimeWindowStruct><WindowStart>%d</WindowStart><WindowEnd>%d</WindowEnd><WindowMode>1 At Any Time</WindowMode><UserMessage/><MaxRetries>-1</MaxRetries></TimeWindowStruct>", i*10, i*10+5)
	}
	b.WriteString("</TimeWindowList></cwmp:ScheduleDownload>")
	return b.String()
}

func billionLaughs() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">`)
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, `<!ENTITY lol%d "%s">`, i, strings.Repeat(fmt.Sprintf("&lol%d;", i-1), 10))
	}
	b.WriteString(`]>`)
	b.WriteString(wrap("<cwmp:Reboot><CommandKey>&lol9;</CommandKey></cwmp:Reboot>"))
	return strings.Replace(b.String(), "&lol0;", "&lol;", -1)
}

// A SetParameterValues list is decoded without judging its values: the
// CPE's data model tells 9005, 9006, 9007 and 9008 apart per parameter
// (cwmp/datamodel). A CPE's GetParameterValuesResponse with a value that
// does not match its xsi:type is an argument error, naming the element but
// not the value.
func TestDecodeValueCheckedExceptInSPV(t *testing.T) {
	list := `<ParameterList>
<ParameterValueStruct><Name>Device.A</Name><Value xsi:type="xsd:unsignedInt">abc</Value></ParameterValueStruct>
<ParameterValueStruct><Name>Device.B</Name><Value xsi:type="xsd:string">ok</Value></ParameterValueStruct>
</ParameterList>`
	env, err := decodeString(wrap(`<cwmp:SetParameterValues>` + list + `<ParameterKey>k</ParameterKey></cwmp:SetParameterValues>`))
	if err != nil {
		t.Fatalf("SPV: %v", err)
	}
	spv := env.Body.(*SetParameterValues)
	if len(spv.ParameterList) != 2 || spv.ParameterList[0].Value != "abc" || spv.ParameterList[0].Type != TypeUnsignedInt {
		t.Fatalf("SPV list %+v", spv.ParameterList)
	}
	_, err = decodeString(wrap(`<cwmp:GetParameterValuesResponse>` + list + `</cwmp:GetParameterValuesResponse>`))
	var de *DecodeError
	if !errors.As(err, &de) || de.Code != FaultInvalidArguments || de.Field != "ParameterList/ParameterValueStruct[1]/Value" {
		t.Fatalf("GPV response: %v", err)
	}
	if strings.Contains(err.Error(), "abc") {
		t.Fatalf("the error quotes the value: %v", err)
	}
}

func TestDecodeValueTypes(t *testing.T) {
	cases := []struct {
		typ, val string
		ok       bool
	}{
		{"xsd:unsignedInt", "0", true}, {"xsd:unsignedInt", " 42 ", true}, {"xsd:unsignedInt", "abc", false},
		{"xsd:unsignedInt", "-1", false}, {"xsd:unsignedInt", "4294967296", false},
		{"xsd:int", "-2147483648", true}, {"xsd:int", "2147483648", false}, {"xsd:int", "+5", true},
		{"xsd:long", "-9223372036854775808", true}, {"xsd:long", "1.5", false},
		{"xsd:unsignedLong", "18446744073709551615", true}, {"xsd:unsignedLong", "-1", false},
		{"xsd:boolean", "true", true}, {"xsd:boolean", "0", true}, {"xsd:boolean", "yes", false}, {"xsd:boolean", "TRUE", false},
		{"xsd:dateTime", "2026-11-22T01:02:03Z", true}, {"xsd:dateTime", "2026-11-22T01:02:03.123+02:00", true},
		{"xsd:dateTime", "2026-11-22T01:02:03", true}, {"xsd:dateTime", "2026-11-22", false},
		{"xsd:base64", "aGVsbG8=", true}, {"xsd:base64Binary", "aGVsbG8=", true}, {"soapenc:base64", "!!", false},
		{"xsd:hexBinary", "0aFF", true}, {"xsd:hexBinary", "0aF", false}, {"xsd:hexBinary", "zz", false},
		{"xsd:decimal", "anything", true}, // not ours to judge
	}
	for _, c := range cases {
		in := wrap(`<cwmp:GetParameterValuesResponse xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/"><ParameterList><ParameterValueStruct><Name>A</Name><Value xsi:type="` +
			c.typ + `">` + c.val + `</Value></ParameterValueStruct></ParameterList></cwmp:GetParameterValuesResponse>`)
		_, err := decodeString(in)
		if (err == nil) != c.ok {
			t.Errorf("%s %q: err %v, want ok=%v", c.typ, c.val, err, c.ok)
		}
	}
}

// Prefixes are whatever the sender bound; namespaces decide.
func TestDecodeLenient(t *testing.T) {
	in := `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/" xmlns:E="http://schemas.xmlsoap.org/soap/encoding/">
 <S:Header>
  <c:ID xmlns:c="urn:dslforum-org:cwmp-1-3" S:mustUnderstand="1">abc</c:ID>
  <c:HoldRequests xmlns:c="urn:dslforum-org:cwmp-1-3" S:mustUnderstand="1"> 1 </c:HoldRequests>
  <c:UseCWMPVersion xmlns:c="urn:dslforum-org:cwmp-1-3" S:mustUnderstand="1">1.4</c:UseCWMPVersion>
  <v:Trace xmlns:v="urn:vendor" S:mustUnderstand="0">x</v:Trace>
  <v:Relay xmlns:v="urn:vendor" S:mustUnderstand="1" S:actor="urn:somebody-else">x</v:Relay>
 </S:Header>
 <S:Body>
  <SetParameterValues xmlns="urn:dslforum-org:cwmp-1-3">
   <ParameterList E:arrayType="ParameterValueStruct[4]">
    <ParameterValueStruct><Name>Device.A</Name><Value xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:type="xs:unsignedInt">7</Value></ParameterValueStruct>
    <ParameterValueStruct><Name>Device.B</Name><Value>untyped</Value></ParameterValueStruct>
    <ParameterValueStruct><Name>Device.C</Name><Value xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:type="E:base64">AAEC</Value></ParameterValueStruct>
    <ParameterValueStruct><Value xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:type="boolean">1</Value><Name>Device.D</Name></ParameterValueStruct>
   </ParameterList>
   <ParameterKey>k</ParameterKey>
  </SetParameterValues>
 </S:Body>
</S:Envelope>`
	env, err := decodeString(in)
	if err != nil {
		t.Fatal(err)
	}
	if env.Version != V1_3 || env.Namespace != "urn:dslforum-org:cwmp-1-3" || env.Version.Namespace() != "urn:dslforum-org:cwmp-1-2" {
		t.Errorf("version %v namespace %q", env.Version, env.Namespace)
	}
	wantH := Header{ID: "abc", HoldRequests: true, UseCWMPVersion: "1.4"}
	if !reflect.DeepEqual(env.Header, wantH) {
		t.Errorf("header %+v", env.Header)
	}
	want := &SetParameterValues{ParameterKey: "k", ParameterList: []ParameterValueStruct{
		{Name: "Device.A", Value: "7", Type: TypeUnsignedInt},
		{Name: "Device.B", Value: "untyped"},
		{Name: "Device.C", Value: "AAEC", Type: TypeBase64},
		{Name: "Device.D", Value: "1", Type: TypeBoolean},
	}}
	if !reflect.DeepEqual(env.Body, want) {
		t.Errorf("body %+v", env.Body)
	}
	// The reply goes out in cwmp-1-2 with the ID echoed.
	var b bytes.Buffer
	if err := Encode(&b, &Envelope{Version: env.Version, Header: Header{ID: env.Header.ID}, Body: &SetParameterValuesResponse{}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `xmlns:cwmp="urn:dslforum-org:cwmp-1-2"`) || !strings.Contains(b.String(), `<cwmp:ID SOAP-ENV:mustUnderstand="1">abc</cwmp:ID>`) {
		t.Errorf("reply:\n%s", b.String())
	}
}

func TestDecodeNamespaceVersions(t *testing.T) {
	for ns, want := range map[string]Version{"1-0": V1_0, "1-1": V1_1, "1-2": V1_2, "1-3": V1_3, "1-4": V1_4} {
		in := strings.ReplaceAll(wrap("<cwmp:GetRPCMethods/>"), "cwmp-1-2", "cwmp-"+ns)
		env, err := decodeString(in)
		if err != nil || env.Version != want {
			t.Errorf("%s: %v %v", ns, env, err)
		}
	}
	// An unknown cwmp namespace is not ours: its mustUnderstand ID header
	// is not understood, and without it the method is unsupported.
	in := strings.ReplaceAll(wrap("<cwmp:GetRPCMethods/>"), "cwmp-1-2", "cwmp-2-0")
	if _, err := decodeString(in); !errors.Is(err, ErrMustUnderstand) {
		t.Errorf("cwmp-2-0 with ID: %v", err)
	}
	in = strings.Replace(in, `<cwmp:ID soapenv:mustUnderstand="1">req-9</cwmp:ID>`, "", 1)
	if _, err := decodeString(in); !errors.Is(err, ErrUnknownMethod) {
		t.Errorf("cwmp-2-0: %v", err)
	}
}

func TestDecodeEmptyBodyAndOptional(t *testing.T) {
	env, err := decodeString(wrap(""))
	if err != nil || env.Body != nil || env.Header.ID != "req-9" {
		t.Errorf("empty body: %+v %v", env, err)
	}
	// SuccessURL/FailureURL omitted (common) is accepted.
	env, err = decodeString(wrap(download("1 Firmware Upgrade Image", "http://x/fw")))
	if err != nil {
		t.Fatal(err)
	}
	if d := env.Body.(*Download); d.URL != "http://x/fw" || d.SuccessURL != "" {
		t.Errorf("%+v", d)
	}
}

func TestDecodeFaultMessage(t *testing.T) {
	_, err := decodeString(wrap("<cwmp:X_Frobnicate/>"))
	var de *DecodeError
	errors.As(err, &de)
	f := de.Fault()
	if f.Detail.FaultString != "Method not supported: X_Frobnicate" || f.Code != SOAPServer || f.String != CWMPFaultString {
		t.Errorf("%+v %+v", f, f.Detail)
	}
}

func TestDecodeLimit(t *testing.T) {
	// A GetParameterValues of exactly MinLimit bytes must be accepted even
	// with the smallest limit (TR-069 §3.5: at least 32768 bytes).
	head := wrap("<cwmp:GetParameterValues><ParameterNames>")
	head = head[:len(head)-len(envClose)]
	tail := "</ParameterNames></cwmp:GetParameterValues>" + envClose
	var b strings.Builder
	b.WriteString(head)
	for i := 0; b.Len()+len(tail)+60 < MinLimit; i++ {
		fmt.Fprintf(&b, "<string>Device.X.%d.</string>", i)
	}
	b.WriteString(strings.Repeat(" ", MinLimit-b.Len()-len(tail)))
	b.WriteString(tail)
	doc := b.String()
	if len(doc) != MinLimit {
		t.Fatalf("built %d bytes", len(doc))
	}
	if _, err := Decode(strings.NewReader(doc), MinLimit); err != nil {
		t.Fatalf("32768-byte request refused: %v", err)
	}
	// A limit below the minimum is raised to it.
	if _, err := Decode(strings.NewReader(doc), 100); err != nil {
		t.Fatalf("limit 100: %v", err)
	}
	_, err := Decode(strings.NewReader(doc+" "), MinLimit)
	var de *DecodeError
	if !errors.As(err, &de) || !errors.Is(err, ErrTooLarge) || de.Code != FaultResourcesExceeded {
		t.Fatalf("oversized: %v", err)
	}
	// The reader is not drained past the limit.
	r := &countingReader{n: 1 << 30}
	if _, err := Decode(r, MinLimit); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("endless input: %v", err)
	}
	if r.read > MinLimit+64<<10 {
		t.Errorf("read %d bytes of an endless input", r.read)
	}
}

type countingReader struct{ n, read int }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	r.read += len(p)
	return len(p), nil
}

func TestParseDateTime(t *testing.T) {
	cases := []struct {
		in   string
		want time.Time
	}{
		{"0001-01-01T00:00:00Z", time.Time{}},
		{"0001-01-01T00:00:00", time.Time{}},
		{"2026-11-22T01:02:03Z", time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC)},
		{"2026-11-22T01:02:03", time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC)},
		{"2026-11-22T03:02:03+02:00", time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC)},
		{"2026-11-22T01:02:03.25Z", time.Date(2026, 11, 22, 1, 2, 3, 250000000, time.UTC)},
		{"2026-11-22T01:02:03.123456", time.Date(2026, 11, 22, 1, 2, 3, 123456000, time.UTC)},
		{" 2026-11-22T01:02:03Z\n", time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC)},
	}
	for _, c := range cases {
		got, err := ParseDateTime(c.in)
		if err != nil || !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("%q: %v %v", c.in, got, err)
		}
	}
	for _, bad := range []string{"", "2026-11-22", "22/11/2026 01:02", "2026-13-01T00:00:00Z"} {
		if _, err := ParseDateTime(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if s := FormatDateTime(time.Time{}); s != "0001-01-01T00:00:00Z" {
		t.Errorf("unknown time %q", s)
	}
	if s := FormatDateTime(time.Date(2026, 1, 2, 4, 4, 5, 0, time.FixedZone("x", 3600))); s != "2026-01-02T03:04:05Z" {
		t.Errorf("%q", s)
	}
}

// TestDecodeNotificationIgnoredWithoutNotificationChange: GenieACS writes
// an SPA that changes only the access list with NotificationChange false
// and an empty Notification element (lib/soap.ts, SetParameterAttributes),
// which is no xsd:int. The value means nothing then (A.3.2.4), so it is
// not read; with NotificationChange true an empty one is still refused.
func TestDecodeNotificationIgnoredWithoutNotificationChange(t *testing.T) {
	spa := func(change, notification string) string {
		return wrap(`<cwmp:SetParameterAttributes><ParameterList soap-enc:arrayType="cwmp:SetParameterAttributesStruct[1]" xmlns:soap-enc="http://schemas.xmlsoap.org/soap/encoding/">` +
			`<SetParameterAttributesStruct><Name>Device.DeviceInfo.ProvisioningCode</Name><NotificationChange>` + change + `</NotificationChange>` + notification +
			`<AccessListChange>true</AccessListChange><AccessList soap-enc:arrayType="xsd:string[1]"><string>Subscriber</string></AccessList>` +
			`</SetParameterAttributesStruct></ParameterList></cwmp:SetParameterAttributes>`)
	}
	for _, n := range []string{"<Notification></Notification>", "<Notification/>", "<Notification>x</Notification>", "<Notification>9</Notification>"} {
		env, err := decodeString(spa("false", n))
		if err != nil {
			t.Fatalf("%s with NotificationChange false: %v", n, err)
		}
		want := &SetParameterAttributes{ParameterList: []SetParameterAttributesStruct{{
			Name: "Device.DeviceInfo.ProvisioningCode", AccessListChange: true, AccessList: []string{"Subscriber"}}}}
		if !reflect.DeepEqual(env.Body, want) {
			t.Fatalf("%s: %+v", n, env.Body)
		}
	}
	for _, in := range []string{spa("true", "<Notification></Notification>"), spa("false", "")} {
		var de *DecodeError
		if _, err := decodeString(in); !errors.As(err, &de) || de.Code != FaultInvalidArguments || !strings.Contains(de.Field, "Notification") {
			t.Fatalf("got %v, want 9003 for Notification", err)
		}
	}
}
