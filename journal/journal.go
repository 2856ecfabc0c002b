package journal

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"
	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/skl"
	"github.com/rs/zerolog"
)

var (
	// ErrClosed is returned by every call on a closed Journal.
	ErrClosed = errors.New("journal: closed")
	// ErrReadOnly is returned by writes to a journal opened with ReadOnly.
	ErrReadOnly = errors.New("journal: read-only")
	// ErrLocked means another process (a running daemon) holds the directory.
	ErrLocked = errors.New("journal: directory locked by another process")
	// ErrMaybeCommitted accompanies a context error from Append once the
	// entries had reached the committer: they may or may not be durable.
	ErrMaybeCommitted = errors.New("journal: append outcome unknown")
	// ErrCompacted means a reader asked for records retention already dropped.
	ErrCompacted = errors.New("journal: records dropped by retention")
)

// Journal is an open journal directory. All methods are safe for concurrent
// use.
type Journal struct {
	db       *badger.DB
	opts     Options
	log      zerolog.Logger
	clock    func() time.Time
	readOnly bool
	tmpCopy  string // read-only copy removed by Close

	groupBytes int64 // one commit group's budget, half of Badger's batch limit
	groupCount int

	// wmu serialises every transaction that moves first/last/bytes: commit
	// groups, retention and snapshot saves (retention reads snapshots).
	wmu   sync.Mutex
	bytes int64 // guarded by wmu
	first atomic.Uint64
	last  atomic.Uint64

	// life is held shared by every direct store call and exclusively by Close
	// around db.Close, so no call touches a closed Badger.
	life    sync.RWMutex
	mu      sync.Mutex // guards closed, subs, readers
	closed  bool
	subs    map[chan struct{}]struct{}
	readers map[*dbReader]struct{}

	reqs          chan *appendReq
	quit          chan struct{}
	committerDone chan struct{}
	maint         chan struct{}
	maintDone     chan struct{}
	// retentionBlocked is set when retention could not reach its target
	// because snapshots do not cover enough; a new snapshot clears it. Without
	// it every commit over the limit would rescan snapshots for nothing.
	retentionBlocked atomic.Bool
	// settled is set openCompactDelay after Open (at once for a journal
	// near the level-0 stall): retention waits for it, as compaction does,
	// so that trimming a long journal does not compete with the agent's
	// start and first session.
	settled      atomic.Bool
	commits      atomic.Uint64 // successful group commits, for tests and benchmarks
	compactions  atomic.Uint64 // level-0 compactions run by the maintenance goroutine
	sinceL0Check atomic.Int64  // bytes written since the last level-0 check (compact.go)
	memTableSize int64
	openMaint    *time.Timer  // the delayed first level-0 check
	compactMu    sync.Mutex   // held while tables may leave the levels (compact.go, trim_linux.go)
	inflight     atomic.Int64 // Append/Import calls between submit and return
	// beforeCommit, when set by a test, runs just before the group's Commit;
	// an error from it fails the group as a Badger error would.
	beforeCommit func() error
	// dirFree reads the free space through the directory kept open
	// (dirFreeClose closes it); nil when no reserve is set or it could not
	// be opened (then statfs by path).
	dirFree      func() (uint64, error)
	dirFreeClose func() error
	// freeUnread counts the free-space readings failed in a row (checkFree
	// logs the first, then one in freeUnreadLogEvery).
	freeUnread atomic.Int64
	closeOnce  sync.Once
	closeErr   error
}

// Open opens (creating unless ReadOnly) the journal in opts.Dir. Transient
// failures are retried with exponential backoff for a few seconds: a SIGKILL
// during a memtable switch can leave a file that fails the first open and not
// the next. A directory held by another process fails at once with ErrLocked.
func Open(opts Options) (*Journal, error) {
	if opts.Dir == "" {
		return nil, errors.New("journal: open: empty Dir")
	}
	if len(opts.BootID) > MaxBootIDLen {
		return nil, fmt.Errorf("journal: open: boot id longer than %d bytes", MaxBootIDLen)
	}
	if opts.Retention.MaxRecords < 0 || opts.Retention.MaxBytes < 0 {
		return nil, errors.New("journal: open: negative retention")
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.ReadOnly {
		st, err := os.Stat(opts.Dir)
		if err != nil {
			return nil, fmt.Errorf("journal: open read-only: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("journal: open read-only: %s is not a directory", opts.Dir)
		}
		// Without this an offline tool pointed at the wrong (empty) directory
		// would get an empty journal from the copy path instead of an error.
		if _, err := os.Stat(filepath.Join(opts.Dir, "MANIFEST")); err != nil {
			if n := dataFiles(opts.Dir); n != "" && errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("journal: open read-only: %w", corruptf("%s: MANIFEST missing beside %s", opts.Dir, n))
			}
			return nil, fmt.Errorf("journal: open read-only: no journal in %s: %w", opts.Dir, err)
		}
	} else if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("journal: open: %w", err)
	}

	var db *badger.DB
	var tmp string
	attempt := 0
	op := func() error {
		attempt++
		var err error
		db, tmp, err = openStore(opts)
		if errors.Is(err, ErrLocked) || errors.Is(err, ErrCorrupt) {
			// Neither goes away by waiting: the files verifyFiles
			// condemned are complete ones the MANIFEST names.
			return backoff.Permanent(err)
		}
		return err
	}
	b := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(20*time.Millisecond),
		backoff.WithMaxInterval(500*time.Millisecond),
		backoff.WithMaxElapsedTime(3*time.Second),
	)
	notify := func(err error, wait time.Duration) {
		opts.Logger.Warn().Err(err).Int("attempt", attempt).Dur("retry_in", wait).Msg("journal: open failed, retrying")
	}
	if err := backoff.RetryNotify(op, backoff.WithMaxRetries(b, 8), notify); err != nil {
		if errors.Is(err, ErrLocked) {
			return nil, err
		}
		return nil, fmt.Errorf("journal: open %s: %w", opts.Dir, markCorrupt(err))
	}

	bo := badgerOptions(opts)
	maxBatch := bo.MemTableSize * 15 / 100 // Badger's own per-transaction limit
	j := &Journal{
		db:            db,
		opts:          opts,
		log:           opts.Logger,
		clock:         opts.Clock,
		readOnly:      opts.ReadOnly,
		tmpCopy:       tmp,
		groupBytes:    maxBatch / 2,
		groupCount:    int(maxBatch/int64(skl.MaxNodeSize)) / 2,
		subs:          map[chan struct{}]struct{}{},
		readers:       map[*dbReader]struct{}{},
		reqs:          make(chan *appendReq),
		quit:          make(chan struct{}),
		committerDone: make(chan struct{}),
		maint:         make(chan struct{}, 1),
		maintDone:     make(chan struct{}),
		memTableSize:  bo.MemTableSize,
	}
	if err := j.loadState(); err != nil {
		db.Close()
		j.removeCopy()
		return nil, markCorrupt(err)
	}
	if j.readOnly {
		close(j.committerDone)
		close(j.maintDone)
	} else {
		if opts.MinFreeBytes > 0 && opts.FreeSpace == nil {
			var err error
			if j.dirFree, j.dirFreeClose, err = openFreeSpace(opts.Dir); err != nil {
				j.log.Warn().Err(err).Msg("journal: free space read by path instead")
			}
		}
		go j.commitLoop()
		go j.maintLoop()
		// A journal reopened may hold level-0 tables (every close flushes
		// the memtable into one). Compacting them can wait: at start the
		// agent folds the journal and opens its first session, and on a
		// one-core router a compaction beside them would delay both.
		delay := openCompactDelay
		if opts.settleDelay != 0 {
			delay = max(opts.settleDelay, 0)
		}
		if j.level0Tables() >= bo.NumLevelZeroTablesStall-2 {
			// Restarts faster than the delay (a crash loop: each open
			// adds a table) must not walk level 0 up to the stall.
			delay = 0
		}
		j.openMaint = time.AfterFunc(delay, func() {
			j.settled.Store(true)
			j.wakeMaint() // the maintenance pass enforces retention too
		})
	}
	return j, nil
}

// markCorrupt adds ErrCorrupt to an error IsCorrupt recognises (Badger's
// messages, a *CorruptionError), so callers need only errors.Is.
func markCorrupt(err error) error {
	if IsCorrupt(err) && !errors.Is(err, ErrCorrupt) {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return err
}

// openStore makes one attempt at opening Badger.
func openStore(opts Options) (*badger.DB, string, error) {
	release, err := lockDir(opts.Dir, opts.ReadOnly)
	if err != nil {
		return nil, "", err
	}
	bo := badgerOptions(opts)
	// Under our lock, so that no writer changes the files meanwhile.
	if err := verifyFiles(opts.Dir, bo); err != nil {
		release()
		return nil, "", err
	}
	if !opts.ReadOnly {
		// Our probe lock must be gone before Badger takes its exclusive one.
		release()
		db, err := openBadger(bo)
		if err = wrapBadgerOpen(opts.Dir, err); errors.Is(err, ErrLocked) {
			// Our probe had the lock a moment ago. A child this process
			// forked meanwhile (a hook, a test's subprocess) holds a copy
			// of the probe's descriptor, and its lock, until it execs:
			// a transient failure, retried. Another process taking the
			// directory is met by the probe next time, and that is final.
			return nil, "", fmt.Errorf("journal: open %s: lock taken between our probe and Badger's: %v", opts.Dir, err)
		}
		return db, "", err
	}
	// Read-only: keep the shared lock until Badger holds its own (or the copy
	// is made), so a daemon cannot start writing in between.
	defer release()
	db, err := openBadger(bo)
	if err == nil {
		return db, "", nil
	}
	if err := wrapBadgerOpen(opts.Dir, err); errors.Is(err, ErrLocked) {
		return nil, "", err
	}
	// Badger's read-only mode refuses a directory whose write-ahead log needs
	// truncating, which is every directory a killed writer leaves. Open a
	// private copy read-write instead; our shared lock keeps a daemon from
	// starting on the original while it is copied.
	opts.Logger.Debug().Err(err).Msg("journal: read-only open needs a private copy")
	tmp, cerr := os.MkdirTemp(opts.TempDir, "cwmpd-journal-ro-")
	if cerr != nil {
		return nil, "", fmt.Errorf("read-only open failed (%v) and no temp dir for a copy: %w", err, cerr)
	}
	if cerr := copyDir(opts.Dir, tmp); cerr != nil {
		os.RemoveAll(tmp)
		return nil, "", fmt.Errorf("copy for read-only open: %w", cerr)
	}
	bo = bo.WithDir(tmp).WithValueDir(tmp).WithReadOnly(false)
	db, err = openBadger(bo)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, "", err
	}
	return db, tmp, nil
}

// openBadger is badger.Open with its panics in this goroutine turned into
// an error marked ErrCorrupt: Badger panics rather than fail on some data
// it cannot parse. (verifyFiles has already read what would make its own
// goroutines panic.) The panicked open may keep the directory's lock, so
// the error is final, not retried.
func openBadger(bo badger.Options) (db *badger.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, corruptf("%s: the storage engine failed reading it: %s", bo.Dir, panicText(r))
		}
	}()
	return badger.Open(bo)
}

func wrapBadgerOpen(dir string, err error) error {
	if err != nil && strings.Contains(err.Error(), "Cannot acquire directory lock") {
		return fmt.Errorf("journal: open %s: %w (%v)", dir, ErrLocked, err)
	}
	return err
}

// copyDir copies the regular files of a Badger directory (it has no
// subdirectories). Badger's LOCK file is left behind: it is Badger's pid note.
func copyDir(src, dst string) error {
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() || e.Name() == "LOCK" {
			continue
		}
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed by a compaction between ReadDir and Open
		}
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// loadState reads first/bytes from the journal's own metadata and finds the
// last record with one reverse seek, so boot cost does not grow with the
// journal. The newest and oldest records are decoded as a cheap sanity check.
func (j *Journal) loadState() error {
	return j.db.View(func(txn *badger.Txn) error {
		first, err := getU64(txn, keyFirst)
		if err != nil {
			return err
		}
		bytes, err := getU64(txn, keyBytes)
		if err != nil {
			return err
		}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixRecord}, Reverse: true})
		it.Seek(recordKey(^uint64(0)))
		var last uint64
		if it.Valid() {
			var ok bool
			if last, ok = parseRecordKey(it.Item().Key()); !ok {
				it.Close()
				return &CorruptionError{Err: fmt.Errorf("bad record key %x", it.Item().Key())}
			}
		}
		it.Close()
		switch {
		case last == 0 && first != 0:
			return &CorruptionError{Seq: first, Err: errors.New("journal metadata names a first record but none is stored")}
		case last != 0 && first == 0:
			// A store written without our metadata: find the oldest key.
			fit := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixRecord}})
			fit.Seek(recordKey(0))
			first, _ = parseRecordKey(fit.Item().Key())
			fit.Close()
		}
		if last != 0 && first > last {
			return &CorruptionError{Seq: first, Err: fmt.Errorf("first seq %d after last seq %d", first, last)}
		}
		for _, seq := range []uint64{first, last} {
			if seq == 0 {
				continue
			}
			item, err := txn.Get(recordKey(seq))
			if errors.Is(err, badger.ErrKeyNotFound) {
				return &CorruptionError{Seq: seq, Err: errors.New("record missing")}
			}
			if err != nil {
				return fmt.Errorf("journal: open: read seq %d: %w", seq, err)
			}
			if err := item.Value(func(v []byte) error { _, err := DecodeRecord(seq, v); return err }); err != nil {
				return err
			}
		}
		j.first.Store(first)
		j.last.Store(last)
		j.bytes = int64(bytes)
		return nil
	})
}

func getU64(txn *badger.Txn, key []byte) (uint64, error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("journal: read %s: %w", key[1:], err)
	}
	var v uint64
	err = item.Value(func(b []byte) error {
		var err error
		v, err = u64(b)
		return err
	})
	if err != nil {
		return 0, &CorruptionError{Err: fmt.Errorf("%s: %w", key[1:], err)}
	}
	return v, nil
}

// LastSeq is the newest durable record's seq, 0 when empty.
func (j *Journal) LastSeq() uint64 { return j.last.Load() }

// FirstSeq is the oldest retained record's seq, 0 when empty.
func (j *Journal) FirstSeq() uint64 { return j.first.Load() }

// Close stops the committer (appends already handed to it are committed
// first), ends readers and subscriptions, and closes Badger.
func (j *Journal) Close() error {
	j.closeOnce.Do(func() {
		j.mu.Lock()
		j.closed = true
		j.mu.Unlock()
		if !j.readOnly {
			j.openMaint.Stop()
			close(j.quit)
		}
		<-j.committerDone
		<-j.maintDone

		j.mu.Lock()
		for ch := range j.subs {
			close(ch)
		}
		j.subs = nil
		readers := j.readers
		j.readers = nil
		j.mu.Unlock()
		for r := range readers {
			r.mu.Lock()
			r.release(ErrClosed)
			r.mu.Unlock()
		}
		j.life.Lock()
		if err := j.db.Close(); err != nil {
			j.closeErr = fmt.Errorf("journal: close: %w", err)
		}
		j.life.Unlock()
		if j.dirFreeClose != nil {
			j.dirFreeClose()
		}
		j.removeCopy()
	})
	return j.closeErr
}

func (j *Journal) removeCopy() {
	if j.tmpCopy != "" {
		if err := os.RemoveAll(j.tmpCopy); err != nil {
			j.log.Warn().Err(err).Str("dir", j.tmpCopy).Msg("journal: remove read-only copy")
		}
	}
}

// enter guards a direct store call; the returned func must be called when it
// is done.
func (j *Journal) enter(write bool) (func(), error) {
	if write && j.readOnly {
		return nil, ErrReadOnly
	}
	j.life.RLock()
	j.mu.Lock()
	closed := j.closed
	j.mu.Unlock()
	if closed {
		j.life.RUnlock()
		return nil, ErrClosed
	}
	return j.life.RUnlock, nil
}

// Subscribe returns a channel that receives a (coalesced) wake-up after each
// durable append, and a cancel func. The channel is closed by cancel and by
// Close. A wake-up means "LastSeq may have moved": read from where you were.
func (j *Journal) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		close(ch)
		return ch, func() {}
	}
	j.subs[ch] = struct{}{}
	j.mu.Unlock()
	return ch, func() {
		j.mu.Lock()
		defer j.mu.Unlock()
		if _, ok := j.subs[ch]; ok {
			delete(j.subs, ch)
			close(ch)
		}
	}
}

func (j *Journal) notify() {
	j.mu.Lock()
	defer j.mu.Unlock()
	for ch := range j.subs {
		select {
		case ch <- struct{}{}:
		default: // a wake-up is already pending; one is enough
		}
	}
}

// Commits is how many group commits (syncs of appended records) this Journal
// has made since Open; appends per commit measures group commit.
func (j *Journal) Commits() uint64 { return j.commits.Load() }
