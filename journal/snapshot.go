package journal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	badger "github.com/dgraph-io/badger/v4"
)

// Snapshot is a projection's folded state. Seq is the last record the state
// covers: boot loads the snapshot and folds records from Seq+1.
type Snapshot struct {
	Name string
	Seq  uint64
	Data []byte
}

const snapshotFormat uint16 = 1

// SaveSnapshot stores s as the newest snapshot of s.Name, replacing the
// previous one in the same synced transaction: a crash leaves either the old
// or the new one, never neither. Seq may not be past LastSeq, nor so old that
// retention has dropped the records needed to bring it up to date. Data is
// limited by Badger's value log file size (16 MiB).
func (j *Journal) SaveSnapshot(s Snapshot) error {
	if err := checkName("save snapshot", s.Name); err != nil {
		return err
	}
	done, err := j.enter(true)
	if err != nil {
		return err
	}
	defer done()
	j.wmu.Lock()
	defer j.wmu.Unlock()
	first, last := j.first.Load(), j.last.Load()
	if s.Seq > last {
		return fmt.Errorf("journal: save snapshot %q: seq %d is past the last record %d", s.Name, s.Seq, last)
	}
	if first > 0 && s.Seq+1 < first {
		return fmt.Errorf("journal: save snapshot %q: seq %d: records %d..%d: %w", s.Name, s.Seq, s.Seq+1, first-1, ErrCompacted)
	}
	if err := j.checkFree("save snapshot"); err != nil {
		return err
	}
	val := make([]byte, 0, 14+len(s.Data))
	val = binary.BigEndian.AppendUint16(val, snapshotFormat)
	val = binary.BigEndian.AppendUint64(val, s.Seq)
	val = append(val, s.Data...)
	val = binary.BigEndian.AppendUint32(val, crc32.Checksum(val, castagnoli))

	err = j.db.Update(func(txn *badger.Txn) error {
		old, err := snapshotKeys(txn, s.Name)
		if err != nil {
			return err
		}
		key := snapshotKey(s.Name, s.Seq)
		for _, k := range old {
			if string(k) != string(key) {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
		}
		return txn.Set(key, val)
	})
	if err != nil {
		return fmt.Errorf("journal: save snapshot %q: %w", s.Name, err)
	}
	j.noteWritten(int64(len(val)))
	if j.retentionBlocked.Swap(false) {
		j.maybeTriggerRetention()
	}
	return nil
}

func snapshotKeys(txn *badger.Txn, name string) ([][]byte, error) {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: snapshotPrefix(name)})
	defer it.Close()
	var keys [][]byte
	for it.Rewind(); it.Valid(); it.Next() {
		keys = append(keys, it.Item().KeyCopy(nil))
	}
	return keys, nil
}

// LoadSnapshot returns the newest snapshot saved under name.
func (j *Journal) LoadSnapshot(name string) (Snapshot, bool, error) {
	if err := checkName("load snapshot", name); err != nil {
		return Snapshot{}, false, err
	}
	done, err := j.enter(false)
	if err != nil {
		return Snapshot{}, false, err
	}
	defer done()
	var snap Snapshot
	var found bool
	err = j.db.View(func(txn *badger.Txn) error {
		prefix := snapshotPrefix(name)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true})
		defer it.Close()
		it.Seek(append(append([]byte{}, prefix...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))
		if !it.Valid() {
			return nil
		}
		k := it.Item().Key()
		if len(k) != len(prefix)+8 {
			return fmt.Errorf("journal: snapshot %q: %w", name, corruptf("bad key %x", k))
		}
		found = true
		keySeq := binary.BigEndian.Uint64(k[len(prefix):])
		return it.Item().Value(func(v []byte) error {
			var err error
			snap, err = decodeSnapshot(name, keySeq, v)
			return err
		})
	})
	if err != nil {
		return Snapshot{}, false, err
	}
	return snap, found, nil
}

// decodeSnapshot's errors are marked ErrCorrupt: bytes that fail their
// CRC-32C, or an envelope of the wrong shape, stay so at every read, and a
// caller must be able to tell them from a read that may pass.
func decodeSnapshot(name string, keySeq uint64, v []byte) (Snapshot, error) {
	fail := func(err error) (Snapshot, error) {
		return Snapshot{}, fmt.Errorf("journal: snapshot %q seq %d: %w", name, keySeq, corruptf("%v", err))
	}
	if len(v) < 14 {
		return fail(errShort)
	}
	if crc32.Checksum(v[:len(v)-4], castagnoli) != binary.BigEndian.Uint32(v[len(v)-4:]) {
		return fail(errChecksum)
	}
	if f := binary.BigEndian.Uint16(v); f != snapshotFormat {
		return fail(fmt.Errorf("unknown snapshot format %d", f))
	}
	seq := binary.BigEndian.Uint64(v[2:10])
	if seq != keySeq {
		return fail(fmt.Errorf("envelope seq %d under key seq %d", seq, keySeq))
	}
	return Snapshot{Name: name, Seq: seq, Data: append([]byte{}, v[10:len(v)-4]...)}, nil
}

// DeleteSnapshot forgets every snapshot of name. A projection that is retired
// must delete its snapshot, or its old seq holds retention back for good.
func (j *Journal) DeleteSnapshot(name string) error {
	if err := checkName("delete snapshot", name); err != nil {
		return err
	}
	done, err := j.enter(true)
	if err != nil {
		return err
	}
	defer done()
	j.wmu.Lock()
	defer j.wmu.Unlock()
	err = j.db.Update(func(txn *badger.Txn) error {
		keys, err := snapshotKeys(txn, name)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("journal: delete snapshot %q: %w", name, err)
	}
	if j.retentionBlocked.Swap(false) {
		j.maybeTriggerRetention()
	}
	return nil
}

// minCovered is the lowest seq covered by the newest snapshot of every name,
// and false when there is no snapshot at all (then nothing is covered).
func minCovered(txn *badger.Txn) (uint64, bool) {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixSnapshot}})
	defer it.Close()
	var min uint64
	found := false
	for it.Rewind(); it.Valid(); it.Next() {
		k := it.Item().Key()
		if len(k) < 10 {
			continue
		}
		seq := binary.BigEndian.Uint64(k[len(k)-8:])
		if !found || seq < min {
			min, found = seq, true
		}
	}
	return min, found
}

// PutMeta stores a small caller value under key (synced).
func (j *Journal) PutMeta(key string, val []byte) error {
	if key == "" {
		return errors.New("journal: put meta: empty key")
	}
	done, err := j.enter(true)
	if err != nil {
		return err
	}
	defer done()
	// An unchanged value is not written again. Beyond saving a sync: meta
	// keys sort before the records, so a level-0 table holding one spans
	// every table below it and its compaction rewrites the whole journal
	// (a daemon that wrote its defaults path at every start did that).
	err = j.db.Update(func(txn *badger.Txn) error {
		k := metaKey(key)
		if item, err := txn.Get(k); err == nil {
			same := false
			if err := item.Value(func(v []byte) error { same = bytes.Equal(v, val); return nil }); err != nil {
				return err
			}
			if same {
				return nil
			}
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		return txn.Set(k, append([]byte{}, val...))
	})
	if err != nil {
		return fmt.Errorf("journal: put meta %q: %w", key, err)
	}
	return nil
}

// GetMeta returns the value PutMeta stored under key.
func (j *Journal) GetMeta(key string) ([]byte, bool, error) {
	done, err := j.enter(false)
	if err != nil {
		return nil, false, err
	}
	defer done()
	var val []byte
	var found bool
	err = j.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(metaKey(key))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		val, err = item.ValueCopy(nil)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("journal: get meta %q: %w", key, err)
	}
	return val, found, nil
}
