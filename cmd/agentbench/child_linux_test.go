package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startParent runs this test binary in a TestMain parent role and returns
// it with the first line it printed.
func startParent(t *testing.T, role string) (*exec.Cmd, string, *bufio.Reader) {
	t.Helper()
	parent := exec.Command(os.Args[0], "-test.run=^$")
	parent.Env = append(os.Environ(), "AGENTBENCH_TEST_PARENT="+role)
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(out)
	line, err := r.ReadString('\n')
	if err != nil {
		parent.Process.Kill()
		t.Fatalf("parent: %v", err)
	}
	return parent, line, r
}

// TestHelpersDieWithAgentbench: a helper started with childAttr is killed
// by the kernel when the process that started it dies, even by SIGKILL
// (what an interrupted benchmark leaves behind otherwise: an acsim and a
// cwmpd still running a second per session).
func TestHelpersDieWithAgentbench(t *testing.T) {
	parent, line, _ := startParent(t, "1")
	child, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("parent said %q", line)
	}
	if err := syscall.Kill(child, 0); err != nil {
		t.Fatalf("helper %d not running: %v", child, err)
	}
	parent.Process.Signal(syscall.SIGKILL)
	parent.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for {
		// The helper is not our child: once killed it is reaped by init,
		// and then signal 0 fails.
		b, err := os.ReadFile("/proc/" + strconv.Itoa(child) + "/stat")
		if err != nil || strings.Contains(string(b), ") Z ") {
			return
		}
		if time.Now().After(deadline) {
			syscall.Kill(child, syscall.SIGKILL)
			t.Fatalf("helper %d still running 10 s after its parent was killed", child)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestInterruptCleansUp: SIGINT to agentbench kills its helpers and
// removes its temporary directory (with the journals in it, and a file a
// scenario writes while it is being removed) before it exits with status
// 130.
func TestInterruptCleansUp(t *testing.T) {
	parent, line, more := startParent(t, "interrupt")
	var root string
	var child int
	if _, err := fmt.Sscan(line, &root, &child); err != nil {
		parent.Process.Kill()
		t.Fatalf("parent said %q: %v", line, err)
	}
	if _, err := os.Stat(filepath.Join(root, "journal")); err != nil {
		t.Fatalf("the parent's directory before the interrupt: %v", err)
	}
	parent.Process.Signal(os.Interrupt)
	// Said by the parent while it still runs: its helper was killed by the
	// handler, not by the kernel's parent-death signal.
	if said, _ := more.ReadString('\n'); said != "helper gone\n" {
		t.Errorf("after the interrupt the parent said %q, want %q", said, "helper gone\n")
	}
	err := parent.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Errorf("interrupted agentbench exited with %v, want status 130", err)
	}
	if _, err := os.Stat(root); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s after the interrupt: %v, want it removed", root, err)
		os.RemoveAll(root)
	}
	if running(child) {
		syscall.Kill(child, syscall.SIGKILL)
		t.Errorf("helper %d still running after agentbench exited", child)
	}
}

func TestMain(m *testing.M) {
	switch os.Getenv("AGENTBENCH_TEST_PARENT") {
	case "1":
		// The parent role: start a helper the way agentbench does, say
		// its pid, and wait to be killed.
		c := exec.Command("sleep", "60")
		if err := startHelper(c); err != nil {
			os.Exit(2)
		}
		os.Stdout.WriteString(strconv.Itoa(c.Process.Pid) + "\n")
		waitHelper(c)
		os.Exit(0)
	case "interrupt":
		// agentbench's run, cut down to what an interrupt must undo: a
		// temporary directory with a journal in it and a helper writing
		// beside it.
		root, err := os.MkdirTemp("", "agentbench-test-")
		if err != nil {
			os.Exit(2)
		}
		if err := os.MkdirAll(filepath.Join(root, "journal"), 0o700); err != nil {
			os.Exit(2)
		}
		stop := cleanUpOnInterrupt(root, false, func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) })
		c := exec.Command("sh", "-c", "while :; do date > \"$0\"/journal/live; sleep 0.01; done", root)
		if err := startHelper(c); err != nil {
			os.Exit(2)
		}
		fmt.Printf("%s %d\n", root, c.Process.Pid)
		waitHelper(c) // returns once the handler has killed it
		fmt.Println("helper gone")
		// A scenario past its stopping check, as agentbench's can be when
		// the interrupt comes: it writes once more into the directory.
		late := filepath.Join(root, "late")
		os.MkdirAll(late, 0o700)
		os.WriteFile(filepath.Join(late, "acsim.log"), nil, 0o600)
		stop() // never returns while the handler runs
		os.Exit(3)
	}
	os.Exit(m.Run())
}
