package journal

import (
	"errors"
	"fmt"
)

// ErrDiskFull is matched (errors.Is) by the error Append, Import and
// SaveSnapshot return when the free space of the journal's filesystem is below
// Options.MinFreeBytes. Nothing was written and no seq was consumed; the same
// call succeeds once space is freed.
var ErrDiskFull = errors.New("journal: free space below the reserve")

// SuggestedMinFreeBytes is a reserve that covers what Badger can still write
// after the last accepted append with the journal's sizing: the flush of the
// current memtable (one table) plus a level-0 compaction that rewrites up to
// NumLevelZeroTablesStall (6) tables and the level-1 tables they overlap
// before deleting its inputs — about ten tables of the memtable size,
// 20 MiB. 8 MiB was enough on amd64 but not under qemu-aarch64, where the
// compactors lag further behind and a compaction died with SIGBUS on a full
// tmpfs.
const SuggestedMinFreeBytes = 10 * defaultMemTableSize

// DiskFullError is the error behind ErrDiskFull: what was read and the reserve.
type DiskFullError struct {
	Op      string // "append", "import" or "save snapshot"
	Dir     string
	Free    uint64 // bytes available, as read before the commit
	Reserve int64  // Options.MinFreeBytes
}

func (e *DiskFullError) Error() string {
	return fmt.Sprintf("journal: %s refused: %d bytes free in %s, below the reserve of %d bytes (disk full)",
		e.Op, e.Free, e.Dir, e.Reserve)
}

// Is makes errors.Is(err, ErrDiskFull) true.
func (e *DiskFullError) Is(target error) bool { return target == ErrDiskFull }

// checkFree reads the free space when a reserve is set and returns a
// *DiskFullError below it. It runs before every group commit and snapshot
// save (one fstatfs of the directory kept open, about a microsecond next to
// a sync of hundreds: see BenchmarkFreeSpaceCheck). A reading that fails is logged and lets the
// write through: a broken statfs must not stop the agent from journaling,
// and Badger's own error remains the last line.
func (j *Journal) checkFree(op string) error {
	if j.opts.MinFreeBytes <= 0 {
		return nil
	}
	free, err := j.freeSpace()
	if err != nil {
		// Every commit meets the same broken reading: log the first of a
		// run and then one in freeUnreadLogEvery, not a line per commit
		// into a router's small syslog.
		if n := j.freeUnread.Add(1); n == 1 || n%freeUnreadLogEvery == 0 {
			j.log.Warn().Err(err).Str("dir", j.opts.Dir).Int64("failed_in_a_row", n).
				Msg("journal: free space unreadable; reserve not enforced while it stays so")
		}
		return nil
	}
	if n := j.freeUnread.Swap(0); n > 0 {
		j.log.Info().Str("dir", j.opts.Dir).Int64("failed_in_a_row", n).Msg("journal: free space readable again; reserve enforced")
	}
	if free < uint64(j.opts.MinFreeBytes) {
		return &DiskFullError{Op: op, Dir: j.opts.Dir, Free: free, Reserve: j.opts.MinFreeBytes}
	}
	return nil
}

// freeUnreadLogEvery: how many failed free-space readings in a row make
// one more log line after the first.
const freeUnreadLogEvery = 1000

func (j *Journal) freeSpace() (uint64, error) {
	if j.opts.FreeSpace != nil {
		return j.opts.FreeSpace()
	}
	if j.dirFree != nil {
		return j.dirFree()
	}
	return statfsFree(j.opts.Dir)
}
