package datamodel

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections/event"
	"github.com/cwmpd/cwmpd/projections/live"
)

// fixedHost is a host reading for tests that must not depend on the
// machine; hostTest.go reads the real one.
type fixedHost struct {
	snap  HostSnapshot
	reads int
}

func (h *fixedHost) Read() HostSnapshot { h.reads++; return h.snap }

func testHost() *fixedHost {
	eth := HostInterface{Index: 2, Name: "eth0", Up: true, MAC: "02:00:00:00:00:01", Ethernet: true,
		IPv4: []HostIPv4{{"192.0.2.10", "255.255.255.0"}}, IPv6: []string{"2001:db8::10"}}
	eth.Stats.BytesSent = 1000
	lo := HostInterface{Index: 1, Name: "lo", Up: true, IPv4: []HostIPv4{{"127.0.0.1", "255.0.0.0"}}}
	return &fixedHost{snap: HostSnapshot{UpTime: 100, MemTotal: 1024, MemFree: 512, CPUUsage: 7,
		Now: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC), Interfaces: []HostInterface{lo, eth}}}
}

type fix struct {
	t     testing.TB
	dir   string
	j     *journal.Journal
	store *live.Store
	model *Model
	host  *fixedHost
	h     *Handler
	w     *Watcher
}

func newFix(t testing.TB) *fix {
	f := &fix{t: t, dir: t.TempDir(), host: testHost()}
	f.open()
	f.append(event.Booted{Reason: event.BootPowerOn},
		event.SettingsChanged{Source: event.SourceDefaults, Changes: []event.Setting{{Name: "acs-url", Value: "https://acs.example/"}, {Name: "password", Value: "pw"}}})
	return f
}

func benchOpen(b *testing.B, f *fix) {
	f.t = b
	f.open()
	f.append(event.Booted{Reason: event.BootPowerOn})
}

func (f *fix) open() {
	j, err := journal.Open(journal.Options{Dir: f.dir, BootID: "b", Logger: zerolog.Nop()})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { j.Close() })
	s, err := live.Open(j, live.Options{Logger: zerolog.Nop()})
	if err != nil {
		f.t.Fatal(err)
	}
	f.j, f.store = j, s
	f.model = &Model{Schema: DefaultSchema(), Host: f.host,
		Identity: func() Identity {
			return Identity{Manufacturer: "cwmpd", OUI: "02C0DE", ProductClass: "sim", SerialNumber: "0001", SoftwareVersion: "1.0.0", HardwareVersion: "hw1"}
		},
		Runtime: func() Runtime { return Runtime{ConnectionRequestURL: "http://192.0.2.10:7547/abc"} }}
	f.w = &Watcher{Model: f.model, Store: s}
	f.h = &Handler{Model: f.model, Store: s, Watcher: f.w, Log: zerolog.Nop()}
}

func (f *fix) restart() {
	f.j.Close()
	f.open()
}

func (f *fix) append(evs ...event.Event) {
	if _, err := f.store.Append(context.Background(), evs...); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fix) do(req soap.Message) soap.Message {
	return f.h.Handle(context.Background(), req)
}

func (f *fix) get(names ...string) map[string]string {
	f.t.Helper()
	resp, ok := f.do(&soap.GetParameterValues{ParameterNames: names}).(*soap.GetParameterValuesResponse)
	if !ok {
		f.t.Fatalf("GPV %v: %v", names, f.do(&soap.GetParameterValues{ParameterNames: names}))
	}
	out := map[string]string{}
	for _, p := range resp.ParameterList {
		out[p.Name] = p.Value
	}
	return out
}

func faultCode(m soap.Message) soap.FaultCode {
	if f, ok := m.(*soap.Fault); ok && f.Detail != nil {
		return f.Detail.FaultCode
	}
	return 0
}
