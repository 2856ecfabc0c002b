package main

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHelpersDieWithAgentbench: a helper started with childAttr is killed
// by the kernel when the process that started it dies, even by SIGKILL
// (what an interrupted benchmark leaves behind otherwise: an acsim and a
// cwmpd still running a second per session).
func TestHelpersDieWithAgentbench(t *testing.T) {
	parent := exec.Command(os.Args[0], "-test.run=^$")
	parent.Env = append(os.Environ(), "AGENTBENCH_TEST_PARENT=1")
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		parent.Process.Kill()
		t.Fatalf("parent: %v", err)
	}
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

func TestMain(m *testing.M) {
	if os.Getenv("AGENTBENCH_TEST_PARENT") == "1" {
		// The parent role: start a helper the way agentbench does, say
		// its pid, and wait to be killed.
		c := exec.Command("sleep", "60")
		c.SysProcAttr = childAttr()
		if err := c.Start(); err != nil {
			os.Exit(2)
		}
		os.Stdout.WriteString(strconv.Itoa(c.Process.Pid) + "\n")
		c.Wait()
		os.Exit(0)
	}
	os.Exit(m.Run())
}
