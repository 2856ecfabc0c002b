package event

import (
	"time"
)

// A fast path for the events every session writes (SessionStarted,
// InformAccepted, SessionSucceeded, SessionFailed, PeriodicInformDue):
// replay decodes millions of them and encoding/json's reflection is most of
// its cost. The fast path accepts exactly the compact form json.Marshal
// writes for these structs — known fields in order, no white space, no
// escapes, times in UTC — and gives up (falling back to encoding/json) on
// anything else, so a journal imported from elsewhere decodes the same.
// FuzzFastDecodeMatchesJSON checks that whenever it succeeds, it agrees
// with encoding/json.

type lexer struct {
	b []byte
	i int
}

func (l *lexer) lit(s string) bool {
	if len(l.b)-l.i < len(s) || string(l.b[l.i:l.i+len(s)]) != s {
		return false
	}
	l.i += len(s)
	return true
}

func (l *lexer) peek(c byte) bool { return l.i < len(l.b) && l.b[l.i] == c }

// str reads a string without escapes or control characters.
func (l *lexer) str() (string, bool) {
	if !l.peek('"') {
		return "", false
	}
	start := l.i + 1
	for j := start; j < len(l.b); j++ {
		c := l.b[j]
		switch {
		case c == '"':
			l.i = j + 1
			return string(l.b[start:j]), true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return "", false // escapes and non-ASCII: leave them to encoding/json
		}
	}
	return "", false
}

func (l *lexer) uint() (uint64, bool) {
	start := l.i
	var n uint64
	for l.i < len(l.b) && l.b[l.i] >= '0' && l.b[l.i] <= '9' {
		d := uint64(l.b[l.i] - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
		l.i++
	}
	if l.i == start || l.i-start > 1 && l.b[start] == '0' {
		return 0, false
	}
	return n, true
}

func (l *lexer) int() (int64, bool) {
	neg := l.lit("-")
	n, ok := l.uint()
	if !ok || n > 1<<63-1 {
		return 0, false
	}
	if neg {
		if n == 0 {
			return 0, false
		}
		return -int64(n), true
	}
	return int64(n), true
}

func (l *lexer) time() (time.Time, bool) {
	s, ok := l.str()
	if !ok || len(s) < 20 || s[len(s)-1] != 'Z' {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

func (l *lexer) end() bool { return l.lit("}") && l.i == len(l.b) }

// events reads [{"code":"…"[,"ck":"…"]},…] or null.
func (l *lexer) events() ([]InformEvent, bool) {
	if l.lit("null") {
		return nil, true
	}
	if !l.lit("[") {
		return nil, false
	}
	out := []InformEvent{}
	for !l.lit("]") {
		if len(out) > 0 && !l.lit(",") {
			return nil, false
		}
		var e InformEvent
		var ok bool
		if !l.lit(`{"code":`) {
			return nil, false
		}
		if e.Code, ok = l.str(); !ok {
			return nil, false
		}
		if l.lit(`,"ck":`) {
			if e.CommandKey, ok = l.str(); !ok || e.CommandKey == "" {
				return nil, false
			}
		}
		if !l.lit("}") {
			return nil, false
		}
		out = append(out, e)
	}
	return out, true
}

func (l *lexer) strings() ([]string, bool) {
	if !l.lit("[") {
		return nil, false
	}
	out := []string{}
	for !l.lit("]") {
		if len(out) > 0 && !l.lit(",") {
			return nil, false
		}
		s, ok := l.str()
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// fastDecode returns the event and true, or false to use encoding/json.
func fastDecode(t Type, b []byte) (Event, bool) {
	l := &lexer{b: b}
	var ok bool
	switch t {
	case TypeSessionSucceeded:
		var e SessionSucceeded
		if l.lit(`{"session":`) {
			if e.Session, ok = l.uint(); ok && l.end() {
				return e, true
			}
		}
	case TypePeriodicInformDue:
		var e PeriodicInformDue
		if l.lit(`{"due":`) {
			if e.Due, ok = l.time(); ok && l.end() {
				return e, true
			}
		}
	case TypeSessionStarted:
		var e SessionStarted
		if !l.lit(`{"events":`) {
			return nil, false
		}
		if e.Events, ok = l.events(); !ok || !l.lit(`,"retry_count":`) {
			return nil, false
		}
		n, ok := l.int()
		if !ok || n != int64(int(n)) {
			return nil, false
		}
		e.RetryCount = int(n)
		if l.lit(`,"reasons":`) {
			if e.Reasons, ok = l.strings(); !ok || len(e.Reasons) == 0 {
				return nil, false
			}
		}
		if l.end() {
			return e, true
		}
	case TypeInformAccepted:
		var e InformAccepted
		if !l.lit(`{"session":`) {
			return nil, false
		}
		if e.Session, ok = l.uint(); !ok || !l.lit(`,"events":`) {
			return nil, false
		}
		if e.Events, ok = l.events(); !ok {
			return nil, false
		}
		if l.lit(`,"cwmp_version":`) {
			if e.CWMPVersion, ok = l.str(); !ok || e.CWMPVersion == "" {
				return nil, false
			}
		}
		if l.end() {
			return e, true
		}
	case TypeSessionFailed:
		var e SessionFailed
		if !l.lit(`{"session":`) {
			return nil, false
		}
		if e.Session, ok = l.uint(); !ok || !l.lit(`,"error":`) {
			return nil, false
		}
		if e.Error, ok = l.str(); !ok || !l.lit(`,"retry_count":`) {
			return nil, false
		}
		n, ok := l.int()
		if !ok || n != int64(int(n)) || !l.lit(`,"delay_ns":`) {
			return nil, false
		}
		e.RetryCount = int(n)
		d, ok := l.int()
		if !ok || !l.lit(`,"next_attempt":`) {
			return nil, false
		}
		e.Delay = time.Duration(d)
		if e.NextAttempt, ok = l.time(); ok && l.end() {
			return e, true
		}
	}
	return nil, false
}
