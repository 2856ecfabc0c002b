// Package datamodel owns cwmpd's TR-181 (Device:2) parameter tree: the
// schema of every supported object and parameter (type, access,
// notification rules, hidden values), the providers behind the values, and
// the parameter RPCs the ACS calls (Get/SetParameterValues,
// GetParameterNames, Get/SetParameterAttributes, AddObject, DeleteObject),
// plus value-change detection and the generated parameter reference.
//
// Where values come from (the Source of each parameter):
//   - settings: the operator's settings (Device.ManagementServer.URL is the
//     acs-url setting); an SPV and a local `cwmpd set` change one value;
//   - journal: the device's configuration, kept as journal-backed values
//     (Device.Users.User.{i}, Device.DNS.Client.Server.{i},
//     Device.Time.NTPServer1..5, …), so AddObject, DeleteObject and SPV
//     have real, persistent effect. On the simulated platform the journal
//     is the device; with an Applier (a real router's apply-parameters
//     hook) a change is journaled as an intent, the device applies it, and
//     only then is it recorded as made (or refused with 9002, nothing
//     changed) — see Handler.change. Device.ManagementServer. parameters
//     are the agent's own and never go to the device;
//   - identity: the device's fixed identity (DeviceInfo.Manufacturer, …);
//   - host: live readings of the Linux host the agent runs on (UpTime,
//     MemoryStatus, CPU usage, network interfaces and addresses);
//   - runtime: what the running agent publishes (ConnectionRequestURL).
//
// Every write goes through the journal first: an RPC's intent is durable
// before its response is sent, and replay rebuilds the same tree.
//
// Decisions on points the digest leaves open ([U]) are written next to the
// code that applies them; the main ones: instance numbers are never reused
// while the journal lives; parameter attributes persist (they are journaled);
// AddObject/DeleteObject by the ACS do not raise VALUE CHANGE; host-backed
// parameters that TR-181 makes writable are exposed read-only (a documented
// restriction, listed in the schema with its reason, as a BBF device type
// document may do).
package datamodel
