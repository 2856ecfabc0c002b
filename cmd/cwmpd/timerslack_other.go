//go:build !linux

package main

import "time"

// applyTimerSlack is Linux only (see timerslack_linux.go).
func applyTimerSlack(time.Duration) error { return nil }
