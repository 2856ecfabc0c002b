package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The shipped hooks file parses, with its apply-parameters command.
func TestDistHooksExampleParses(t *testing.T) {
	h, err := readHooks(filepath.Join("..", "..", "dist", "hooks.conf.example"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.ApplyParametersCmd, "%f") || h.ApplyTimeout <= 0 {
		t.Fatalf("apply-parameters %q, apply-timeout %v", h.ApplyParametersCmd, h.ApplyTimeout)
	}
}

// fakeUCI is a stand-in for OpenWrt's uci over a flat file of key=value
// lines (a list is its key repeated); commits and reverts are logged.
const fakeUCI = `#!/bin/sh
store=$UCI_STORE
[ "$1" = -q ] && shift
cmd=$1; shift
case $cmd in
get) v=$(awk -v k="$1=" 'index($0, k) == 1 { print substr($0, length(k) + 1) }' "$store" | tr '\n' ' ')
	[ -n "$v" ] || exit 1; echo "${v% }" ;;
set) k=${1%%=*}; awk -v k="$k=" 'index($0, k) != 1' "$store" > "$store.t"; echo "$1" >> "$store.t"; mv "$store.t" "$store" ;;
add_list) echo "$1" >> "$store" ;;
delete) awk -v a="$1=" -v b="$1." 'index($0, a) == 1 || index($0, b) == 1 { found = 1; next } { print } END { exit !found }' "$store" > "$store.t"
	rc=$?; mv "$store.t" "$store"; exit $rc ;;
show) awk -v k="$1." 'index($0, k) == 1' "$store" ;;
commit|revert) echo "$cmd $1" >> "$UCI_LOG" ;;
*) echo "fake uci: $cmd" >&2; exit 1 ;;
esac
`

// The OpenWrt example of dist/ applies what it knows through uci, all of it
// committed at the end, and refuses what it does not know with every
// staged change reverted and the reason on stderr.
func TestDistOpenWrtApplyParameters(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	os.WriteFile(filepath.Join(bin, "uci"), []byte(fakeUCI), 0o755)
	os.WriteFile(filepath.Join(bin, "reload_config"), []byte("#!/bin/sh\necho reload >> \"$UCI_LOG\"\n"), 0o755)
	store, logf := filepath.Join(dir, "store"), filepath.Join(dir, "log")
	os.WriteFile(store, []byte("system.ntp=timeserver\nsystem.ntp.server=0.openwrt.pool.ntp.org\nsystem.ntp.server=1.openwrt.pool.ntp.org\n"+
		"dhcp.@dnsmasq[0].server=8.8.8.8\n"), 0o644)
	run := func(changes string) (string, error) {
		f := filepath.Join(dir, "changes")
		os.WriteFile(f, []byte(changes), 0o600)
		os.Remove(logf)
		cmd := exec.Command("sh", filepath.Join("..", "..", "dist", "openwrt", "apply-parameters"), f)
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "UCI_STORE="+store, "UCI_LOG="+logf)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("set\tDevice.Time.NTPServer2\tntp.example.net\nset\tDevice.Time.Enable\tfalse\n" +
		"add\tDevice.DNS.Client.Server.3.\nset\tDevice.DNS.Client.Server.3.DNSServer\t9.9.9.9\nset\tDevice.DNS.Client.Server.3.Enable\ttrue\n" +
		"set\tDevice.DeviceInfo.ProvisioningCode\tcode *.x $(id)\n")
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	b, _ := os.ReadFile(store)
	for _, want := range []string{"system.ntp.server=0.openwrt.pool.ntp.org\n", "system.ntp.server=ntp.example.net\n", "system.ntp.enabled=0\n",
		"cwmpd.dns_3.server=9.9.9.9\n", "dhcp.@dnsmasq[0].server=9.9.9.9\n", "cwmpd.device.provisioning_code=code *.x $(id)\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("uci lacks %q:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), "8.8.8.8") || strings.Contains(string(b), "1.openwrt") {
		t.Errorf("old values kept:\n%s", b)
	}
	l, _ := os.ReadFile(logf)
	if got := string(l); got != "commit system\ncommit cwmpd\ncommit dhcp\nreload\n" {
		t.Errorf("commits %q", got)
	}

	out, err = run("set\tDevice.Time.NTPServer1\tntp.other\nset\tDevice.Users.User.1.Username\tbob\n")
	if err == nil || !strings.Contains(out, "not applied on this device: set Device.Users.User.1.Username") {
		t.Fatalf("an unknown parameter: %v %s", err, out)
	}
	l, _ = os.ReadFile(logf)
	if got := string(l); !strings.Contains(got, "revert system") || strings.Contains(got, "commit") {
		t.Errorf("after a refusal: %q", got)
	}
}
