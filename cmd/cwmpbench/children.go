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

// runChildJSON re-executes this binary in mode with args and decodes what it
// prints.
func runChildJSON(mode string, args []string, out any) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), childEnv+"="+mode)
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
}

func memoryChild(args []string) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("memory child wants DIR N")
	}
	n, err := strconv.Atoi(args[1])
	if err != nil {
		return nil, err
	}
	if err := journalbench.MemoryWorkload(args[0], n); err != nil {
		return nil, err
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return nil, err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memReport{VmHWMKiB: vmHWM(), MaxRSSKiB: int64(ru.Maxrss), GoSysBytes: ms.Sys}, nil
}

// vmHWM reads the peak resident set from /proc (Linux); 0 elsewhere.
func vmHWM() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kib, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kib
		}
	}
	return 0
}
