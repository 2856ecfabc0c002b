//go:build !linux

package journal

// trimTableMappings is Linux-only (see trim_linux.go).
func (j *Journal) trimTableMappings(map[string]bool) {}
