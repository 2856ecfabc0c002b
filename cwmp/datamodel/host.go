package datamodel

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// HostInterface is one network interface of the host.
type HostInterface struct {
	Index    int // ifindex: the instance number, stable while the interface exists
	Name     string
	Up       bool
	MAC      string
	Ethernet bool // has a 6-byte hardware address and is not loopback
	Stats    struct {
		BytesSent, BytesReceived, PacketsSent, PacketsReceived uint64
		ErrorsSent, ErrorsReceived                             uint64
	}
	IPv4 []HostIPv4
	IPv6 []string
}

// HostIPv4 is an IPv4 address and its mask.
type HostIPv4 struct{ Address, Mask string }

// HostSnapshot is one reading of the host, taken once per RPC or poll so a
// response is consistent and the host is read once.
type HostSnapshot struct {
	UpTime     uint32
	MemTotal   uint32 // KiB
	MemFree    uint32 // KiB
	CPUUsage   uint32 // percent since the previous reading
	Now        time.Time
	Interfaces []HostInterface // by Index
}

// Host reads the machine the agent runs on.
type Host interface {
	Read() HostSnapshot
}

// LinuxHost reads /proc and /sys under Root ("/" in production; a test
// directory in tests) and the interfaces from the kernel.
type LinuxHost struct {
	Root  string
	Clock func() time.Time
	// Interfaces lists interfaces (net.Interfaces by default).
	Interfaces func() ([]net.Interface, error)

	mu                sync.Mutex
	lastIdle, lastAll uint64
}

// CPUSampler is a Host whose CPU usage is the busy share since its
// previous reading: SampleCPU restarts that window without a full reading.
type CPUSampler interface {
	SampleCPU()
}

// Read takes one reading; unreadable parts are left zero (a router without
// /sys/class/net statistics still answers).
func (h *LinuxHost) Read() HostSnapshot {
	var s HostSnapshot
	clock := h.Clock
	if clock == nil {
		clock = time.Now
	}
	s.Now = clock()
	if b, err := os.ReadFile(h.path("proc/uptime")); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			if v, err := strconv.ParseFloat(f[0], 64); err == nil {
				s.UpTime = uint32(v)
			}
		}
	}
	if b, err := os.ReadFile(h.path("proc/meminfo")); err == nil {
		s.MemTotal = meminfo(b, "MemTotal:")
		s.MemFree = meminfo(b, "MemAvailable:")
		if s.MemFree == 0 {
			s.MemFree = meminfo(b, "MemFree:")
		}
	}
	s.CPUUsage = h.cpu()
	s.Interfaces = h.interfaces()
	return s
}

func (h *LinuxHost) path(p string) string {
	root := h.Root
	if root == "" {
		root = "/"
	}
	return filepath.Join(root, p)
}

func meminfo(b []byte, key string) uint32 {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == key {
			v, _ := strconv.ParseUint(f[1], 10, 64)
			if v > 1<<32-1 {
				v = 1<<32 - 1
			}
			return uint32(v)
		}
	}
	return 0
}

// cpu returns the busy percentage since the previous reading or sample
// (0 the first time: one reading says nothing about load).
func (h *LinuxHost) cpu() uint32 {
	all, idle, ok := h.readCPU()
	if !ok {
		return 0
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	first, wrapped := h.lastAll == 0, all < h.lastAll || idle < h.lastIdle
	dAll, dIdle := all-h.lastAll, idle-h.lastIdle
	h.lastAll, h.lastIdle = all, idle
	if first || wrapped || dAll == 0 || dIdle > dAll {
		return 0
	}
	return uint32((dAll - dIdle) * 100 / dAll)
}

// SampleCPU moves the start of the CPU usage window to now, reading only
// the first line of /proc/stat. The value poll calls it on each tick where
// it does not read the host, so CPUUsage covers at most one poll interval
// (not everything since the last session's reading).
func (h *LinuxHost) SampleCPU() {
	all, idle, ok := h.readCPU()
	if !ok {
		return
	}
	h.mu.Lock()
	h.lastAll, h.lastIdle = all, idle
	h.mu.Unlock()
}

// readCPU returns the machine's total and idle (with iowait) jiffies.
func (h *LinuxHost) readCPU() (all, idle uint64, ok bool) {
	b, err := os.ReadFile(h.path("proc/stat"))
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0, false
	}
	for i, x := range f[1:] {
		v, _ := strconv.ParseUint(x, 10, 64)
		all += v
		if i == 3 || i == 4 { // idle, iowait
			idle += v
		}
	}
	return all, idle, true
}

func (h *LinuxHost) interfaces() []HostInterface {
	list := h.Interfaces
	if list == nil {
		list = net.Interfaces
	}
	ifs, err := list()
	if err != nil {
		return nil
	}
	var out []HostInterface
	for _, ifc := range ifs {
		hi := HostInterface{Index: ifc.Index, Name: ifc.Name, Up: ifc.Flags&net.FlagUp != 0}
		if len(ifc.HardwareAddr) == 6 && ifc.Flags&net.FlagLoopback == 0 {
			hi.Ethernet = true
			hi.MAC = ifc.HardwareAddr.String()
		}
		stat := func(name string) uint64 {
			b, err := os.ReadFile(h.path(filepath.Join("sys/class/net", ifc.Name, "statistics", name)))
			if err != nil {
				return 0
			}
			v, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
			return v
		}
		hi.Stats.BytesSent, hi.Stats.BytesReceived = stat("tx_bytes"), stat("rx_bytes")
		hi.Stats.PacketsSent, hi.Stats.PacketsReceived = stat("tx_packets"), stat("rx_packets")
		hi.Stats.ErrorsSent, hi.Stats.ErrorsReceived = stat("tx_errors"), stat("rx_errors")
		if addrs, err := ifc.Addrs(); err == nil {
			for _, a := range addrs {
				ipn, ok := a.(*net.IPNet)
				if !ok {
					continue
				}
				if v4 := ipn.IP.To4(); v4 != nil {
					hi.IPv4 = append(hi.IPv4, HostIPv4{Address: v4.String(), Mask: net.IP(ipn.Mask).String()})
				} else {
					hi.IPv6 = append(hi.IPv6, ipn.IP.String())
				}
			}
		}
		out = append(out, hi)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}
