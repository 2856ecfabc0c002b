// Command cwmpdemo is `make demo`: it starts the bundled ACS (acsim) and the
// agent (cwmpd run, simulated platform) on loopback in a temporary state
// directory and walks through a short story a newcomer can read on screen:
// BOOTSTRAP, the ACS reading DeviceInfo and setting the periodic interval, a
// connection request, a periodic inform, a reboot with a command key, then
// cwmpd print and the replayed journal. It exits 0 when the story
// completed, 1 with the reason when it did not, and leaves no process
// behind.
package main

import (
	"crypto/sha256"
	"encoding/hex"

	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

var (
	bin     = flag.String("bin", "bin", "directory holding the cwmpd and acsim binaries")
	keep    = flag.Bool("keep", false, "keep the temporary state directory")
	verbose = flag.Bool("v", false, "show the daemons' logs")
)

func main() {
	flag.Parse()
	d := &demo{}
	err := d.run()
	d.cleanup()
	if err != nil {
		fmt.Fprintf(os.Stderr, "\ndemo FAILED: %v\n", err)
		if d.dir != "" {
			fmt.Fprintf(os.Stderr, "logs: %s/cwmpd.log and %s/acsim.log\n", d.dir, d.dir)
		}
		os.Exit(1)
	}
	fmt.Println("\ndemo completed: every step of the story happened.")
}

type demo struct {
	dir        string
	acs, cwmpd *exec.Cmd
	admin      string
	files      string
	cwmpdLog   *os.File
	acsLog     *os.File
	stepN      int
}

func (d *demo) step(format string, args ...any) {
	d.stepN++
	fmt.Printf("\n== %d. %s\n", d.stepN, fmt.Sprintf(format, args...))
}

func say(format string, args ...any) { fmt.Printf("   "+format+"\n", args...) }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (d *demo) run() error {
	var err error
	if d.dir, err = os.MkdirTemp("", "cwmpd-demo-"); err != nil {
		return err
	}
	ports := make([]int, 4)
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return err
		}
	}
	acsURL := fmt.Sprintf("http://127.0.0.1:%d/cwmp", ports[0])
	d.admin = fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	d.files = fmt.Sprintf("http://127.0.0.1:%d", ports[2])

	d.step("Start the bundled ACS (acsim): Digest auth, strict schema checks")
	d.acsLog, _ = os.Create(filepath.Join(d.dir, "acsim.log"))
	d.acs = exec.Command(filepath.Join(*bin, "acsim"),
		"--listen", fmt.Sprintf("127.0.0.1:%d", ports[0]), "--admin", d.admin[len("http://"):],
		"--files-listen", fmt.Sprintf("127.0.0.1:%d", ports[2]), "--path", "/cwmp",
		"--auth", "digest", "--user", "cpe-demo", "--pass", "demo-secret",
		"--cr-user", "acs-demo", "--cr-pass", "cr-secret", "--log-format", "console")
	d.acs.Stdout, d.acs.Stderr = d.logTo(d.acsLog)
	d.acs.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := d.acs.Start(); err != nil {
		return fmt.Errorf("start acsim: %w", err)
	}
	if err := d.waitHTTP(d.admin+"/", 10*time.Second); err != nil {
		return fmt.Errorf("acsim admin API: %w", err)
	}
	say("ACS at %s (admin API %s)", acsURL, d.admin)

	say("queueing for the first session: GetParameterValues Device.DeviceInfo. and SetParameterValues PeriodicInformInterval=4")
	if err := d.rpc(`{"method":"GetParameterValues","args":{"ParameterNames":["Device.DeviceInfo."]}}`); err != nil {
		return err
	}
	if err := d.rpc(`{"method":"SetParameterValues","args":{"ParameterList":[{"Name":"Device.ManagementServer.PeriodicInformInterval","Value":"4","Type":"xsd:unsignedInt"}],"ParameterKey":"demo-1"}}`); err != nil {
		return err
	}

	d.step("Start cwmpd on the simulated platform, with a factory-default settings file")
	defaults := filepath.Join(d.dir, "defaults.conf")
	os.WriteFile(defaults, []byte(fmt.Sprintf(`# factory defaults of the demo device
acs-url=%s
username=cpe-demo
password=demo-secret
periodic-inform-interval=1h
connection-request-username=acs-demo
connection-request-password=cr-secret
connection-request-port=%d
`, acsURL, ports[3])), 0o600)
	state := filepath.Join(d.dir, "state")
	d.cwmpdLog, _ = os.Create(filepath.Join(d.dir, "cwmpd.log"))
	d.cwmpd = exec.Command(filepath.Join(*bin, "cwmpd"), "run", "--state", state, "--defaults", defaults,
		"--connreq-listen", fmt.Sprintf("127.0.0.1:%d", ports[3]), "--connreq-host", "127.0.0.1",
		"--log-format", "console", "--poll-interval", "1s")
	d.cwmpd.Stdout, d.cwmpd.Stderr = d.logTo(d.cwmpdLog)
	d.cwmpd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := d.cwmpd.Start(); err != nil {
		return fmt.Errorf("start cwmpd: %w", err)
	}

	d.step("First contact: the Inform carries 0 BOOTSTRAP + 1 BOOT; the ACS reads DeviceInfo and sets the interval")
	if err := d.waitSessions(1); err != nil {
		return err
	}
	dev, err := d.device()
	if err != nil {
		return err
	}
	if err := expectEvents(dev, "0 BOOTSTRAP", "1 BOOT"); err != nil {
		return err
	}
	say("device %s, Inform events %s", dev.Key, eventsOf(dev))
	vals, err := d.responseValues("GetParameterValuesResponse")
	if err != nil {
		return err
	}
	for _, k := range []string{"Manufacturer", "SerialNumber", "SoftwareVersion", "UpTime"} {
		say("Device.DeviceInfo.%-16s = %s", k, vals["Device.DeviceInfo."+k])
	}
	if vals["Device.DeviceInfo.SoftwareVersion"] == "" {
		return errors.New("GetParameterValuesResponse lacks SoftwareVersion")
	}
	if m, err := d.lastMethod("SetParameterValuesResponse"); err != nil || m == "" {
		return fmt.Errorf("no SetParameterValuesResponse (%v)", err)
	}
	say("SetParameterValues answered: PeriodicInformInterval is now 4 s, ParameterKey demo-1")

	d.step("The ACS sends a connection request: a session with 6 CONNECTION REQUEST follows")
	res, err := d.post("/connreq?device="+dev.Key, "")
	if err != nil {
		return err
	}
	var cr struct {
		URL    string `json:"url"`
		Status int    `json:"status"`
	}
	json.Unmarshal([]byte(res), &cr)
	say("GET %s with Digest credentials: HTTP %d", cr.URL, cr.Status)
	if err := d.waitSessions(2); err != nil {
		return err
	}
	if dev, err = d.device(); err != nil {
		return err
	}
	if err := expectEvents(dev, "6 CONNECTION REQUEST"); err != nil {
		return err
	}
	say("Inform events %s", eventsOf(dev))

	d.step("Periodic inform after 4 s: 2 PERIODIC")
	if err := d.waitSessions(3); err != nil {
		return err
	}
	if dev, err = d.device(); err != nil {
		return err
	}
	if err := expectEvents(dev, "2 PERIODIC"); err != nil {
		return err
	}
	say("Inform events %s, ParameterKey in the Inform: %s", eventsOf(dev), param(dev, "Device.ManagementServer.ParameterKey"))

	d.step("Firmware upgrade through a manifest: two packages, verified, installed together, then a restart")
	var links []string
	for i, size := range []int{96 << 10, 48 << 10} {
		name := fmt.Sprintf("demo-pkg%d.npk", i+1)
		data := bytes.Repeat([]byte(fmt.Sprintf("package %d ", i+1)), size/10)
		sum := sha256.Sum256(data)
		if err := d.put("/files/"+name, data); err != nil {
			return err
		}
		links = append(links, fmt.Sprintf(`<link size="%d" sha256="%s"><url>%s/files/%s</url></link>`, len(data), hex.EncodeToString(sum[:]), d.files, name))
	}
	manifest := `<?xml version="1.0" encoding="UTF-8"?>
<upgrade version="1" type="links" firmware="cwmpd-sim 2.0.0"><links>` + strings.Join(links, "") + `</links></upgrade>`
	if err := d.put("/files/upgrade.xml", []byte(manifest)); err != nil {
		return err
	}
	say("manifest %s/files/upgrade.xml lists 2 packages with size and sha256", d.files)
	if err := d.rpc(fmt.Sprintf(`{"method":"Download","args":{"CommandKey":"fw-2.0","FileType":"1 Firmware Upgrade Image","URL":"%s/files/upgrade.xml"}}`, d.files)); err != nil {
		return err
	}
	if _, err := d.post("/connreq?device="+dev.Key, ""); err != nil {
		return err
	}
	var wt map[string]any
	if err := d.getJSON("/wait?transfers=1&timeout=30s", &wt); err != nil {
		return fmt.Errorf("waiting for the TransferComplete: %w", err)
	}
	if dev, err = d.device(); err != nil {
		return err
	}
	if err := expectEvents(dev, "7 TRANSFER COMPLETE", "M Download", "1 BOOT"); err != nil {
		return err
	}
	say("after the restart, Inform events %s; SoftwareVersion = %s", eventsOf(dev), param(dev, "Device.DeviceInfo.SoftwareVersion"))
	if len(dev.Transfers) != 1 || dev.Transfers[0].FaultCode != 0 || param(dev, "Device.DeviceInfo.SoftwareVersion") != "cwmpd-sim 2.0.0" {
		return fmt.Errorf("upgrade not reported as done: %+v", dev.Transfers)
	}
	say("TransferComplete fw-2.0: fault %d, %s → %s", dev.Transfers[0].FaultCode,
		dev.Transfers[0].StartTime.Format("15:04:05.000"), dev.Transfers[0].CompleteTime.Format("15:04:05.000"))

	d.step("Reboot with command key demo-reboot (the simulated device re-executes cwmpd)")
	if err := d.rpc(`{"method":"Reboot","args":{"CommandKey":"demo-reboot"}}`); err != nil {
		return err
	}
	if _, err := d.post("/connreq?device="+dev.Key, ""); err != nil {
		return err
	}
	// The session that takes the Reboot, the restart, then the Inform with
	// the command key: wait for that Inform itself (session counts would
	// race with the end of the upgrade's session).
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if dev, err = d.device(); err != nil {
			return err
		}
		if expectEvents(dev, "1 BOOT", "M Reboot") == nil {
			break
		}
		if time.Now().After(deadline) {
			return expectEvents(dev, "1 BOOT", "M Reboot")
		}
	}
	say("after the reboot, Inform events %s", eventsOf(dev))
	if n, err := d.transcriptErrors(); err != nil || n > 0 {
		return fmt.Errorf("the strict ACS recorded %d protocol errors (%v): see %s", n, err, d.acsLog.Name())
	}
	say("the strict ACS found no protocol or schema error in the whole transcript")

	d.step("Stop cwmpd with SIGTERM (it finishes cleanly and exits 0)")
	d.cwmpd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(d.cwmpd, 15*time.Second); err != nil {
		return fmt.Errorf("cwmpd did not stop cleanly: %w", err)
	}
	d.cwmpd = nil

	d.step("cwmpd print: the operator's settings and status")
	out, err := exec.Command(filepath.Join(*bin, "cwmpd"), "print", "--state", state).CombinedOutput()
	fmt.Print(indent(string(out)))
	if err != nil {
		return fmt.Errorf("cwmpd print: %w", err)
	}
	if !strings.Contains(string(out), "periodic-inform-interval: 4s") || !strings.Contains(string(out), "status: running") {
		return errors.New("print does not show the interval the ACS set or the running status")
	}

	d.step("cwmpd replay: the journal, replayed offline")
	out, err = exec.Command(filepath.Join(*bin, "cwmpd"), "replay", state).CombinedOutput()
	fmt.Print(indent(string(out)))
	if err != nil {
		return fmt.Errorf("cwmpd replay: %w", err)
	}
	return nil
}

func (d *demo) logTo(f *os.File) (io.Writer, io.Writer) {
	if *verbose {
		w := io.MultiWriter(f, os.Stderr)
		return w, w
	}
	return f, f
}

func (d *demo) cleanup() {
	for _, c := range []*exec.Cmd{d.cwmpd, d.acs} {
		if c != nil && c.Process != nil {
			syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
			c.Wait()
		}
	}
	if d.dir != "" && !*keep {
		os.RemoveAll(d.dir)
	}
}

func waitExit(c *exec.Cmd, timeout time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		return errors.New("timeout")
	}
}

func (d *demo) waitHTTP(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (d *demo) post(path, body string) (string, error) {
	resp, err := http.Post(d.admin+path, "application/json", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("acsim %s: HTTP %d: %s", path, resp.StatusCode, b)
	}
	return string(b), nil
}

func (d *demo) rpc(js string) error {
	_, err := d.post("/rpc", js)
	return err
}

func (d *demo) getJSON(path string, v any) error {
	resp, err := http.Get(d.admin + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("acsim %s: HTTP %d: %s", path, resp.StatusCode, bytes.TrimSpace(b))
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func (d *demo) waitSessions(n int) error {
	var r map[string]any
	if err := d.getJSON(fmt.Sprintf("/wait?sessions=%d&timeout=20s", n), &r); err != nil {
		return fmt.Errorf("waiting for session %d: %w", n, err)
	}
	return nil
}

func (d *demo) put(path string, data []byte) error {
	req, _ := http.NewRequest(http.MethodPut, d.admin+path, bytes.NewReader(data))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("acsim PUT %s: HTTP %d", path, resp.StatusCode)
	}
	return nil
}

type event struct {
	EventCode, CommandKey string
}

type deviceInfo struct {
	Transfers []struct {
		CommandKey              string
		FaultCode               int
		StartTime, CompleteTime time.Time
	} `json:"transfers"`
	Key               string  `json:"key"`
	LastEvents        []event `json:"lastEvents"`
	LastParameters    []struct{ Name, Value string }
	ConnectionRequest string `json:"connectionRequestURL"`
}

func (d *demo) device() (deviceInfo, error) {
	var devs []deviceInfo
	if err := d.getJSON("/devices", &devs); err != nil {
		return deviceInfo{}, err
	}
	if len(devs) != 1 {
		return deviceInfo{}, fmt.Errorf("acsim knows %d devices, want 1", len(devs))
	}
	return devs[0], nil
}

func eventsOf(dev deviceInfo) string {
	var parts []string
	for _, e := range dev.LastEvents {
		if e.CommandKey != "" {
			parts = append(parts, fmt.Sprintf("%s(%s)", e.EventCode, e.CommandKey))
		} else {
			parts = append(parts, e.EventCode)
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func expectEvents(dev deviceInfo, codes ...string) error {
	have := map[string]bool{}
	for _, e := range dev.LastEvents {
		have[e.EventCode] = true
	}
	for _, c := range codes {
		if !have[c] {
			return fmt.Errorf("the last Inform lacks %q: %s", c, eventsOf(dev))
		}
	}
	return nil
}

func param(dev deviceInfo, name string) string {
	for _, p := range dev.LastParameters {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

type entry struct {
	Method  string          `json:"method"`
	Summary json.RawMessage `json:"summary"`
	Errors  []string        `json:"errors"`
}

func (d *demo) transcript() ([]entry, error) {
	var t []entry
	err := d.getJSON("/transcript", &t)
	return t, err
}

func (d *demo) lastMethod(method string) (string, error) {
	t, err := d.transcript()
	if err != nil {
		return "", err
	}
	for i := len(t) - 1; i >= 0; i-- {
		if t[i].Method == method {
			return string(t[i].Summary), nil
		}
	}
	return "", nil
}

// responseValues reads the parameter values of the newest
// GetParameterValuesResponse in the transcript.
func (d *demo) responseValues(method string) (map[string]string, error) {
	s, err := d.lastMethod(method)
	if err != nil || s == "" {
		return nil, fmt.Errorf("no %s in the transcript (%v)", method, err)
	}
	out := map[string]string{}
	var list []struct{ Name, Value string }
	var wrapped struct {
		ParameterList []struct{ Name, Value string }
	}
	if json.Unmarshal([]byte(s), &wrapped) == nil && len(wrapped.ParameterList) > 0 {
		list = wrapped.ParameterList
	} else if err := json.Unmarshal([]byte(s), &list); err != nil {
		return nil, fmt.Errorf("%s summary: %w", method, err)
	}
	for _, p := range list {
		out[p.Name] = p.Value
	}
	return out, nil
}

func (d *demo) transcriptErrors() (int, error) {
	t, err := d.transcript()
	n := 0
	for _, e := range t {
		n += len(e.Errors)
	}
	return n, err
}

func indent(s string) string {
	return "   " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n   ") + "\n"
}
