package main

import (
	"strings"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/soap"
)

// TestE2EValueChangeNotification: a local change of a parameter with
// active notification starts a session carrying "4 VALUE CHANGE" and the
// new value; a passive one waits for the next session; the ACS's own SPV
// is never reported back.
func TestE2EValueChangeNotification(t *testing.T) {
	srv := acs(t)
	state := t.TempDir()
	enqueue(t, srv, &soap.SetParameterAttributes{ParameterList: []soap.SetParameterAttributesStruct{
		{Name: "Device.ManagementServer.PeriodicInformInterval", NotificationChange: true, Notification: 2},
		{Name: "Device.ManagementServer.PeriodicInformEnable", NotificationChange: true, Notification: 1}}})
	a := startAgent(t, state, "--defaults", defaultsFor(t, srv))
	waitSessions(t, srv, 1, a)

	// Active: the operator changes the interval; a session follows by itself.
	if r := runBin(t, "set", "--state", state, "periodic-inform-interval=2h"); r.code != 0 {
		t.Fatalf("set: %s", r.stderr)
	}
	waitSessions(t, srv, 2, a)
	d := onlyDevice(t, srv)
	if eventCodes(d) != "4 VALUE CHANGE" || informParam(srv, "Device.ManagementServer.PeriodicInformInterval") != "7200" {
		t.Fatalf("active change: events %q, value %q", eventCodes(d), informParam(srv, "Device.ManagementServer.PeriodicInformInterval"))
	}

	// Passive: no session of its own; it rides with the next one.
	runBin(t, "set", "--state", state, "periodic-inform-enabled=no")
	time.Sleep(1500 * time.Millisecond) // several polls
	if n := srv.Counts("").Sessions; n != 2 {
		t.Fatalf("a passive change started a session (%d sessions)", n)
	}
	connReq(t, srv)
	waitSessions(t, srv, 3, a)
	if ev := eventCodes(onlyDevice(t, srv)); !strings.Contains(ev, "4 VALUE CHANGE") || !strings.Contains(ev, "6 CONNECTION REQUEST") ||
		informParam(srv, "Device.ManagementServer.PeriodicInformEnable") != "false" {
		t.Fatalf("passive change: events %q, value %q", ev, informParam(srv, "Device.ManagementServer.PeriodicInformEnable"))
	}

	// The ACS's own change: no VALUE CHANGE, no session.
	enqueue(t, srv, &soap.SetParameterValues{ParameterKey: "acs", ParameterList: []soap.ParameterValueStruct{
		{Name: "Device.ManagementServer.PeriodicInformInterval", Value: "3600", Type: soap.TypeUnsignedInt}}})
	connReq(t, srv)
	waitSessions(t, srv, 4, a)
	time.Sleep(1500 * time.Millisecond)
	if n := srv.Counts("").Sessions; n != 4 {
		t.Fatalf("the ACS's own SPV was reported back (%d sessions, last events %q)", n, eventCodes(onlyDevice(t, srv)))
	}
	connReq(t, srv)
	waitSessions(t, srv, 5, a)
	if ev := eventCodes(onlyDevice(t, srv)); ev != "6 CONNECTION REQUEST" {
		t.Fatalf("after the ACS's SPV: %q", ev)
	}
	a.stop()
}
