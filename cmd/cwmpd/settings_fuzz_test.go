package main

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

// secretValues puts a marked password in place of the value of every
// assignment (a defaults-file line or a `cwmpd set` argument) to a secret
// setting, so that finding it in an error or in print's output means it
// was quoted, not that it happens to be a word the message has anyway.
// It returns the rewritten assignments and the secrets as placed.
func secretValues(items []string, pw string) ([]string, []string) {
	pw = strings.NewReplacer("\n", "", "\r", "").Replace(pw)
	var secrets []string
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it
		name, _, ok := strings.Cut(it, "=")
		if spec, known := projections.SpecOf(strings.TrimSpace(name)); ok && known && spec.Secret {
			s := "pw<" + pw + ">9f2b"
			out[i] = name + "=" + s
			secrets = append(secrets, s)
		}
	}
	return out, secrets
}

// checkSettings is what holds of any settings map the CLI or a defaults
// file produced: every name is a setting, every value is canonical (it
// validates to itself) and a certificate path is absolute; folded into the
// state, it is what `cwmpd print` shows, secrets as "(set)" and nowhere
// in the output.
func checkSettings(t *testing.T, m map[string]string, secrets []string) {
	t.Helper()
	for name, v := range m {
		if _, ok := projections.SpecOf(name); !ok {
			t.Fatalf("unknown setting %q accepted", name)
		}
		if again, err := projections.ValidateSetting(name, v); err != nil || again != v {
			t.Fatalf("%s=%q is not canonical: %q, %v", name, v, again, err)
		}
	}
	for _, name := range pathSettings {
		if v := m[name]; v != "" && !filepath.IsAbs(v) {
			t.Fatalf("%s=%q: a relative path reached the journal", name, v)
		}
	}
	st := projections.New()
	if err := st.ApplyEvent(journal.Record{Seq: 1}, event.SettingsReset{Defaults: settingsEvents(m)}); err != nil {
		t.Fatal(err)
	}
	resp := describe(st)
	for name, v := range m {
		spec, _ := projections.SpecOf(name)
		want := v
		if spec.Secret && v != "" {
			want = "(set)"
		}
		if resp.Settings[name] != want {
			t.Fatalf("print shows %s=%q, journaled %q", name, resp.Settings[name], v)
		}
	}
	var out bytes.Buffer
	printResponse(&out, resp, false)
	printResponse(&out, resp, true)
	for _, s := range secrets {
		if strings.Contains(out.String(), s) {
			t.Fatalf("print shows the secret %q:\n%s", s, out.String())
		}
	}
}

func noSecretIn(t *testing.T, err error, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("the error quotes the secret %q: %v", s, err)
		}
	}
}

// FuzzReadDefaults reads any text as a factory-defaults file (cwmpd run
// --defaults, reset-tr069-config --defaults). A refusal never quotes a
// password; what is accepted holds checkSettings, and written back as a
// file it reads as the same settings.
func FuzzReadDefaults(f *testing.F) {
	example, err := os.ReadFile("../../dist/defaults.conf.example")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(example), "change-me")
	f.Add("# comment\n\n  enabled = no  \r\nperiodic-inform-interval=90s\n", "")
	f.Add("password = secret\nconnection-request-password=\x00x\n", "s3")
	f.Add("acs-url=http://acs.example/cwmp\nacs-url=https://acs.example/\n", "")
	f.Add("acs-url=https://user:pw@acs.example/\n", "")
	f.Add("ca-certificate=ca.pem\n", "")
	f.Add("client-certificate=/nonexistent/cpe.pem\n", "")
	f.Add("=value\n", "pw")
	f.Add("username = cpe-1\n", "")
	f.Add("acs-url = https://acs.example/\n", "")
	f.Add("no equals sign\n", "")
	f.Add("connection-request-port=65536\nperiodic-inform-interval=-1s\n", "")
	f.Add("username="+strings.Repeat("u", 257)+"\n", "")
	dir := f.TempDir()
	path := filepath.Join(dir, "defaults.conf")
	f.Fuzz(func(t *testing.T, text, pw string) {
		lines, secrets := secretValues(strings.Split(text, "\n"), pw)
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
			t.Fatal(err)
		}
		m, err := readDefaults(path)
		if err != nil {
			noSecretIn(t, err, secrets)
			return
		}
		checkSettings(t, m, secrets)
		for n, v := range m {
			// The spaces around '=' are layout, as in the hooks file: a
			// "password = x" line is not a password starting with a space.
			if strings.TrimSpace(v) != v {
				t.Fatalf("%s=%q: the value kept the line's layout", n, v)
			}
		}
		// Written back, one line a setting, it reads the same.
		var b strings.Builder
		names := make([]string, 0, len(m))
		for n := range m {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			b.WriteString(n + "=" + m[n] + "\n")
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		again, err := readDefaults(path)
		if err != nil || len(again) != len(m) {
			t.Fatalf("our own rendering %q reads as %v, %v", b.String(), again, err)
		}
		for n, v := range m {
			if again[n] != v {
				t.Fatalf("%s=%q reads back as %q", n, v, again[n])
			}
		}
	})
}

// FuzzSetAssignments parses any arguments (NUL-separated, as argv cannot
// hold one) as `cwmpd set` does, from a working directory of its own. A
// refusal never quotes a password; what is accepted holds checkSettings.
func FuzzSetAssignments(f *testing.F) {
	f.Add("enabled=yes\x00periodic-inform-interval=1h30m", "")
	f.Add("password=hunter2\x00username= cpe ", "hunter2")
	f.Add("connection-request-password=a\nb", "x\x00y")
	f.Add("acs-url=ftp://acs.example/", "")
	f.Add("acs-url=http://[::1]:7547/cwmp?x=1#frag", "")
	f.Add("acs-url=http://acs.example/a b", "")
	f.Add("ca-certificate=../ca.pem", "")
	f.Add("periodic-inform-interval=4294967296", "")
	f.Add("connection-request-port= 7547 ", "")
	f.Add("nosuch=1", "")
	f.Add("=x", "")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, argv, pw string) {
		args, secrets := secretValues(strings.Split(argv, "\x00"), pw)
		m, err := parseAssignments(absolutePaths(args, dir))
		if err != nil {
			noSecretIn(t, err, secrets)
			return
		}
		checkSettings(t, m, secrets)
	})
}
