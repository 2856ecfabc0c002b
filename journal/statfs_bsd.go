//go:build darwin || freebsd || dragonfly

package journal

import "syscall"

// availableBytes is f_bavail in bytes: the BSDs count blocks of f_bsize,
// their fundamental block size.
func availableBytes(st *syscall.Statfs_t) uint64 {
	return uint64(st.Bavail) * uint64(st.Bsize)
}
