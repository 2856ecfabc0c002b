//go:build !linux

package main

import (
	"errors"
	"time"
)

// setTimerSlack: timer slack is a Linux setting.
func setTimerSlack(time.Duration) error { return errors.New("not on this OS") }
