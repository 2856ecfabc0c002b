package journal

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// childEnv selects a child-process mode of the test binary: the crash test
// and the read-only test need a real writer process to SIGKILL.
const childEnv = "JOURNAL_TEST_CHILD_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(crashChild(dir))
	}
	os.Exit(m.Run())
}

// crashChild appends from several goroutines as fast as it can and prints
// each acknowledged seq on its own line; the parent kills it.
func crashChild(dir string) int {
	o := Options{Dir: dir, BootID: "child-" + strconv.Itoa(os.Getpid()), Logger: zerolog.New(os.Stderr).Level(zerolog.WarnLevel)}
	// Small memtables so kills land in memtable switches and flushes too.
	o.memTableSize = 1 << 20
	// A parent that died without killing us must not leave us filling the
	// disk (a closed stdout pipe also ends us, through SIGPIPE).
	time.AfterFunc(time.Minute, func() { os.Exit(4) })
	j, err := Open(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		return 2
	}
	out := bufio.NewWriterSize(os.Stdout, 64)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				n := 1 + i%3 // multi-entry appends must be atomic too
				entries := make([]Entry, n)
				for k := range entries {
					entries[k] = Entry{Type: uint16(w), Payload: payload(i*10 + k)}
				}
				recs, err := j.Append(context.Background(), entries...)
				if err != nil {
					fmt.Fprintln(os.Stderr, "child append:", err)
					os.Exit(3)
				}
				mu.Lock()
				// One line per append: "first last"; one write so the pipe
				// never carries half a line from an acked append.
				fmt.Fprintf(out, "%d %d\n", recs[0].Seq, recs[len(recs)-1].Seq)
				out.Flush()
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	return 0
}
