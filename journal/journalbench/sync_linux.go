package journalbench

import (
	"os"
	"syscall"
)

// fdatasync is what a log append needs: data and size, not timestamps.
func fdatasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
