package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// damagedJournal writes a real journal of several tables (small memtables)
// and closes it, then applies damage to it.
func damagedJournal(t *testing.T, damage func(t *testing.T, dir string)) string {
	t.Helper()
	dir := t.TempDir()
	j, _ := openSmall(t, dir, 1<<20)
	appendBatches(t, j, 12000, 200, payload)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	damage(t, dir)
	return dir
}

// overwrite writes n bytes of 0x5a at off (negative: from the end) in
// every file of dir matching glob; it fails the test when none matches.
func overwrite(glob string, off int64, n int) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		t.Helper()
		files, _ := filepath.Glob(filepath.Join(dir, glob))
		if len(files) == 0 {
			t.Fatalf("no %s in %s", glob, dir)
		}
		for _, name := range files {
			f, err := os.OpenFile(name, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			st, _ := f.Stat()
			at := off
			if at < 0 {
				at += st.Size()
			} else if at == 1 {
				at = st.Size() / 2
			}
			if _, err := f.WriteAt([]byte(strings.Repeat("\x5a", n)), at); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
}

// TestOpenOfDamagedFilesIsCorrupt damages a real journal's files in the
// ways flash damage and torn writes do and checks that Open, read-write and
// read-only, fails with an error marked ErrCorrupt, quickly, and without a
// panic. Before, a garbled table footer made Badger panic in a goroutine of
// its own (the process died at every start) and no error said "damage".
func TestOpenOfDamagedFilesIsCorrupt(t *testing.T) {
	cases := []struct {
		name   string
		damage func(*testing.T, string)
		want   string
	}{
		{"MANIFEST overwritten", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "MANIFEST"), []byte("not a manifest at all"), 0o600)
		}, "bad magic"},
		{"MANIFEST change garbled", overwrite("MANIFEST", 12, 8), "checksum mismatch"},
		{"MANIFEST gone", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "MANIFEST")) }, "MANIFEST missing"},
		{"table block garbled", overwrite("*.sst", 1, 512), "checksum"},
		{"table footer garbled", overwrite("*.sst", -8, 8), "footer"},
		{"table index garbled", overwrite("*.sst", -200, 64), "table"},
		{"table truncated", func(t *testing.T, dir string) {
			files, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
			os.Truncate(files[0], 4096)
		}, "table"},
		{"table missing", func(t *testing.T, dir string) {
			files, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
			os.Remove(files[len(files)-1])
		}, "missing"},
		{"value log header garbled", overwrite("*.vlog", 0, 20), "datakey"},
		{"key registry garbled", overwrite("KEYREGISTRY", 0, 28), "key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := damagedJournal(t, c.damage)
			for _, ro := range []bool{false, true} {
				o := testOptions(t, dir)
				o.ReadOnly = ro
				o.TempDir = t.TempDir()
				start := time.Now()
				j, err := Open(o)
				if err == nil {
					j.Close()
					t.Fatalf("read-only=%v: a damaged journal opened", ro)
				}
				if !errors.Is(err, ErrCorrupt) || !IsCorrupt(err) {
					t.Fatalf("read-only=%v: %v: not marked as damage", ro, err)
				}
				if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(c.want)) {
					t.Errorf("read-only=%v: %v: does not say %q", ro, err, c.want)
				}
				if d := time.Since(start); d > 5*time.Second {
					t.Errorf("read-only=%v: took %v", ro, d)
				}
			}
		})
	}
}

// A write-ahead log (.mem) left by a killed writer, with its header
// garbled, is damage too.
func TestOpenOfGarbledWriteAheadLogIsCorrupt(t *testing.T) {
	dir := t.TempDir()
	c := startWriter(t, dir)
	waitFor(t, func() bool { c.mu.Lock(); defer c.mu.Unlock(); return len(c.acked) > 100 }, "writer child")
	c.kill(t)
	overwrite("*.mem", 0, 20)(t, dir)
	_, err := Open(testOptions(t, dir))
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open: %v: not marked as damage", err)
	}
}

// TestOpenOfHealthyJournalsIsNotCorrupt: the checks must not condemn what
// Badger leaves normally: a closed journal, and one whose writer was killed
// (tables and write-ahead logs mid-way; TestCrashKill covers many kills).
func TestOpenOfHealthyJournalsIsNotCorrupt(t *testing.T) {
	dir := damagedJournal(t, func(*testing.T, string) {})
	j := mustOpen(t, testOptions(t, dir))
	if j.LastSeq() != 12000 {
		t.Fatalf("last seq %d", j.LastSeq())
	}
	j.Close()

	dir = t.TempDir()
	c := startWriter(t, dir)
	waitFor(t, func() bool { c.mu.Lock(); defer c.mu.Unlock(); return len(c.acked) > 2000 }, "writer child")
	c.kill(t)
	j = mustOpen(t, testOptions(t, dir))
	j.Close()
}

// TestEnvironmentalOpenErrorsAreNotCorrupt: what is the environment's and
// not the files' must never read as damage, or a caller would move a good
// journal aside for it.
func TestEnvironmentalOpenErrorsAreNotCorrupt(t *testing.T) {
	// A directory held by another process.
	dir := t.TempDir()
	c := startWriter(t, dir)
	waitFor(t, func() bool { c.mu.Lock(); defer c.mu.Unlock(); return len(c.acked) > 0 }, "writer child")
	_, err := Open(testOptions(t, dir))
	if !errors.Is(err, ErrLocked) || IsCorrupt(err) {
		t.Fatalf("held directory: %v (corrupt=%v)", err, IsCorrupt(err))
	}
	c.kill(t)

	// The journal's path is a file, and its MANIFEST a directory.
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o600)
	_, err = Open(testOptions(t, file))
	if err == nil || IsCorrupt(err) {
		t.Fatalf("a file for a directory: %v (corrupt=%v)", err, IsCorrupt(err))
	}
	dir = t.TempDir()
	os.Mkdir(filepath.Join(dir, "MANIFEST"), 0o700)
	_, err = Open(testOptions(t, dir))
	if err == nil || IsCorrupt(err) {
		t.Fatalf("MANIFEST a directory: %v (corrupt=%v)", err, IsCorrupt(err))
	}
}

// IsCorrupt on errors as they reach it: Badger's flattened strings with an
// errno's text are the environment's, even beside a damage message.
func TestIsCorruptClassifies(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{errors.New("manifest has bad magic"), true},
		{fmt.Errorf("open x: %w", &CorruptionError{Seq: 3, Err: errors.New("bad crc")}), true},
		{errors.New("While opening memtable: /j/00001.mem err: while opening file: open /j/00001.mem: permission denied"), false},
		{errors.New("checksum validation failed for table: x err: read /j/1.sst: input/output error"), false},
		{fmt.Errorf("journal: read MANIFEST: %w", &os.PathError{Op: "read", Path: "MANIFEST", Err: syscall.EIO}), false},
		{fmt.Errorf("journal: open: %w", &os.PathError{Op: "mkdir", Path: "/ro", Err: syscall.EROFS}), false},
		{fmt.Errorf("write: %w", syscall.ENOSPC), false},
		{fmt.Errorf("journal: open x: %w", ErrLocked), false},
		{errors.New("something Badger said that nobody knows"), false},
		{nil, false},
	} {
		if got := IsCorrupt(c.err); got != c.want {
			t.Errorf("IsCorrupt(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
