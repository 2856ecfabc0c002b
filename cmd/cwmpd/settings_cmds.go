package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
	"github.com/cwmpd/cwmpd/projections/live"
)

// describe is what print shows: every setting (secrets as "(set)") and the
// read-only status.
func describe(s *projections.State) controlResponse {
	r := controlResponse{Settings: map[string]string{}, Status: s.Status()}
	for _, spec := range projections.SettingSpecs {
		v, ok := s.Settings[spec.Name]
		if !ok {
			v = spec.Default
		}
		if spec.Secret && v != "" {
			v = "(set)"
		}
		r.Settings[spec.Name] = v
	}
	return r
}

func settingNamesOf(assign []string) []string {
	out := make([]string, 0, len(assign))
	for _, a := range assign {
		name, _, _ := strings.Cut(a, "=")
		out = append(out, name)
	}
	return out
}

// humanValue shows booleans as yes/no and intervals as durations, as the
// seed's print does.
func humanValue(name, v string) string {
	switch name {
	case projections.SettingEnabled, projections.SettingPeriodicInformEnabled:
		if v == "true" {
			return "yes"
		}
		if v == "false" {
			return "no"
		}
	case projections.SettingPeriodicInformInterval:
		if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			return shortDuration(time.Duration(n) * time.Second)
		}
	}
	return v
}

func shortDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

func printResponse(w io.Writer, r controlResponse, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Settings map[string]string  `json:"settings"`
			Status   projections.Status `json:"status"`
			Problem  string             `json:"problem,omitempty"`
		}{r.Settings, r.Status, r.Problem})
	}
	row := func(k, v string) { fmt.Fprintf(w, "%28s: %s\n", k, v) }
	for _, spec := range projections.SettingSpecs {
		row(spec.Name, humanValue(spec.Name, r.Settings[spec.Name]))
	}
	row("status", r.Status.Status)
	row("last-session-error", r.Status.LastSessionError)
	row("retry-count", strconv.Itoa(r.Status.RetryCount))
	if r.Status.JournalRecovered != "" {
		row("journal-recovered", r.Status.JournalRecovered)
	}
	if r.Problem != "" {
		row("problem", r.Problem)
	}
	return nil
}

// controlTimeout is how long a command waits for the daemon's answer.
const controlTimeout = 15 * time.Second

// callDaemon sends one request over the control socket; ok is false when
// no daemon listens there.
func callDaemon(state string, req controlRequest) (controlResponse, bool, error) {
	return callDaemonWithin(state, req, controlTimeout)
}

// callDaemonWithin is callDaemon waiting up to timeout for the answer. A
// daemon that accepted the connection (the kernel does that for a stopped
// process too) and does not answer in time is an error for which noAnswer
// is true.
func callDaemonWithin(state string, req controlRequest, timeout time.Duration) (controlResponse, bool, error) {
	c, err := net.DialTimeout("unix", controlPath(state), 2*time.Second)
	if err != nil {
		return controlResponse{}, false, nil
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return controlResponse{}, true, fmt.Errorf("control socket: %w", err)
	}
	var resp controlResponse
	if err := json.NewDecoder(c).Decode(&resp); err != nil {
		return controlResponse{}, true, fmt.Errorf("control socket: %w", err)
	}
	if resp.Error != "" {
		return resp, true, errors.New(resp.Error)
	}
	return resp, true, nil
}

// offline opens the journal directly (its directory lock makes that safe
// when no daemon runs) and folds it. A missing journal is created only when
// create is set: otherwise a mistyped --state (or the default one, when the
// daemon uses another) would get a journal no daemon reads.
func offline(state string, write, create bool) (*journal.Journal, *live.Store, error) {
	j, s, err := openOffline(state, write, create)
	if err != nil {
		return nil, nil, offlineError(state, err)
	}
	return j, s, nil
}

// offlineJournal is the options of a command's direct open.
func offlineJournal(state string, write bool) journal.Options {
	return journal.Options{Dir: journalDir(state), ReadOnly: !write, BootID: "cli", Logger: zerolog.Nop()}
}

// openOffline is offline with the open's error as it is (journal.ErrLocked,
// damage journal.IsCorrupt knows), for a caller that acts on it.
func openOffline(state string, write, create bool) (*journal.Journal, *live.Store, error) {
	if _, err := os.Stat(journalDir(state)); err != nil && !(write && create) {
		if write {
			return nil, nil, usagef("no journal in %s (has cwmpd run there? is --state the daemon's? --create makes a new journal, to provision a device before its first start)", state)
		}
		return nil, nil, usagef("no journal in %s (has cwmpd run there?)", state)
	}
	j, err := journal.Open(offlineJournal(state, write))
	if err != nil {
		return nil, nil, err
	}
	s, err := live.Open(j, live.Options{Logger: zerolog.Nop()})
	if err != nil {
		j.Close()
		return nil, nil, fmt.Errorf("fold: %w", err)
	}
	return j, s, nil
}

// offlineError is an error of openOffline in words the operator can act on.
func offlineError(state string, err error) error {
	var ue usageError
	switch {
	case errors.As(err, &ue):
		return err
	case errors.Is(err, journal.ErrLocked):
		pid, _, _ := journal.Holder(journalDir(state))
		who := "a running cwmpd"
		if pid != 0 {
			who = fmt.Sprintf("a running cwmpd (pid %d)", pid)
		}
		return usagef("the journal in %s is locked by %s, but its control socket does not answer", state, who)
	case journal.IsCorrupt(err):
		return usagef("the journal in %s is damaged (%s): cwmpd reset-tr069-config --state %s moves it aside and starts a new one (cwmpd run does that by itself)", state, causeText(err), state)
	}
	return usagef("journal %s: %v", journalDir(state), err)
}

func cmdPrint(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("print", flag.ContinueOnError)
	state := fs.String("state", defaultStateDir, "state directory")
	asJSON := fs.Bool("json", false, "JSON output")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("print: unexpected argument %q", pos[0])
	}
	resp, ok, err := callDaemon(*state, controlRequest{Op: "print"})
	if err != nil {
		return silentDaemon("print", *state, err)
	}
	if !ok {
		j, s, err := offline(*state, false, false)
		if err != nil {
			return err
		}
		defer j.Close()
		s.View(func(st *projections.State) { resp = describe(st) })
		fmt.Fprintln(stderr, "cwmpd: no daemon running: read from the journal directly")
	}
	return printResponse(stdout, resp, *asJSON)
}

func cmdSet(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("set", flag.ContinueOnError)
	state := fs.String("state", defaultStateDir, "state directory")
	create := fs.Bool("create", false, "create the journal when the state directory has none (provisioning before the first start)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("set: expected name=value ... (settings: %s)", strings.Join(projections.SettingNames(), ", "))
	}
	// Certificate paths are the CLI's: the daemon runs elsewhere.
	cwd, err := os.Getwd()
	if err != nil {
		return usagef("set: working directory: %v", err)
	}
	pos = absolutePaths(pos, cwd)
	// Validate before anything is contacted or written.
	if _, err := parseAssignments(pos); err != nil {
		return usagef("set: %v", err)
	}
	resp, ok, err := callDaemon(*state, controlRequest{Op: "set", Assign: pos})
	if err != nil {
		return silentDaemon("set", *state, err)
	}
	if ok {
		fmt.Fprintf(stdout, "set %s\n", strings.Join(settingNamesOf(pos), ", "))
		if resp.Notice != "" {
			fmt.Fprintln(stderr, "cwmpd: set: "+resp.Notice)
		}
		return nil
	}
	j, s, err := offline(*state, true, *create)
	if err != nil {
		return err
	}
	defer j.Close()
	if err := applySettings(context.Background(), s, pos); err != nil {
		return usagef("set: %v", err)
	}
	fmt.Fprintf(stdout, "set %s (no daemon running: changed the journal directly)\n", strings.Join(settingNamesOf(pos), ", "))
	return nil
}

func cmdReset(args []string, stdout, stderr io.Writer) error {
	const cmd = "reset-tr069-config"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	state := fs.String("state", defaultStateDir, "state directory")
	defaultsFile := fs.String("defaults", "", "factory-default settings file (default: the one cwmpd run was given)")
	force := fs.Bool("force", false, "when the daemon holds the journal and does not answer: stop it (SIGKILL, only a cwmpd run on this --state) and reset the journal directly; its supervisor starts it again")
	timeout := fs.Duration("timeout", controlTimeout, "how long to wait for the running daemon's answer")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("%s: unexpected argument %q", cmd, pos[0])
	}
	if *timeout <= 0 {
		return usagef("%s: --timeout must be positive", cmd)
	}
	if *defaultsFile != "" {
		// The control request carries no defaults: a running daemon resets
		// to the file it was started with, and would ignore this one.
		_, listening, err := callDaemonWithin(*state, controlRequest{Op: "print"}, *timeout)
		if listening && err == nil {
			return usagef("%s: --defaults is for a stopped daemon: the running one resets to the defaults file it was started with (cwmpd run --defaults); stop it first, or leave out --defaults", cmd)
		}
		if listening && !noAnswer(err) {
			return usagef("%s: %v", cmd, err)
		}
	} else {
		resp, listening, err := callDaemonWithin(*state, controlRequest{Op: "reset"}, *timeout)
		if listening && err == nil {
			fmt.Fprintln(stdout, "tr069 client configuration and state reset; the next session is a BOOTSTRAP")
			if resp.Notice != "" {
				fmt.Fprintln(stderr, "cwmpd: "+cmd+": "+resp.Notice)
			}
			return nil
		}
		if listening && !noAnswer(err) {
			return err // the daemon answered: its refusal (a full disk, say) stands
		}
	}

	// No daemon answers: the journal is reset directly, which its lock
	// makes safe. A daemon that holds the lock and does not answer (hung,
	// SIGSTOPped) is stopped with --force only.
	j, s, err := openOffline(*state, true, false)
	if errors.Is(err, journal.ErrLocked) {
		pid, held, herr := journal.Holder(journalDir(*state))
		switch {
		case herr == nil && !held:
			// It has just exited.
		case !*force:
			return heldError(cmd, pid)
		default:
			if err := stopHungDaemon(*state, pid, 10*time.Second); err != nil {
				return usagef("%s: --force: %v", cmd, err)
			}
			fmt.Fprintf(stderr, "cwmpd: %s: stopped the daemon (pid %d), which did not answer; its supervisor starts it again\n", cmd, pid)
		}
		j, s, err = openOffline(*state, true, false)
	}
	var rec *recovered
	if journal.IsCorrupt(err) {
		// The journal itself is what is broken: it goes aside whole, for
		// post-mortem, and a new one takes its place.
		if rec, err = replaceJournal(*state, offlineJournal(*state, true), live.Options{Logger: zerolog.Nop()}, err, cmd); err != nil {
			return usagef("%s: %v", cmd, err)
		}
		j, s = rec.j, rec.store
	}
	if err != nil {
		return offlineError(*state, err)
	}
	defer j.Close()
	path := *defaultsFile
	if path == "" {
		if b, ok, _ := j.GetMeta(metaDefaultsFile); ok {
			path = string(b)
		}
	}
	var defaults map[string]string
	if path != "" {
		if defaults, err = readDefaults(path); err != nil {
			return usagef("%s: defaults file %s: %v", cmd, path, err)
		}
	}
	if _, err := s.Append(context.Background(), event.SettingsReset{Defaults: settingsEvents(defaults)}); err != nil {
		return err
	}
	if rec != nil {
		fmt.Fprintf(stdout, "the journal in %s was damaged (%s): moved it, whole, to %s%s; started a new journal; the next session is a BOOTSTRAP\n",
			*state, rec.cause, rec.moved, removedText(rec.removed))
		if path == "" {
			fmt.Fprintf(stderr, "cwmpd: %s: the damaged journal cannot say which factory-defaults file the daemon uses: its --defaults apply at its next start (or give --defaults FILE here)\n", cmd)
		}
		return nil
	}
	fmt.Fprintln(stdout, "tr069 client configuration and state reset (no daemon running: changed the journal directly); the next session is a BOOTSTRAP")
	return nil
}
