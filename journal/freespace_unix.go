//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package journal

import (
	"fmt"
	"syscall"
)

// statfsFree is the space available to an unprivileged writer (f_bavail), so
// the root-reserved blocks of ext4 do not count as free.
func statfsFree(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("journal: statfs %s: %w", dir, err)
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}
