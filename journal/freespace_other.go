//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package journal

import "errors"

func statfsFree(string) (uint64, error) {
	return 0, errors.New("journal: free space not readable on this system; set Options.FreeSpace")
}
