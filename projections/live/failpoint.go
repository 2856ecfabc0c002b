package live

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/cwmpd/cwmpd/projections/event"
)

// FailpointEnv names the crash point of a test run. Crash tests set it on
// the real binary so it kills itself (SIGKILL: no deferred code, no flush)
// at an exact step:
//
//	after:<EventType>[:<n>]   right after the n-th (default 1st) durable
//	                          append of a record of that type in this process
//	bytes:<name>:<n>          when a byte counter reported through
//	                          CrashAtBytes(name, …) reaches n
//
// Unset, every check is a no-op costing one comparison.
const FailpointEnv = "CWMPD_FAILPOINT"

type failpoint struct {
	kind  string // "after" or "bytes"
	typ   event.Type
	name  string
	n     int64
	mu    sync.Mutex
	count int64
}

var active = parseFailpoint(os.Getenv(FailpointEnv))

func parseFailpoint(s string) *failpoint {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ":")
	switch {
	case parts[0] == "after" && (len(parts) == 2 || len(parts) == 3):
		t, ok := event.TypeByName(parts[1])
		if !ok {
			fmt.Fprintf(os.Stderr, "cwmpd: %s=%q: unknown event type\n", FailpointEnv, s)
			return nil
		}
		n := int64(1)
		if len(parts) == 3 {
			n, _ = strconv.ParseInt(parts[2], 10, 64)
		}
		return &failpoint{kind: "after", typ: t, n: n}
	case parts[0] == "bytes" && len(parts) == 3:
		n, _ := strconv.ParseInt(parts[2], 10, 64)
		return &failpoint{kind: "bytes", name: parts[1], n: n}
	}
	fmt.Fprintf(os.Stderr, "cwmpd: %s=%q: want after:<Type>[:<n>] or bytes:<name>:<n>\n", FailpointEnv, s)
	return nil
}

func crash(what string) {
	fmt.Fprintf(os.Stderr, "cwmpd: failpoint %s reached: SIGKILL\n", what)
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // the signal is on its way
}

func afterRecord(t uint16) {
	if active == nil || active.kind != "after" || event.Type(t) != active.typ {
		return
	}
	active.mu.Lock()
	active.count++
	hit := active.count == active.n
	active.mu.Unlock()
	if hit {
		crash(fmt.Sprintf("after %v #%d", active.typ, active.n))
	}
}

// CrashAtBytes is a byte-counter failpoint for long operations (downloads):
// it kills the process when the counter name reaches the configured count.
func CrashAtBytes(name string, n int64) {
	if active == nil || active.kind != "bytes" || active.name != name || n < active.n {
		return
	}
	crash(fmt.Sprintf("bytes %s at %d", name, n))
}
