package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/replay"
)

func cmdReplay(args []string, stdout io.Writer) (int, error) {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	at := fs.Uint64("at", 0, "stop after this sequence")
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage, err
	}
	if len(pos) != 1 {
		return exitUsage, usagef("replay: expected one FILE (JSONL export) or DIR (state dir)")
	}
	src := pos[0]
	st, err := os.Stat(src)
	if err != nil {
		return exitUsage, usagef("replay: %s: no such file or directory", src)
	}

	var r journal.Reader
	opts := replay.Options{At: *at}
	note := ""
	if st.IsDir() {
		j, err := openForReading(src)
		if err != nil {
			return exitUsage, err
		}
		defer j.Close()
		from := uint64(1)
		if first := j.FirstSeq(); first > 1 {
			// Retention dropped the oldest records: they are covered by
			// the snapshot, which is where the fold starts.
			snap, ok, err := j.LoadSnapshot(projections.SnapshotName)
			var s *projections.State
			if err == nil && ok {
				s, err = projections.RestoreAt(snap.Data, snap.Seq)
			}
			if err == nil && s != nil {
				opts.From, from = s, snap.Seq+1
				note = fmt.Sprintf("(records 1..%d folded from the snapshot; retention dropped them)", snap.Seq)
			} else {
				// As the agent does at start: what is left is folded, and
				// what came before it is lost.
				from = first
				note = fmt.Sprintf("(records 1..%d dropped by retention and no usable snapshot covers them: folded from record %d only)", first-1, first)
			}
		}
		r = j.NewReader(from)
	} else {
		f, err := os.Open(src)
		if err != nil {
			return exitUsage, usagef("replay: %v", err)
		}
		defer f.Close()
		r = journal.NewJSONLReader(f)
	}
	defer r.Close()

	var tl strings.Builder
	opts.Timeline = &tl
	res, err := replay.Run(r, opts)
	if err != nil {
		return exitUsage, usagef("replay: %s: %v", src, err)
	}
	if *asJSON {
		out := struct {
			Records    int                `json:"records"`
			First      uint64             `json:"first_seq"`
			Last       uint64             `json:"last_seq"`
			Status     projections.Status `json:"status"`
			State      *projections.State `json:"state"`
			Violations []replay.Violation `json:"violations"`
			Timeline   []string           `json:"timeline"`
		}{res.Records, res.First, res.Last, res.State.Status(), res.State.Redacted(), res.Violations,
			strings.Split(strings.TrimSuffix(tl.String(), "\n"), "\n")}
		if out.Violations == nil {
			out.Violations = []replay.Violation{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return exitUsage, err
		}
	} else {
		if note != "" {
			fmt.Fprintln(stdout, note)
		}
		io.WriteString(stdout, tl.String())
		printState(stdout, res)
	}
	if len(res.Violations) > 0 {
		return exitFindings, nil
	}
	return exitOK, nil
}

func printState(w io.Writer, res *replay.Result) {
	s := res.State
	st := s.Status()
	fmt.Fprintf(w, "\n%d records (%d..%d)\n", res.Records, res.First, res.Last)
	fmt.Fprintf(w, "status: %s  retry-count: %d  last-session-error: %q\n", st.Status, st.RetryCount, st.LastSessionError)
	fmt.Fprintf(w, "boots: %d  bootstrap delivered: %v  sessions: %d ok, %d failed\n",
		s.Boot.Count, s.Boot.BootstrapDelivered, s.Session.Succeeded, s.Session.Failed)
	var pend []string
	for _, e := range s.Pending.InformEvents() {
		if e.CommandKey != "" {
			pend = append(pend, e.Code+"("+e.CommandKey+")")
		} else {
			pend = append(pend, e.Code)
		}
	}
	fmt.Fprintf(w, "pending events: [%s]\n", strings.Join(pend, ", "))
	if !s.Retry.NextAttempt.IsZero() {
		fmt.Fprintf(w, "next attempt: %s\n", s.Retry.NextAttempt.UTC().Format("2006-01-02T15:04:05Z"))
	}
	for _, tr := range s.Transfers.List() {
		fmt.Fprintf(w, "transfer #%d %s ck=%q: %s%s\n", tr.ID, tr.Request.Kind, tr.Request.CommandKey, tr.State, attempts(tr))
	}
	fmt.Fprintf(w, "parameter key: %q  journal-backed parameters: %d  schedules: %d\n",
		s.Params.ParameterKey, len(s.Params.Values), len(s.Schedules))
	for _, v := range res.Violations {
		fmt.Fprintf(w, "VIOLATION %s\n", v)
	}
}

// attempts describes a ScheduleDownload's failed attempts (its windows'
// MaxRetries): how many, the last fault, and when the next one is due.
func attempts(tr *projections.Transfer) string {
	if tr.FailedAttempts == 0 {
		return ""
	}
	out := fmt.Sprintf("  failed attempts: %d (%d in window %d, last fault %d)", tr.FailedAttempts, tr.WindowFailures, tr.RetryWindow+1, tr.LastFaultCode)
	if !tr.NextAttempt.IsZero() {
		out += "  next attempt: " + tr.NextAttempt.UTC().Format("2006-01-02T15:04:05Z")
	}
	return out
}
