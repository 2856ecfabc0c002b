package journal

import (
	"fmt"
	"sync"

	badger "github.com/dgraph-io/badger/v4"
)

// Reader iterates records in seq order:
//
//	for r.Next() { use(r.Record()) }
//	if err := r.Err(); err != nil { ... }
//	r.Close()
//
// Record is valid until the next call to Next. A record that fails to decode,
// or a missing seq, ends the iteration with a *CorruptionError from Err.
type Reader interface {
	Next() bool
	Record() Record
	Err() error
	Close() error
}

// NewReader reads records with seq >= from that are durable when the first
// Next is called (a consistent view: later appends are not seen; make a new
// reader from the last seq + 1 after a Subscribe wake-up). from 0 starts at
// the oldest retained record. A from > 0 below FirstSeq fails with
// ErrCompacted instead of silently starting later.
func (j *Journal) NewReader(from uint64) Reader {
	r := &dbReader{j: j, from: from}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		r.err, r.done = ErrClosed, true
		return r
	}
	j.readers[r] = struct{}{}
	return r
}

type dbReader struct {
	j    *Journal
	from uint64

	mu      sync.Mutex // Close of the journal releases readers under it
	txn     *badger.Txn
	it      *badger.Iterator
	started bool
	done    bool
	want    uint64
	rec     Record
	err     error
	// sinceTrim counts bytes read since the table pages were last handed
	// back: a full read (boot fold, export) would otherwise leave every
	// table resident (trim_linux.go).
	sinceTrim int
}

// readerTrimBytes is how much a reader reads between two trims.
const readerTrimBytes = 4 << 20

func (r *dbReader) Next() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return false
	}
	if !r.started {
		r.started = true
		if err := r.start(); err != nil {
			r.release(err)
			return false
		}
	} else {
		r.it.Next()
	}
	if !r.it.Valid() {
		r.release(nil)
		return false
	}
	item := r.it.Item()
	seq, ok := parseRecordKey(item.Key())
	if !ok {
		r.release(&CorruptionError{Seq: r.want, Err: fmt.Errorf("bad record key %x", item.Key())})
		return false
	}
	if seq != r.want {
		r.release(&CorruptionError{Seq: r.want, Err: fmt.Errorf("record missing (next stored seq is %d)", seq)})
		return false
	}
	var rec Record
	err := item.Value(func(v []byte) error {
		var err error
		rec, err = DecodeRecord(seq, v)
		return err
	})
	if err != nil {
		if _, ok := err.(*CorruptionError); !ok {
			err = fmt.Errorf("journal: read seq %d: %w", seq, err)
		}
		r.release(err)
		return false
	}
	r.rec = rec
	r.want++
	if r.sinceTrim += len(item.Key()) + int(item.ValueSize()); r.sinceTrim >= readerTrimBytes {
		r.sinceTrim = 0
		r.j.trimBehind(item.Key())
	}
	return true
}

// start opens the read transaction and takes FirstSeq from inside it, so a
// retention run between NewReader and here cannot look like a gap.
func (r *dbReader) start() error {
	r.txn = r.j.db.NewTransaction(false)
	first, err := getU64(r.txn, keyFirst)
	if err != nil {
		return err
	}
	if first == 0 {
		first = r.j.first.Load() // a store written without our metadata
	}
	from := r.from
	if from == 0 {
		from = max(first, 1)
	}
	if from < first {
		return fmt.Errorf("journal: read from seq %d, oldest is %d: %w", from, first, ErrCompacted)
	}
	r.want = from
	r.it = r.txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixRecord}, PrefetchValues: false})
	r.it.Seek(recordKey(from))
	return nil
}

// release ends the iteration; callers hold r.mu.
func (r *dbReader) release(err error) {
	if r.done {
		return
	}
	r.done = true
	if r.err == nil {
		r.err = err
	}
	if r.it != nil {
		r.it.Close()
		r.it = nil
	}
	if r.txn != nil {
		r.txn.Discard()
		r.txn = nil
	}
	r.rec = Record{}
}

func (r *dbReader) Record() Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rec
}

func (r *dbReader) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func (r *dbReader) Close() error {
	r.mu.Lock()
	r.release(nil)
	r.mu.Unlock()
	r.j.mu.Lock()
	if r.j.readers != nil {
		delete(r.j.readers, r)
	}
	r.j.mu.Unlock()
	return nil
}

// NewSliceReader reads recs in the order given.
func NewSliceReader(recs []Record) Reader { return &sliceReader{recs: recs, i: -1} }

type sliceReader struct {
	recs []Record
	i    int
}

func (s *sliceReader) Next() bool {
	if s.i+1 >= len(s.recs) {
		s.i = len(s.recs)
		return false
	}
	s.i++
	return true
}

func (s *sliceReader) Record() Record {
	if s.i < 0 || s.i >= len(s.recs) {
		return Record{}
	}
	return s.recs[s.i]
}

func (s *sliceReader) Err() error   { return nil }
func (s *sliceReader) Close() error { return nil }
