//go:build !(linux || darwin || freebsd || dragonfly)

package journal

import "errors"

func statfsFree(string) (uint64, error) {
	return 0, errors.New("journal: free space not readable on this system; set Options.FreeSpace")
}

func openFreeSpace(dir string) (func() (uint64, error), func() error, error) {
	return func() (uint64, error) { return statfsFree(dir) }, func() error { return nil }, nil
}
