//go:build !linux

package actions

// Without /proc the agent cannot tell its own leftover run from another
// process: after a crash, a run still at work may overlap the next one.
func (h *Hooks) recordRun(int)   {}
func (h *Hooks) forgetRun()      {}
func (h *Hooks) endLeftoverRun() {}
