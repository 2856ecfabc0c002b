//go:build linux

package journal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/rs/zerolog"
)

// TestDiskFullTmpfs fills a real 40 MiB tmpfs: a 4 MiB file of someone else,
// then journal appends until the SuggestedMinFreeBytes (20 MiB) reserve
// refuses them. Badger must not
// crash in what it writes afterwards (flushes on Close), every acknowledged
// record must read back after a reopen, and appends must work again once the
// other file is deleted. It needs root (mount); elsewhere
// TestDiskFullInjected covers the logic with an injected reading.
func TestDiskFullTmpfs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs; TestDiskFullInjected covers the logic")
	}
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=40m"); err != nil {
		t.Skipf("mount tmpfs refused (%v); TestDiskFullInjected covers the logic", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(mnt, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	})
	// The filler is what "freeing space" removes later: large enough that
	// its removal lifts the filesystem clear of the reserve whatever
	// Badger's reopened logs and pending compactions take meanwhile (4 MiB
	// was not, under qemu-aarch64).
	filler := filepath.Join(mnt, "other-files")
	if err := os.WriteFile(filler, bytes.Repeat([]byte{0xa5}, 12<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	o := testOptions(t, filepath.Join(mnt, "journal"))
	o.MinFreeBytes = SuggestedMinFreeBytes
	// Badger's compactors may still log after a failed assertion ends the
	// test; a logger bound to t would then panic the whole package.
	o.Logger = zerolog.Nop()
	j := mustOpen(t, o)

	pad := bytes.Repeat([]byte("x"), 1000)
	var acked []Record
	var full error
	for batch := 0; batch < 1000 && full == nil; batch++ {
		entries := make([]Entry, 100)
		for i := range entries {
			entries[i] = Entry{Type: 5, Payload: []byte(fmt.Sprintf(`{"n":%d,"pad":"%s"}`, len(acked)+i, pad))}
		}
		recs, err := j.Append(context.Background(), entries...)
		switch {
		case err == nil:
			acked = append(acked, recs...)
		case errors.Is(err, ErrDiskFull):
			full = err
		default:
			t.Fatalf("append after %d records: %v", len(acked), err)
		}
	}
	if full == nil {
		t.Fatalf("%d records (about %d KiB) never reached the reserve", len(acked), len(acked)*1040>>10)
	}
	t.Logf("refused after %d records: %v", len(acked), full)
	var dfe *DiskFullError
	if !errors.As(full, &dfe) || dfe.Free >= uint64(dfe.Reserve) || dfe.Reserve != SuggestedMinFreeBytes {
		t.Fatalf("refusal %+v: want a reading below the reserve", dfe)
	}
	if len(acked) < 1000 {
		t.Fatalf("refused after only %d records", len(acked))
	}
	// (A compaction finishing meanwhile can free space again, so a second
	// append may or may not be refused; TestDiskFullInjected pins that.)
	mustClose(t, j) // flushes the memtable into the reserve

	// Everything acknowledged survived. (Close truncates Badger's
	// preallocated logs, so the reopened journal may be above the reserve
	// again; the refusal is not asserted here.)
	j = mustOpen(t, o)
	sameRecords(t, readAll(t, j, 1), acked)
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	recs, err := j.Append(context.Background(), Entry{Type: 5, Payload: []byte(`{"after":"freed"}`)})
	if err != nil || recs[0].Seq != acked[len(acked)-1].Seq+1 {
		t.Fatalf("append after freeing space: %v %v", recs, err)
	}
	mustClose(t, j)
	j = mustOpen(t, o)
	sameRecords(t, readAll(t, j, 1), append(acked, recs...))
	mustClose(t, j)
}

// TestAvailableBytesCountsFragments: Linux gives f_bavail in fragments
// (f_frsize); a filesystem whose preferred I/O size is larger (FUSE,
// network filesystems) must not have its free space overstated.
func TestAvailableBytesCountsFragments(t *testing.T) {
	st := syscall.Statfs_t{Bavail: 1000, Bsize: 131072, Frsize: 4096}
	if got := availableBytes(&st); got != 1000*4096 {
		t.Fatalf("availableBytes = %d, want %d", got, 1000*4096)
	}
}
