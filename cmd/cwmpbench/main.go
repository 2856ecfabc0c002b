// Command cwmpbench measures cwmpd against its performance goals and prints
// one markdown table (the one kept in docs/benchmarks.md).
//
//	go run ./cmd/cwmpbench          # full run (minutes: builds a 1M-record journal)
//	go run ./cmd/cwmpbench -quick   # smoke run with small sizes
//
// Each row is a Row in rows.go; measurements that need a fresh process (peak
// resident memory) re-execute this binary in a child mode from children.go.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
)

func main() {
	if code, ok := runChild(); ok {
		os.Exit(code)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses flags, measures every row and prints the table. It returns 1 if
// a row could not be measured; a missed goal is reported in the table, not in
// the exit code, so the table is always printed whole.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cwmpbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "small sizes and short runs (a smoke test, not a measurement)")
	only := fs.String("rows", "", "comma-separated substrings: run only rows whose name contains one")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	testing.Init()
	cfg := newConfig(*quick)
	if err := flag.Set("test.benchtime", cfg.BenchTime); err != nil {
		fmt.Fprintln(stderr, "cwmpbench:", err)
		return 2
	}

	env := &Env{Config: cfg, Values: map[string]float64{}, Log: stderr}
	var results []Result
	failed := false
	for _, row := range Rows {
		if *only != "" && !matchesAny(row.Name, *only) {
			continue
		}
		fmt.Fprintf(stderr, "cwmpbench: %s ...\n", row.Name)
		res, err := row.Run(env)
		res.Name = row.Name
		if res.Goal == "" {
			res.Goal = row.Goal
		}
		if err != nil {
			failed = true
			res.Value = "error: " + err.Error()
			res.Status = Error
		}
		results = append(results, res)
	}
	printTable(stdout, results, cfg)
	if failed {
		return 1
	}
	return 0
}

func matchesAny(name, subs string) bool {
	for _, s := range strings.Split(subs, ",") {
		if s != "" && strings.Contains(strings.ToLower(name), strings.ToLower(strings.TrimSpace(s))) {
			return true
		}
	}
	return false
}

func printTable(w io.Writer, results []Result, cfg Config) {
	mode := "full"
	if cfg.Quick {
		mode = "quick (smoke sizes, not comparable)"
	}
	fmt.Fprintf(w, "| measurement | value | goal | result |\n|---|---|---|---|\n")
	for _, r := range results {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r.Name, r.Value, dash(r.Goal), r.Status)
	}
	fmt.Fprintf(w, "\nmode: %s\n", mode)
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
