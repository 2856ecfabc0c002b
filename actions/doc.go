// Package actions owns the agent's side effects on the device, behind the
// Platform interface: reboot, factory reset, and (with the transfers work)
// firmware install, configuration apply and the file exports. It decides
// nothing about *when* to act — the daemon calls it when the projections
// hold an intent — and it never speaks SOAP.
//
// Each Platform method states its contract: what the journal already holds
// when it is called, and what is true when it returns. Two implementations:
// Sim, a self-contained device in the state directory (reboot re-executes
// the daemon, a real restart), and, with the transfers work, Hooks (shell
// commands for a real router).
package actions
