//go:build !linux

package main

import (
	"errors"
	"syscall"
	"time"
)

// setTimerSlack: timer slack is a Linux setting.
func setTimerSlack(time.Duration) error { return errors.New("not on this OS") }

// childAttr puts a helper process in its own process group (there is no
// parent-death signal outside Linux).
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
