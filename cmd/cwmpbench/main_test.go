package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	if code, ok := runChild(); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// TestQuickRun is the smoke test: every row measures something and the table
// has one line per row.
func TestQuickRun(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"-quick"}, &out, &errs); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errs.String())
	}
	table := out.String()
	t.Log("\n" + table)
	for _, row := range Rows {
		line := ""
		for _, l := range strings.Split(table, "\n") {
			if strings.HasPrefix(l, "| "+row.Name+" |") {
				line = l
			}
		}
		if line == "" {
			t.Fatalf("row %q missing from the table", row.Name)
		}
		if strings.Contains(line, "ERROR") || !strings.ContainsAny(strings.SplitN(line, "|", 4)[2], "0123456789") {
			t.Fatalf("row %q has no measurement: %s", row.Name, line)
		}
	}
}

func TestNum(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4200: "-4,200"} {
		if got := num(v); got != want {
			t.Errorf("num(%v) = %q, want %q", v, got, want)
		}
	}
}
