package journal

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// writerChild is a crashChild process appending to dir.
type writerChild struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	mu     sync.Mutex
	acked  []uint64 // last seq of every acknowledged append
	done   chan struct{}
	// firstAck is closed at the first acknowledged append: under emulation
	// (qemu-user) a child can take longer to open the journal than the
	// whole random kill window.
	firstAck chan struct{}
}

func startWriter(t *testing.T, dir string) *writerChild {
	t.Helper()
	// Under qemu-user without binfmt_misc the test binary cannot exec itself;
	// JOURNAL_TEST_EXEC_WRAPPER=qemu-arm-static runs the child through it.
	argv := []string{os.Args[0], "-test.run=^$"}
	if w := os.Getenv("JOURNAL_TEST_EXEC_WRAPPER"); w != "" {
		argv = append([]string{w}, argv...)
	}
	c := &writerChild{cmd: exec.Command(argv[0], argv[1:]...), done: make(chan struct{}), firstAck: make(chan struct{})}
	c.cmd.Env = append(os.Environ(), childEnv+"="+dir)
	c.cmd.Stderr = &c.stderr
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var first, last uint64
			if _, err := fmt.Sscanf(sc.Text(), "%d %d", &first, &last); err != nil {
				continue // cannot happen: lines are written whole
			}
			c.mu.Lock()
			c.acked = append(c.acked, last)
			if len(c.acked) == 1 {
				close(c.firstAck)
			}
			c.mu.Unlock()
		}
		io.Copy(io.Discard, out)
	}()
	return c
}

// kill SIGKILLs the child and returns the acknowledged appends' last seqs.
func (c *writerChild) kill(t *testing.T) []uint64 {
	t.Helper()
	if c.cmd.ProcessState == nil {
		c.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-c.done
	err := c.cmd.Wait()
	if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("writer child exited on its own (%v): %s", err, c.stderr.String())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.acked
}

// TestCrashKill SIGKILLs a writer process at random moments and checks after
// each reopen that every acknowledged record is there, in order, without a
// gap, and decodes.
func TestCrashKill(t *testing.T) {
	const kills = 30
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0x6a6f75726e616c))
	o := testOptions(t, dir)
	o.memTableSize = 1 << 20
	var maxAcked uint64
	start := time.Now()
	for i := 0; i < kills; i++ {
		c := startWriter(t, dir)
		// Every other kill counts its random delay from the child's first
		// acknowledged append rather than from its start, so kills land
		// among appends however slowly the child opens (qemu-user on a
		// loaded machine opened slower than the whole window); the others
		// can also land during open and recovery.
		if i%2 == 1 {
			select {
			case <-c.firstAck:
			case <-c.done:
			case <-time.After(time.Minute):
				t.Fatalf("kill %d: the writer child acknowledged nothing within a minute: %s", i, c.stderr.String())
			}
		}
		time.Sleep(time.Duration(40+rng.IntN(260)) * time.Millisecond)
		acked := c.kill(t)
		for _, s := range acked {
			maxAcked = max(maxAcked, s)
		}

		j, err := Open(o)
		if err != nil {
			t.Fatalf("kill %d: reopen: %v", i, err)
		}
		if j.LastSeq() < maxAcked {
			t.Fatalf("kill %d: last seq %d, but seq %d was acknowledged", i, j.LastSeq(), maxAcked)
		}
		r := j.NewReader(0)
		want := uint64(1)
		// Each child append of n = 1 + a%3 entries (payload i = a*10 + k)
		// must be all there or not at all, acknowledged or not.
		type appendID struct {
			boot string
			typ  uint16
			a    int
		}
		parts := map[appendID]int{}
		for r.Next() {
			rec := r.Record()
			if rec.Seq != want {
				t.Fatalf("kill %d: seq %d where %d was due", i, rec.Seq, want)
			}
			var x int
			if _, err := fmt.Sscanf(string(rec.Payload), `{"i":%d,`, &x); err != nil || !strings.HasPrefix(rec.BootID, "child-") {
				t.Fatalf("kill %d: seq %d decoded to junk: %+v", i, rec.Seq, rec)
			}
			parts[appendID{rec.BootID, rec.Type, x / 10}]++
			want++
		}
		for id, n := range parts {
			if n != 1+id.a%3 {
				t.Fatalf("kill %d: append %+v left %d of its %d entries", i, id, n, 1+id.a%3)
			}
		}
		if err := r.Err(); err != nil {
			t.Fatalf("kill %d: %v", i, err)
		}
		r.Close()
		if want-1 != j.LastSeq() {
			t.Fatalf("kill %d: read up to %d, last seq %d", i, want-1, j.LastSeq())
		}
		if err := j.Close(); err != nil {
			t.Fatalf("kill %d: close: %v", i, err)
		}
	}
	if maxAcked == 0 {
		t.Fatal("no append was ever acknowledged: the kills tested nothing")
	}
	t.Logf("%d kills, %d records acknowledged, %v", kills, maxAcked, time.Since(start).Round(time.Millisecond))
}
