package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// distCommand reads the `cwmpd run` arguments a shipped service file starts
// the daemon with: systemd's ExecStart, or the procd command with the init
// script's variables expanded.
func distCommand(t *testing.T, file string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "dist", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && k == strings.ToUpper(k) && !strings.ContainsAny(k, " \t") {
			vars[k] = strings.TrimSpace(strings.SplitN(v, "#", 2)[0])
		}
		var cmd string
		if c, ok := strings.CutPrefix(line, "ExecStart="); ok {
			cmd = c
		} else if c, ok := strings.CutPrefix(line, "procd_set_param command "); ok {
			cmd = c
		} else {
			continue
		}
		fields := strings.Fields(cmd)
		for i, a := range fields {
			a = strings.Trim(a, `"`)
			if v, ok := vars[strings.TrimPrefix(a, "$")]; ok && strings.HasPrefix(a, "$") {
				a = v
			}
			fields[i] = a
		}
		if len(fields) < 2 || filepath.Base(fields[0]) != "cwmpd" || fields[1] != "run" {
			t.Fatalf("%s: command %q is not cwmpd run", file, cmd)
		}
		return fields[2:]
	}
	t.Fatalf("%s: no command line found", file)
	return nil
}

// Each shipped service file runs the agent on the real device through its
// hooks file, not the simulated one: started with its exact arguments (the
// paths moved into temporary directories) and the example hooks file, the
// agent tells the ACS the example's identity.
func TestE2EShippedServiceFilesRunTheHooksPlatform(t *testing.T) {
	example, err := os.ReadFile(filepath.Join("..", "..", "dist", "hooks.conf.example"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"systemd/cwmpd.service", "openwrt/cwmpd.init"} {
		t.Run(file, func(t *testing.T) {
			srv := acs(t)
			dir := t.TempDir()
			hooks := filepath.Join(dir, "hooks.conf")
			if err := os.WriteFile(hooks, example, 0o600); err != nil {
				t.Fatal(err)
			}
			args := distCommand(t, file)
			var state string
			for i := 0; i+1 < len(args); i++ {
				switch args[i] {
				case "--state":
					state = filepath.Join(dir, "state")
					args[i+1] = state
				case "--defaults":
					args[i+1] = defaultsFor(t, srv)
				case "--hooks":
					args[i+1] = hooks
				}
			}
			if state == "" {
				t.Fatalf("%s: no --state in %q", file, args)
			}
			if err := os.MkdirAll(state, 0o700); err != nil {
				t.Fatal(err)
			}
			a := startAgent(t, state, args...)
			waitSessions(t, srv, 1, a)
			id := onlyDevice(t, srv).DeviceID
			if id.OUI != "00AB1F" || id.SerialNumber != "RT1-000123" || strings.Contains(a.logs(), "simulated device") {
				t.Fatalf("%s started %q: the ACS sees %+v\n%s", file, args, id, a.logs())
			}
			if _, err := os.Stat(filepath.Join(state, "device")); err == nil {
				t.Fatalf("%s: a simulated device was made in the state directory", file)
			}
			a.stop()
		})
	}
}
