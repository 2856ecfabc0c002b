package actions

import (
	"bytes"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// Limits of a firmware manifest (docs/firmware-manifest.md).
const (
	MaxManifestSize    = 64 << 10 // bytes of the manifest itself
	MaxManifestLinks   = 16       // packages in one upgrade
	maxManifestURL     = 1024     // bytes of one link URL
	maxManifestVersion = 64       // bytes of the firmware attribute
)

// Manifest is a multi-package firmware upgrade: the files to fetch and
// install together, and the firmware version they make.
type Manifest struct {
	// Firmware is the software version after the upgrade; "" when the
	// manifest does not say.
	Firmware string
	Links    []ManifestLink
}

// ManifestLink is one package to download.
type ManifestLink struct {
	URL    string
	Size   int64  // 0: not given
	SHA256 string // lower-case hex; "": not given
}

// IsManifest reports whether a downloaded "1 Firmware Upgrade Image" is an
// XML manifest rather than an image: its first byte after an optional
// UTF-8 byte order mark and white space is '<'. No firmware image format
// cwmpd knows starts with '<'.
func IsManifest(head []byte) bool {
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	head = bytes.TrimLeft(head, " \t\r\n")
	return len(head) > 0 && head[0] == '<'
}

// ParseManifest validates and reads a manifest. Every file must be at most
// maxFile bytes (when the link gives a size). Any deviation from the format
// is a *Fault 9018 (file corrupted): the ACS gave a file the CPE cannot use.
func ParseManifest(data []byte, maxFile int64) (*Manifest, error) {
	m, err := parseManifest(data, maxFile)
	if err != nil {
		return nil, &Fault{Code: FaultCorrupted, Msg: truncateFault("invalid firmware manifest: " + err.Error()), Err: err}
	}
	return m, nil
}

func parseManifest(data []byte, maxFile int64) (*Manifest, error) {
	if len(data) > MaxManifestSize {
		return nil, fmt.Errorf("larger than %d bytes", MaxManifestSize)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("not UTF-8")
	}
	if err := wellFormed(data); err != nil {
		return nil, fmt.Errorf("not well-formed XML: %v", err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, fmt.Errorf("not well-formed XML: %v", err)
	}
	for _, tok := range doc.Child {
		switch t := tok.(type) {
		case *etree.Directive:
			return nil, fmt.Errorf("DTD or directive not allowed")
		case *etree.ProcInst:
			if t.Target != "xml" {
				return nil, fmt.Errorf("processing instruction %q not allowed", t.Target)
			}
			if enc := procInstAttr(t.Inst, "encoding"); enc != "" && !strings.EqualFold(enc, "utf-8") {
				return nil, fmt.Errorf("encoding %q: only UTF-8", enc)
			}
		}
	}
	root := doc.Root()
	if root == nil || root.Space != "" || root.Tag != "upgrade" {
		return nil, fmt.Errorf("root element must be <upgrade>")
	}
	m := &Manifest{}
	for _, a := range root.Attr {
		switch {
		case a.Space != "":
			return nil, fmt.Errorf("attribute %s:%s not allowed on <upgrade>", a.Space, a.Key)
		case a.Key == "version":
			if a.Value != "1" {
				return nil, fmt.Errorf("format version %q: only \"1\"", a.Value)
			}
		case a.Key == "type":
			if a.Value != "links" {
				return nil, fmt.Errorf("type %q: only \"links\"", a.Value)
			}
		case a.Key == "firmware":
			if err := checkVersion(a.Value); err != nil {
				return nil, err
			}
			m.Firmware = a.Value
		default:
			return nil, fmt.Errorf("unknown attribute %q on <upgrade>", a.Key)
		}
	}
	if root.SelectAttr("version") == nil || root.SelectAttr("type") == nil {
		return nil, fmt.Errorf("<upgrade> needs version=\"1\" and type=\"links\"")
	}
	if err := onlyElements(root); err != nil {
		return nil, err
	}
	seenLinks := false
	for _, el := range root.ChildElements() {
		switch {
		case el.Space == "" && el.Tag == "config":
			if len(el.Child) != 0 || len(el.Attr) != 0 {
				return nil, fmt.Errorf("<config> must be empty")
			}
		case el.Space == "" && el.Tag == "links":
			if seenLinks {
				return nil, fmt.Errorf("more than one <links>")
			}
			seenLinks = true
			if len(el.Attr) != 0 {
				return nil, fmt.Errorf("<links> takes no attributes")
			}
			if err := onlyElements(el); err != nil {
				return nil, err
			}
			for _, l := range el.ChildElements() {
				link, err := parseLink(l, maxFile)
				if err != nil {
					return nil, fmt.Errorf("link %d: %w", len(m.Links)+1, err)
				}
				for _, prev := range m.Links {
					if prev.URL == link.URL {
						return nil, fmt.Errorf("link %d: URL listed twice", len(m.Links)+1)
					}
				}
				m.Links = append(m.Links, link)
				if len(m.Links) > MaxManifestLinks {
					return nil, fmt.Errorf("more than %d links", MaxManifestLinks)
				}
			}
		default:
			return nil, fmt.Errorf("unknown element <%s> in <upgrade>", el.FullTag())
		}
	}
	if len(m.Links) == 0 {
		return nil, fmt.Errorf("no <link>")
	}
	return m, nil
}

func parseLink(l *etree.Element, maxFile int64) (ManifestLink, error) {
	var link ManifestLink
	if l.Space != "" || l.Tag != "link" {
		return link, fmt.Errorf("unknown element <%s> in <links>", l.FullTag())
	}
	for _, a := range l.Attr {
		switch {
		case a.Space != "":
			return link, fmt.Errorf("attribute %s:%s not allowed", a.Space, a.Key)
		case a.Key == "size":
			n, err := strconv.ParseInt(a.Value, 10, 64)
			if err != nil || n <= 0 || a.Value[0] == '+' {
				return link, fmt.Errorf("size %q is not a positive number", a.Value)
			}
			if n > maxFile {
				return link, fmt.Errorf("size %d exceeds the limit of %d bytes", n, maxFile)
			}
			link.Size = n
		case a.Key == "sha256":
			b, err := hex.DecodeString(a.Value)
			if err != nil || len(b) != 32 {
				return link, fmt.Errorf("sha256 must be 64 hex digits")
			}
			link.SHA256 = strings.ToLower(a.Value)
		default:
			return link, fmt.Errorf("unknown attribute %q on <link>", a.Key)
		}
	}
	if err := onlyElements(l); err != nil {
		return link, err
	}
	kids := l.ChildElements()
	if len(kids) != 1 || kids[0].Space != "" || kids[0].Tag != "url" || len(kids[0].Attr) != 0 {
		return link, fmt.Errorf("<link> must hold exactly one <url>")
	}
	for _, c := range kids[0].Child {
		switch c.(type) {
		case *etree.CharData, *etree.Comment:
		default:
			return link, fmt.Errorf("<url> must hold text only")
		}
	}
	raw := strings.TrimSpace(kids[0].Text())
	if len(raw) == 0 || len(raw) > maxManifestURL {
		return link, fmt.Errorf("URL empty or longer than %d bytes", maxManifestURL)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return link, fmt.Errorf("URL %q: only absolute http:// and https:// URLs", redactURL(raw))
	}
	if u.User != nil {
		return link, fmt.Errorf("URL %q: credentials in the URL are not allowed", redactURL(raw))
	}
	for _, r := range raw {
		if r <= ' ' || r == 0x7f {
			return link, fmt.Errorf("URL contains white space or control characters")
		}
	}
	link.URL = raw
	return link, nil
}

// onlyElements refuses text (other than white space) mixed among child
// elements, and anything but elements and comments.
func onlyElements(e *etree.Element) error {
	for _, c := range e.Child {
		switch t := c.(type) {
		case *etree.Element, *etree.Comment:
		case *etree.CharData:
			if strings.TrimSpace(t.Data) != "" {
				return fmt.Errorf("unexpected text in <%s>", e.FullTag())
			}
		default:
			return fmt.Errorf("unexpected content in <%s>", e.FullTag())
		}
	}
	return nil
}

func checkVersion(v string) error {
	if v == "" || len(v) > maxManifestVersion {
		return fmt.Errorf("firmware version empty or longer than %d bytes", maxManifestVersion)
	}
	for _, r := range v {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("firmware version has a control character")
		}
	}
	return nil
}

// wellFormed reads every token with the strict decoder: one root
// element, only white space, comments and the declaration around it.
// (etree's own ValidateInput refuses a newline after the root.)
func wellFormed(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = func(charset string, r io.Reader) (io.Reader, error) {
		return nil, fmt.Errorf("encoding %q: only UTF-8", charset)
	}
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return fmt.Errorf("text outside the root element")
			}
		}
	}
	if roots != 1 {
		return fmt.Errorf("%d root elements", roots)
	}
	return nil
}

// procInstAttr reads a pseudo-attribute of an <?xml …?> declaration.
func procInstAttr(inst, name string) string {
	i := strings.Index(inst, name+"=")
	if i < 0 || len(inst) <= i+len(name)+1 {
		return ""
	}
	rest := inst[i+len(name)+1:]
	q := rest[0]
	if q != '"' && q != '\'' {
		return ""
	}
	end := strings.IndexByte(rest[1:], q)
	if end < 0 {
		return ""
	}
	return rest[1 : 1+end]
}
