package soap

// The schema's string patterns (cwmp-1-2.xsd), referenced by `pat=` tags,
// matched by hand: every Inform checks its OUI and each EventCode, and
// running a regular expression engine for that is a large piece of code and
// data touched once per session. FuzzPatternsMatchRegexps holds each
// matcher to the regular expression it replaces, kept in the test.
var patterns = map[string]func(string) bool{
	"oui":        isHex6,
	"objpath":    isObjectPath,
	"eventcode":  isEventCode,
	"filetype":   isFileType,
	"windowmode": isWindowMode,
}

// isHex6 is ^[0-9A-F]{6}$.
func isHex6(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

// isObjectPath is ^(?s).*\.$.
func isObjectPath(s string) bool { return len(s) > 0 && s[len(s)-1] == '.' }

// isEventCode is ^(?:[0-9]+( [^ \t\r\n]+)+|M [^ \t\r\n]+|X [^ \t\r\n]+ .+)$.
func isEventCode(s string) bool {
	switch {
	case len(s) > 0 && s[0] >= '0' && s[0] <= '9':
		return numberedWords(s, '0')
	case len(s) > 2 && s[:2] == "M ":
		return isWord(s[2:])
	case len(s) > 2 && s[:2] == "X ":
		return vendorWordThenText(s[2:])
	}
	return false
}

// isFileType is ^(?:[1-9][0-9]*( [^ \t\r\n]+)+|X [^ \t\r\n]+ .+)$.
func isFileType(s string) bool {
	if len(s) > 2 && s[:2] == "X " {
		return vendorWordThenText(s[2:])
	}
	return numberedWords(s, '1')
}

// isWindowMode is ^(?:[1-9][0-9]*( [^ \t\r\n]+)+|X [0-9A-F]{6} .+)$.
func isWindowMode(s string) bool {
	if len(s) > 2 && s[:2] == "X " {
		return len(s) > 9 && isHex6(s[2:8]) && s[8] == ' ' && isText(s[9:])
	}
	return numberedWords(s, '1')
}

// numberedWords is [first-9][0-9]*( [^ \t\r\n]+)+.
func numberedWords(s string, first byte) bool {
	if len(s) == 0 || s[0] < first || s[0] > '9' {
		return false
	}
	i := 1
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return spacedWords(s[i:])
}

// spacedWords is ( [^ \t\r\n]+)+: words each after exactly one space.
func spacedWords(s string) bool {
	if len(s) == 0 || s[0] != ' ' {
		return false
	}
	afterSpace := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\t', '\r', '\n':
			return false
		case ' ':
			if afterSpace {
				return false
			}
			afterSpace = true
		default:
			afterSpace = false
		}
	}
	return !afterSpace
}

// isWord is [^ \t\r\n]+. Bytes of multi-byte (or invalid) UTF-8 are never
// one of the four, so a byte test is the rune test.
func isWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if isSpaceByte(s[i]) {
			return false
		}
	}
	return len(s) > 0
}

// vendorWordThenText is [^ \t\r\n]+ .+: the word ends at the first of the
// four, which must be a space followed by text.
func vendorWordThenText(s string) bool {
	i := 0
	for i < len(s) && !isSpaceByte(s[i]) {
		i++
	}
	return i > 0 && i < len(s) && s[i] == ' ' && isText(s[i+1:])
}

// isText is .+ without (?s): anything but a newline, at least one rune.
func isText(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return false
		}
	}
	return len(s) > 0
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
