//go:build linux

package actions

import "syscall"

// freeSpace is the statfs reading of the bytes available to an
// unprivileged writer in dir.
func freeSpace(dir string) (int64, error) {
	var s syscall.Statfs_t
	if err := syscall.Statfs(dir, &s); err != nil {
		return -1, err
	}
	return availableBytes(&s), nil
}

// availableBytes is f_bavail in bytes. Linux counts blocks in fragments
// (f_frsize), which a FUSE or network filesystem may make other than its
// preferred I/O size (f_bsize).
func availableBytes(s *syscall.Statfs_t) int64 {
	if s.Frsize > 0 {
		return int64(s.Bavail) * int64(s.Frsize)
	}
	return int64(s.Bavail) * int64(s.Bsize)
}
