package soap

import (
	"regexp"
	"sort"
	"testing"
)

// schemaRegexps are the schema's patterns (cwmp-1-2.xsd) as regular
// expressions, the reference the hand matchers in patterns.go must agree
// with on every string.
var schemaRegexps = map[string]*regexp.Regexp{
	"oui":        regexp.MustCompile(`^[0-9A-F]{6}$`),
	"objpath":    regexp.MustCompile(`^(?s).*\.$`),
	"eventcode":  regexp.MustCompile(`^(?:[0-9]+( [^ \t\r\n]+)+|M [^ \t\r\n]+|X [^ \t\r\n]+ .+)$`),
	"filetype":   regexp.MustCompile(`^(?:[1-9][0-9]*( [^ \t\r\n]+)+|X [^ \t\r\n]+ .+)$`),
	"windowmode": regexp.MustCompile(`^(?:[1-9][0-9]*( [^ \t\r\n]+)+|X [0-9A-F]{6} .+)$`),
}

func patternNames() []string {
	names := make([]string, 0, len(schemaRegexps))
	for n := range schemaRegexps {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func TestPatternsAreTheSchemaRegexps(t *testing.T) {
	if len(patterns) != len(schemaRegexps) {
		t.Fatalf("%d matchers for %d schema patterns", len(patterns), len(schemaRegexps))
	}
	cases := []string{
		"", " ", ".", "a.", "Device.", "Device.\n.", "Device",
		"0BOOTSTRAP", "0 BOOTSTRAP", "1 BOOT", "10 AUTONOMOUS TRANSFER COMPLETE", "6 CONNECTION REQUEST",
		"1  BOOT", "1 BOOT ", "1 BOOT\t", " 1 BOOT", "1\tBOOT", "1 BO\rOT", "12", "1 ",
		"M Reboot", "M Download", "M ", "M  Reboot", "M Re boot", "M Re\nboot", "m Reboot",
		"X 00256D Vendor", "X 00256D Vendor event", "X 00256D", "X 00256D ", "X  00256D x", "X 00256D\tx",
		"X 00256D \n", "X 00256D x\ny", "X 00256D \r", "X ab cd", "X 00256d x",
		"1 Firmware Upgrade Image", "0 Firmware", "01 Firmware", "2 Web Content", "3 Vendor Configuration File",
		"X 00256D Tarball", "X 00256D  x", "X 00256DX x",
		"1 Immediately", "2 At Any Time", "X 00256D Mine", "X 00256d Mine", "X 00256D", "X 0025 Mine",
		"00256D", "00256d", "00256", "00256DD", "0025 6", "GGGGGG",
		"1 \xff", "M \xff\xfe", "X \xff \xfe", "1 é", "X é x", "X 00256D \xff",
	}
	for _, name := range patternNames() {
		for _, s := range cases {
			if got, want := patterns[name](s), schemaRegexps[name].MatchString(s); got != want {
				t.Errorf("%s(%q) = %v, the schema's regexp says %v", name, s, got, want)
			}
		}
	}
}

// FuzzPatternsMatchRegexps: on any string, each hand matcher says what its
// regular expression says.
func FuzzPatternsMatchRegexps(f *testing.F) {
	f.Add(uint8(0), "1 BOOT")
	f.Add(uint8(1), "X 00256D Vendor event")
	f.Add(uint8(2), "M Reboot")
	f.Add(uint8(3), "Device.IP.")
	f.Add(uint8(4), "00256D")
	names := patternNames()
	f.Fuzz(func(t *testing.T, which uint8, s string) {
		name := names[int(which)%len(names)]
		if got, want := patterns[name](s), schemaRegexps[name].MatchString(s); got != want {
			t.Fatalf("%s(%q) = %v, the schema's regexp says %v", name, s, got, want)
		}
	})
}
