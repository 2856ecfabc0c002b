package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"testing"

	"github.com/cwmpd/cwmpd/journal/journalbench"
)

// Config holds the sizes of a run; -quick shrinks them for the smoke test.
type Config struct {
	Quick         bool
	BenchTime     string // testing's -test.benchtime for testing.Benchmark
	ReplayRecords int
	MemAppends    int
	Rounds        int // repetitions of the group-commit comparison
}

func newConfig(quick bool) Config {
	if quick {
		return Config{Quick: true, BenchTime: "100ms", ReplayRecords: 20_000, MemAppends: 5_000, Rounds: 1}
	}
	return Config{BenchTime: "2s", ReplayRecords: 1_000_000, MemAppends: 100_000, Rounds: 3}
}

// Env is shared by the rows of one run. Values lets a row leave a number for
// a later row (e.g. a boot row comparing with the replay rate).
type Env struct {
	Config
	Values map[string]float64
	Log    io.Writer
}

// Status is a row's verdict.
type Status string

const (
	Pass  Status = "pass"
	Fail  Status = "**FAIL**"
	Info  Status = "reference" // no goal: a number to compare against
	Error Status = "**ERROR**"
)

// Result is one table line. Goal defaults to the Row's.
type Result struct {
	Name   string
	Value  string
	Goal   string
	Status Status
}

// Row is one measurement. To add one, append to Rows: Run gets the shared
// Env and returns the value (formatted), and Pass/Fail against its goal or
// Info when it has none. Rows run in order.
type Row struct {
	Name string
	Goal string
	Run  func(*Env) (Result, error)
}

// Rows is the table, in order.
var Rows = []Row{
	{Name: "raw disk: 256 B append + fdatasync", Run: rowRawSync},
	{Name: "durable append, 1 appender", Run: rowDurable},
	{Name: "group commit, 16 appenders", Goal: "≥ 5× raw sync rate", Run: rowGroup(16)},
	{Name: "group commit, 64 appenders", Goal: "≥ 5× raw sync rate", Run: rowGroup(64)},
	{Name: "replay (iterate + decode)", Run: rowReplay},
	// The goal row runs the journal as the agent runs it: cwmpd run sets a
	// 24 MiB soft heap limit (--memory-limit) before it opens the journal.
	// The row below it shows Go's default collector, so the garbage
	// collector's headroom stays visible (docs/decisions.md).
	{Name: "peak resident memory: open + appends + full iteration, as cwmpd runs it (GOMEMLIMIT=24MiB)", Goal: "≤ 48 MB", Run: rowMemory("24MiB", true)},
	{Name: "same, Go's default collector (no memory limit)", Run: rowMemory("", false)},
}

func verdict(ok bool) Status {
	if ok {
		return Pass
	}
	return Fail
}

// bench runs f under testing.Benchmark and fails on a benchmark that failed
// (testing.Benchmark reports that as a zero result).
func bench(f func(*testing.B)) (testing.BenchmarkResult, error) {
	r := testing.Benchmark(f)
	if r.N == 0 {
		return r, fmt.Errorf("benchmark failed (see stderr)")
	}
	return r, nil
}

func rowRawSync(e *Env) (Result, error) {
	r, err := bench(journalbench.RawSync)
	if err != nil {
		return Result{}, err
	}
	rate := r.Extra["syncs/s"]
	e.Values["raw_syncs_per_s"] = rate
	return Result{Value: fmt.Sprintf("%s syncs/s (%.0f µs each)", num(rate), 1e6/rate), Status: Info}, nil
}

func rowDurable(e *Env) (Result, error) {
	r, err := bench(journalbench.AppendDurable)
	if err != nil {
		return Result{}, err
	}
	return Result{Value: fmt.Sprintf("%s appends/s, p50 %.0f µs, p99 %.0f µs", num(r.Extra["appends/s"]), r.Extra["p50-µs"], r.Extra["p99-µs"]), Status: Info}, nil
}

// rowGroup compares group commit with the raw sync rate measured right
// before it, three times, and reports the median round: the machine's disk
// and CPUs are shared, and a raw rate measured minutes earlier is not the
// same disk.
func rowGroup(n int) func(*Env) (Result, error) {
	return func(e *Env) (Result, error) {
		type round struct{ raw, rate, perSync float64 }
		var rounds []round
		for i := 0; i < e.Rounds; i++ {
			raw, err := bench(journalbench.RawSync)
			if err != nil {
				return Result{}, err
			}
			g, err := bench(journalbench.GroupCommit(n))
			if err != nil {
				return Result{}, err
			}
			rounds = append(rounds, round{raw.Extra["syncs/s"], g.Extra["appends/s"], g.Extra["appends/commit"]})
		}
		sort.Slice(rounds, func(a, b int) bool { return rounds[a].rate/rounds[a].raw < rounds[b].rate/rounds[b].raw })
		m := rounds[len(rounds)/2]
		ratio := m.rate / m.raw
		return Result{
			Value: fmt.Sprintf("%s appends/s = %.1f× the raw rate measured just before (%s syncs/s); %.1f appends per sync; median of %d rounds",
				num(m.rate), ratio, num(m.raw), m.perSync, len(rounds)),
			Status: verdict(ratio >= 5),
		}, nil
	}
}

func rowReplay(e *Env) (Result, error) {
	f, cleanup := journalbench.Replay(e.ReplayRecords)
	defer cleanup()
	r, err := bench(f)
	if err != nil {
		return Result{}, err
	}
	e.Values["replay_records_per_s"] = r.Extra["records/s"]
	return Result{Value: fmt.Sprintf("%s records/s over %s records", num(r.Extra["records/s"]), num(float64(e.ReplayRecords))), Status: Info}, nil
}

// rowMemory measures in a child process; a non-empty memLimit sets its
// GOMEMLIMIT; goal says whether the row is judged against the goal.
func rowMemory(memLimit string, goal bool) func(*Env) (Result, error) {
	return func(e *Env) (Result, error) {
		return measureMemory(e, memLimit, goal)
	}
}

func measureMemory(e *Env, memLimit string, goal bool) (Result, error) {
	dir, err := os.MkdirTemp("", "cwmpbench-mem-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	var m memReport
	// Pin the GC settings so the caller's environment cannot move the number.
	env := []string{"GOGC=100", "GOMEMLIMIT=off"}
	if memLimit != "" {
		env = append(env, "GOMEMLIMIT="+memLimit)
	}
	if err := runChildJSON(childMemory, []string{dir, fmt.Sprint(e.MemAppends)}, env, &m); err != nil {
		return Result{}, err
	}
	// VmHWM is the child's own peak. ru_maxrss is only the fallback: Linux
	// carries it across execve, so it includes the parent's footprint at the
	// moment of the fork.
	kib, src := m.VmHWMKiB, "VmHWM"
	if kib == 0 {
		kib, src = m.MaxRSSKiB, "ru_maxrss, includes the parent's"
	}
	mb := float64(kib) / 1024
	status := verdict(mb <= 48)
	if !goal {
		status = Info
	}
	return Result{
		Value: fmt.Sprintf("%.1f MB (%s; peaks sampled: anon %.1f MB, file-backed mmap %.1f MB; %s appends by 16 appenders)",
			mb, src, float64(m.PeakAnonKiB)/1024, float64(m.PeakFileKiB)/1024, num(float64(e.MemAppends))),
		Status: status,
	}, nil
}

// num formats with thousands separators, the table being read by people.
func num(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
