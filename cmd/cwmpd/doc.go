// Command cwmpd is the TR-069 agent and its operator tools, in one binary
// (flash is small):
//
//	cwmpd run                 the daemon: boot, conductor, sessions, transfers
//	cwmpd print | set | reset-tr069-config
//	cwmpd journal export      the journal as JSONL, secrets redacted
//	cwmpd replay FILE|DIR     offline replay: timeline, final state, invariants
//	cwmpd params doc          the supported-parameter reference
//
// This package is wiring. What to do and when is decided by package
// projections (projections.Decide, the folds); sessions are cwmp/session,
// the ACS's requests cwmp/datamodel and cwmp/requests, side effects
// package actions. The daemon's one loop (conduct) asks Decide, journals
// due triggers, runs sessions, hands due transfers to a worker and carries
// out reboot, restart and factory-reset intents between sessions.
//
// Crash tests kill this binary at named failpoints (CWMPD_FAILPOINT, see
// projections/live) and check the ACS's view after a restart.
package main
