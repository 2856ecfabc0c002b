package actions

import (
	"syscall"
	"testing"
)

// TestAvailableBytesCountsFragments: Linux gives f_bavail in fragments
// (f_frsize); a filesystem whose preferred I/O size is larger (FUSE,
// network filesystems) must not have its free space overstated, or a
// download could fill the disk past the journal's reserve.
func TestAvailableBytesCountsFragments(t *testing.T) {
	st := syscall.Statfs_t{Bavail: 1000, Bsize: 131072, Frsize: 4096}
	if got := availableBytes(&st); got != 1000*4096 {
		t.Fatalf("availableBytes = %d, want %d", got, 1000*4096)
	}
}
