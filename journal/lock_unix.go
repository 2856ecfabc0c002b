//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

// Holder reports whether a writer holds dir (a running daemon, or one
// stopped but alive: a SIGSTOPped process keeps its lock), and that
// writer's pid as Badger notes it in dir/LOCK (0 when it cannot be read).
// The pid is only a note: the caller checks who it is before acting on it.
func Holder(dir string) (pid int, held bool, err error) {
	release, err := lockDir(dir, true)
	if err == nil {
		release()
		return 0, false, nil
	}
	if !errors.Is(err, ErrLocked) {
		return 0, false, err
	}
	b, rerr := os.ReadFile(filepath.Join(dir, "LOCK"))
	if rerr != nil {
		return 0, true, nil
	}
	n, perr := strconv.Atoi(strings.TrimSpace(string(b)))
	if perr != nil || n <= 0 {
		return 0, true, nil
	}
	return n, true, nil
}
