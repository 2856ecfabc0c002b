package acsim

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/soap"
)

// schemaChecker validates envelopes with xmllint against the BBF schemas.
// The cwmp XSDs import the SOAP schemas (and each other) by http URL; an
// XML catalog maps those URLs to local files and --nonet keeps xmllint off
// the network. This is the set-up of cwmp/soap's conformance test, pointed
// at the same local SOAP schemas (cwmp/soap/testdata/xsd) at run time.
type schemaChecker struct {
	xmllint string
	bbf     string
	dir     string // temp dir holding the catalog
	catalog string
}

const modulePath = "github.com/cwmpd/cwmpd"

// repoRoot walks up from the working directory to this module's go.mod.
func repoRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module "+modulePath+"\n") {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// newSchemaChecker returns nil (and the reason) when validation is not
// possible and mode allows that.
func newSchemaChecker(cfg *Config) (*schemaChecker, string, error) {
	mode := cfg.Schema
	if mode == "" {
		mode = SchemaAuto
	}
	switch mode {
	case SchemaOff:
		return nil, "schema validation off", nil
	case SchemaAuto, SchemaRequire:
	default:
		return nil, "", fmt.Errorf("acsim: schema mode %q: want auto, off or require", mode)
	}
	unavailable := func(why string) (*schemaChecker, string, error) {
		if mode == SchemaRequire {
			return nil, "", fmt.Errorf("acsim: schema validation required: %s", why)
		}
		return nil, why, nil
	}
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		return unavailable("xmllint not on PATH (apt-get install libxml2-utils)")
	}
	root, haveRoot := repoRoot()
	bbf := cfg.BBFDir
	if bbf == "" {
		bbf = defaultBBFDir()
	}
	soapDir := cfg.SOAPSchemaDir
	if soapDir == "" && haveRoot {
		soapDir = filepath.Join(root, "cwmp", "soap", "testdata", "xsd")
	}
	if bbf == "" || soapDir == "" {
		return unavailable("schema directories unknown (not run inside the repository; set BBFDir and SOAPSchemaDir)")
	}
	if bbf, err = filepath.Abs(bbf); err != nil {
		return nil, "", fmt.Errorf("acsim: schema dir: %w", err)
	}
	if soapDir, err = filepath.Abs(soapDir); err != nil {
		return nil, "", fmt.Errorf("acsim: soap schema dir: %w", err)
	}
	for _, f := range []string{filepath.Join(bbf, "cwmp-1-2.xsd"), filepath.Join(soapDir, "soap-envelope.xsd")} {
		if _, err := os.Stat(f); err != nil {
			return unavailable(fmt.Sprintf("schema file missing: %v", err))
		}
	}
	dir, err := os.MkdirTemp("", "acsim-xsd-")
	if err != nil {
		return nil, "", fmt.Errorf("acsim: schema catalog: %w", err)
	}
	catalog := filepath.Join(dir, "catalog.xml")
	cat := fmt.Sprintf(`<?xml version="1.0"?>
<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">
  <uri name="http://schemas.xmlsoap.org/soap/envelope/" uri="file://%s/soap-envelope.xsd"/>
  <uri name="http://schemas.xmlsoap.org/soap/encoding/" uri="file://%s/soap-encoding.xsd"/>
  <rewriteURI uriStartString="http://www.broadband-forum.org/cwmp/" rewritePrefix="file://%s/"/>
</catalog>
`, soapDir, soapDir, bbf)
	if err := os.WriteFile(catalog, []byte(cat), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, "", fmt.Errorf("acsim: schema catalog: %w", err)
	}
	sc := &schemaChecker{xmllint: xmllint, bbf: bbf, dir: dir, catalog: catalog}
	// Prove every schema compiles now: a broken set-up found mid-session
	// would look like a CPE bug.
	for v := soap.V1_0; v <= soap.V1_4; v++ {
		var buf bytes.Buffer
		if err := soap.Encode(&buf, &soap.Envelope{Version: v, Header: soap.Header{ID: "probe"}, Body: &soap.InformResponse{MaxEnvelopes: 1}}); err != nil {
			sc.close()
			return nil, "", fmt.Errorf("acsim: schema probe: %w", err)
		}
		if errs, err := sc.validate(context.Background(), v, buf.Bytes()); err != nil || len(errs) > 0 {
			sc.close()
			if err == nil {
				err = errors.New(strings.Join(errs, "; "))
			}
			return unavailable(fmt.Sprintf("%s does not accept a valid InformResponse: %v", schemaFile(v), err))
		}
	}
	return sc, "", nil
}

func (sc *schemaChecker) close() {
	if sc != nil {
		os.RemoveAll(sc.dir)
	}
}

// schemaFile names the BBF schema of a protocol version.
func schemaFile(v soap.Version) string {
	if !v.Valid() {
		v = soap.V1_2
	}
	return fmt.Sprintf("cwmp-1-%d.xsd", v-soap.V1_0)
}

// validate returns xmllint's complaints about doc (none when it is valid);
// err is a failure to run the check at all.
func (sc *schemaChecker) validate(ctx context.Context, v soap.Version, doc []byte) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sc.xmllint, "--nonet", "--noout", "--schema", filepath.Join(sc.bbf, schemaFile(v)), "-")
	cmd.Env = append(os.Environ(), "XML_CATALOG_FILES="+sc.catalog)
	cmd.Stdin = bytes.NewReader(doc)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return nil, nil
	case errors.As(err, &ee) && ee.ExitCode() == 3:
		var msgs []string
		sc := bufio.NewScanner(&stderr)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "-:") {
				msgs = append(msgs, "schema "+schemaFile(v)+": "+strings.TrimPrefix(line, "-:"))
			}
		}
		if len(msgs) == 0 {
			msgs = []string{"schema " + schemaFile(v) + ": fails to validate"}
		}
		return msgs, nil
	}
	return nil, fmt.Errorf("acsim: xmllint %s: %v: %s", schemaFile(v), err, strings.TrimSpace(stderr.String()))
}

// defaultBBFDir is $CWMP_BBF_DIR, else ../shared/bbf beside the
// repository ("" when neither is known).
func defaultBBFDir() string {
	if d := os.Getenv("CWMP_BBF_DIR"); d != "" {
		return d
	}
	if root, ok := repoRoot(); ok {
		return filepath.Join(root, "..", "shared", "bbf")
	}
	return ""
}

// SchemaValidator checks CWMP documents with xmllint against the BBF
// schemas, exactly as a strict acsim checks every CPE message: tests of
// other packages use it for what they emit.
type SchemaValidator struct{ sc *schemaChecker }

// NewSchemaValidator fails when xmllint or the schemas are missing
// ($CWMP_BBF_DIR, else ../shared/bbf beside the repository).
func NewSchemaValidator() (*SchemaValidator, error) {
	sc, _, err := newSchemaChecker(&Config{Schema: SchemaRequire})
	if err != nil {
		return nil, err
	}
	return &SchemaValidator{sc: sc}, nil
}

// Validate returns the schema's complaints about doc for version v (none
// when it is valid); err is a failure to run the check at all.
func (sv *SchemaValidator) Validate(ctx context.Context, v soap.Version, doc []byte) ([]string, error) {
	return sv.sc.validate(ctx, v, doc)
}

// Close removes the validator's temporary catalog.
func (sv *SchemaValidator) Close() { sv.sc.close() }
