package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// acs is a running bin/acsim with its admin API.
type acs struct {
	cmd   *exec.Cmd
	admin string // http://127.0.0.1:port
	url   string // CWMP URL the agent is given
	log   *os.File
}

const (
	acsUser, acsPass = "cpe-bench", "bench-secret"
	crUser, crPass   = "acs-bench", "cr-secret"
)

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startACS(bin, dir string) (*acs, error) {
	var ports [3]int
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	a := &acs{admin: fmt.Sprintf("http://127.0.0.1:%d", ports[1]), url: fmt.Sprintf("http://127.0.0.1:%d/cwmp", ports[0])}
	if stopping() {
		return nil, errStopping
	}
	var err error
	if a.log, err = os.Create(filepath.Join(dir, "acsim.log")); err != nil {
		return nil, err
	}
	// Digest auth as in a deployment (each session pays the 401 round trip);
	// schema validation off so xmllint does not load the two shared cores
	// while the agent is measured.
	a.cmd = exec.Command(filepath.Join(bin, "acsim"),
		"--listen", fmt.Sprintf("127.0.0.1:%d", ports[0]), "--admin", a.admin[len("http://"):],
		"--files-listen", fmt.Sprintf("127.0.0.1:%d", ports[2]), "--path", "/cwmp",
		"--auth", "digest", "--user", acsUser, "--pass", acsPass,
		"--cr-user", crUser, "--cr-pass", crPass, "--schema", "off", "--log-level", "warn")
	a.cmd.Stdout, a.cmd.Stderr = a.log, a.log
	// Its own group, killed on every path; and killed by the kernel if
	// agentbench dies (childAttr says why that is safe here).
	if err := startHelper(a.cmd); err != nil {
		return nil, fmt.Errorf("start acsim: %w", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(a.admin + "/")
		if err == nil {
			resp.Body.Close()
			return a, nil
		}
		if time.Now().After(deadline) {
			a.kill()
			return nil, fmt.Errorf("acsim admin API: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (a *acs) kill() {
	if a != nil && a.cmd != nil && a.cmd.Process != nil {
		syscall.Kill(-a.cmd.Process.Pid, syscall.SIGKILL)
		waitHelper(a.cmd)
		a.cmd = nil
	}
}

func (a *acs) getJSON(path string, v any) error {
	resp, err := http.Get(a.admin + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("acsim %s: HTTP %d: %s", path, resp.StatusCode, bytes.TrimSpace(b))
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func (a *acs) rpc(js string) error {
	resp, err := http.Post(a.admin+"/rpc", "application/json", strings.NewReader(js))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("acsim /rpc: HTTP %d: %s", resp.StatusCode, b)
	}
	return nil
}

type counts struct {
	Sessions int `json:"sessions"`
	Informs  int `json:"informs"`
	Errors   int `json:"errors"`
}

func (a *acs) counts() (counts, error) {
	var c counts
	err := a.getJSON("/counts", &c)
	return c, err
}

// waitSessions blocks until n sessions have completed in total.
func (a *acs) waitSessions(n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		step := time.Until(deadline)
		if step > 30*time.Second {
			step = 30 * time.Second
		}
		var r struct {
			OK     bool   `json:"ok"`
			Counts counts `json:"counts"`
		}
		err := a.getJSON(fmt.Sprintf("/wait?sessions=%d&timeout=%s", n, step.Round(time.Millisecond)), &r)
		if err == nil {
			return nil
		}
		if !strings.Contains(err.Error(), "HTTP 408") || time.Now().After(deadline) {
			return fmt.Errorf("waiting for %d sessions: %w", n, err)
		}
	}
}

type entry struct {
	Seq       int64           `json:"seq"`
	Time      time.Time       `json:"time"`
	Kind      string          `json:"kind"`
	Direction string          `json:"direction"`
	Method    string          `json:"method"`
	Summary   json.RawMessage `json:"summary"`
	Errors    []string        `json:"errors"`
}

func (a *acs) transcript(since int64) ([]entry, error) {
	var t []entry
	err := a.getJSON(fmt.Sprintf("/transcript?since=%d&raw=0&kind=cwmp", since), &t)
	return t, err
}

func (a *acs) lastSeq() (int64, error) {
	t, err := a.transcript(0)
	if err != nil || len(t) == 0 {
		return 0, err
	}
	return t[len(t)-1].Seq, nil
}

// agent is a running `cwmpd run --platform sim`.
type agent struct {
	cmd   *exec.Cmd
	start time.Time
	pid   int
	log   *os.File
}

// writeDefaults writes the factory-default settings of a bench device.
func writeDefaults(dir string, a *acs, interval string) (path string, crPort int, err error) {
	if crPort, err = freePort(); err != nil {
		return "", 0, err
	}
	path = filepath.Join(dir, "defaults.conf")
	err = os.WriteFile(path, []byte(fmt.Sprintf(`acs-url=%s
username=%s
password=%s
periodic-inform-interval=%s
connection-request-username=%s
connection-request-password=%s
connection-request-port=%d
`, a.url, acsUser, acsPass, interval, crUser, crPass, crPort)), 0o600)
	return path, crPort, err
}

// startAgent starts cwmpd on state; start is taken just before the exec.
func startAgent(bin, dir, state, defaults string, crPort int, extra ...string) (*agent, error) {
	g := &agent{}
	if stopping() {
		return nil, errStopping
	}
	var err error
	if g.log, err = os.OpenFile(filepath.Join(dir, "cwmpd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
		return nil, err
	}
	args := append([]string{"run", "--platform", "sim", "--state", state, "--defaults", defaults,
		"--connreq-listen", fmt.Sprintf("127.0.0.1:%d", crPort), "--connreq-host", "127.0.0.1",
		"--log-level", "warn"}, extra...)
	g.cmd = exec.Command(filepath.Join(bin, "cwmpd"), args...)
	g.cmd.Stdout, g.cmd.Stderr = g.log, g.log
	g.start = time.Now()
	if err := startHelper(g.cmd); err != nil {
		return nil, fmt.Errorf("start cwmpd: %w", err)
	}
	g.pid = g.cmd.Process.Pid
	return g, nil
}

// stop sends SIGTERM and waits for a clean exit.
func (g *agent) stop() error {
	if g == nil || g.cmd == nil {
		return nil
	}
	g.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- waitHelper(g.cmd) }()
	defer func() { g.cmd = nil; g.log.Close() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("cwmpd exit: %w (log %s)", err, g.log.Name())
		}
		return nil
	case <-time.After(20 * time.Second):
		syscall.Kill(-g.pid, syscall.SIGKILL)
		<-done
		return errors.New("cwmpd did not stop within 20 s of SIGTERM")
	}
}

func (g *agent) kill() {
	if g != nil && g.cmd != nil && g.cmd.Process != nil {
		syscall.Kill(-g.pid, syscall.SIGKILL)
		waitHelper(g.cmd)
		g.cmd = nil
	}
}

// cpuTicks is utime+stime of pid in clock ticks (/proc/PID/stat fields 14, 15).
func cpuTicks(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("stat: no ')'")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): utime is field 14 → f[11], stime f[12].
	if len(f) < 13 {
		return 0, errors.New("stat: short")
	}
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	s, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("stat: bad times")
	}
	return u + s, nil
}

// cost is what a process has spent so far: CPU ticks (utime+stime), exact
// on-CPU nanoseconds, its threads' voluntary context switches (wake-ups)
// and /proc/PID/io counters.
type cost struct {
	ticks, nanos, wakeups uint64
	io                    map[string]uint64
	threads               map[string]bool // the TIDs at the start of the sample
}

// check refuses a difference c - c0 that would be wrong: a thread that
// exited in between takes its counts out of c, so the difference would be
// too small (or wrap around).
func (c cost) check(c0 cost) error {
	for tid := range c0.threads {
		if !c.threads[tid] {
			return fmt.Errorf("thread %s exited during the measurement: its CPU and wake-ups would drop out of the difference", tid)
		}
	}
	if c.ticks < c0.ticks || c.nanos < c0.nanos || c.wakeups < c0.wakeups {
		return errors.New("a counter went backwards during the measurement")
	}
	return nil
}

func sampleCost(pid int) (cost, error) {
	c := cost{threads: map[string]bool{}}
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return c, err
	}
	for _, t := range tasks {
		c.threads[t.Name()] = true
	}
	if c.ticks, err = cpuTicks(pid); err != nil {
		return c, err
	}
	if c.nanos, err = cpuNanos(pid); err != nil {
		return c, err
	}
	if c.wakeups, err = voluntarySwitches(pid); err != nil {
		return c, err
	}
	c.io, err = procKV(pid, "io")
	return c, err
}

// cpuNanos is the on-CPU time of pid's threads in nanoseconds: the first
// field of /proc/PID/task/TID/schedstat, summed. Exact where utime+stime
// counts 10 ms ticks.
func cpuNanos(pid int) (uint64, error) {
	return sumThreads(pid, func(task string) (uint64, error) {
		b, err := os.ReadFile(task + "/schedstat")
		if err != nil {
			return 0, err
		}
		f := strings.Fields(string(b))
		if len(f) < 1 {
			return 0, errors.New("schedstat: empty")
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("schedstat: %w", err)
		}
		return n, nil
	})
}

// voluntarySwitches sums voluntary_ctxt_switches over pid's threads: how
// often they went to sleep, hence woke up again.
func voluntarySwitches(pid int) (uint64, error) {
	return sumThreads(pid, func(task string) (uint64, error) {
		b, err := os.ReadFile(task + "/status")
		if err != nil {
			return 0, err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "voluntary_ctxt_switches:"); ok {
				return strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			}
		}
		return 0, errors.New("status: no voluntary_ctxt_switches")
	})
}

// sumThreads adds read over the /proc/PID/task/TID directories of pid's
// threads. A thread that exits between the listing and its read drops out
// (Go keeps its threads, so this is rare).
func sumThreads(pid int, read func(task string) (uint64, error)) (uint64, error) {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var sum uint64
	for _, t := range tasks {
		n, err := read(dir + "/" + t.Name())
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			continue // the thread exited
		}
		if err != nil {
			return 0, err
		}
		sum += n
	}
	return sum, nil
}

var clkTck = func() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && n > 0 {
			return float64(n)
		}
	}
	return 100
}()

// procKV reads a "Key: value" file (/proc/PID/status in kB, /proc/PID/io in
// bytes), numbers only.
func procKV(pid int, file string) (map[string]uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
	if err != nil {
		return nil, err
	}
	m := map[string]uint64{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		if n, err := strconv.ParseUint(f[0], 10, 64); err == nil {
			m[k] = n
		}
	}
	return m, nil
}

// sampler records the peaks of RssAnon and RssFile every 10 ms.
type sampler struct {
	mu             sync.Mutex
	anon, file     uint64 // kB
	stop, finished chan struct{}
}

func sample(pid int) *sampler {
	s := &sampler{stop: make(chan struct{}), finished: make(chan struct{})}
	go func() {
		defer close(s.finished)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if m, err := procKV(pid, "status"); err == nil {
				s.mu.Lock()
				s.anon = max(s.anon, m["RssAnon"])
				s.file = max(s.file, m["RssFile"])
				s.mu.Unlock()
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *sampler) peaks() (anonKB, fileKB uint64) {
	close(s.stop)
	<-s.finished
	return s.anon, s.file
}

// rssByMapping sums /proc/PID/smaps Rss (kB) by what is mapped: the
// executable, the journal's Badger files (by extension), anonymous memory.
func rssByMapping(pid int) (map[string]uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return nil, err
	}
	exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	m := map[string]uint64{}
	cur := "anon"
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if !strings.HasSuffix(f[0], ":") { // a mapping header: addr perms off dev inode [path]
			cur = "anon"
			if len(f) >= 6 {
				switch p := f[5]; {
				case p == exe:
					cur = "binary"
				case strings.HasSuffix(p, ".mem"):
					cur = "memtable WAL"
				case strings.HasSuffix(p, ".vlog"):
					cur = "value log"
				case strings.HasSuffix(p, ".sst"):
					cur = "tables"
				case strings.HasPrefix(p, "/"):
					cur = "other files"
				}
			}
			continue
		}
		if f[0] == "Rss:" && len(f) >= 2 {
			n, _ := strconv.ParseUint(f[1], 10, 64)
			m[cur] += n
		}
	}
	return m, nil
}

func formatMappings(m map[string]uint64) string {
	var parts []string
	for _, k := range []string{"binary", "memtable WAL", "value log", "tables", "other files", "anon"} {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %.1f", k, float64(m[k])/1024))
		}
	}
	return strings.Join(parts, ", ") + " MB"
}

// cpuTimes is the machine's first /proc/stat line: all CPUs' time in
// ticks, and the part the hypervisor gave to other guests (steal). A
// shared virtual machine's figures move with its neighbours; the rows say
// how much was taken while they were measured.
type cpuTimes struct{ steal, total uint64 }

func readCPUTimes() (cpuTimes, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}, err
	}
	return parseCPUTimes(b)
}

func parseCPUTimes(b []byte) (cpuTimes, error) {
	line, _, _ := bytes.Cut(b, []byte{'\n'})
	f := strings.Fields(string(line))
	// cpu user nice system idle iowait irq softirq steal [guest guest_nice]
	if len(f) < 9 || f[0] != "cpu" {
		return cpuTimes{}, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var t cpuTimes
	for i, s := range f[1:] {
		if i >= 8 {
			break // guest time is already counted in user and nice
		}
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return cpuTimes{}, fmt.Errorf("/proc/stat: field %d: %w", i+1, err)
		}
		t.total += n
		if i == 7 {
			t.steal = n
		}
	}
	return t, nil
}

// stealShare describes the steal between two readings, or why it is
// unknown.
func stealShare(a cpuTimes, errA error, b cpuTimes, errB error) string {
	if err := errors.Join(errA, errB); err != nil {
		return "host steal unknown: " + err.Error()
	}
	if b.total <= a.total || b.steal < a.steal {
		return "host steal unknown: /proc/stat did not advance"
	}
	return fmt.Sprintf("host steal %.1f%% of the machine's CPU time", 100*float64(b.steal-a.steal)/float64(b.total-a.total))
}
