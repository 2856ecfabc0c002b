package datamodel

import (
	"net"
	"os"
	"path/filepath"
	"testing"
)

func TestLinuxHostReadsThisMachine(t *testing.T) {
	if _, err := os.Stat("/proc/uptime"); err != nil {
		t.Skip("not a Linux host with /proc")
	}
	h := &LinuxHost{}
	s := h.Read()
	if s.UpTime == 0 || s.MemTotal == 0 || s.MemFree == 0 || s.MemFree > s.MemTotal {
		t.Fatalf("implausible reading %+v", s)
	}
	var lo *HostInterface
	for i := range s.Interfaces {
		if s.Interfaces[i].Name == "lo" {
			lo = &s.Interfaces[i]
		}
	}
	if lo == nil || lo.Ethernet || len(lo.IPv4) == 0 || lo.IPv4[0].Address != "127.0.0.1" {
		t.Fatalf("loopback: %+v", lo)
	}
}

func TestLinuxHostParsesProcFiles(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "proc"), 0o755)
	write := func(name, s string) { os.WriteFile(filepath.Join(root, "proc", name), []byte(s), 0o644) }
	write("uptime", "12345.67 999.00\n")
	write("meminfo", "MemTotal:        2048000 kB\nMemFree:          100000 kB\nMemAvailable:    1024000 kB\n")
	write("stat", "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 1 2 3 4\n")
	h := &LinuxHost{Root: root}
	s := h.Read()
	if s.UpTime != 12345 || s.MemTotal != 2048000 || s.MemFree != 1024000 || s.CPUUsage != 0 {
		t.Fatalf("%+v", s)
	}
	write("stat", "cpu  150 0 150 900 0 0 0 0 0 0\n") // +100 busy, +100 idle
	if s = h.Read(); s.CPUUsage != 50 {
		t.Fatalf("cpu %d", s.CPUUsage)
	}
}

// CPUUsage is the busy share over at most one poll interval even when the
// poll does not read the host: each poll restarts the window.
func TestPollKeepsTheCPUUsageWindowShort(t *testing.T) {
	f := newFix(t)
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "proc"), 0o755)
	stat := func(s string) { os.WriteFile(filepath.Join(root, "proc", "stat"), []byte(s), 0o644) }
	h := &LinuxHost{Root: root, Interfaces: func() ([]net.Interface, error) { return nil, nil }}
	f.model.Host = h
	stat("cpu  100 0 100 800 0 0 0 0 0 0\n")
	f.poll()
	stat("cpu  1100 0 100 800 0 0 0 0 0 0\n") // a busy stretch, before the last poll
	f.poll()
	stat("cpu  1130 0 100 870 0 0 0 0 0 0\n") // +30 busy, +70 idle since it
	if got := h.Read().CPUUsage; got != 30 {
		t.Fatalf("CPUUsage %d%%, want 30%% (the share since the last poll)", got)
	}
	stat("cpu  1130 0 100 970 0 0 0 0 0 0\n")
	if got := h.Read().CPUUsage; got != 0 {
		t.Fatalf("CPUUsage %d%% over an idle stretch", got)
	}
}
