package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The /proc readers are checked on the test process itself.
func TestProcReaders(t *testing.T) {
	pid := os.Getpid()
	t0, err := cpuTicks(pid)
	if err != nil {
		t.Fatal(err)
	}
	// Burn a little more than two clock ticks of CPU.
	for end := time.Now().Add(100 * time.Millisecond); time.Now().Before(end); {
	}
	t1, err := cpuTicks(pid)
	if err != nil {
		t.Fatal(err)
	}
	if t1 <= t0 {
		t.Errorf("utime+stime did not grow over 100 ms of busy loop: %d → %d", t0, t1)
	}
	st, err := procKV(pid, "status")
	if err != nil {
		t.Fatal(err)
	}
	if st["VmRSS"] == 0 || st["VmHWM"] < st["VmRSS"] || st["RssAnon"]+st["RssFile"] > st["VmRSS"]+8 {
		t.Errorf("status: VmRSS %d VmHWM %d RssAnon %d RssFile %d", st["VmRSS"], st["VmHWM"], st["RssAnon"], st["RssFile"])
	}
	if _, err := procKV(pid, "io"); err != nil {
		t.Fatal(err)
	}
	m, err := rssByMapping(pid)
	if err != nil {
		t.Fatal(err)
	}
	if m["binary"] == 0 || m["anon"] == 0 {
		t.Errorf("smaps split %v: want the executable and anonymous memory", m)
	}
	w0, err := voluntarySwitches(pid)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		time.Sleep(5 * time.Millisecond) // each sleep parks a thread, and waking it is a switch
	}
	if w1, err := voluntarySwitches(pid); err != nil || w1 <= w0 {
		t.Errorf("voluntary switches did not grow over five sleeps: %d → %d (%v)", w0, w1, err)
	}
}

// The floor probe runs its three parts, then a whole spaced session,
// against the floor server and reports a cost for each.
func TestFloorProbe(t *testing.T) {
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	go floorServe(addr)
	if err := waitListening(addr, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// The probe sets GOMAXPROCS for its own process; give it back.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	fc, err := floorProbe(addr, t.TempDir(), 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	if fc.Wake < 0 || fc.HTTP <= 0 || fc.Spaced <= 0 || fc.SpacedWakeups < 1 || fc.Slack == "" {
		t.Fatalf("floor costs %+v", fc)
	}
}

func TestCostCheckRefusesAThreadThatExited(t *testing.T) {
	c0 := cost{nanos: 10, threads: map[string]bool{"1": true, "2": true}}
	if err := (cost{nanos: 20, threads: map[string]bool{"1": true, "2": true, "3": true}}).check(c0); err != nil {
		t.Fatalf("a new thread refused: %v", err)
	}
	if err := (cost{nanos: 20, threads: map[string]bool{"1": true}}).check(c0); err == nil {
		t.Fatal("thread 2 exited, yet the difference was accepted")
	}
	if err := (cost{nanos: 5, threads: c0.threads}).check(c0); err == nil {
		t.Fatal("a counter went backwards, yet the difference was accepted")
	}
	self, err := sampleCost(os.Getpid())
	if err != nil || len(self.threads) == 0 {
		t.Fatalf("sampleCost(self) = %+v, %v", self, err)
	}
}

func TestCPUTimesAndSteal(t *testing.T) {
	a, err := parseCPUTimes([]byte("cpu  100 10 50 800 20 0 5 15 7 0\ncpu0 1 2 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a.total != 1000 || a.steal != 15 {
		t.Fatalf("parsed %+v, want total 1000 (guest not counted twice), steal 15", a)
	}
	b := cpuTimes{steal: 65, total: 2000}
	if got, want := stealShare(a, nil, b, nil), "host steal 5.0% of the machine's CPU time"; got != want {
		t.Errorf("stealShare = %q, want %q", got, want)
	}
	if got := stealShare(b, nil, a, nil); !strings.Contains(got, "unknown") {
		t.Errorf("a reading going backwards gave %q", got)
	}
	if _, err := parseCPUTimes([]byte("intr 1 2 3\n")); err == nil {
		t.Error("a first line that is not the cpu total parsed")
	}
	if _, err := readCPUTimes(); err != nil {
		t.Errorf("this machine's /proc/stat: %v", err)
	}
}
