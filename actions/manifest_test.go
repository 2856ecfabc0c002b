package actions

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const exampleManifest = `<?xml version="1.0" encoding="UTF-8"?>
<upgrade version="1" type="links" firmware="7.14.2">
  <config/>
  <links>
    <!-- the system bundle -->
    <link size="12345678" sha256="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08">
      <url>https://example.com/routeros-mipsbe-7.14.2.npk</url>
    </link>
    <link><url>https://example.com/tr069-client-7.14.2-mipsbe.npk</url></link>
  </links>
</upgrade>
`

func TestParseManifestExample(t *testing.T) {
	m, err := ParseManifest([]byte(exampleManifest), DefaultMaxSize)
	if err != nil {
		t.Fatal(err)
	}
	if m.Firmware != "7.14.2" || len(m.Links) != 2 {
		t.Fatalf("%+v", m)
	}
	l := m.Links[0]
	if l.URL != "https://example.com/routeros-mipsbe-7.14.2.npk" || l.Size != 12345678 || l.SHA256 != "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" {
		t.Errorf("link 0 %+v", l)
	}
	if m.Links[1].Size != 0 || m.Links[1].SHA256 != "" {
		t.Errorf("link 1 %+v", m.Links[1])
	}
	if _, err := ParseManifest([]byte("\xef\xbb\xbf"+exampleManifest), DefaultMaxSize); err != nil {
		t.Errorf("with a byte order mark: %v", err)
	}
	// The documented example is this one.
	doc, err := os.ReadFile(filepath.Join("..", "docs", "firmware-manifest.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), exampleManifest) {
		t.Error("docs/firmware-manifest.md does not show the tested example")
	}
}

func TestParseManifestRejects(t *testing.T) {
	link := `<link><url>https://example.com/a.npk</url></link>`
	wrap := func(attrs, body string) string {
		return `<upgrade version="1" type="links"` + attrs + `><links>` + body + `</links></upgrade>`
	}
	many := strings.Repeat("x", 0)
	for i := 0; i <= MaxManifestLinks; i++ {
		many += `<link><url>https://example.com/` + strings.Repeat("a", i+1) + `</url></link>`
	}
	cases := map[string]string{
		"not xml":             "hello",
		"wrong root":          `<firmware version="1" type="links"><links>` + link + `</links></firmware>`,
		"format version":      `<upgrade version="2" type="links"><links>` + link + `</links></upgrade>`,
		"no type":             `<upgrade version="1"><links>` + link + `</links></upgrade>`,
		"unknown attribute":   wrap(` color="red"`, link),
		"no links":            wrap("", ""),
		"ftp":                 wrap("", `<link><url>ftp://example.com/a</url></link>`),
		"file":                wrap("", `<link><url>file:///etc/passwd</url></link>`),
		"relative":            wrap("", `<link><url>/a.npk</url></link>`),
		"credentials":         wrap("", `<link><url>https://u:p@example.com/a</url></link>`),
		"space in url":        wrap("", `<link><url>https://example.com/a b</url></link>`),
		"two urls":            wrap("", `<link><url>https://example.com/a</url><url>https://example.com/b</url></link>`),
		"duplicate":           wrap("", link+link),
		"too many":            wrap("", many),
		"negative size":       wrap("", `<link size="-1"><url>https://example.com/a</url></link>`),
		"size over limit":     wrap("", `<link size="999999999999"><url>https://example.com/a</url></link>`),
		"short sha256":        wrap("", `<link sha256="abcd"><url>https://example.com/a</url></link>`),
		"unknown element":     wrap("", link+`<script/>`),
		"text":                wrap("", link+`surprise`),
		"doctype":             `<!DOCTYPE upgrade [<!ENTITY x "y">]>` + wrap("", link),
		"empty firmware":      wrap(` firmware=""`, link),
		"control in firmware": wrap(` firmware="1&#x1;"`, link),
		"latin1":              `<?xml version="1.0" encoding="ISO-8859-1"?>` + wrap("", link),
		"huge":                wrap("", link+strings.Repeat("<!-- padding -->", MaxManifestSize/10)),
	}
	for name, in := range cases {
		_, err := ParseManifest([]byte(in), 1<<30)
		var f *Fault
		if !errors.As(err, &f) || f.Code != FaultCorrupted {
			t.Errorf("%s: err %v, want a 9018 fault", name, err)
		}
	}
}

func TestIsManifest(t *testing.T) {
	for in, want := range map[string]bool{
		"\xef\xbb\xbf  \n<upgrade": true, "<?xml": true, "\x7fELF": false, "": false, "  ": false, "hsqs": false,
	} {
		if IsManifest([]byte(in)) != want {
			t.Errorf("IsManifest(%q) != %v", in, want)
		}
	}
}

// FuzzParseManifest: never panics; anything accepted obeys the limits.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(exampleManifest))
	f.Add([]byte(`<upgrade version="1" type="links"><links><link><url>http://a/b</url></link></links></upgrade>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data, 1<<20)
		if err != nil {
			var fl *Fault
			if !errors.As(err, &fl) || fl.Code != FaultCorrupted || len(fl.Msg) > 256 {
				t.Fatalf("error %v is not a bounded 9018 fault", err)
			}
			return
		}
		if len(m.Links) == 0 || len(m.Links) > MaxManifestLinks {
			t.Fatalf("%d links accepted", len(m.Links))
		}
		for _, l := range m.Links {
			if !strings.HasPrefix(l.URL, "http://") && !strings.HasPrefix(l.URL, "https://") {
				t.Fatalf("URL %q accepted", l.URL)
			}
			if l.Size < 0 || l.Size > 1<<20 || (l.SHA256 != "" && len(l.SHA256) != 64) {
				t.Fatalf("link %+v accepted", l)
			}
		}
	})
}

// A firmware file that starts with '<' but is far larger than a manifest
// (an HTML error page, a hostile image) is refused as an invalid manifest
// (9018) after reading at most the manifest limit, not the whole file.
func TestManifestOfLargeFileReadsOnlyTheLimit(t *testing.T) {
	f := newFix(t)
	name := filepath.Join(t.TempDir(), "fw")
	file, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	file.WriteString("<html>")
	if err := file.Truncate(64 << 20); err != nil { // sparse: cheap on disk
		t.Fatal(err)
	}
	file.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = f.runner().manifestOf(name)
	runtime.ReadMemStats(&after)
	var flt *Fault
	if !errors.As(err, &flt) || flt.Code != FaultCorrupted || !strings.Contains(flt.Msg, "larger than") {
		t.Errorf("err %v, want 9018 larger than the limit", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("manifestOf allocated %d KiB for a 64 MiB file", alloc>>10)
	}
}
