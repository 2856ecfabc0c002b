package soap_test

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cwmpd/cwmpd/cwmp/soap"
)

func Example() {
	req := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="urn:dslforum-org:cwmp-1-0">
<s:Header><c:ID s:mustUnderstand="1">42</c:ID></s:Header>
<s:Body><c:X_Vendor_Method/></s:Body></s:Envelope>`

	env, err := soap.Decode(strings.NewReader(req), 0)
	reply := soap.Envelope{Version: env.Version, Header: soap.Header{ID: env.Header.ID}}
	var de *soap.DecodeError
	if errors.As(err, &de) {
		reply.Body = de.Fault()
	}
	fmt.Println(err)
	soap.Encode(os.Stdout, &reply)
	// Output:
	// soap: decode X_Vendor_Method: method not supported: {urn:dslforum-org:cwmp-1-0}X_Vendor_Method
	// <?xml version="1.0" encoding="UTF-8"?>
	// <SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:cwmp="urn:dslforum-org:cwmp-1-0">
	//  <SOAP-ENV:Header>
	//   <cwmp:ID SOAP-ENV:mustUnderstand="1">42</cwmp:ID>
	//  </SOAP-ENV:Header>
	//  <SOAP-ENV:Body>
	//   <SOAP-ENV:Fault>
	//    <faultcode>SOAP-ENV:Server</faultcode>
	//    <faultstring>CWMP fault</faultstring>
	//    <detail>
	//     <cwmp:Fault>
	//      <FaultCode>9000</FaultCode>
	//      <FaultString>Method not supported: X_Vendor_Method</FaultString>
	//     </cwmp:Fault>
	//    </detail>
	//   </SOAP-ENV:Fault>
	//  </SOAP-ENV:Body>
	// </SOAP-ENV:Envelope>
}
