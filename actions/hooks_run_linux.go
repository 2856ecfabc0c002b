package actions

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// applyRunFile, in StateDir, names the process group of the
// apply-parameters run under way: "pgid starttime boot_id". It exists
// only while a run does, or after the agent died during one.
const applyRunFile = "apply-run"

// kernelBootID is the kernel's identity of this boot: process ids are
// only meaningful within it.
const kernelBootID = "/proc/sys/kernel/random/boot_id"

// recordRun notes the run whose shell is pid (the leader of its own
// process group), so that the next start can end it if the agent dies
// first. Not synced: a power cut ends the run as well.
func (h *Hooks) recordRun(pid int) {
	if h.StateDir == "" {
		return
	}
	start, err := procStart(pid)
	if err != nil {
		return // the shell is gone already: nothing to end
	}
	boot, _ := os.ReadFile(kernelBootID)
	line := fmt.Sprintf("%d %s %s\n", pid, start, strings.TrimSpace(string(boot)))
	os.WriteFile(filepath.Join(h.StateDir, applyRunFile), []byte(line), 0o600)
}

// forgetRun is called once the run has ended.
func (h *Hooks) forgetRun() {
	if h.StateDir != "" {
		os.Remove(filepath.Join(h.StateDir, applyRunFile))
	}
}

// endLeftoverRun SIGKILLs what is left of a run the agent did not see to
// its end (it died, and was started again): the intent it was applying is
// being applied again, and two runs at once would share the device's
// staging (uci's), where one's revert or commit lands in the other's.
// The record is trusted only within the same boot, and only while its
// group's id has not been taken by a new process (a group's id is its
// first process's, which the kernel does not hand out again while the
// group lives).
func (h *Hooks) endLeftoverRun() {
	if h.StateDir == "" {
		return
	}
	path := filepath.Join(h.StateDir, applyRunFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	defer os.Remove(path)
	f := strings.Fields(string(b))
	if len(f) != 3 {
		return
	}
	pgid, err := strconv.Atoi(f[0])
	if err != nil || pgid <= 1 {
		return
	}
	if boot, _ := os.ReadFile(kernelBootID); strings.TrimSpace(string(boot)) != f[2] {
		return
	}
	if start, err := procStart(pgid); err == nil && start != f[1] {
		return // that id is another process's now
	}
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil {
		return // the group is gone
	}
	// Let the kernel finish them before the new run begins; their parent
	// (init) reaps them, which may lag: do not wait long for it.
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if !groupAlive(pgid) {
			return
		}
	}
}

// groupAlive reports a process of group pgid that is not a zombie.
func groupAlive(pgid int) bool {
	if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		st, err := procStat(pid)
		if err != nil || len(st) < 3 || st[0] == "Z" {
			continue
		}
		if g, _ := strconv.Atoi(st[2]); g == pgid {
			return true
		}
	}
	return false
}

// procStart is a process's start time (clock ticks since boot), which
// tells it apart from a later process given the same id.
func procStart(pid int) (string, error) {
	st, err := procStat(pid)
	if err != nil {
		return "", err
	}
	if len(st) < 20 {
		return "", errors.New("short /proc stat")
	}
	return st[19], nil
}

// procStat returns the fields of /proc/PID/stat after the command name
// (which may hold spaces): state first, then ppid, pgrp, ….
func procStat(pid int) ([]string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, errors.New("malformed /proc stat")
	}
	return strings.Fields(string(b[i+1:])), nil
}
