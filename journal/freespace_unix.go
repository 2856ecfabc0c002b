//go:build linux || darwin || freebsd || dragonfly

package journal

import (
	"fmt"
	"os"
	"syscall"
)

// statfsFree is the space available to an unprivileged writer (f_bavail), so
// the root-reserved blocks of ext4 do not count as free.
func statfsFree(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("journal: statfs %s: %w", dir, err)
	}
	return availableBytes(&st), nil
}

// openFreeSpace returns a reading of dir's free space through a descriptor
// of the directory kept open until close is called: statfs by path walks
// the path on every commit, most of its cost (docs/benchmarks.md).
func openFreeSpace(dir string) (read func() (uint64, error), close func() error, err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("journal: open %s for its free space: %w", dir, err)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("journal: open %s for its free space: %w", dir, err)
	}
	read = func() (uint64, error) {
		var st syscall.Statfs_t
		var serr error
		if err := rc.Control(func(fd uintptr) { serr = syscall.Fstatfs(int(fd), &st) }); err != nil {
			return 0, fmt.Errorf("journal: fstatfs %s: %w", dir, err)
		}
		if serr != nil {
			return 0, fmt.Errorf("journal: fstatfs %s: %w", dir, serr)
		}
		return availableBytes(&st), nil
	}
	return read, f.Close, nil
}
