//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package journal

// lockDir is a no-op where flock is missing; Badger's own lock (recognised by
// its message in isBadgerLockErr) still stops a second writer.
func lockDir(string, bool) (func(), error) { return func() {}, nil }

// Holder cannot tell without flock: nothing is known to hold dir.
func Holder(string) (pid int, held bool, err error) { return 0, false, nil }
