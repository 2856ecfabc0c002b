package main

import (
	"sync/atomic"

	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/acsim"
	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/projections/live"
)

// startAgentEnv is startAgent with extra environment (a failpoint).
func startAgentEnv(t *testing.T, state string, env []string, args ...string) *agent {
	t.Helper()
	a := &agent{t: t, state: state, args: args}
	full := append([]string{"run", "--state", state, "--connreq-listen", "127.0.0.1:0", "--connreq-host", "127.0.0.1",
		"--poll-interval", "200ms", "--log-format", "console", "--connreq-burst", "50"}, args...)
	a.cmd = exec.Command(cwmpdBinary(t), full...)
	a.cmd.Env = append(os.Environ(), env...)
	a.cmd.Stdout, a.cmd.Stderr = a, a
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a.watch()
	t.Cleanup(func() { a.kill() })
	return a
}

// waitKilled waits for the agent to die by its failpoint's SIGKILL.
func (a *agent) waitKilled(timeout time.Duration) error {
	select {
	case <-a.exited:
		err := a.exitErr
		ee, ok := err.(*exec.ExitError)
		if ok {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
				return nil
			}
		}
		return fmt.Errorf("exited without the failpoint's SIGKILL: %v", err)
	case <-time.After(timeout):
		return fmt.Errorf("failpoint not reached in %v", timeout)
	}
}

// informsWith counts the Informs the ACS received that carry code(ck).
func informsWith(srv *acsim.Server, code, ck string) (n int, withBoot bool) {
	for _, e := range srv.Transcript() {
		if e.Direction != "cpe->acs" || e.Method != "Inform" || e.Raw == "" {
			continue
		}
		env, err := soap.Decode(strings.NewReader(e.Raw), 0)
		if err != nil {
			continue
		}
		inf := env.Body.(*soap.Inform)
		has, boot := false, false
		for _, ev := range inf.Event {
			if ev.EventCode == code && ev.CommandKey == ck {
				has = true
			}
			boot = boot || ev.EventCode == "1 BOOT"
		}
		if has {
			n++
			withBoot = withBoot || boot
		}
	}
	return n, withBoot
}

// TestCrashDuringRebootDeliversMRebootExactlyOnce kills the real daemon
// (SIGKILL, by failpoint) right after each journal record of the Reboot
// story, restarts it, and checks against the ACS that every reboot the
// agent accepted is announced with "1 BOOT" + "M Reboot"(its command key)
// exactly once. The ACS retries a Reboot that got no answer (as real ACSes
// do), so a crash after the Reboot arrived but before its response was
// sent means a second Reboot request: the agent then reboots and announces
// twice — once per RebootRequested in its journal, never more.
func TestCrashDuringRebootDeliversMRebootExactlyOnce(t *testing.T) {
	points := []string{
		"after:SessionStarted", "after:InformAccepted", "after:RebootRequested",
		"after:SessionSucceeded", "after:Booted",
	}
	var passed atomic.Int32
	for _, fp := range points {
		t.Run(fp, func(t *testing.T) {
			t.Parallel() // each point has its own ACS, state dir and ports
			srv := acs(t, func(c *acsim.Config) { c.RetryUnanswered = true })
			enqueue(t, srv, &soap.Reboot{CommandKey: "crash-rb"})
			state := t.TempDir()
			defaults := defaultsFor(t, srv)
			a := startAgentEnv(t, state, []string{live.FailpointEnv + "=" + fp}, "--defaults", defaults)
			if err := a.waitKilled(20 * time.Second); err != nil {
				t.Fatalf("%v\n%s", err, a.logs())
			}
			a = startAgent(t, state, "--defaults", defaults)
			waitFor(t, func() bool { n, _ := informsWith(srv, "M Reboot", "crash-rb"); return n >= 1 }, "an Inform with M Reboot(crash-rb)")
			// A Reboot sent again by the ACS means a second reboot and a
			// second Inform: let that chain end before counting.
			settle(t, srv, a)
			// Give a wrongly repeated M Reboot the chance to show up.
			connReq(t, srv)
			n := srv.Counts("").Sessions
			waitSessions(t, srv, n+1, a)
			count, withBoot := informsWith(srv, "M Reboot", "crash-rb")
			if code := a.stop(); code != 0 {
				t.Fatalf("exit %d", code)
			}
			r := runBin(t, "replay", state)
			if r.code != 0 {
				t.Fatalf("replay after crash: exit %d\n%s", r.code, r.stdout)
			}
			accepted := strings.Count(r.stdout, "RebootRequested")
			if accepted == 0 || count != accepted || !withBoot {
				t.Fatalf("M Reboot(crash-rb) in %d Informs (with 1 BOOT: %v) for %d reboots journaled\n%s\n%s", count, withBoot, accepted, a.logs(), r.stdout)
			}
			passed.Add(1)
		})
	}
	t.Cleanup(func() { t.Logf("reboot story: %d crash points, %d passed", len(points), passed.Load()) })
}

// settle waits until the ACS has no open session and has seen no new Inform
// for a second.
func settle(t *testing.T, srv *acsim.Server, a *agent) {
	t.Helper()
	informs, since := -1, time.Now()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		open := false
		for _, s := range srv.Sessions() {
			open = open || s.State == acsim.StateOpen
		}
		if n := srv.Counts("").Informs; n != informs || open {
			informs, since = n, time.Now()
			continue
		}
		if time.Since(since) >= time.Second {
			return
		}
	}
	t.Fatalf("the ACS did not settle in 20 s\n%s", a.logs())
}
