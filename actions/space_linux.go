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
	return int64(s.Bavail) * int64(s.Bsize), nil
}
