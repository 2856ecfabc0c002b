//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package actions

import "os/exec"

// ownProcessGroup is a no-op where process groups are not available.
func ownProcessGroup(*exec.Cmd) {}

// killedBySignal cannot tell a signal from an exit status here.
func killedBySignal(error) bool { return false }
