package journal

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/y"
)

// ErrCorrupt marks an open failure caused by the content of the journal's
// files: damage that will not go away by itself (a garbled MANIFEST, a table
// whose checksum does not match, a file the MANIFEST names that is gone, a
// record that does not decode). Test for it with IsCorrupt, which also knows
// Badger's own messages for such damage.
//
// What is not corruption is never marked: permission denied, a read-only or
// full filesystem, an I/O error (flash that may answer next time), a
// directory held by another process (ErrLocked), a missing directory. Only
// corruption may be answered by moving the journal aside: the other
// conditions are the environment's, and a fresh journal would lose the
// agent's memory for nothing (or fail the same way).
var ErrCorrupt = errors.New("files damaged")

// corruptf makes an error marked ErrCorrupt. It must not wrap an errno: the
// classification treats any errno as the environment's.
func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// badgerDamage are Badger's messages for damaged files. Badger flattens
// most errors into strings ("%+v"), so errors.Is cannot see them; these are
// the texts of manifest.go, levels.go, key_registry.go and the table reader.
var badgerDamage = []string{
	"manifest has bad magic",
	"manifest has checksum mismatch",
	"Manifest file might be corrupted",
	"manifest has unsupported version",
	"MANIFEST invalid",
	"file does not exist for table",
	"checksum mismatch",
	"failed to verify checksum",
	"checksum validation failed",
	"Invalid datakey id",
	"Encryption key mismatch",
	"Data corrupted",
	"data is corrupted",
}

// environmental are the errnos of conditions outside the journal's content.
// ENOENT is among them: a journal directory that disappears is not damage
// of its files (a file the MANIFEST names and that is missing is reported
// by verifyFiles without the errno).
var environmental = []syscall.Errno{
	syscall.EACCES, syscall.EPERM, syscall.EROFS, syscall.ENOSPC, syscall.EDQUOT,
	syscall.EIO, syscall.ENOMEM, syscall.EMFILE, syscall.ENFILE, syscall.EAGAIN,
	syscall.EBUSY, syscall.EINTR, syscall.ENOTDIR, syscall.ENAMETOOLONG, syscall.ELOOP,
	syscall.ENXIO, syscall.ENODEV, syscall.ETIMEDOUT, syscall.ENOENT,
}

// IsCorrupt reports whether err (from Open, or from folding a journal just
// opened) means the journal's files are damaged, as opposed to a condition
// of the environment that may pass or that a fresh journal would meet too.
// An error it does not recognise is not corruption: moving a journal aside
// is only ever done for damage known as such.
func IsCorrupt(err error) bool {
	if err == nil || errors.Is(err, ErrLocked) || errors.Is(err, ErrDiskFull) || errors.Is(err, ErrClosed) {
		return false
	}
	if Environmental(err) {
		return false
	}
	var ce *CorruptionError
	if errors.Is(err, ErrCorrupt) || errors.As(err, &ce) || errors.Is(err, y.ErrChecksumMismatch) ||
		errors.Is(err, badger.ErrInvalidDataKeyID) || errors.Is(err, badger.ErrEncryptionKeyMismatch) {
		return true
	}
	msg := err.Error()
	for _, s := range badgerDamage {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// Environmental reports whether err carries one of the errnos of a
// condition outside the journal's content (permissions, a read-only or full
// filesystem, I/O errors, resource limits), as a value or, once Badger has
// flattened it, as its text.
func Environmental(err error) bool {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		for _, e := range environmental {
			if errno == e {
				return true
			}
		}
	}
	msg := err.Error()
	for _, e := range environmental {
		if strings.Contains(msg, e.Error()) {
			return true
		}
	}
	return false
}
