package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
)

// verifyFiles checks, before Badger opens dir, the files Badger would trust
// blindly: the MANIFEST and every table it names, each table read whole and
// its index and blocks checked against their checksums.
//
// Badger opens tables in goroutines of its own, and a table whose footer
// or index is garbled makes them panic (or exit the process through
// log.Fatalf): nothing this process could recover from, so the daemon would
// die at every start and the operator's tools with it. Read here, in the
// caller's goroutine and with plain reads (an I/O error is then an errno
// and not a SIGBUS in an mmap), damage becomes an error marked ErrCorrupt,
// and an I/O or permission error stays what it is.
//
// The cost is one read of the tables at every open: a few megabytes with
// the daemon's --journal-max; Badger then finds them in the page cache.
func verifyFiles(dir string, bo badger.Options) error {
	manifest := filepath.Join(dir, "MANIFEST")
	f, err := os.Open(manifest)
	if errors.Is(err, fs.ErrNotExist) {
		// Badger creates the MANIFEST (written aside and renamed) before
		// any other file: a directory with tables or logs and no MANIFEST
		// lost it, and Badger would start an empty store over them.
		if n := dataFiles(dir); n != "" {
			return corruptf("%s: MANIFEST missing beside %s", dir, n)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("journal: read %s: %w", manifest, err)
	}
	defer f.Close()
	// Read once whole first: the replay reports a failed read as "bad
	// magic", and an I/O error must stay one. After it, what the replay
	// reports is about the bytes.
	if _, err := io.Copy(io.Discard, f); err != nil {
		return fmt.Errorf("journal: read %s: %w", manifest, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("journal: read %s: %w", manifest, err)
	}
	m, _, err := badger.ReplayManifestFile(f, bo.ExternalMagicVersion, bo)
	if err != nil {
		return corruptf("%s: %s", manifest, firstLine(err.Error()))
	}
	var buf []byte
	for id, tm := range m.Tables {
		name := table.NewFilename(id, dir)
		st, err := os.Stat(name)
		if errors.Is(err, fs.ErrNotExist) {
			return corruptf("%s: the MANIFEST names table %s, which is missing", dir, filepath.Base(name))
		}
		if err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		if int64(cap(buf)) < st.Size() {
			buf = make([]byte, st.Size())
		}
		buf = buf[:st.Size()]
		if err := readFull(name, buf); err != nil {
			return fmt.Errorf("journal: read %s: %w", name, err)
		}
		if err := verifyTable(buf, id, tm); err != nil {
			return corruptf("table %s: %v", filepath.Base(name), err)
		}
	}
	return nil
}

// dataFiles names one of Badger's data files in dir ("" when none).
func dataFiles(dir string) string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	for _, e := range ents {
		for _, ext := range []string{".sst", ".vlog", ".mem"} {
			if strings.HasSuffix(e.Name(), ext) {
				return e.Name()
			}
		}
	}
	return ""
}

func readFull(name string, buf []byte) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := f.ReadAt(buf, 0)
	if n == len(buf) {
		return nil
	}
	return err
}

// verifyTable checks one table's bytes with Badger's own reader. The two
// lengths of the footer are checked first: Badger reads them unchecked
// and, when they point outside the table, exits the process (y.Check).
// Whatever else a garbled table makes the reader do (a panic on a length
// inside the index or a block) is recovered into an error.
func verifyTable(b []byte, id uint64, tm badger.TableManifest) (err error) {
	if tm.KeyID != 0 || tm.Compression != options.None {
		// The journal writes neither: the MANIFEST's entry is damaged.
		return fmt.Errorf("MANIFEST entry has key %d compression %d, which the journal never writes", tm.KeyID, tm.Compression)
	}
	pos := len(b) - 4
	if pos < 0 {
		return fmt.Errorf("%d bytes: shorter than a footer", len(b))
	}
	chkLen := int64(binary.BigEndian.Uint32(b[pos:]))
	if chkLen > int64(pos)-4 {
		return fmt.Errorf("footer: checksum length %d in %d bytes", chkLen, len(b))
	}
	pos -= int(chkLen) + 4
	if idxLen := int64(binary.BigEndian.Uint32(b[pos:])); idxLen > int64(pos) {
		return fmt.Errorf("footer: index length %d in %d bytes", idxLen, len(b))
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("unreadable (the table reader failed: %s)", panicText(r))
		}
	}()
	t, err := table.OpenInMemoryTable(b, id, &table.Options{ChkMode: options.OnTableRead, Compression: options.None})
	if err != nil {
		return err
	}
	return t.VerifyChecksum()
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// panicText is a recovered panic in one short line: Badger decorates its
// panics with debugging dumps of many lines.
func panicText(r any) string {
	s := strings.Join(strings.Fields(fmt.Sprint(r)), " ")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}
