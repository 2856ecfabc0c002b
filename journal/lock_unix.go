//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package journal

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockDir takes the same flock Badger takes on its directory, without
// blocking. Badger's own lock error is a formatted string that errors.Is
// cannot see through, so probing first is how ErrLocked gets its identity and
// a locked directory fails at once instead of after a round of retries.
func lockDir(dir string, shared bool) (release func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_EX | syscall.LOCK_NB
	if shared {
		how = syscall.LOCK_SH | syscall.LOCK_NB
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("journal: open %s: %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("journal: lock %s: %w", dir, err)
	}
	return func() { f.Close() }, nil
}
