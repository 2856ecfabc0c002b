package journal

import (
	"errors"
	"fmt"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// retentionChunk bounds one deletion transaction: well inside Badger's
// per-transaction limit even with the smallest test memtables.
const retentionChunk = 256

// maintInterval is how often the journal looks at retention and reclaims
// value-log space without being asked.
const maintInterval = 10 * time.Minute

func (j *Journal) overLimit() bool {
	r := j.opts.Retention
	first, last := j.first.Load(), j.last.Load()
	if last == 0 {
		return false
	}
	if r.MaxRecords > 0 && last-first+1 > uint64(r.MaxRecords) {
		return true
	}
	return r.MaxBytes > 0 && j.bytes > r.MaxBytes
}

// maybeTriggerRetention is called with wmu held or before the goroutines
// race for j.bytes, so reading it is safe. It only wakes the maintenance
// goroutine: the appender that crossed the limit does not pay for the
// deletion.
func (j *Journal) maybeTriggerRetention() {
	if j.readOnly || !j.settled.Load() || j.retentionBlocked.Load() || !j.overLimit() {
		return
	}
	j.wakeMaint()
}

func (j *Journal) maintLoop() {
	defer close(j.maintDone)
	t := time.NewTicker(maintInterval)
	defer t.Stop()
	for {
		select {
		case <-j.quit:
			return
		case <-j.maint:
		case <-t.C:
			j.gcValueLog()
		}
		// Retention waits for the journal to settle (see settled), even
		// when a write wakes this loop for compaction before that.
		if j.settled.Load() {
			if _, err := j.EnforceRetention(); err != nil && !errors.Is(err, ErrClosed) {
				j.log.Warn().Err(err).Msg("journal: retention")
			}
		}
		// After retention, whose deletions are writes too.
		if _, err := j.compactIfNeeded(); err != nil && !errors.Is(err, ErrClosed) {
			j.log.Error().Err(err).Msg("journal: compaction failed; appends will block if level 0 keeps growing")
		}
		j.trimTables()
	}
}

// gcValueLog reclaims value-log files (only large snapshots live there).
func (j *Journal) gcValueLog() {
	done, err := j.enter(true)
	if err != nil {
		return
	}
	defer done()
	for i := 0; i < 4; i++ {
		if err := j.db.RunValueLogGC(0.5); err != nil {
			return // badger.ErrNoRewrite: nothing worth rewriting
		}
	}
}

// EnforceRetention drops the oldest records while the journal is over a
// Retention limit, down to 90% of that limit. It never drops a record past
// the lowest seq covered by the newest snapshot of each name (nothing at all
// without a snapshot), nor the newest record. It returns how many records it
// dropped. The journal runs it itself after appends that cross a limit.
func (j *Journal) EnforceRetention() (int, error) {
	done, err := j.enter(true)
	if err != nil {
		return 0, err
	}
	defer done()
	j.wmu.Lock()
	defer j.wmu.Unlock()

	first, last := j.first.Load(), j.last.Load()
	if last == 0 || !j.overLimit() {
		return 0, nil
	}
	r := j.opts.Retention
	// newFirst is the oldest seq that survives.
	newFirst := first
	if r.MaxRecords > 0 && last-first+1 > uint64(r.MaxRecords) {
		keep := uint64(r.MaxRecords - r.MaxRecords/10)
		newFirst = last - keep + 1
	}
	var covered uint64
	var haveSnap bool
	err = j.db.View(func(txn *badger.Txn) error {
		covered, haveSnap = minCovered(txn)
		if r.MaxBytes <= 0 || j.bytes <= r.MaxBytes {
			return nil
		}
		// Walk from the oldest record until what is left fits.
		target := r.MaxBytes - r.MaxBytes/10
		remaining := j.bytes
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixRecord}})
		defer it.Close()
		seq := first
		for it.Seek(recordKey(first)); it.Valid() && remaining > target && seq < last; it.Next() {
			remaining -= int64(it.Item().ValueSize())
			seq++
		}
		if seq > newFirst {
			newFirst = seq
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("journal: retention: %w", err)
	}
	limit := last // the newest record always stays
	if !haveSnap {
		limit = first
	} else if covered+1 < limit {
		limit = covered + 1
	}
	if newFirst > limit {
		newFirst = limit
		// Only snapshot coverage can move later by itself (a new snapshot
		// clears the flag); the newest-record rule is not worth retrying.
		if limit < last {
			j.retentionBlocked.Store(true)
		}
	}
	if newFirst <= first {
		return 0, nil
	}

	dropped := 0
	for first < newFirst {
		end := min(first+retentionChunk, newFirst)
		freed, err := j.dropRange(first, end)
		if err != nil {
			return dropped, fmt.Errorf("journal: retention: drop %d..%d: %w", first, end-1, err)
		}
		dropped += int(end - first)
		first = end
		j.bytes -= freed
		j.first.Store(first)
		// Tombstones fill memtables like appends: a long drop must empty
		// level 0 itself, or the flush stalls and this loop with it (no
		// other goroutine compacts; the caller already holds enter).
		if _, err := j.compactEntered(); err != nil {
			return dropped, fmt.Errorf("journal: retention: %w", err)
		}
	}
	j.log.Debug().Int("dropped", dropped).Uint64("first", first).Msg("journal: retention")
	return dropped, nil
}

// dropRange deletes records [from, to) and moves the persisted first seq and
// byte count in the same synced transaction, so a crash mid-retention leaves
// metadata that matches the keys.
func (j *Journal) dropRange(from, to uint64) (int64, error) {
	var freed int64
	err := j.db.Update(func(txn *badger.Txn) error {
		for seq := from; seq < to; seq++ {
			item, err := txn.Get(recordKey(seq))
			if err != nil {
				return fmt.Errorf("seq %d: %w", seq, err)
			}
			// Value, not ValueSize: the latter is an estimate for values in
			// the value log, and the byte count must not drift.
			if err := item.Value(func(v []byte) error { freed += int64(len(v)); return nil }); err != nil {
				return fmt.Errorf("seq %d: %w", seq, err)
			}
			if err := txn.Delete(recordKey(seq)); err != nil {
				return err
			}
		}
		if err := txn.Set(keyFirst, u64bytes(to)); err != nil {
			return err
		}
		return txn.Set(keyBytes, u64bytes(uint64(j.bytes-freed)))
	})
	return freed, err
}
