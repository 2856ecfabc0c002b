package datamodel

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// bbfDir is where the official BBF files are: $CWMP_BBF_DIR, or the
// shared directory beside the repository.
func bbfDir(t *testing.T) string {
	if d := os.Getenv("CWMP_BBF_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "bbf")
}

type bbfSyntax struct {
	Inner    []byte    `xml:",innerxml"`
	List     *struct{} `xml:"list"`
	DataType *struct {
		Ref string `xml:"ref,attr"`
	} `xml:"dataType"`
	String *struct {
		Size []struct {
			Max int `xml:"maxLength,attr"`
		} `xml:"size"`
		Enum []struct {
			Value string `xml:"value,attr"`
		} `xml:"enumeration"`
	} `xml:"string"`
}

type bbfParam struct {
	Name         string    `xml:"name,attr"`
	Access       string    `xml:"access,attr"`
	ActiveNotify string    `xml:"activeNotify,attr"`
	ForcedInform bool      `xml:"forcedInform,attr"`
	Syntax       bbfSyntax `xml:"syntax"`
}

type bbfObject struct {
	Name   string     `xml:"name,attr"`
	Access string     `xml:"access,attr"`
	Params []bbfParam `xml:"parameter"`
}

type bbfDataType struct {
	Name  string `xml:"name,attr"`
	Base  string `xml:"base,attr"`
	Inner []byte `xml:",innerxml"`
}

type bbfDoc struct {
	DataTypes []bbfDataType `xml:"dataType"`
	Model     struct {
		Name    string      `xml:"name,attr"`
		Objects []bbfObject `xml:"object"`
	} `xml:"model"`
}

var baseTypes = []string{"string", "unsignedInt", "int", "unsignedLong", "long", "boolean", "dateTime", "base64", "hexBinary"}

// firstBaseType finds the base type element in a syntax or dataType body.
func firstBaseType(inner []byte) string {
	dec := xml.NewDecoder(strings.NewReader(string(inner)))
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				for _, b := range baseTypes {
					if el.Name.Local == b {
						return b
					}
				}
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
}

func loadTR181(t *testing.T, file string) (map[string]bbfParam, map[string]bbfObject, map[string]string) {
	t.Helper()
	path := filepath.Join(bbfDir(t), file)
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		t.Skipf("BBF data model %s not present (set CWMP_BBF_DIR): conformance not checked here", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var doc bbfDoc
	if err := xml.NewDecoder(f).Decode(&doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	dtBase := map[string]bbfDataType{}
	for _, d := range doc.DataTypes {
		dtBase[d.Name] = d
	}
	resolve := func(ref string) string {
		for i := 0; i < 10 && ref != ""; i++ {
			d, ok := dtBase[ref]
			if !ok {
				return ""
			}
			if b := firstBaseType(d.Inner); b != "" {
				return b
			}
			ref = d.Base
		}
		return ""
	}
	params := map[string]bbfParam{}
	types := map[string]string{}
	objects := map[string]bbfObject{}
	for _, o := range doc.Model.Objects {
		objects[o.Name] = o
		for _, p := range o.Params {
			full := o.Name + p.Name
			params[full] = p
			typ := firstBaseType(p.Syntax.Inner)
			if typ == "" && p.Syntax.DataType != nil {
				typ = resolve(p.Syntax.DataType.Ref)
			}
			types[full] = typ
		}
	}
	if len(params) < 1000 {
		t.Fatalf("%s: only %d parameters parsed", path, len(params))
	}
	return params, objects, types
}

func isVendor(path string) bool { return strings.Contains(path, ".X_") }

// TestSchemaMatchesTR181 checks every parameter and object we expose
// against TR-181 Issue 2 Amendment 11: it exists, has the same base type,
// the same access (or a documented read-only restriction), the same
// forced-inform flag and the same activeNotify rule.
func TestSchemaMatchesTR181(t *testing.T) {
	params, objects, types := loadTR181(t, "tr-181-2-11-0-full.xml")
	s := DefaultSchema()
	for _, p := range s.Params {
		if isVendor(p.Path) {
			continue
		}
		def, ok := params[p.Path]
		if !ok {
			t.Errorf("%s: not defined by TR-181 2.11", p.Path)
			continue
		}
		if got := types[p.Path]; got != string(p.Type) {
			t.Errorf("%s: type %s, TR-181 says %s", p.Path, p.Type, got)
		}
		access := "readOnly"
		if p.Write {
			access = "readWrite"
		}
		switch {
		case access == def.Access:
			if p.Restricted != "" {
				t.Errorf("%s: marked restricted but access matches TR-181", p.Path)
			}
		case access == "readOnly" && def.Access == "readWrite" && p.Restricted != "":
			// A documented restriction.
		default:
			t.Errorf("%s: access %s, TR-181 says %s", p.Path, access, def.Access)
		}
		if def.ForcedInform != p.ForcedInform {
			t.Errorf("%s: forcedInform %v, TR-181 says %v", p.Path, p.ForcedInform, def.ForcedInform)
		}
		want := Notify(def.ActiveNotify)
		if want == "" {
			want = NotifyNormal
		}
		got := p.Notify
		if got == "" {
			got = NotifyNormal
		}
		if got != want {
			t.Errorf("%s: activeNotify %s, TR-181 says %s", p.Path, got, want)
		}
		if (def.Syntax.List != nil) != p.List {
			t.Errorf("%s: list %v, TR-181 says %v", p.Path, p.List, def.Syntax.List != nil)
		}
		if def.Syntax.String != nil && len(def.Syntax.String.Size) > 0 && p.MaxLen != def.Syntax.String.Size[0].Max && !p.List {
			t.Errorf("%s: maxLength %d, TR-181 says %d", p.Path, p.MaxLen, def.Syntax.String.Size[0].Max)
		}
		if def.Syntax.String != nil {
			allowed := map[string]bool{}
			for _, e := range def.Syntax.String.Enum {
				allowed[e.Value] = true
			}
			for _, e := range p.Enum {
				if !allowed[e] {
					t.Errorf("%s: enumeration value %q not in TR-181", p.Path, e)
				}
			}
		}
	}
	for _, o := range s.Objects {
		if isVendor(o.Path) || o.Path == "Device." {
			continue
		}
		if _, isTable := s.Object(o.Path + "{i}."); isTable {
			continue // "Device.Users.User." names the table itself in GPN; TR-181 defines its rows
		}
		def, ok := objects[o.Path]
		if !ok {
			t.Errorf("object %s: not defined by TR-181 2.11", o.Path)
			continue
		}
		if o.MultiInstance != IsTableInstance(def.Name) {
			t.Errorf("object %s: multi-instance mismatch", o.Path)
		}
		access := "readOnly"
		if o.Write {
			access = "readWrite"
		}
		if access != def.Access && !(access == "readOnly" && o.Restricted != "") {
			t.Errorf("object %s: access %s, TR-181 says %s", o.Path, access, def.Access)
		}
		if o.CountParam != "" {
			if _, ok := params[o.CountParam]; !ok {
				t.Errorf("object %s: count parameter %s not in TR-181", o.Path, o.CountParam)
			}
		}
	}
}

// TestForcedInformSetIsComplete: every forcedInform parameter of TR-181 is
// one we expose (the Inform must carry all of them, digest §7).
func TestForcedInformSetIsComplete(t *testing.T) {
	params, _, _ := loadTR181(t, "tr-181-2-11-0-full.xml")
	s := DefaultSchema()
	for name, p := range params {
		if p.ForcedInform {
			if _, ok := s.Param(name); !ok {
				t.Errorf("forced-inform parameter %s not exposed", name)
			}
		}
	}
}

// TestConformanceCatchesAMismatch proves the check can fail.
func TestConformanceCatchesAMismatch(t *testing.T) {
	params, _, types := loadTR181(t, "tr-181-2-11-0-full.xml")
	if types["Device.DeviceInfo.UpTime"] != "unsignedInt" || params["Device.DeviceInfo.UpTime"].Access != "readOnly" {
		t.Fatal("parser does not see UpTime as a read-only unsignedInt")
	}
	if types["Device.IP.Interface.{i}.IPv4Address.{i}.IPAddress"] != "string" {
		t.Fatalf("dataType chain not resolved: %q", types["Device.IP.Interface.{i}.IPv4Address.{i}.IPAddress"])
	}
	if _, ok := params["Device.DeviceInfo.NoSuchThing"]; ok {
		t.Fatal("phantom parameter")
	}
}
