package datamodel

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite docs/parameters.md")

// TestParameterReferenceIsUpToDate fails when docs/parameters.md is not what
// `cwmpd params doc` writes today.
func TestParameterReferenceIsUpToDate(t *testing.T) {
	var buf bytes.Buffer
	if err := DefaultSchema().WriteReference(&buf, "md"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "docs", "parameters.md")
	if *updateDocs {
		os.WriteFile(path, buf.Bytes(), 0o644)
	}
	committed, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./cwmp/datamodel -update-docs)", err)
	}
	if !bytes.Equal(committed, buf.Bytes()) {
		t.Fatal("docs/parameters.md is out of date: run go test ./cwmp/datamodel -update-docs (or cwmpd params doc > docs/parameters.md)")
	}
	for _, p := range DefaultSchema().Params {
		if !strings.Contains(buf.String(), "`"+p.Path+"`") {
			t.Errorf("%s missing from the reference", p.Path)
		}
	}
	var h bytes.Buffer
	if err := DefaultSchema().WriteReference(&h, "html"); err != nil || !strings.Contains(h.String(), "<table>") {
		t.Fatal("html reference", err)
	}
	if err := DefaultSchema().WriteReference(&h, "pdf"); err == nil {
		t.Fatal("unknown format accepted")
	}
}
