package journal

import (
	"bytes"
	"fmt"
	"path/filepath"
	"time"

	"github.com/dgraph-io/badger/v4/table"
)

// Badger runs with no compactor goroutines (NumCompactors 0, see
// badgerOptions): its compactors wake every 50 ms each whether or not
// anything was written, which was most of an idle agent's CPU (about 6 ms per
// second against 0.1 ms without them). The journal compacts instead, from its
// maintenance goroutine, when its own appends have filled memtables that
// Badger flushed to level 0.
//
// What is compacted is what Badger's compactors compacted: level 0 into the
// base level, and on down while more than one level holds tables
// (DB.Flatten). Record keys only grow and the internal keys every commit
// rewrites sort after them, so a level-0 table spans from its first record
// to the end and overlaps only the newest tables below: a compaction
// rewrites little. A meta key (sorting before the records) would make it
// span everything, hence PutMeta's skip of unchanged values.
//
// The write path depends on it: with no compactor, a memtable flush that
// finds NumLevelZeroTablesStall tables in level 0 waits, and appends then
// block. The committer therefore wakes the maintenance goroutine every
// compactCheckBytes written, which compacts from compactL0At tables, far
// below the stall.

// openCompactDelay is how long after Open the journal first looks at level
// 0 when nothing it writes asks sooner.
const openCompactDelay = 20 * time.Second

// compactL0At is the level-0 table count from which the journal compacts.
const compactL0At = 2

// compactCheckBytes is how many bytes the committer writes between two
// level-0 checks: a quarter memtable, so at least three checks happen
// between two flushes.
func (j *Journal) compactCheckBytes() int64 { return j.memTableSize / 4 }

// noteWritten counts written bytes (appends, snapshots) toward the next
// level-0 check and wakes the maintenance goroutine when one is due.
func (j *Journal) noteWritten(n int64) {
	if j.sinceL0Check.Add(n) < j.compactCheckBytes() {
		return
	}
	j.sinceL0Check.Store(0)
	j.wakeMaint()
}

// wakeMaint wakes the maintenance goroutine without blocking.
func (j *Journal) wakeMaint() {
	select {
	case j.maint <- struct{}{}:
	default:
	}
}

// level0Tables is how many tables level 0 holds now.
func (j *Journal) level0Tables() int {
	for _, l := range j.db.Levels() {
		if l.Level == 0 {
			return l.NumTables
		}
	}
	return 0
}

// compactIfNeeded compacts when level 0 holds compactL0At tables or more. It
// returns whether it compacted.
func (j *Journal) compactIfNeeded() (bool, error) {
	done, err := j.enter(true)
	if err != nil {
		return false, err
	}
	defer done()
	return j.compactEntered()
}

// compactEntered is compactIfNeeded for a caller that already holds enter
// (a second read lock could deadlock against a waiting Close).
func (j *Journal) compactEntered() (bool, error) {
	before := j.level0Tables()
	if before < compactL0At {
		return false, nil
	}
	j.compactMu.Lock() // tables leave the levels: no trim meanwhile
	defer j.compactMu.Unlock()
	if err := j.db.Flatten(1); err != nil {
		return false, fmt.Errorf("journal: compact level 0: %w", err)
	}
	if j.level0Tables() >= before {
		return false, nil // Flatten found nothing worth doing
	}
	j.compactions.Add(1)
	return true, nil
}

// Compactions is how many level-0 compactions this Journal ran.
func (j *Journal) Compactions() uint64 { return j.compactions.Load() }

// trimTables hands back the resident pages of the journal's table mappings
// (trim_linux.go), guarded like any other store call.
func (j *Journal) trimTables() {
	done, err := j.enter(false)
	if err != nil {
		return
	}
	defer done()
	j.compactMu.Lock()
	defer j.compactMu.Unlock()
	j.trimTableMappings(j.tablesBefore(nil))
}

// trimBehind is a reader's trim: tables whose keys all sort before key. It
// skips when a compaction is running (it would wait for it) rather than
// stall the reader.
func (j *Journal) trimBehind(key []byte) {
	if !j.compactMu.TryLock() {
		return
	}
	defer j.compactMu.Unlock()
	if behind := j.tablesBefore(key); len(behind) > 0 {
		j.trimTableMappings(behind)
	}
}

// tablesBefore names the table files (as Badger names them) of the current
// levels whose keys all sort before key (every table when key is nil): a
// reader positioned at key is done with them, tables further on keep their
// pages.
func (j *Journal) tablesBefore(key []byte) map[string]bool {
	out := map[string]bool{}
	for _, t := range j.db.Tables() {
		right := t.Right
		if len(right) > 8 {
			right = right[:len(right)-8] // Badger's version suffix
		}
		if key == nil || bytes.Compare(right, key) < 0 {
			out[table.IDToFilename(t.ID)] = true
		}
	}
	return out
}

// storeDir is the directory Badger opened (a read-only open may have opened
// a copy), as the kernel names it in /proc/self/maps: absolute, symlinks
// resolved (an OpenWrt state directory is often a link into the overlay).
func (j *Journal) storeDir() string {
	dir := j.opts.Dir
	if j.tmpCopy != "" {
		dir = j.tmpCopy
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	return dir
}
