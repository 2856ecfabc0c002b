package replay

import (
	"fmt"
	"time"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

// script writes a journal the way the daemon would: each session offers
// exactly what the projections say is pending, times advance with a fake
// clock, and every start of the agent gets a new boot id.
type script struct {
	st    *projections.State
	recs  []journal.Record
	now   time.Time
	boots int
	boot  string
}

func newScript() *script {
	s := &script{st: projections.New(), now: time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)}
	return s
}

func (s *script) wait(d time.Duration) *script { s.now = s.now.Add(d); return s }

func (s *script) add(e event.Event) uint64 {
	typ, payload := event.MustEncode(e)
	s.now = s.now.Add(15 * time.Millisecond)
	rec := journal.Record{Schema: journal.SchemaVersion, Seq: uint64(len(s.recs) + 1), Time: s.now,
		BootID: s.boot, Type: typ, Payload: payload}
	if err := s.st.Apply(rec); err != nil {
		panic(fmt.Sprintf("scenario record %d %v: %v", rec.Seq, e.Type(), err))
	}
	s.recs = append(s.recs, rec)
	return rec.Seq
}

func (s *script) start(reason string) {
	s.boots++
	s.boot = fmt.Sprintf("boot%04d", s.boots)
	s.add(event.Booted{Reason: reason, SoftwareVersion: "cwmpd-sim 1.0.0"})
}

func (s *script) defaults() {
	s.add(event.SettingsChanged{Source: event.SourceDefaults, Changes: []event.Setting{
		{Name: projections.SettingEnabled, Value: "true"},
		{Name: projections.SettingACSURL, Value: "https://acs.example.net:7548/cwmp"},
		{Name: projections.SettingUsername, Value: "cpe-001"},
		{Name: projections.SettingPassword, Value: "factory-secret"},
		{Name: projections.SettingPeriodicInformEnabled, Value: "true"},
		{Name: projections.SettingPeriodicInformInterval, Value: "3600"},
	}})
}

// sessionStart composes and journals the Inform.
func (s *script) sessionStart() (uint64, []event.InformEvent) {
	evs := s.st.Pending.InformEvents()
	id := s.add(event.SessionStarted{Events: evs, RetryCount: s.st.Retry.Failures})
	return id, evs
}

// ok is a whole successful session; extra runs between InformResponse and
// the end (the ACS's requests, TransferComplete acknowledgements).
func (s *script) ok(extra ...func(session uint64)) uint64 {
	id, evs := s.sessionStart()
	s.add(event.InformAccepted{Session: id, Events: evs, CWMPVersion: "1.4"})
	for _, f := range extra {
		f(id)
	}
	s.add(event.SessionSucceeded{Session: id})
	return id
}

// fail is a session that fails; delivered says whether the InformResponse
// arrived first.
func (s *script) fail(msg string, delivered bool) uint64 {
	id, evs := s.sessionStart()
	if delivered {
		s.add(event.InformAccepted{Session: id, Events: evs, CWMPVersion: "1.4"})
	}
	n := s.st.Retry.Failures + 1
	delay := time.Duration(5*(1<<(min(n, 10)-1))) * time.Second * 3 / 2
	s.add(event.SessionFailed{Session: id, Error: msg, RetryCount: n, Delay: delay, NextAttempt: s.now.Add(delay)})
	s.wait(delay)
	return id
}

// scenarios are the golden journals. Their files are regenerated only with
// -regen; compat-v1 never is (it pins what this version wrote, forever).
var scenarios = map[string]func() *script{
	"first-boot": func() *script {
		s := newScript()
		s.start(event.BootPowerOn)
		s.defaults()
		s.ok()
		s.wait(time.Hour)
		s.add(event.PeriodicInformDue{Due: s.now})
		s.ok()
		return s
	},
	"reboot-command-key": func() *script {
		s := newScript()
		s.start(event.BootPowerOn)
		s.defaults()
		s.ok(func(uint64) { s.add(event.RebootRequested{CommandKey: "reboot-42", Source: event.SourceACS}) })
		s.start(event.BootReboot)
		s.fail("cannot connect to ACS: connection refused", false) // M Reboot must survive this
		s.ok()
		return s
	},
	"periodic-failures": func() *script {
		s := newScript()
		s.start(event.BootPowerOn)
		s.defaults()
		s.ok()
		for i := 0; i < 4; i++ {
			s.wait(time.Hour)
			s.add(event.PeriodicInformDue{Due: s.now})
			s.fail("timeout waiting for InformResponse", false)
		}
		s.ok()
		return s
	},
	"value-change-reboot": func() *script {
		s := newScript()
		s.start(event.BootPowerOn)
		s.defaults()
		s.ok(func(uint64) {
			s.add(event.AttributesSet{Changes: []event.AttributeChange{
				{Name: "Device.Time.NTPServer1", NotificationChange: true, Notification: 1},
				{Name: "Device.DNS.Client.Server.1.DNSServer", NotificationChange: true, Notification: 2}}})
		})
		s.add(event.ValueChanged{Changes: []event.ParamValue{{Name: "Device.Time.NTPServer1", Value: "ntp1.example"}}})
		s.add(event.ValueChanged{Active: true, Changes: []event.ParamValue{{Name: "Device.DNS.Client.Server.1.DNSServer", Value: "192.0.2.53"}}})
		s.fail("ACS returned HTTP 503", false)
		s.start(event.BootPowerOn) // the changes and the VALUE CHANGE go with the reboot
		s.ok()
		s.add(event.ValueChanged{Changes: []event.ParamValue{{Name: "Device.Time.NTPServer1", Value: "ntp2.example"}}})
		s.wait(time.Hour)
		s.add(event.PeriodicInformDue{Due: s.now})
		s.ok()
		return s
	},
	"transfer-interrupted": func() *script {
		s := newScript()
		s.start(event.BootPowerOn)
		s.defaults()
		var id uint64
		s.ok(func(uint64) {
			id = s.add(event.TransferQueued{Kind: event.KindDownload, CommandKey: "fw-2.0", FileType: "1 Firmware Upgrade Image",
				URL: "https://files.example/fw-2.0.xml", Username: "dl", Password: "dl-secret", NotBefore: s.now})
		})
		s.add(event.TransferStarted{Transfer: id, StartTime: s.now})
		s.add(event.TransferProgress{Transfer: id, File: 0, URL: "https://files.example/fw-2.0.xml", Offset: 0})
		s.start(event.BootPowerOn) // crash before the manifest arrived
		s.add(event.TransferFetched{Transfer: id, File: 0, URL: "https://files.example/fw-2.0.xml", Path: "dl/1-0", Size: 412, SHA256: "9f2c"})
		s.add(event.TransferProgress{Transfer: id, File: 1, URL: "https://files.example/base-2.0.pkg", Offset: 65536})
		s.start(event.BootPowerOn) // crash mid-file: resumes at 65536
		s.add(event.TransferProgress{Transfer: id, File: 1, Offset: 131072})
		s.add(event.TransferFetched{Transfer: id, File: 1, Path: "dl/1-1", Size: 150000, SHA256: "77aa"})
		s.add(event.TransferApplying{Transfer: id})
		s.start(event.BootPowerOn) // crash during install: install is redone
		s.add(event.TransferApplying{Transfer: id})
		s.add(event.TransferFinished{Transfer: id, StartTime: s.st.Transfers.ByID[id].StartTime, CompleteTime: s.now})
		s.start(event.BootFirmware)
		s.ok(func(uint64) { s.add(event.TransferCompleteAcked{Transfer: id}) })
		return s
	},
	"schedule-download-retries": func() *script {
		// A ScheduleDownload whose file server is down: window 1
		// (MaxRetries 1) has two failed attempts, the second moving the
		// next attempt to window 2; a reboot in between keeps the count.
		s := newScript()
		s.start(event.BootPowerOn)
		s.defaults()
		var id uint64
		w1, w2 := s.now.Add(time.Minute), s.now.Add(3*time.Hour)
		s.ok(func(uint64) {
			id = s.add(event.TransferQueued{Kind: event.KindScheduleDownload, CommandKey: "sd-1", FileType: "1 Firmware Upgrade Image",
				URL: "https://files.example/fw.bin", NotBefore: w1, Windows: []event.TimeWindow{
					{Start: w1, End: w1.Add(time.Hour), Mode: "1 At Any Time", MaxRetry: 1},
					{Start: w2, End: w2.Add(time.Hour), Mode: "1 At Any Time", MaxRetry: -1}}})
		})
		s.wait(time.Minute)
		s.add(event.TransferStarted{Transfer: id, StartTime: s.now})
		s.add(event.TransferAttemptFailed{Transfer: id, FaultCode: 9015, FaultString: "file server files.example unreachable: connection refused",
			Window: 0, NextAttempt: s.now.Add(70 * time.Second)})
		s.wait(70 * time.Second)
		s.add(event.TransferAttemptFailed{Transfer: id, FaultCode: 9015, FaultString: "file server files.example unreachable: connection refused",
			Window: 0, NextAttempt: w2})
		s.start(event.BootPowerOn)
		s.ok()
		return s
	},
	"transfer-complete-retried": func() *script {
		s := newScript()
		s.start(event.BootPowerOn)
		s.defaults()
		var id uint64
		s.ok(func(uint64) {
			id = s.add(event.TransferQueued{Kind: event.KindUpload, CommandKey: "log-1", FileType: "2 Vendor Log File",
				URL: "https://files.example/up/log", NotBefore: s.now})
		})
		s.add(event.TransferStarted{Transfer: id, StartTime: s.now})
		s.add(event.TransferFinished{Transfer: id, FaultCode: 9011, FaultString: "upload failure: HTTP 500", StartTime: s.now, CompleteTime: s.now})
		s.fail("connection reset by ACS", true) // Inform delivered, TransferComplete not acked
		s.fail("timeout waiting for ACS response", false)
		s.ok(func(uint64) { s.add(event.TransferCompleteAcked{Transfer: id}) })
		s.wait(time.Hour)
		s.add(event.PeriodicInformDue{Due: s.now})
		s.ok() // nothing about the transfer any more
		return s
	},
	"factory-reset": func() *script {
		s := newScript()
		s.start(event.BootPowerOn)
		s.defaults()
		s.ok(func(uint64) {
			s.add(event.ObjectAdded{Object: "Device.Users.User.", Instance: 1, Source: event.SourceACS, ParameterKey: "pk1", SetKey: true})
			s.add(event.ParametersSet{Source: event.SourceACS, ParameterKey: "pk2", SetKey: true, Values: []event.ParamValue{
				{Name: "Device.Users.User.1.Username", Value: "admin", Type: "string"},
				{Name: "Device.Users.User.1.Password", Value: "admin-secret", Type: "string", Hidden: true}}})
			s.add(event.InformScheduled{CommandKey: "later", DelaySeconds: 600, Due: s.now.Add(10 * time.Minute)})
			s.add(event.FactoryResetRequested{Source: event.SourceACS})
		})
		s.add(event.FactoryResetDone{Defaults: []event.Setting{
			{Name: projections.SettingEnabled, Value: "true"},
			{Name: projections.SettingACSURL, Value: "https://acs.example.net:7548/cwmp"}}})
		s.start(event.BootFactoryReset)
		s.ok(func(uint64) {
			s.add(event.ObjectAdded{Object: "Device.Users.User.", Instance: 2, Source: event.SourceACS})
		})
		return s
	},
	"settings-reset": func() *script {
		s := newScript()
		s.start(event.BootPowerOn)
		s.defaults()
		s.ok(func(uint64) {
			s.add(event.ParametersSet{Source: event.SourceACS, ParameterKey: "pk", SetKey: true, Values: []event.ParamValue{
				{Name: "Device.ManagementServer.PeriodicInformInterval", Value: "600", Type: "unsignedInt"},
				{Name: "Device.Time.NTPServer1", Value: "ntp.example", Type: "string"}}})
		})
		s.add(event.SettingsChanged{Source: event.SourceCLI, Changes: []event.Setting{{Name: projections.SettingACSURL, Value: "https://wrong.example/"}}})
		s.fail("cannot connect to ACS: no such host", false)
		s.fail("cannot connect to ACS: no such host", false)
		s.add(event.SettingsReset{Defaults: []event.Setting{
			{Name: projections.SettingEnabled, Value: "true"},
			{Name: projections.SettingACSURL, Value: "https://acs.example.net:7548/cwmp"}}})
		s.ok()
		return s
	},
	"seventy-m-events": func() *script {
		s := newScript()
		s.start(event.BootPowerOn)
		s.defaults()
		s.ok()
		for i := 0; i < 70; i++ {
			id := s.add(event.InformScheduled{CommandKey: fmt.Sprintf("sched-%02d", i), DelaySeconds: 1, Due: s.now.Add(time.Second)})
			s.wait(time.Second)
			s.add(event.ScheduledInformDue{Schedule: id})
		}
		s.ok()
		return s
	},
	// ACS changes the device applies through its apply-parameters hook:
	// each an intent, then its outcome (the change naming it, or the
	// refusal, which changes nothing but spends an add's number); the last
	// one is cut by a power cut and settled at the next start.
	"apply-parameters": func() *script {
		s := newScript()
		s.start(event.BootPowerOn)
		s.defaults()
		s.ok(func(uint64) {
			add := s.add(event.ChangeApplying{Kind: event.ChangeAdd, Object: "Device.Users.User.", Instance: 1, ParameterKey: "k1"})
			s.add(event.ObjectAdded{Object: "Device.Users.User.", Instance: 1, ParameterKey: "k1", SetKey: true, Source: event.SourceACS, Applies: add})
			vals := []event.ParamValue{
				{Name: "Device.Users.User.1.Username", Value: "alice", Type: "string"},
				{Name: "Device.Users.User.1.Password", Value: "alice-secret", Type: "string", Hidden: true},
				{Name: "Device.ManagementServer.PeriodicInformInterval", Value: "7200", Type: "unsignedInt"}}
			set := s.add(event.ChangeApplying{Kind: event.ChangeSet, Values: vals, ParameterKey: "k2"})
			s.add(event.ParametersSet{Values: vals, ParameterKey: "k2", SetKey: true, Source: event.SourceACS, Applies: set})
			del := s.add(event.ChangeApplying{Kind: event.ChangeDelete, Object: "Device.Users.User.1.", ParameterKey: "k3"})
			s.add(event.ChangeApplyFailed{Change: del, Error: "apply-parameters failed: exit status 1: uci: refused"})
			add = s.add(event.ChangeApplying{Kind: event.ChangeAdd, Object: "Device.Users.User.", Instance: 2, ParameterKey: "k4"})
			s.add(event.ChangeApplyFailed{Change: add, Error: "apply-parameters timed out after 30s"})
		})
		var cut uint64
		s.add(event.ConnectionRequestReceived{Remote: "198.51.100.7:40022", Accepted: true})
		id, evs := s.sessionStart()
		s.add(event.InformAccepted{Session: id, Events: evs, CWMPVersion: "1.4"})
		vals := []event.ParamValue{{Name: "Device.Time.NTPServer1", Value: "ntp.example", Type: "string"}}
		cut = s.add(event.ChangeApplying{Kind: event.ChangeSet, Values: vals, ParameterKey: "k5"})
		s.start(event.BootPowerOn)
		s.add(event.ParametersSet{Values: vals, ParameterKey: "k5", SetKey: true, Source: event.SourceACS, Applies: cut})
		s.ok(func(uint64) {
			add := s.add(event.ChangeApplying{Kind: event.ChangeAdd, Object: "Device.Users.User.", Instance: 3, ParameterKey: "k6"})
			s.add(event.ObjectAdded{Object: "Device.Users.User.", Instance: 3, ParameterKey: "k6", SetKey: true, Source: event.SourceACS, Applies: add})
		})
		return s
	},
	"connection-requests": func() *script {
		s := newScript()
		s.start(event.BootPowerOn)
		s.defaults()
		s.ok()
		s.add(event.ConnectionRequestReceived{Remote: "198.51.100.7:40022", Accepted: false, Reason: "wrong credentials"})
		s.add(event.ConnectionRequestReceived{Remote: "198.51.100.7:40023", Accepted: true})
		s.fail("TLS: certificate signed by unknown authority", false) // CR is not retried
		s.add(event.ConnectionRequestReceived{Remote: "198.51.100.7:40030", Accepted: true})
		s.ok()
		return s
	},
}

// compatV1 uses every event type of schema version 1; its JSONL is written
// once and then kept forever, so every later build must replay it.
func compatV1() *script {
	s := newScript()
	s.start(event.BootPowerOn)
	s.defaults()
	s.add(event.SettingsChanged{Source: event.SourceCLI, Changes: []event.Setting{{Name: projections.SettingConnectionRequestPassword, Value: "cr-secret"}}})
	var tr, up uint64
	s.ok(func(uint64) {
		s.add(event.ParametersSet{Source: event.SourceACS, ParameterKey: "k1", SetKey: true, Values: []event.ParamValue{{Name: "Device.Time.NTPServer1", Value: "ntp", Type: "string"}}})
		s.add(event.ObjectAdded{Object: "Device.DNS.Client.Server.", Instance: 1, Source: event.SourceACS})
		s.add(event.ObjectAdded{Object: "Device.DNS.Client.Server.", Instance: 2, Source: event.SourceACS})
		s.add(event.ObjectDeleted{Object: "Device.DNS.Client.Server.1.", Source: event.SourceACS})
		s.add(event.AttributesSet{Changes: []event.AttributeChange{{Name: "Device.Time.NTPServer1", NotificationChange: true, Notification: 2, AccessListChange: true, AccessList: []string{"Subscriber"}}}})
		s.add(event.InformScheduled{CommandKey: "s1", DelaySeconds: 60, Due: s.now.Add(time.Minute)})
		tr = s.add(event.TransferQueued{Kind: event.KindDownload, CommandKey: "dl", FileType: "3 Vendor Configuration File", URL: "https://f/cfg.alter", NotBefore: s.now})
		up = s.add(event.TransferQueued{Kind: event.KindUpload, CommandKey: "up", FileType: "1 Vendor Configuration File", URL: "https://f/up", NotBefore: s.now})
	})
	s.add(event.ValueChanged{Active: true, Changes: []event.ParamValue{{Name: "Device.Time.NTPServer1", Value: "ntp2"}}})
	s.add(event.ConnectionRequestReceived{Remote: "192.0.2.1:1", Accepted: true})
	s.add(event.ScheduledInformDue{Schedule: s.st.ScheduleIDs()[0]})
	s.add(event.PeriodicInformDue{Due: s.now})
	s.add(event.TransferStarted{Transfer: tr, StartTime: s.now})
	s.add(event.TransferProgress{Transfer: tr, File: 0, Offset: 10})
	s.add(event.TransferFetched{Transfer: tr, File: 0, Path: "dl/x", Size: 20, SHA256: "00"})
	s.add(event.TransferApplying{Transfer: tr})
	s.add(event.TransferFinished{Transfer: tr, StartTime: s.now, CompleteTime: s.now})
	s.add(event.TransferCancelled{Transfer: up})
	s.fail("ACS returned 401 after digest auth", false)
	s.ok(func(uint64) {
		s.add(event.TransferCompleteAcked{Transfer: tr})
		s.add(event.RebootRequested{CommandKey: "rb", Source: event.SourceACS})
	})
	s.start(event.BootReboot)
	s.ok(func(uint64) { s.add(event.FactoryResetRequested{Source: event.SourceACS}) })
	s.add(event.FactoryResetDone{Defaults: []event.Setting{{Name: projections.SettingEnabled, Value: "true"}, {Name: projections.SettingACSURL, Value: "https://acs.example.net:7548/cwmp"}}})
	s.start(event.BootFactoryReset)
	s.add(event.SettingsReset{Defaults: []event.Setting{{Name: projections.SettingEnabled, Value: "true"}, {Name: projections.SettingACSURL, Value: "https://acs.example.net:7548/cwmp"}}})
	s.ok()
	return s
}
