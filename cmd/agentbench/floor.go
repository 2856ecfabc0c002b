package main

import (
	"bufio"
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
	"runtime"
	"strings"
	"syscall"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// The floor scenario answers "how much of a periodic session's CPU could any
// agent save on this machine?". A probe process does only the parts of a
// session that no CWMP logic can avoid, each with the same runtime settings
// as cwmpd run (GOMAXPROCS 1, 10 ms timer slack), and reads its own CPU
// time (getrusage) around each:
//   - one timer wake-up (the periodic trigger);
//   - a TCP connection to a server in another process carrying three POSTs
//     as a digest-authenticated session does (a 401, the Inform and its
//     response, an empty POST answered 204), then closed; requests written
//     and responses read in turn with net/http's framing, as cwmp/transport
//     does;
//   - two durable Badger commits of one small record each, with the
//     journal's sync setting (a periodic session makes two).
//
// Nothing here is cwmpd code: no SOAP, no digest arithmetic, no journal
// encoding, no projections, no logging.

const (
	floorSessions = 200
	// floorSpaced whole floor sessions are also run one per
	// floorSpacing, the agent's interval in the CPU row: after a second
	// of sleep the caches and TLBs are cold, as they are for the agent's
	// sessions, while the parts above run 20 ms apart, warm.
	floorSpaced      = 100
	floorSpacing     = time.Second
	floorInformBytes = 1500 // about the size of a periodic Inform
	floorReplyBytes  = 500  // InformResponse
	floorRecordBytes = 300
	floorTimerSlack  = 10 * time.Millisecond
)

type floorCosts struct {
	Wake   float64 `json:"wake_ms"`
	HTTP   float64 `json:"http_ms"` // includes one wake-up, subtracted below
	Commit float64 `json:"commit_ms"`
	// Spaced is one whole floor session (wake-up, commit, connection,
	// commit) run once per floorSpacing: nothing subtracted.
	Spaced float64 `json:"spaced_ms"`
	// SpacedWakeups is the probe's thread wake-ups (voluntary context
	// switches) per spaced session, comparable with the CPU row's.
	SpacedWakeups float64 `json:"spaced_wakeups"`
	Slack         string  `json:"slack"`
}

func floor(c config, dir string, logf func(string, ...any)) ([]result, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	srv := exec.Command(self, "--floor-role", "server", "--floor-addr", addr)
	srv.Stderr = os.Stderr
	if err := startHelper(srv); err != nil {
		return nil, fmt.Errorf("floor server: %w", err)
	}
	defer func() { syscall.Kill(-srv.Process.Pid, syscall.SIGKILL); waitHelper(srv) }()

	if err := waitListening(addr, 10*time.Second); err != nil {
		return nil, fmt.Errorf("floor server: %w", err)
	}
	logf("floor: %d sessions' unavoidable parts without CWMP, then %d whole ones %s apart", floorSessions, floorSpaced, floorSpacing)
	probe := exec.Command(self, "--floor-role", "probe", "--floor-addr", addr, "--floor-dir", dir)
	probe.Stderr = os.Stderr
	var out bytes.Buffer
	probe.Stdout = &out
	m0, m0err := readCPUTimes()
	err = startHelper(probe)
	if err == nil {
		err = waitHelper(probe)
	}
	m1, m1err := readCPUTimes()
	if err != nil {
		return nil, fmt.Errorf("floor probe: %w", err)
	}
	var fc floorCosts
	if err := json.Unmarshal(out.Bytes(), &fc); err != nil {
		return nil, fmt.Errorf("floor probe output %q: %w", out.Bytes(), err)
	}
	// Both loops below slept once per item; the wake-up measured on its own
	// is taken out of each, so an error in it counts about twice in total.
	conn := fc.HTTP - fc.Wake
	total := fc.Wake + conn + 2*fc.Commit
	return []result{{
		"floor: the same session's unavoidable parts, no CWMP (timer wake-up + TCP connect, 3 POSTs, close + 2 durable Badger commits)",
		fmt.Sprintf("%.2f ms one %s apart, as the agent's sessions (%d of them, %.1f thread wake-ups each); parts 20 ms apart: %.2f ms (wake-up %.2f, connection %.2f, commit %.2f each; %d of each); GOMAXPROCS 1, %s; %s",
			fc.Spaced, floorSpacing, floorSpaced, fc.SpacedWakeups, total, fc.Wake, conn, fc.Commit, floorSessions, fc.Slack, stealShare(m0, m0err, m1, m1err)),
		"", ref,
	}}, nil
}

// waitListening dials addr until it accepts, for at most d.
func waitListening(addr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// floorRole runs the server or probe side when agentbench re-executes
// itself; it reports whether it did.
func floorRole(role, addr, dir string) (bool, error) {
	switch role {
	case "":
		return false, nil
	case "server":
		return true, floorServe(addr)
	case "probe":
		fc, err := floorProbe(addr, dir, floorSessions, floorSpaced)
		if err != nil {
			return true, err
		}
		return true, json.NewEncoder(os.Stdout).Encode(fc)
	}
	return true, fmt.Errorf("unknown --floor-role %q", role)
}

// floorServe answers like a digest ACS at the HTTP level: a POST without
// Authorization gets 401, an authorized one a reply body, an empty one 204.
func floorServe(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	reply := bytes.Repeat([]byte("r"), floorReplyBytes)
	return http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		switch {
		case r.ContentLength == 0:
			w.WriteHeader(http.StatusNoContent)
		case r.Header.Get("Authorization") == "":
			w.Header().Set("WWW-Authenticate", `Digest realm="floor", nonce="0", qop="auth"`)
			w.WriteHeader(http.StatusUnauthorized)
		default:
			w.Header().Set("Content-Type", `text/xml; charset="utf-8"`)
			w.Write(reply)
		}
	}))
}

func cpuSelf() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// floorProbe measures n of each part and returns the CPU of one.
func floorProbe(addr, dir string, n, spaced int) (floorCosts, error) {
	runtime.GOMAXPROCS(1)
	fc := floorCosts{Slack: "10 ms timer slack"}
	if err := setTimerSlack(floorTimerSlack); err != nil {
		fc.Slack = "kernel's timer slack (" + err.Error() + ")"
	}
	perOp := func(start time.Duration) float64 {
		return float64(cpuSelf()-start) / 1e6 / float64(n)
	}
	// Wake-ups alone, at the spacing used below.
	t0 := cpuSelf()
	for range n {
		time.Sleep(20 * time.Millisecond)
	}
	fc.Wake = perOp(t0)

	inform := bytes.Repeat([]byte("i"), floorInformBytes)
	url := "http://" + addr + "/cwmp"
	// One connection, requests written and responses read in turn by
	// net/http's framing functions, as cwmp/transport does.
	session := func() error {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		defer conn.Close()
		br, bw := bufio.NewReaderSize(conn, 4<<10), bufio.NewWriterSize(conn, 4<<10)
		for i, body := range [][]byte{inform, inform, nil} {
			req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			if err != nil {
				return err
			}
			if len(body) > 0 {
				req.Header.Set("Content-Type", `text/xml; charset="utf-8"`)
			}
			if i > 0 {
				req.Header.Set("Authorization", `Digest username="u", realm="floor", nonce="0", uri="/cwmp", response="0"`)
			}
			if err := req.Write(bw); err != nil {
				return err
			}
			if err := bw.Flush(); err != nil {
				return err
			}
			resp, err := http.ReadResponse(br, req)
			if err != nil {
				return err
			}
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
		}
		return nil
	}
	t0 = cpuSelf()
	for range n {
		time.Sleep(20 * time.Millisecond)
		if err := session(); err != nil {
			return fc, fmt.Errorf("floor POST: %w", err)
		}
	}
	fc.HTTP = perOp(t0)

	// The journal's sizing (journal/options.go): 2 MiB memtables, no
	// compactors, no compression or caches, 16 MiB value log.
	opts := badger.DefaultOptions(filepath.Join(dir, "badger")).WithSyncWrites(true).WithLogger(nil).
		WithMetricsEnabled(false).WithDetectConflicts(false).WithNumCompactors(0).
		WithMemTableSize(2 << 20).WithBaseTableSize(2 << 20).WithNumMemtables(2).
		WithCompression(options.None).WithBlockCacheSize(0).WithIndexCacheSize(0).
		WithValueThreshold(64 << 10).WithValueLogFileSize(16 << 20)
	db, err := badger.Open(opts)
	if err != nil {
		return fc, err
	}
	defer db.Close()
	val := []byte(strings.Repeat("v", floorRecordBytes))
	t0 = cpuSelf()
	for i := range n {
		time.Sleep(20 * time.Millisecond)
		txn := db.NewTransaction(true)
		err := txn.Set(fmt.Appendf(nil, "k%08d", i), val)
		if err == nil {
			err = txn.Commit()
		}
		if err != nil {
			return fc, fmt.Errorf("floor commit: %w", err)
		}
	}
	// The commit loop also slept once per commit.
	fc.Commit = perOp(t0) - fc.Wake

	// Whole sessions at the agent's spacing, in the agent's order: the
	// triggers and SessionStarted, the exchanges, the outcome.
	commit := func(i int) error {
		txn := db.NewTransaction(true)
		err := txn.Set(fmt.Appendf(nil, "s%08d", i), val)
		if err == nil {
			err = txn.Commit()
		}
		return err
	}
	// The wake-ups through sampleCost, as the agent's, so a thread that
	// exits in between is refused the same way.
	w0, werr := sampleCost(os.Getpid())
	t0 = cpuSelf()
	next := time.Now()
	for i := range spaced {
		next = next.Add(floorSpacing)
		time.Sleep(time.Until(next))
		if err := commit(2 * i); err != nil {
			return fc, fmt.Errorf("floor commit: %w", err)
		}
		if err := session(); err != nil {
			return fc, fmt.Errorf("floor POST: %w", err)
		}
		if err := commit(2*i + 1); err != nil {
			return fc, fmt.Errorf("floor commit: %w", err)
		}
	}
	if spaced > 0 {
		fc.Spaced = float64(cpuSelf()-t0) / 1e6 / float64(spaced)
		w1, err := sampleCost(os.Getpid())
		if err == nil && werr == nil {
			err = w1.check(w0)
		}
		if err := errors.Join(werr, err); err != nil {
			return fc, fmt.Errorf("floor wake-ups: %w", err)
		}
		fc.SpacedWakeups = float64(w1.wakeups-w0.wakeups) / float64(spaced)
	}
	return fc, nil
}
