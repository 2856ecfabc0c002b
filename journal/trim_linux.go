//go:build linux

package journal

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// madvPageout is MADV_PAGEOUT (Linux 5.4): reclaim these pages now. It never
// discards data: a dirty file page is written back first, an anonymous page
// would go to swap or stay. Older kernels answer EINVAL and nothing happens.
const madvPageout = 21

// trimTableMappings asks the kernel to reclaim the pages of this journal's
// table files mapped in this process: all of them, or those whose file
// names only holds.
//
// Why: Badger mmaps every table it writes or reads, and those pages stay in
// the process's resident set (VmRSS, and the OOM killer's score) until the
// kernel needs them: a journal that has written 30 MB of tables shows 30 MB
// more resident memory though it reads none of it. The journal reads its
// tables only at boot and for exports, so it hands the pages back after each
// compaction and every few hundred kilobytes written.
//
// MADV_PAGEOUT rather than MADV_DONTNEED: the mappings are found in
// /proc/self/maps, and a table can be unmapped (its last iterator closed)
// between reading the file and the call; if the range were then reused by
// anonymous memory, DONTNEED would zero it, PAGEOUT only reclaims it.
func (j *Journal) trimTableMappings(only map[string]bool) {
	dir, err := filepath.Abs(j.opts.Dir)
	if err != nil {
		return
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	prefix := []byte(dir + string(filepath.Separator))
	s := bufio.NewScanner(f)
	for s.Scan() {
		// "start-end perms offset dev inode path"
		line := s.Bytes()
		i := bytes.IndexByte(line, '/')
		if i < 0 {
			continue
		}
		path := line[i:]
		if !bytes.HasPrefix(path, prefix) || !bytes.HasSuffix(path, []byte(".sst")) {
			continue
		}
		if only != nil && !only[string(path[len(prefix):])] {
			continue
		}
		dash := bytes.IndexByte(line, '-')
		sp := bytes.IndexByte(line, ' ')
		if dash < 0 || sp < dash {
			continue
		}
		start, err1 := strconv.ParseUint(string(line[:dash]), 16, 64)
		end, err2 := strconv.ParseUint(string(line[dash+1:sp]), 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		syscall.Syscall(syscall.SYS_MADVISE, uintptr(start), uintptr(end-start), madvPageout)
	}
}
