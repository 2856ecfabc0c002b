package journal

import "syscall"

// availableBytes is f_bavail in bytes. Linux counts blocks in fragments
// (f_frsize), which a FUSE or network filesystem may make other than its
// preferred I/O size (f_bsize).
func availableBytes(st *syscall.Statfs_t) uint64 {
	if st.Frsize > 0 {
		return uint64(st.Bavail) * uint64(st.Frsize)
	}
	return uint64(st.Bavail) * uint64(st.Bsize)
}
