package event

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func slowDecode(t Type, b []byte) (Event, error) { return decoders[t](b) }

var fastTypes = []Type{TypeSessionSucceeded, TypePeriodicInformDue, TypeSessionStarted, TypeInformAccepted, TypeSessionFailed}

func TestFastPathTakesWhatMarshalWrites(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 1, 2, 3, 456789000, time.UTC)
	for _, e := range []Event{
		SessionSucceeded{Session: 7},
		PeriodicInformDue{Due: t0},
		SessionStarted{Events: []InformEvent{{Code: "1 BOOT"}, {Code: "M Reboot", CommandKey: "k"}}, RetryCount: 3},
		SessionStarted{Events: nil, RetryCount: 0, Reasons: []string{"a"}},
		SessionStarted{Events: []InformEvent{}},
		SessionStarted{Events: []InformEvent{{Code: "4 VALUE CHANGE"}}, Composed: 41},
		SessionStarted{Events: nil, Reasons: []string{"a"}, Composed: 1},
		InformAccepted{Session: 9, Events: []InformEvent{{Code: "2 PERIODIC"}}, CWMPVersion: "1.4"},
		InformAccepted{Session: 9},
		SessionFailed{Session: 1, Error: "ACS returned HTTP 503", RetryCount: 2, Delay: -5, NextAttempt: t0},
		SessionFailed{Session: 1, Error: "x"},
	} {
		b, _ := json.Marshal(e)
		got, ok := fastDecode(e.Type(), b)
		if !ok {
			t.Errorf("%v: fast path refused %s", e.Type(), b)
			continue
		}
		want, _ := slowDecode(e.Type(), b)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%v: fast %#v, json %#v", e.Type(), got, want)
		}
	}
}

func TestFastPathLeavesTheRestToJSON(t *testing.T) {
	for _, c := range []struct {
		t Type
		b string
	}{
		{TypeSessionSucceeded, `{ "session":1}`},
		{TypeSessionSucceeded, `{"session":1,"new_field":2}`},
		{TypeSessionFailed, `{"session":1,"error":"\u00e9","retry_count":1,"delay_ns":1,"next_attempt":"2026-01-01T00:00:00Z"}`},
		{TypePeriodicInformDue, `{"due":"2026-01-01T00:00:00+02:00"}`},
		{TypeInformAccepted, `{"session":1,"events":[{"ck":"a","code":"b"}]}`},
	} {
		if _, ok := fastDecode(c.t, []byte(c.b)); ok {
			t.Errorf("%v %s: fast path took it", c.t, c.b)
		}
		if _, ok := fastDecode(c.t, []byte(`{"session":01}`)); ok {
			t.Error("a number with a leading zero taken")
		}
		if _, err := Decode(uint16(c.t), []byte(c.b)); err != nil {
			t.Errorf("%v %s: %v", c.t, c.b, err)
		}
	}
}

// FuzzFastDecodeMatchesJSON: whenever the fast path accepts a payload,
// encoding/json decodes it to the same event.
func FuzzFastDecodeMatchesJSON(f *testing.F) {
	f.Add(uint8(0), []byte(`{"session":7}`))
	f.Add(uint8(1), []byte(`{"due":"2026-11-22T01:02:03.5Z"}`))
	f.Add(uint8(2), []byte(`{"events":[{"code":"1 BOOT"},{"code":"M Reboot","ck":"k"}],"retry_count":3,"reasons":["x"]}`))
	f.Add(uint8(3), []byte(`{"session":9,"events":null,"cwmp_version":"1.4"}`))
	f.Add(uint8(4), []byte(`{"session":1,"error":"e","retry_count":-2,"delay_ns":5000000000,"next_attempt":"0001-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		typ := fastTypes[int(which)%len(fastTypes)]
		got, ok := fastDecode(typ, b)
		if !ok {
			return
		}
		want, err := slowDecode(typ, b)
		if err != nil {
			t.Fatalf("fast path accepted what encoding/json refuses: %s (%v)", b, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: fast %#v, json %#v", b, got, want)
		}
	})
}

// TestFastEncodeWritesWhatMarshalWrites: the same events as above, and
// the ones the fast path must leave to encoding/json.
func TestFastEncodeWritesWhatMarshalWrites(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 1, 2, 3, 456789000, time.UTC)
	plus2 := time.FixedZone("", 2*3600)
	for _, e := range []Event{
		SessionSucceeded{Session: 7},
		PeriodicInformDue{Due: t0},
		PeriodicInformDue{Due: t0.In(plus2)},
		SessionStarted{Events: []InformEvent{{Code: "1 BOOT"}, {Code: "M Reboot", CommandKey: "k"}}, RetryCount: 3},
		SessionStarted{Events: nil, RetryCount: -1, Reasons: []string{"a", "b c"}},
		SessionStarted{Events: []InformEvent{}, Reasons: []string{}},
		SessionStarted{Events: nil, RetryCount: 2, Reasons: []string{"a"}, Composed: 12},
		InformAccepted{Session: 9, Events: []InformEvent{{Code: "2 PERIODIC"}}, CWMPVersion: "1.4"},
		InformAccepted{Session: 9},
		SessionFailed{Session: 1, Error: "ACS returned HTTP 503", RetryCount: 2, Delay: -5, NextAttempt: t0},
		SessionFailed{Session: 1, Error: "x"},
	} {
		want, _ := json.Marshal(e)
		got, ok := fastEncode(e)
		if !ok || string(got) != string(want) {
			t.Errorf("%v: fast %s (%v), json %s", e.Type(), got, ok, want)
		}
	}
	for _, e := range []Event{
		SessionFailed{Session: 1, Error: `dial "acs": refused`},
		SessionFailed{Session: 1, Error: "<html>"},
		SessionStarted{Events: []InformEvent{{Code: "M X", CommandKey: "é"}}},
		PeriodicInformDue{Due: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		&SessionSucceeded{Session: 1},
		Booted{Reason: BootPowerOn},
	} {
		if b, ok := fastEncode(e); ok {
			t.Errorf("%#v: fast path wrote %s", e, b)
		}
		if _, _, err := Encode(e); err != nil && e.Type() != TypePeriodicInformDue {
			t.Errorf("%#v: %v", e, err)
		}
	}
}

// FuzzFastEncodeMatchesJSON: whenever the fast path writes an event, it
// writes what json.Marshal writes.
func FuzzFastEncodeMatchesJSON(f *testing.F) {
	f.Add(uint8(0), "1 BOOT", "", int64(7), int64(1795568523), int64(5))
	f.Add(uint8(2), "M Download", "ck 1", int64(-3), int64(0), int64(999999999))
	f.Add(uint8(3), "2 PERIODIC", "1.4", int64(1<<62), int64(-62135596800), int64(0))
	f.Add(uint8(4), "connect: connection refused", "x<y", int64(-1), int64(253402300799), int64(1))
	f.Fuzz(func(t *testing.T, which uint8, s1, s2 string, n, sec, nsec int64) {
		at := time.Unix(sec, nsec%1e9)
		if n%2 == 0 {
			at = at.UTC()
		} else {
			at = at.In(time.FixedZone("", int(n%50400)))
		}
		events := []InformEvent{{Code: s1, CommandKey: s2}, {Code: s2}}
		if n%3 == 0 {
			events = nil
		}
		var e Event
		switch which % 5 {
		case 0:
			e = SessionSucceeded{Session: uint64(n)}
		case 1:
			e = PeriodicInformDue{Due: at}
		case 2:
			e = SessionStarted{Events: events, RetryCount: int(n), Reasons: []string{s1, s2}[:n&1+1], Composed: uint64(sec) & 0xffff}
		case 3:
			e = InformAccepted{Session: uint64(n), Events: events, CWMPVersion: s2}
		case 4:
			e = SessionFailed{Session: uint64(n), Error: s1, RetryCount: int(sec), Delay: time.Duration(n), NextAttempt: at}
		}
		got, ok := fastEncode(e)
		if !ok {
			return
		}
		want, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("fast path wrote %s where encoding/json refuses: %v", got, err)
		}
		if string(got) != string(want) {
			t.Fatalf("fast %s\njson %s", got, want)
		}
		back, ok := fastDecode(e.Type(), got)
		if ok && !reflect.DeepEqual(back, e) && e.Type() != TypePeriodicInformDue && e.Type() != TypeSessionFailed {
			t.Fatalf("fast round trip %#v -> %#v", e, back)
		}
	})
}
