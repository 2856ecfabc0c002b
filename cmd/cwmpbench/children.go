package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cwmpd/cwmpd/journal/journalbench"
)

// childEnv selects a child mode when this binary re-executes itself; a
// measurement of a whole process (resident memory) needs a process that did
// nothing else.
const childEnv = "CWMPBENCH_CHILD"

const childMemory = "memory"

// Children maps a mode to its body; it prints one JSON value to stdout.
var Children = map[string]func(args []string) (any, error){
	childMemory: memoryChild,
}

// runChild runs the child mode named in the environment, if any.
func runChild() (int, bool) {
	mode := os.Getenv(childEnv)
	if mode == "" {
		return 0, false
	}
	f, ok := Children[mode]
	if !ok {
		fmt.Fprintf(os.Stderr, "cwmpbench child: unknown mode %q\n", mode)
		return 2, true
	}
	v, err := f(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "cwmpbench child:", err)
		return 1, true
	}
	if err := json.NewEncoder(os.Stdout).Encode(v); err != nil {
		return 1, true
	}
	return 0, true
}

// runChildJSON re-executes this binary in mode with args (and env added to
// ours) and decodes what it prints.
func runChildJSON(mode string, args, env []string, out any) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(append(os.Environ(), childEnv+"="+mode), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("child %s: %v: %s", mode, err, strings.TrimSpace(stderr.String()))
	}
	return json.Unmarshal(stdout.Bytes(), out)
}

type memReport struct {
	VmHWMKiB   int64  `json:"vm_hwm_kib"`
	MaxRSSKiB  int64  `json:"maxrss_kib"`
	GoSysBytes uint64 `json:"go_sys_bytes"`
	// Sampled every 10 ms: where the peak comes from (Go heap and stacks vs
	// mmapped files: Badger maps its tables and logs, and pages touched by
	// reads and compactions count as resident).
	PeakAnonKiB int64 `json:"peak_anon_kib"`
	PeakFileKiB int64 `json:"peak_file_kib"`
}

func memoryChild(args []string) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("memory child wants DIR N")
	}
	n, err := strconv.Atoi(args[1])
	if err != nil {
		return nil, err
	}
	stop := make(chan struct{})
	sampled := make(chan [2]int64)
	go func() {
		var peak [2]int64
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			st := procStatus()
			peak[0] = max(peak[0], st["RssAnon"])
			peak[1] = max(peak[1], st["RssFile"])
			select {
			case <-stop:
				sampled <- peak
				return
			case <-t.C:
			}
		}
	}()
	err = journalbench.MemoryWorkload(args[0], n)
	close(stop)
	peak := <-sampled
	if err != nil {
		return nil, err
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return nil, err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memReport{
		VmHWMKiB: procStatus()["VmHWM"], MaxRSSKiB: int64(ru.Maxrss), GoSysBytes: ms.Sys,
		PeakAnonKiB: peak[0], PeakFileKiB: peak[1],
	}, nil
}

// procStatus reads the kB fields of /proc/self/status (Linux; empty elsewhere).
func procStatus() map[string]int64 {
	out := map[string]int64{}
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if v, isKB := strings.CutSuffix(strings.TrimSpace(v), " kB"); ok && isKB {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				out[k] = n
			}
		}
	}
	return out
}
