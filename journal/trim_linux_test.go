package journal

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// tableRSS sums the resident kilobytes of this process's mappings of .sst
// files under dir (/proc/self/smaps).
func tableRSS(t *testing.T, dir string) (kib int64, mappings int) {
	t.Helper()
	abs, _ := filepath.Abs(dir)
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in := false
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) == 0 {
			continue
		}
		if strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			path := fields[len(fields)-1]
			in = strings.HasPrefix(path, abs+"/") && strings.HasSuffix(path, ".sst")
			if in {
				mappings++
			}
			continue
		}
		if in && fields[0] == "Rss:" {
			n, _ := strconv.ParseInt(fields[1], 10, 64)
			kib += n
		}
	}
	return kib, mappings
}

var probeSink byte

// dontneedHonoured reports whether this kernel (or emulator) drops a touched
// file mapping from the resident set on MADV_DONTNEED.
func dontneedHonoured(t *testing.T) bool {
	p := filepath.Join(t.TempDir(), "probe.sst")
	if err := os.WriteFile(p, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Reclaim skips dirty pages; Badger's tables are synced before use.
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, 1<<20, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(b)
	for i := 0; i < len(b); i += 4096 {
		probeSink += b[i]
	}
	before, _ := tableRSS(t, filepath.Dir(p))
	if err := syscall.Madvise(b, madvDontneed); err != nil {
		t.Logf("probe: madvise: %v", err)
		return false
	}
	after, _ := tableRSS(t, filepath.Dir(p))
	t.Logf("probe: resident %d KiB before MADV_DONTNEED, %d after", before, after)
	return before >= 512 && after < before/2
}

// The journal's table mappings do not stay resident: after writes that
// built several tables, and after a full read, trimming leaves little of
// them in the resident set. Also through a symlinked state directory (the
// kernel names the resolved path in /proc/self/maps).
func TestTablePagesHandedBack(t *testing.T) {
	if !dontneedHonoured(t) {
		t.Skip("MADV_DONTNEED on a file mapping is not honoured here (qemu-user): nothing to measure")
	}
	for _, viaLink := range []bool{false, true} {
		t.Run(fmt.Sprintf("symlink=%v", viaLink), func(t *testing.T) { tablePagesHandedBack(t, viaLink) })
	}
}

func tablePagesHandedBack(t *testing.T, viaLink bool) {
	dir := t.TempDir()
	open := dir
	if viaLink {
		open = filepath.Join(t.TempDir(), "state")
		if err := os.Symlink(dir, open); err != nil {
			t.Fatal(err)
		}
	}
	j, o := openSmall(t, open, 1<<20)
	defer j.Close()
	body := strings.Repeat("z", 300)
	appendBatches(t, j, 20000, 200, func(n int) []byte { return []byte(fmt.Sprintf(`{"n":%d,"b":"%s"}`, n, body)) })
	j.trimTables()
	kib, n := tableRSS(t, dir)
	if n < 3 {
		t.Fatalf("only %d table mappings: the test did not build tables", n)
	}
	// A table flushed after the trim may still be resident: allow two.
	if kib > 2*o.memTableSize/1024 {
		t.Fatalf("after trimming, %d KiB of %d table mappings still resident", kib, n)
	}
	// A full read touches every table; the reader hands pages back as it goes.
	if got := len(readAll(t, j, 0)); got != 20000 {
		t.Fatalf("read %d records", got)
	}
	read, _ := tableRSS(t, dir)
	if read > readerTrimBytes/1024+2*o.memTableSize/1024 {
		t.Fatalf("after a full read, %d KiB of table mappings resident", read)
	}
	t.Logf("%d table mappings; resident after trim %d KiB, after a full read %d KiB", n, kib, read)
}
