package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/acsim"
	"github.com/cwmpd/cwmpd/cwmp/soap"
)

// acs starts an in-process acsim on loopback (Digest auth, strict).
// stoppedAfterOneSession runs the agent until its first session is done
// and stops it cleanly: a state directory with a real journal behind it,
// for the tests that then damage or trim that journal. The next start uses
// the ACS and defaults returned.
func stoppedAfterOneSession(t *testing.T) (srv *acsim.Server, defs, state string) {
	t.Helper()
	srv = acs(t)
	defs = defaultsFor(t, srv)
	state = t.TempDir()
	a := startAgent(t, state, "--defaults", defs)
	waitSessions(t, srv, 1, a)
	if code := a.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	return srv, defs, state
}

func acs(t *testing.T, mod ...func(*acsim.Config)) *acsim.Server {
	t.Helper()
	cfg := acsim.Config{Auth: acsim.Auth{Mode: acsim.AuthDigest, Username: "cpe", Password: "cpe-secret"},
		ConnReqUsername: "acs", ConnReqPassword: "cr-secret", Schema: acsim.StrictWhenPossible()}
	for _, m := range mod {
		m(&cfg)
	}
	srv, err := acsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// agent is a running `cwmpd run` process.
type agent struct {
	t     *testing.T
	state string
	cmd   *exec.Cmd
	mu    sync.Mutex
	log   bytes.Buffer
	// exited is closed when the process has exited; exitErr is Wait's.
	exited  chan struct{}
	exitErr error
	args    []string
}

func (a *agent) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.log.Write(p)
}

func (a *agent) logs() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.log.String()
}

// defaultsFor writes a factory-default settings file pointing at srv.
func defaultsFor(t *testing.T, srv *acsim.Server, extra ...string) string {
	return defaultsAt(t, srv.URL(), extra...)
}

// defaultsAt writes a factory-default settings file pointing at acsURL.
func defaultsAt(t *testing.T, acsURL string, extra ...string) string {
	lines := append([]string{
		"acs-url=" + acsURL, "username=cpe", "password=cpe-secret",
		"connection-request-username=acs", "connection-request-password=cr-secret",
		"periodic-inform-interval=1h",
	}, extra...)
	p := filepath.Join(t.TempDir(), "defaults.conf")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// startAgent runs the real binary on a state dir.
func startAgent(t *testing.T, state string, args ...string) *agent {
	t.Helper()
	a := &agent{t: t, state: state, args: args}
	a.start()
	t.Cleanup(func() { a.kill() })
	return a
}

func (a *agent) start() {
	full := append([]string{"run", "--state", a.state, "--connreq-listen", "127.0.0.1:0", "--connreq-host", "127.0.0.1",
		"--poll-interval", "200ms", "--log-format", "console", "--connreq-burst", "50"}, a.args...)
	a.cmd = exec.Command(cwmpdBinary(a.t), full...)
	a.cmd.Stdout, a.cmd.Stderr = a, a
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := a.cmd.Start(); err != nil {
		a.t.Fatal(err)
	}
	a.watch()
}

// watch waits for the process in the background.
func (a *agent) watch() {
	a.exited = make(chan struct{})
	go func(c *exec.Cmd, exited chan struct{}) {
		a.exitErr = c.Wait()
		close(exited)
	}(a.cmd, a.exited)
}

// stop sends SIGTERM and returns the exit code. Every test's logs are
// also checked here for the passwords its agents were given.
func (a *agent) stop() int {
	a.t.Helper()
	for _, secret := range []string{"cpe-secret", "cr-secret"} {
		if strings.Contains(a.logs(), secret) {
			a.t.Errorf("a password (%s) reached the log", secret)
		}
	}
	a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.exited:
		err := a.exitErr
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			a.t.Fatal(err)
		}
		return 0
	case <-time.After(20 * time.Second):
		a.t.Fatalf("cwmpd did not stop within 20s; log:\n%s", a.logs())
		return -1
	}
}

func (a *agent) kill() {
	if a.cmd != nil && a.cmd.Process != nil {
		a.cmd.Process.Kill()
		select {
		case <-a.exited:
		case <-time.After(5 * time.Second):
		}
	}
}

func waitSessions(t *testing.T, srv *acsim.Server, n int, a *agent) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.WaitSessions(ctx, n); err != nil {
		t.Fatalf("waiting for %d sessions (have %d): %v\nagent log:\n%s", n, srv.Counts("").Sessions, err, a.logs())
	}
}

// onlyDevice returns the one device acsim knows.
func onlyDevice(t *testing.T, srv *acsim.Server) acsim.DeviceInfo {
	t.Helper()
	devs := srv.Devices()
	if len(devs) != 1 {
		t.Fatalf("%d devices", len(devs))
	}
	return devs[0]
}

func eventCodes(d acsim.DeviceInfo) string {
	var parts []string
	for _, e := range d.LastEvents {
		if e.CommandKey != "" {
			parts = append(parts, e.EventCode+"("+e.CommandKey+")")
		} else {
			parts = append(parts, e.EventCode)
		}
	}
	return strings.Join(parts, ",")
}

func wantEvents(t *testing.T, srv *acsim.Server, want string) {
	t.Helper()
	if got := eventCodes(onlyDevice(t, srv)); got != want {
		t.Fatalf("last Inform events %q, want %q", got, want)
	}
}

// responses decodes the CPE's messages of one method from the transcript.
func responses(t *testing.T, srv *acsim.Server, method string) []soap.Message {
	t.Helper()
	var out []soap.Message
	for _, e := range srv.Transcript() {
		if e.Direction == "cpe->acs" && e.Method == method && e.Raw != "" {
			env, err := soap.Decode(strings.NewReader(e.Raw), 0)
			if err != nil {
				t.Fatalf("transcript %s: %v", method, err)
			}
			out = append(out, env.Body)
		}
	}
	return out
}

func transcriptErrors(srv *acsim.Server) []string {
	var errs []string
	for _, e := range srv.Transcript() {
		for _, x := range e.Errors {
			errs = append(errs, fmt.Sprintf("%s %s: %s", e.Direction, e.Method, x))
		}
	}
	return errs
}

func enqueue(t *testing.T, srv *acsim.Server, msgs ...soap.Message) {
	t.Helper()
	for _, m := range msgs {
		if _, err := srv.Enqueue("", m); err != nil {
			t.Fatal(err)
		}
	}
}

// connReq sends a connection request, retrying a few seconds while the
// agent (re)starts its listener.
func connReq(t *testing.T, srv *acsim.Server) {
	t.Helper()
	dev := onlyDevice(t, srv)
	var res acsim.ConnReqResult
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		res, err = srv.ConnectionRequest(context.Background(), dev.Key, "")
		if err == nil && res.Status == 200 || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || res.Status != 200 {
		t.Fatalf("connection request: %+v %v", res, err)
	}
}
