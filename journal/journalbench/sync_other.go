//go:build !linux

package journalbench

import "os"

func fdatasync(f *os.File) error { return f.Sync() }
