package acsim

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/soap"
)

func adminDo(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestAdminAPI(t *testing.T) {
	s := startServer(t, Config{})
	cpe := newCPE(t, s.URL())

	status, b := adminDo(t, "POST", s.AdminURL()+"/rpc?device="+cpe.key(),
		`[{"method":"GetParameterValues","args":{"ParameterNames":["Device.DeviceInfo.SoftwareVersion"]},"id":"gpv-1"},
		  {"method":"SetParameterValues","args":{"ParameterList":[{"Name":"Device.X","Value":"7","Type":"unsignedInt"}],"ParameterKey":"pk"}}]`)
	if status != http.StatusOK || !strings.Contains(string(b), `"gpv-1"`) {
		t.Fatalf("enqueue: %d %s", status, b)
	}
	// A bad RPC is refused whole: nothing of the array is queued.
	status, b = adminDo(t, "POST", s.AdminURL()+"/rpc", `[{"method":"Reboot"},{"method":"Reboot","args":{"CommandKey":"`+strings.Repeat("k", 33)+`"}}]`)
	if status != http.StatusBadRequest || !strings.Contains(string(b), "CommandKey") {
		t.Fatalf("bad rpc: %d %s", status, b)
	}
	if s.Queued("") != 0 {
		t.Fatal("part of a refused array was queued")
	}
	status, b = adminDo(t, "POST", s.AdminURL()+"/rpc", `{"method":"Reboot","args":{"CommandKy":"x"}}`)
	if status != http.StatusBadRequest || !strings.Contains(string(b), "CommandKy") {
		t.Fatalf("unknown argument: %d %s", status, b)
	}

	// A shell script would block on /wait while the CPE runs.
	waited := make(chan int)
	go func() {
		// Not adminDo: t.Fatal must not run outside the test goroutine.
		resp, err := http.Get(s.AdminURL() + "/wait?sessions=1&timeout=10s&device=" + cpe.key())
		if err != nil {
			waited <- 0
			return
		}
		resp.Body.Close()
		waited <- resp.StatusCode
	}()

	cpe.inform("1 BOOT")
	_, req := cpe.empty()
	if req.Header.ID != "gpv-1" {
		t.Fatalf("first request ID %q", req.Header.ID)
	}
	_, req = cpe.respond(req, &soap.GetParameterValuesResponse{ParameterList: []soap.ParameterValueStruct{{Name: "Device.DeviceInfo.SoftwareVersion", Value: "1"}}})
	spv, ok := req.Body.(*soap.SetParameterValues)
	if !ok || spv.ParameterList[0].Type != soap.TypeUnsignedInt || spv.ParameterKey != "pk" {
		t.Fatalf("second request %+v", req.Body)
	}
	cpe.respond(req, &soap.SetParameterValuesResponse{Status: 0})
	select {
	case st := <-waited:
		if st != http.StatusOK {
			t.Fatalf("/wait: %d", st)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("/wait did not return")
	}
	if st, _ := adminDo(t, "GET", s.AdminURL()+"/wait?sessions=2&timeout=50ms", ""); st != http.StatusRequestTimeout {
		t.Fatalf("/wait for a session that never comes: %d, want 408", st)
	}

	status, b = adminDo(t, "GET", s.AdminURL()+"/transcript?kind=cwmp", "")
	var tr []Entry
	if err := json.Unmarshal(b, &tr); status != http.StatusOK || err != nil {
		t.Fatalf("transcript: %d %v", status, err)
	}
	if len(tr) != 8 || tr[0].Method != "Inform" || tr[0].Direction != dirIn || !strings.Contains(tr[0].Raw, "<cwmp:Inform>") ||
		tr[3].Method != "GetParameterValues" || tr[3].Status != 200 || tr[7].Status != 204 || tr[0].Device != cpe.key() {
		t.Fatalf("transcript: %s", b)
	}
	var sum struct{ DeviceId soap.DeviceIdStruct }
	raw, _ := json.Marshal(tr[0].Summary)
	if json.Unmarshal(raw, &sum); sum.DeviceId.SerialNumber != "SN0001" {
		t.Fatalf("Inform summary %s", raw)
	}

	status, b = adminDo(t, "GET", s.AdminURL()+"/devices", "")
	var devs []DeviceInfo
	if err := json.Unmarshal(b, &devs); err != nil || len(devs) != 1 || devs[0].Sessions != 1 || devs[0].LastEvents[0].EventCode != "1 BOOT" {
		t.Fatalf("devices: %d %s", status, b)
	}
	status, b = adminDo(t, "GET", s.AdminURL()+"/sessions", "")
	var ss []SessionInfo
	if err := json.Unmarshal(b, &ss); err != nil || len(ss) != 1 || ss[0].State != StateCompleted || ss[0].Version != "1.2" {
		t.Fatalf("sessions: %d %s", status, b)
	}

	// Fault plans over HTTP.
	if st, b := adminDo(t, "POST", s.AdminURL()+"/faults", `{"informFault":8005}`); st != http.StatusOK {
		t.Fatalf("faults: %d %s", st, b)
	}
	st, env := cpe.sendRaw(cpe.informEnv("2 PERIODIC"))
	wantFault(t, st, env, soap.FaultACSRetryRequest)
}

const scenarioJSON = `{
  "rpcs": [
    {"device": "00AB1F-Router-SN0001", "method": "Download", "id": "dl",
     "args": {"CommandKey": "fw-1", "FileType": "1 Firmware Upgrade Image", "URL": "http://127.0.0.1/files/fw.bin",
              "Username": "u", "Password": "p", "FileSize": 5, "TargetFileName": "", "DelaySeconds": 0}},
    {"method": "ScheduleInform", "args": {"DelaySeconds": 5, "CommandKey": "si"}}
  ],
  "faults": [{"holdRequests": true}],
  "files": {"fw.bin": {"text": "hello"}},
  "fileFaults": {"broken.bin": {"notFound": true}}
}`

func TestScenario(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scenario.json")
	if err := os.WriteFile(path, []byte(scenarioJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := LoadScenario(path)
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Config{})
	if err := s.ApplyScenario(sc); err != nil {
		t.Fatal(err)
	}
	cpe := newCPE(t, s.URL())
	if ir := cpe.inform("1 BOOT"); !ir.Header.HoldRequests {
		t.Fatal("scenario fault plan not applied")
	}
	_, req := cpe.empty()
	dl, ok := req.Body.(*soap.Download)
	if !ok || req.Header.ID != "dl" || dl.CommandKey != "fw-1" || dl.FileSize != 5 {
		t.Fatalf("first request %+v", req.Body)
	}
	_, req = cpe.respond(req, &soap.DownloadResponse{Status: 1})
	if si, ok := req.Body.(*soap.ScheduleInform); !ok || si.DelaySeconds != 5 {
		t.Fatalf("second request %+v", req.Body)
	}
	for _, e := range s.Transcript() {
		if e.Method == "Download" && strings.Contains(string(mustJSON(t, e.Summary)), `"Password":"p"`) {
			t.Fatalf("download password shown in summary: %s", mustJSON(t, e.Summary))
		}
	}
	resp, err := http.Get(s.FilesURL() + "/files/fw.bin")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "hello" {
		t.Fatalf("scenario file served %q", b)
	}

	for name, bad := range map[string]string{
		"unknown field":  `{"rpc": []}`,
		"unknown method": `{"rpcs": [{"method": "Kick"}]}`,
		"bad argument":   `{"rpcs": [{"method": "AddObject", "args": {"ObjectName": "Device.NAT.PortMapping", "ParameterKey": ""}}]}`,
	} {
		if _, err := ReadScenario(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: scenario accepted", name)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
