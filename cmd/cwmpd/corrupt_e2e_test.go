package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections/event"
)

// damageJournal damages the journal of a stopped agent's state dir the
// way flash damage does: "manifest" overwrites Badger's MANIFEST, "table"
// garbles the middle of every table, "wal" the header of every write-ahead
// log (left by a killed agent).
func damageJournal(t *testing.T, state, kind string) {
	t.Helper()
	dir := filepath.Join(state, "journal")
	if kind == "manifest" {
		if err := os.WriteFile(filepath.Join(dir, "MANIFEST"), []byte("flash ate this manifest"), 0o600); err != nil {
			t.Fatal(err)
		}
		return
	}
	glob := map[string]string{"table": "*.sst", "wal": "*.mem"}[kind]
	files, _ := filepath.Glob(filepath.Join(dir, glob))
	if len(files) == 0 {
		t.Fatalf("no %s in the journal to damage", glob)
	}
	for _, name := range files {
		f, err := os.OpenFile(name, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := f.Stat()
		at, n := st.Size()/2, 256
		if kind == "wal" {
			at, n = 0, 20
		}
		f.WriteAt([]byte(strings.Repeat("\x5a", n)), at)
		f.Close()
	}
}

// filesDigest fingerprints a directory's regular files, names and content.
func filesDigest(t *testing.T, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range ents {
		if e.Name() == "LOCK" || !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, fmt.Sprintf("%s %x", e.Name(), sha256.Sum256(b)))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// corruptCopies lists the journal.corrupt-* directories of a state dir.
func corruptCopies(t *testing.T, state string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(state, "journal.corrupt-*"))
	sort.Strings(m)
	return m
}

// TestE2EResetMovesADamagedJournalAside: the manual's recovery path. A
// journal damaged (its MANIFEST overwritten, a table or a write-ahead log
// garbled) used to make reset-tr069-config exit 2, leaving the router
// unmanageable until someone deleted the journal by hand. Now it moves the
// journal aside whole (for post-mortem), makes a new one, exits 0 saying
// where the old one went, and the next start is a BOOTSTRAP.
func TestE2EResetMovesADamagedJournalAside(t *testing.T) {
	for _, kind := range []string{"manifest", "table", "wal"} {
		t.Run(kind, func(t *testing.T) {
			srv := acs(t)
			defs := defaultsFor(t, srv)
			state := t.TempDir()
			a := startAgent(t, state, "--defaults", defs)
			waitSessions(t, srv, 1, a)
			if kind == "wal" {
				a.kill() // a power cut: the write-ahead log stays
			} else if code := a.stop(); code != 0 {
				t.Fatalf("exit %d", code)
			}
			damageJournal(t, state, kind)
			damaged := filesDigest(t, filepath.Join(state, "journal"))

			r := runBin(t, "reset-tr069-config", "--state", state)
			if r.code != 0 {
				t.Fatalf("reset of a damaged journal: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			copies := corruptCopies(t, state)
			if len(copies) != 1 {
				t.Fatalf("copies of the damaged journal: %v", copies)
			}
			if !strings.Contains(r.stdout, "damaged") || !strings.Contains(r.stdout, "moved it, whole, to "+copies[0]) {
				t.Fatalf("reset does not say what went where:\n%s", r.stdout)
			}
			if got := filesDigest(t, copies[0]); got != damaged {
				t.Fatalf("the copy is not the damaged journal as it was:\n%s\nwant\n%s", got, damaged)
			}
			// The new journal says what happened, offline and through the
			// daemon.
			if p := runBin(t, "print", "--state", state); !strings.Contains(p.stdout, "journal-recovered") ||
				!strings.Contains(p.stdout, copies[0]) || !strings.Contains(p.stdout, "reset-tr069-config") {
				t.Fatalf("print after the reset:\n%s%s", p.stdout, p.stderr)
			}

			a = startAgent(t, state, "--defaults", defs)
			waitSessions(t, srv, 2, a)
			wantEvents(t, srv, "0 BOOTSTRAP,1 BOOT")
			if p := runBin(t, "print", "--state", state); !strings.Contains(p.stdout, "journal-recovered") {
				t.Fatalf("print through the daemon:\n%s", p.stdout)
			}
			if code := a.stop(); code != 0 {
				t.Fatalf("exit %d", code)
			}
			// The damaged copy stays readable for post-mortem as far as
			// it goes, and the daemon's start left it alone.
			if got := corruptCopies(t, state); len(got) != 1 {
				t.Fatalf("copies after the start: %v", got)
			}
		})
	}
}

// TestE2ERunReplacesADamagedJournal: cwmpd run on a damaged journal moves
// it aside itself and starts afresh (decision in docs/decisions.md), so a
// router whose flash damaged its journal comes back to its ACS without a
// human: an error-level line names the moved directory, the new journal's
// first record says why it exists, and at most two damaged journals are
// kept (the start says which it removed).
func TestE2ERunReplacesADamagedJournal(t *testing.T) {
	srv, defs, state := stoppedAfterOneSession(t)
	var first []string
	for round := 1; round <= 3; round++ {
		damageJournal(t, state, []string{"", "manifest", "table", "manifest"}[round])
		a := startAgent(t, state, "--defaults", defs)
		waitSessions(t, srv, 1+round, a)
		wantEvents(t, srv, "0 BOOTSTRAP,1 BOOT")
		copies := corruptCopies(t, state)
		if round == 1 {
			first = copies
		}
		if len(copies) != min(round, 2) {
			t.Fatalf("round %d: copies %v", round, copies)
		}
		newest := copies[len(copies)-1]
		logs := a.logs()
		if !strings.Contains(logs, "ERR") || !strings.Contains(logs, "journal damaged: moved aside") || !strings.Contains(logs, newest) {
			t.Fatalf("round %d: no error line naming %s:\n%s", round, newest, logs)
		}
		p := runBin(t, "print", "--state", state)
		if !strings.Contains(p.stdout, "journal-recovered") || !strings.Contains(p.stdout, "cwmpd run moved it to "+newest) {
			t.Fatalf("round %d: print:\n%s", round, p.stdout)
		}
		if round == 3 {
			// The first copy went, and the start said so.
			if _, err := os.Stat(first[0]); err == nil || !strings.Contains(logs, first[0]) {
				t.Fatalf("the oldest copy %s is kept or its removal not logged:\n%s", first[0], logs)
			}
		}
		if code := a.stop(); code != 0 {
			t.Fatalf("exit %d", code)
		}
	}
	r := runBin(t, "replay", state)
	if r.code != 0 || !strings.Contains(r.stdout, "JournalRecovered") {
		t.Fatalf("replay of the new journal: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestE2EPermissionDeniedIsNotMovedAside: a journal the process may not
// read is not damaged: neither run nor reset moves it aside, and both say
// why they fail. As root (CI) the commands run as nobody on root's files;
// otherwise the MANIFEST's read permission is taken away.
func TestE2EPermissionDeniedIsNotMovedAside(t *testing.T) {
	srv := acs(t)
	base, err := os.MkdirTemp("", "cwmpd-perm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	os.Chmod(base, 0o755)
	state := filepath.Join(base, "state")
	a := startAgent(t, state, "--defaults", defaultsFor(t, srv))
	waitSessions(t, srv, 1, a)
	if code := a.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	jdir := filepath.Join(state, "journal")
	before := filesDigest(t, jdir)

	bin := cwmpdBinary(t)
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		// Everything but the journal's files (root's, 0600) is open to
		// nobody, so a wrong move aside would succeed and show.
		bin = filepath.Join(base, "cwmpd")
		copyExecutable(t, cwmpdBinary(t), bin)
		os.Chmod(state, 0o777)
		os.Chmod(jdir, 0o777)
		cred = &syscall.Credential{Uid: 65534, Gid: 65534}
	} else {
		os.Chmod(filepath.Join(jdir, "MANIFEST"), 0)
		t.Cleanup(func() { os.Chmod(filepath.Join(jdir, "MANIFEST"), 0o600) })
	}
	as := func(args ...string) result {
		cmd := exec.Command(bin, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
		return runCmd(t, cmd)
	}
	r := as("reset-tr069-config", "--state", state)
	if r.code != 2 || !strings.Contains(r.stderr, "permission denied") {
		t.Fatalf("reset on an unreadable journal: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = as("run", "--state", state, "--connreq-listen", "127.0.0.1:0", "--connreq-host", "127.0.0.1")
	if r.code == 0 || !strings.Contains(r.stderr, "permission denied") || strings.Contains(r.stderr, "moved aside") {
		t.Fatalf("run on an unreadable journal: exit %d\n%s", r.code, r.stderr)
	}
	if c := corruptCopies(t, state); len(c) != 0 {
		t.Fatalf("an unreadable journal was moved aside: %v", c)
	}
	if got := filesDigest(t, jdir); got != before {
		t.Fatal("the unreadable journal was changed")
	}
}

func copyExecutable(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// holdJournal makes another process (a sleep, not a cwmpd) hold the
// journal's lock, as a second daemon would, and returns it.
func holdJournal(t *testing.T, state string) *exec.Cmd {
	t.Helper()
	d, err := os.Open(filepath.Join(state, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	// The child inherits the locked descriptor; once ours is closed the
	// lock is the child's alone.
	cmd := exec.Command("sleep", "60")
	cmd.ExtraFiles = []*os.File{d}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// TestE2EHeldJournalIsNotMovedAside: a journal whose lock another live
// process holds is never moved aside, even damaged, and --force stops only
// a `cwmpd run` on this state dir: here the holder is not one, and it is
// left running.
func TestE2EHeldJournalIsNotMovedAside(t *testing.T) {
	srv := acs(t)
	state := t.TempDir()
	a := startAgent(t, state, "--defaults", defaultsFor(t, srv))
	waitSessions(t, srv, 1, a)
	if code := a.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	damageJournal(t, state, "manifest")
	holder := holdJournal(t, state)

	r := runBin(t, "run", "--state", state, "--connreq-listen", "127.0.0.1:0")
	if r.code != 2 || !strings.Contains(r.stderr, "in use by another cwmpd") {
		t.Fatalf("run on a held journal: exit %d\n%s", r.code, r.stderr)
	}
	r = runBin(t, "reset-tr069-config", "--state", state)
	if r.code != 2 || !strings.Contains(r.stderr, "pid cannot be read") {
		t.Fatalf("reset on a held journal, holder unknown: exit %d\n%s", r.code, r.stderr)
	}
	// The holder's pid where Badger notes it: reset names it, and --force
	// refuses to kill what is not a cwmpd run.
	pid := holder.Process.Pid
	os.WriteFile(filepath.Join(state, "journal", "LOCK"), []byte(fmt.Sprintf("%d\n", pid)), 0o600)
	r = runBin(t, "reset-tr069-config", "--state", state)
	want := fmt.Sprintf("the daemon (pid %d) does not answer; restart it (its supervisor will), or run with --force to stop it", pid)
	if r.code != 2 || !strings.Contains(r.stderr, want) {
		t.Fatalf("reset on a held journal: exit %d\n%s", r.code, r.stderr)
	}
	r = runBin(t, "reset-tr069-config", "--state", state, "--force")
	if r.code != 2 || !strings.Contains(r.stderr, "not a cwmpd run") {
		t.Fatalf("reset --force with a holder that is not cwmpd: exit %d\n%s", r.code, r.stderr)
	}
	if err := holder.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the holder was stopped: %v", err)
	}
	if c := corruptCopies(t, state); len(c) != 0 {
		t.Fatalf("a held journal was moved aside: %v", c)
	}
}

// TestE2EResetForceStopsAHungDaemon: a daemon that holds its journal and
// does not answer (SIGSTOPped here) made reset-tr069-config fail after 15 s
// with "control socket: i/o timeout". Now it names the daemon's pid and
// what to do; with --force it kills that daemon (after checking it is a
// cwmpd run on this state dir), resets the journal directly, and the
// supervisor's next start is a BOOTSTRAP.
func TestE2EResetForceStopsAHungDaemon(t *testing.T) {
	srv := acs(t)
	defs := defaultsFor(t, srv)
	state := t.TempDir()
	a := startAgent(t, state, "--defaults", defs)
	waitSessions(t, srv, 1, a)
	pid := a.cmd.Process.Pid
	if err := a.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	r := runBin(t, "reset-tr069-config", "--state", state, "--timeout", "1s")
	want := fmt.Sprintf("the daemon (pid %d) does not answer; restart it (its supervisor will), or run with --force to stop it", pid)
	if r.code != 2 || !strings.Contains(r.stderr, want) {
		t.Fatalf("reset with a hung daemon: exit %d after %v\n%s%s", r.code, time.Since(start), r.stdout, r.stderr)
	}
	select {
	case <-a.exited:
		t.Fatal("the daemon was stopped without --force")
	default:
	}

	r = runBin(t, "reset-tr069-config", "--state", state, "--timeout", "1s", "--force")
	if r.code != 0 || !strings.Contains(r.stderr, fmt.Sprintf("stopped the daemon (pid %d)", pid)) {
		t.Fatalf("reset --force: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	select {
	case <-a.exited:
	case <-time.After(5 * time.Second):
		t.Fatal("the hung daemon is still there after reset --force")
	}
	if ws, ok := a.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the daemon ended otherwise than by SIGKILL: %v", a.cmd.ProcessState)
	}
	// The supervisor starts it again: the reset is in the journal.
	a = startAgent(t, state, "--defaults", defs)
	waitSessions(t, srv, 2, a)
	wantEvents(t, srv, "0 BOOTSTRAP,1 BOOT")
	if code := a.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// TestE2ERunReplacesAJournalWithAnUndecodableRecord: damage the storage
// engine does not see (a record whose checksum holds but whose payload
// does not decode) stops the fold at start; it is damage too, and the
// daemon starts afresh the same way.
func TestE2ERunReplacesAJournalWithAnUndecodableRecord(t *testing.T) {
	srv, defs, state := stoppedAfterOneSession(t)
	j, err := journal.Open(journal.Options{Dir: filepath.Join(state, "journal"), BootID: "test", Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Append(context.Background(), journal.Entry{Type: uint16(event.TypeSettingsChanged), Payload: []byte(`{"changes":"not a list"}`)}); err != nil {
		t.Fatal(err)
	}
	j.Close()

	a := startAgent(t, state, "--defaults", defs)
	waitSessions(t, srv, 2, a)
	wantEvents(t, srv, "0 BOOTSTRAP,1 BOOT")
	if c := corruptCopies(t, state); len(c) != 1 || !strings.Contains(a.logs(), c[0]) {
		t.Fatalf("copies %v; log:\n%s", c, a.logs())
	}
}
