package soap

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// validator runs xmllint against the BBF schemas. The cwmp XSDs import the
// SOAP envelope/encoding schemas (and each other, for 1-3/1-4) by http URL;
// an XML catalog generated per test maps those URLs to the local schemas in
// testdata/xsd and to $CWMP_BBF_DIR, and --nonet makes sure nothing is
// fetched.
type validator struct {
	bbf     string
	catalog string
	xmllint string
}

func newValidator(t *testing.T) *validator {
	t.Helper()
	bbf := os.Getenv("CWMP_BBF_DIR")
	if bbf == "" {
		bbf = filepath.Join("..", "..", "..", "shared", "bbf")
	}
	bbf, err := filepath.Abs(bbf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(bbf, "cwmp-1-2.xsd")); err != nil {
		t.Skipf("BBF schemas not found in %s (set CWMP_BBF_DIR): conformance not checked", bbf)
	}
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatal("xmllint not found: apt-get install libxml2-utils")
	}
	xsd, err := filepath.Abs(filepath.Join("testdata", "xsd"))
	if err != nil {
		t.Fatal(err)
	}
	catalog := filepath.Join(t.TempDir(), "catalog.xml")
	cat := fmt.Sprintf(`<?xml version="1.0"?>
<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">
  <uri name="http://schemas.xmlsoap.org/soap/envelope/" uri="file://%s/soap-envelope.xsd"/>
  <uri name="http://schemas.xmlsoap.org/soap/encoding/" uri="file://%s/soap-encoding.xsd"/>
  <rewriteURI uriStartString="http://www.broadband-forum.org/cwmp/" rewritePrefix="file://%s/"/>
</catalog>
`, xsd, xsd, bbf)
	if err := os.WriteFile(catalog, []byte(cat), 0o644); err != nil {
		t.Fatal(err)
	}
	return &validator{bbf: bbf, catalog: catalog, xmllint: xmllint}
}

// validate runs xmllint once over files and returns the files that failed
// with xmllint's messages. A schema that does not compile is fatal: then
// nothing was checked.
func (v *validator) validate(t *testing.T, schema string, files []string) map[string]string {
	t.Helper()
	args := append([]string{"--nonet", "--noout", "--schema", filepath.Join(v.bbf, schema)}, files...)
	cmd := exec.Command(v.xmllint, args...)
	cmd.Env = append(os.Environ(), "XML_CATALOG_FILES="+v.catalog)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	out := stderr.String()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("xmllint: %v", err)
	}
	if strings.Contains(out, "failed to compile") || (ee != nil && ee.ExitCode() != 3) {
		t.Fatalf("xmllint could not load %s (exit %v):\n%s", schema, err, out)
	}
	failed := map[string]string{}
	for _, f := range files {
		switch {
		case strings.Contains(out, f+" validates"):
		case strings.Contains(out, f+" fails to validate"):
			var msgs []string
			for _, line := range strings.Split(out, "\n") {
				if strings.HasPrefix(line, f+":") {
					msgs = append(msgs, line)
				}
			}
			failed[f] = strings.Join(msgs, "\n")
		default:
			t.Fatalf("xmllint said nothing about %s:\n%s", f, out)
		}
	}
	return failed
}

// TestConformance validates every sample envelope against the schema of the
// version it claims. All CPE-emitted messages and faults are in samples();
// the ACS-side ones are validated too, which checks the encoder used to
// build the round-trip inputs.
func TestConformance(t *testing.T) {
	v := newValidator(t)
	dir := t.TempDir()
	bySchema := map[string][]string{}
	cpe := 0
	for _, s := range samples() {
		out := encodeSample(t, s.env)
		f := filepath.Join(dir, s.name+".xml")
		if err := os.WriteFile(f, out, 0o644); err != nil {
			t.Fatal(err)
		}
		checkArrayTypes(t, s.name, out)
		bySchema[schemaFile(s.env)] = append(bySchema[schemaFile(s.env)], f)
		if s.cpe {
			cpe++
		}
	}
	// The streaming encoder with many items and awkward content.
	var big bytes.Buffer
	if err := EncodeGetParameterValuesResponse(&big, V1_2, &Header{ID: "big"}, Slice(manyParams(500))); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "GPV_500.xml")
	os.WriteFile(f, big.Bytes(), 0o644)
	checkArrayTypes(t, "GPV_500", big.Bytes())
	bySchema["cwmp-1-2.xsd"] = append(bySchema["cwmp-1-2.xsd"], f)

	schemas := make([]string, 0, len(bySchema))
	for s := range bySchema {
		schemas = append(schemas, s)
	}
	sort.Strings(schemas)
	total := 0
	for _, schema := range schemas {
		files := bySchema[schema]
		total += len(files)
		for f, msg := range v.validate(t, schema, files) {
			t.Errorf("%s does not validate against %s:\n%s", filepath.Base(f), schema, msg)
		}
	}
	t.Logf("%d envelopes (%d CPE-emitted) validated against %d schemas", total, cpe, len(schemas))
}

// TestConformanceRejects proves the check has teeth: small mutations of
// valid envelopes must fail validation.
func TestConformanceRejects(t *testing.T) {
	v := newValidator(t)
	golden := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", "golden", name+".xml"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	inform := golden("Inform_noEvents")
	tc := golden("TransferComplete")
	gpv := golden("GetParameterValuesResponse")
	fault := golden("Fault_SetParameterValues")
	swap := func(s, a, b string) string {
		i, j := strings.Index(s, a), strings.Index(s, b)
		if i < 0 || j < i+len(a) {
			t.Fatalf("cannot swap %q and %q", a, b)
		}
		return s[:i] + b + s[i+len(a):j] + a + s[j+len(b):]
	}
	mutations := []struct{ name, doc string }{
		{"wrong argument name", strings.Replace(inform, "<MaxEnvelopes>1</MaxEnvelopes>", "<MaxEnvelope>1</MaxEnvelope>", 1)},
		{"wrong method name", strings.ReplaceAll(inform, "cwmp:Inform>", "cwmp:Informm>")},
		{"arguments out of order", swap(tc, "<CommandKey>dl-1</CommandKey>", "<StartTime>2026-11-22T01:02:03Z</StartTime>")},
		{"missing argument", strings.Replace(inform, "<RetryCount>1</RetryCount>", "", 1)},
		{"arrayType missing", strings.Replace(gpv, ` SOAP-ENC:arrayType="cwmp:ParameterValueStruct[3]"`, "", 1)},
		{"arrayType malformed", strings.Replace(gpv, `cwmp:ParameterValueStruct[3]`, `ParameterValueStruct`, 1)},
		{"bad OUI", strings.Replace(inform, "<OUI>00AB1F</OUI>", "<OUI>00ab1f</OUI>", 1)},
		{"bad fault code", strings.Replace(fault, "<FaultCode>9007</FaultCode>", "<FaultCode>7</FaultCode>", 1)},
		{"ID without mustUnderstand", strings.Replace(gpv, ` SOAP-ENV:mustUnderstand="1"`, "", 1)},
		{"not a 1.2 header", strings.Replace(gpv, "<cwmp:ID SOAP-ENV:mustUnderstand=\"1\">1234</cwmp:ID>",
			`<cwmp:SessionTimeout SOAP-ENV:mustUnderstand="0">30</cwmp:SessionTimeout>`, 1)},
	}
	dir := t.TempDir()
	var files []string
	names := map[string]string{}
	for i, m := range mutations {
		f := filepath.Join(dir, "m"+strconv.Itoa(i)+".xml")
		if err := os.WriteFile(f, []byte(m.doc), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		names[f] = m.name
	}
	failed := v.validate(t, "cwmp-1-2.xsd", files)
	for _, f := range files {
		if _, ok := failed[f]; !ok {
			t.Errorf("mutation %q was accepted by xmllint", names[f])
		}
	}
	// And the unmutated originals pass, so the failures above are the
	// mutations' doing.
	var orig []string
	for i, doc := range []string{inform, tc, gpv, fault} {
		f := filepath.Join(dir, "orig"+strconv.Itoa(i)+".xml")
		os.WriteFile(f, []byte(doc), 0o644)
		orig = append(orig, f)
	}
	for f, msg := range v.validate(t, "cwmp-1-2.xsd", orig) {
		t.Errorf("original %s does not validate: %s", f, msg)
	}
}

var arrayTypeRE = regexp.MustCompile(`\[(\d+)\]$`)

// checkArrayTypes checks what the schema cannot: every SOAP-ENC:arrayType
// count equals the number of items, and the item element matches the type.
func checkArrayTypes(t *testing.T, name string, doc []byte) {
	t.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for _, el := range d.FindElements("//*[@SOAP-ENC:arrayType]") {
		at := el.SelectAttrValue("SOAP-ENC:arrayType", "")
		m := arrayTypeRE.FindStringSubmatch(at)
		if m == nil {
			t.Errorf("%s: %s arrayType %q has no count", name, el.Tag, at)
			continue
		}
		n, _ := strconv.Atoi(m[1])
		kids := el.ChildElements()
		if len(kids) != n {
			t.Errorf("%s: %s arrayType %q but %d items", name, el.Tag, at, len(kids))
		}
		_, itemType, _ := strings.Cut(strings.TrimSuffix(at, m[0]), ":")
		for _, k := range kids {
			if k.Tag != itemType {
				t.Errorf("%s: %s item <%s> in a %s array", name, el.Tag, k.Tag, at)
			}
		}
	}
}
