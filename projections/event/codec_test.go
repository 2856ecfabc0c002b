package event

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

func allSamples() []Event {
	t0 := time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC)
	return []Event{
		Booted{Reason: BootPowerOn, SoftwareVersion: "1.0", DeviceBoot: "8e3c0b1a-0f31-4c3e-9d55-2b1f0e6f7a10"},
		AgentRestarted{DeviceBoot: "8e3c0b1a-0f31-4c3e-9d55-2b1f0e6f7a10"},
		JournalRecovered{MovedTo: "/var/lib/cwmpd/journal.corrupt-20261122T010203Z", Cause: "manifest has bad magic", By: "cwmpd run"},
		SettingsChanged{Changes: []Setting{{"acs-url", "https://acs"}, {"password", "s3cret"}}, Source: SourceCLI},
		SettingsReset{Defaults: []Setting{{"enabled", "true"}}},
		ParametersSet{Values: []ParamValue{{Name: "Device.X", Value: "1", Type: "unsignedInt"}}, ParameterKey: "k", SetKey: true, Source: SourceACS},
		ObjectAdded{Object: "Device.Users.User.", Instance: 3, Source: SourceACS},
		ObjectDeleted{Object: "Device.Users.User.3.", Source: SourceACS},
		AttributesSet{Changes: []AttributeChange{{Name: "Device.X", NotificationChange: true, Notification: 2}}},
		ValueChanged{Changes: []ParamValue{{Name: "Device.X", Value: "2"}}, Active: true},
		ConnectionRequestReceived{Remote: "127.0.0.1:5", Accepted: true},
		InformScheduled{CommandKey: "si", DelaySeconds: 60, Due: t0},
		ScheduledInformDue{Schedule: 9},
		PeriodicInformDue{Due: t0},
		RebootRequested{CommandKey: "rb", Source: SourceACS},
		FactoryResetRequested{Source: SourceACS},
		RestartRequested{Reason: "firmware"},
		FactoryResetDone{Defaults: []Setting{{"enabled", "true"}}},
		TransferQueued{Kind: KindDownload, CommandKey: "dl", FileType: "1 Firmware Upgrade Image", URL: "https://f/x", Password: "pw", NotBefore: t0},
		TransferStarted{Transfer: 5, StartTime: t0},
		TransferProgress{Transfer: 5, File: 0, Offset: 1024},
		TransferFetched{Transfer: 5, Path: "/tmp/x", Size: 10, SHA256: "ab"},
		TransferApplying{Transfer: 5},
		TransferFinished{Transfer: 5, FaultCode: 9010, FaultString: "x", StartTime: t0, CompleteTime: t0},
		TransferAttemptFailed{Transfer: 5, FaultCode: 9015, FaultString: "file server f unreachable", Window: 1, NextAttempt: t0},
		TransferCompleteAcked{Transfer: 5},
		TransferCancelled{Transfer: 5},
		SessionStarted{Events: []InformEvent{{Code: "1 BOOT"}}, RetryCount: 1},
		InformAccepted{Session: 7, Events: []InformEvent{{Code: "1 BOOT"}}},
		SessionSucceeded{Session: 7},
		SessionFailed{Session: 7, Error: "timeout", RetryCount: 1, Delay: 7 * time.Second, NextAttempt: t0},
		ChangeApplying{Kind: ChangeSet, Values: []ParamValue{{Name: "Device.Time.NTPServer1", Value: "ntp", Type: "string"}}, ParameterKey: "k"},
		ChangeApplyFailed{Change: 9, Error: "apply-parameters failed: exit status 1"},
	}
}

func TestEveryKnownTypeRoundTrips(t *testing.T) {
	seen := map[Type]bool{}
	for _, e := range allSamples() {
		typ, payload, err := Encode(e)
		if err != nil {
			t.Fatalf("encode %v: %v", e.Type(), err)
		}
		got, err := Decode(typ, payload)
		if err != nil {
			t.Fatalf("decode %v: %v", e.Type(), err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("%v: round trip\n got %#v\nwant %#v", e.Type(), got, e)
		}
		if e.Summary() == "" {
			t.Errorf("%v: empty summary", e.Type())
		}
		seen[e.Type()] = true
	}
	for typ := range typeNames {
		if !seen[typ] {
			t.Errorf("type %v has no round-trip sample", typ)
		}
	}
}

func TestDecodeIgnoresUnknownFields(t *testing.T) {
	e, err := Decode(uint16(TypeRebootRequested), []byte(`{"ck":"a","source":"acs","added_in_v9":{"x":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	if e != (RebootRequested{CommandKey: "a", Source: "acs"}) {
		t.Fatalf("got %#v", e)
	}
}

func TestUnknownTypeDecodesToUnknown(t *testing.T) {
	e, err := Decode(999, []byte(`{"x":1}`))
	if err != nil {
		t.Fatal(err)
	}
	u, ok := e.(Unknown)
	if !ok || u.Code != 999 || !bytes.Equal(u.Payload, []byte(`{"x":1}`)) {
		t.Fatalf("got %#v", e)
	}
	if Type(999).String() != "Type(999)" {
		t.Fatal(Type(999).String())
	}
}

func TestBadPayloadIsAnError(t *testing.T) {
	for _, p := range []string{``, `[`, `{"ck":5}`, `"x"`} {
		if _, err := Decode(uint16(TypeRebootRequested), []byte(p)); err == nil {
			t.Errorf("payload %q: no error", p)
		}
	}
}

func TestTypeNamesAreUniqueAndInvertible(t *testing.T) {
	for typ, name := range typeNames {
		back, ok := TypeByName(name)
		if !ok || back != typ {
			t.Errorf("%s -> %v", name, back)
		}
	}
}

func TestRedactRemovesEverySecret(t *testing.T) {
	secrets := []string{"s3cret", "pw", "hidden-value"}
	evs := append(allSamples(),
		ParametersSet{Values: []ParamValue{{Name: "Device.Users.User.1.Password", Value: "hidden-value", Hidden: true}}},
		ValueChanged{Changes: []ParamValue{{Name: "Device.P", Value: "hidden-value", Hidden: true}}},
		ChangeApplying{Kind: ChangeSet, Values: []ParamValue{{Name: "Device.Users.User.1.Password", Value: "hidden-value", Hidden: true}}},
		SettingsReset{Defaults: []Setting{{"connection-request-password", "s3cret"}}},
		FactoryResetDone{Defaults: []Setting{{"password", "s3cret"}}},
		TransferQueued{Kind: KindDownload, URL: "https://cpe:s3cret@files.example/fw.bin"},
		TransferProgress{Transfer: 1, URL: "http://cpe:s3cret@files.example/a", Offset: 10},
		TransferFetched{Transfer: 1, URL: "http://cpe:s3cret@files.example/a", Path: "/tmp/a"},
		TransferQueued{Kind: KindUpload, URL: "http://cpe:s3cret@[::1"}, // does not parse
		TransferQueued{Kind: KindDownload, URL: "https://files.example/fw.bin?X-Amz-Signature=s3cret"},
	)
	for _, e := range evs {
		typ, payload := MustEncode(e)
		red, err := RedactPayload(typ, payload)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if strings.Contains(string(red), s) {
				t.Errorf("%v: %q survives redaction: %s", e.Type(), s, red)
			}
			if strings.Contains(e.Summary(), s) {
				t.Errorf("%v: %q in summary", e.Type(), s)
			}
		}
	}
	// The original is untouched: the journal keeps the secret.
	orig := SettingsChanged{Changes: []Setting{{"password", "s3cret"}}}
	_ = Redact(orig)
	if orig.Changes[0].Value != "s3cret" {
		t.Fatal("Redact modified its argument")
	}
}

// A URL keeps what a post-mortem needs: only the password goes.
func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://cpe:s3cret@files.example:8443/fw.bin?sig=1":  "https://cpe:%28redacted%29@files.example:8443/fw.bin?(redacted)",
		"https://files.example/fw.bin?X-Amz-Signature=s3cret": "https://files.example/fw.bin?(redacted)",
		"https://cpe@files.example/fw.bin":                    "https://cpe@files.example/fw.bin",
		"https://files.example/fw.bin":                        "https://files.example/fw.bin",
		"":                                                    "",
		"http://cpe:s3cret@[::1":                              Redacted,
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedactWithholdsUnknownAndUndecodable(t *testing.T) {
	red, _ := RedactPayload(999, []byte(`{"password":"s3cret"}`))
	if strings.Contains(string(red), "s3cret") {
		t.Fatal(string(red))
	}
	red, err := RedactPayload(uint16(TypeSettingsChanged), []byte(`{"changes":"s3cret"}`))
	if err == nil || strings.Contains(string(red), "s3cret") {
		t.Fatal(string(red), err)
	}
}
