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

// madvDontneed drops this process's page-table entries for the range. On a
// shared file mapping the pages stay in the page cache (a dirty one stays
// dirty and is written back as usual): nothing is lost, the next access maps
// the page again. On anonymous memory it would zero it, hence the rule
// below.
const madvDontneed = 4

// trimTableMappings drops from the resident set this process's mappings of
// the table files named in only (as Badger names them: 000042.sst).
//
// Why: Badger mmaps every table it writes or reads, and those pages stay in
// the process's resident set (VmRSS, and the OOM killer's score) although
// the journal reads its tables only at boot and for exports: 100,000
// appends and one full read left 36 MB of them resident. The page cache
// keeps them, so a table read again costs no disk read.
//
// The ranges come from /proc/self/maps, so a table must stay mapped from
// that read to the madvise call, or its range could be reused by anonymous
// memory and zeroed. The caller guarantees it: only holds tables of the
// current levels (DB.Tables), and it holds compactMu, which the only code
// that removes tables from the levels (compactIfNeeded: the journal runs no
// Badger compactor) also holds; Close waits for it (enter, reader locks).
func (j *Journal) trimTableMappings(only map[string]bool) {
	dir := j.storeDir()
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
		if !only[string(path[len(prefix):])] {
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
		syscall.Syscall(syscall.SYS_MADVISE, uintptr(start), uintptr(end-start), madvDontneed)
	}
}
