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
