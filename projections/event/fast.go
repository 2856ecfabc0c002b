package event

import (
	"strconv"
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
		if l.lit(`,"composed":`) {
			if e.Composed, ok = l.uint(); !ok || e.Composed == 0 {
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

// fastEncode is the same fast path for writing: it appends what
// json.Marshal writes for these events, or returns false (a string that
// needs escaping, a time encoding/json refuses) to use encoding/json.
// Every session encodes four of them on the agent's hot path.
// FuzzFastEncodeMatchesJSON checks it byte for byte against json.Marshal.
func fastEncode(e Event) ([]byte, bool) {
	b := make([]byte, 0, 96)
	ok := true
	switch e := e.(type) {
	case SessionSucceeded:
		b = append(b, `{"session":`...)
		b = strconv.AppendUint(b, e.Session, 10)
	case PeriodicInformDue:
		b = append(b, `{"due":`...)
		b, ok = appendTime(b, e.Due)
	case SessionStarted:
		b = append(b, `{"events":`...)
		b, ok = appendEvents(b, e.Events)
		b = append(b, `,"retry_count":`...)
		b = strconv.AppendInt(b, int64(e.RetryCount), 10)
		if len(e.Reasons) > 0 {
			b = append(b, `,"reasons":[`...)
			for i, r := range e.Reasons {
				if i > 0 {
					b = append(b, ',')
				}
				b, ok = appendPlain(b, r, ok)
			}
			b = append(b, ']')
		}
		if e.Composed != 0 {
			b = append(b, `,"composed":`...)
			b = strconv.AppendUint(b, e.Composed, 10)
		}
	case InformAccepted:
		b = append(b, `{"session":`...)
		b = strconv.AppendUint(b, e.Session, 10)
		b = append(b, `,"events":`...)
		b, ok = appendEvents(b, e.Events)
		if e.CWMPVersion != "" {
			b = append(b, `,"cwmp_version":`...)
			b, ok = appendPlain(b, e.CWMPVersion, ok)
		}
	case SessionFailed:
		b = append(b, `{"session":`...)
		b = strconv.AppendUint(b, e.Session, 10)
		b = append(b, `,"error":`...)
		b, ok = appendPlain(b, e.Error, ok)
		b = append(b, `,"retry_count":`...)
		b = strconv.AppendInt(b, int64(e.RetryCount), 10)
		b = append(b, `,"delay_ns":`...)
		b = strconv.AppendInt(b, int64(e.Delay), 10)
		b = append(b, `,"next_attempt":`...)
		if ok {
			b, ok = appendTime(b, e.NextAttempt)
		}
	default:
		return nil, false
	}
	if !ok {
		return nil, false
	}
	return append(b, '}'), true
}

// appendPlain appends s quoted when encoding/json would write it as it is
// (printable ASCII, none of the characters it escapes); ok carries an
// earlier refusal along.
func appendPlain(b []byte, s string, ok bool) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return b, false
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), ok
}

func appendEvents(b []byte, events []InformEvent) ([]byte, bool) {
	if events == nil {
		return append(b, "null"...), true
	}
	ok := true
	b = append(b, '[')
	for i, e := range events {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"code":`...)
		b, ok = appendPlain(b, e.Code, ok)
		if e.CommandKey != "" {
			b = append(b, `,"ck":`...)
			b, ok = appendPlain(b, e.CommandKey, ok)
		}
		b = append(b, '}')
	}
	return append(b, ']'), ok
}

// appendTime appends t as time.Time's MarshalJSON writes it (what
// json.Marshal uses), or refuses what MarshalJSON refuses.
func appendTime(b []byte, t time.Time) ([]byte, bool) {
	j, err := t.MarshalJSON()
	if err != nil {
		return b, false
	}
	return append(b, j...), true
}
