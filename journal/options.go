package journal

import (
	"fmt"
	"strings"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/rs/zerolog"
)

// Retention bounds the journal. A zero field is unbounded.
type Retention struct {
	MaxRecords int
	MaxBytes   int64 // sum of envelope sizes (what EncodeRecord returns)
}

// Options configures Open.
type Options struct {
	Dir      string
	ReadOnly bool // offline tools: never writes anything to Dir
	BootID   string
	Clock    func() time.Time // default time.Now; injected in tests
	// Logger receives Badger's warnings and errors and the journal's own.
	Logger    zerolog.Logger
	Retention Retention
	// TempDir is where a read-only open copies a directory that Badger cannot
	// open read-only (one left by a killed writer). Default os.TempDir().
	TempDir string
	// MinFreeBytes, when positive, is the free space the journal leaves on
	// its filesystem: before each group commit and snapshot save it reads the
	// free space of Dir (statfs, blocks available to unprivileged users) and
	// refuses the write with ErrDiskFull below it. Badger crashes when the
	// disk fills under it, so the reserve must cover what Badger writes in
	// the background after the last accepted append: SuggestedMinFreeBytes
	// (20 MiB) plus anything else that shares the filesystem.
	MinFreeBytes int64
	// FreeSpace, when set, replaces the statfs reading (tests inject a
	// full disk with it).
	FreeSpace func() (uint64, error)

	// settleDelay overrides openCompactDelay (negative: none) so tests see
	// retention act on their first appends.
	settleDelay time.Duration

	// memTableSize overrides defaultMemTableSize so tests can cross many
	// memtables with little data.
	memTableSize int64
}

// defaultMemTableSize is small because a router has tens of megabytes of RAM:
// Badger keeps up to NumMemtables+1 skiplists of about this size, mmaps a WAL
// of twice it per memtable, and (with BaseTableSize tied to it, below)
// preallocates twice it for every table it builds. Measured with cmd/cwmpbench,
// 2 MB peaks about 20 MB lower than 4 MB at the same append rate.
const defaultMemTableSize = 2 << 20

// badgerOptions sizes Badger for a router rather than a server.
func badgerOptions(o Options) badger.Options {
	mem := o.memTableSize
	if mem <= 0 {
		mem = defaultMemTableSize
	}
	// Badger refuses a ValueThreshold above 15% of the memtable (its largest
	// batch). 64 KiB (the default is 1 MiB) keeps every event payload inside the
	// LSM tree next to its key, so replay never seeks into the value log; only
	// large snapshots go to the value log.
	vt := int64(64 << 10)
	if max := mem * 15 / 100 / 2; vt > max {
		vt = max
	}
	bo := badger.DefaultOptions(o.Dir).
		WithReadOnly(o.ReadOnly).
		WithSyncWrites(true).
		WithLogger(badgerLogger{o.Logger}).
		WithMetricsEnabled(false).
		WithDetectConflicts(false). // one committer goroutine writes; nothing to detect
		WithNumVersionsToKeep(1).
		WithMemTableSize(mem).
		// On 32-bit ARM, Badger with ristretto loses data silently unless
		// BaseTableSize >= MemTableSize (a flushed memtable must fit in one
		// table). Setting it from the same number on every architecture means
		// the options tested on amd64 are the ones shipped on ARM;
		// TestBadgerOptionsSized asserts it.
		WithBaseTableSize(mem).
		WithBaseLevelSize(4 * mem).
		WithNumMemtables(2).
		// With no compactor this only scores level 0 for DB.Flatten, which
		// compacts a level only above score 1: 1 makes two tables enough
		// (compactL0At), not three.
		WithNumLevelZeroTables(1).
		WithNumLevelZeroTablesStall(6).
		// No compactor goroutines: each would wake every 50 ms for the
		// life of the process. The journal compacts level 0 itself when
		// its writes have filled it (compact.go); the stall count leaves
		// room for four more flushes if that falls behind.
		WithNumCompactors(0).
		WithNumGoroutines(2).
		// No block cache (the default is 256 MB); Badger requires one whenever
		// blocks are compressed, so compression is off too. Tables are mmapped
		// and the kernel's page cache serves them instead.
		WithCompression(options.None).
		WithBlockCacheSize(0).
		WithIndexCacheSize(0).
		WithValueThreshold(vt).
		WithValueLogFileSize(16 << 20).
		WithValueLogMaxEntries(100000)
	// Tables of every level stay BaseTableSize: Badger preallocates twice the
	// target table size for each table it builds, and deeper levels' bigger
	// tables would multiply that during compactions.
	bo.TableSizeMultiplier = 1
	return bo
}

// badgerLogger routes Badger's log lines to zerolog. Its info lines (every
// compaction, every memtable flush) would flood a router's syslog, so only
// warnings and errors pass.
type badgerLogger struct{ l zerolog.Logger }

func (b badgerLogger) Errorf(f string, a ...interface{}) {
	b.l.Error().Str("component", "badger").Msg(strings.TrimSpace(fmt.Sprintf(f, a...)))
}

func (b badgerLogger) Warningf(f string, a ...interface{}) {
	b.l.Warn().Str("component", "badger").Msg(strings.TrimSpace(fmt.Sprintf(f, a...)))
}

func (badgerLogger) Infof(string, ...interface{})  {}
func (badgerLogger) Debugf(string, ...interface{}) {}
