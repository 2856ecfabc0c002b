package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// genieDeviceID is lib/common.ts generateDeviceId: OUI-ProductClass-Serial,
// every character but letters, digits and '_' written %XX.
func genieDeviceID(oui, class, serial string) string {
	esc := func(s string) string {
		var b strings.Builder
		for _, r := range s {
			if r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
				b.WriteRune(r)
			} else {
				fmt.Fprintf(&b, "%%%X", r)
			}
		}
		return b.String()
	}
	if class == "" {
		return esc(oui) + "-" + esc(serial)
	}
	return esc(oui) + "-" + esc(class) + "-" + esc(serial)
}

// Checks of the CPE's answers, by local names as GenieACS reads them.

func expectMethod(resp *genieEl, name string) error {
	if resp.name() != name {
		return fmt.Errorf("got %s%s, want %s", resp.name(), faultOf(resp), name)
	}
	return nil
}

func faultOf(resp *genieEl) string {
	if resp.name() != "Fault" {
		return ""
	}
	f := resp.child("detail").child("Fault")
	s := fmt.Sprintf(" %s (%s)", f.text("FaultCode"), f.text("FaultString"))
	for _, p := range f.children("SetParameterValuesFault") {
		s += fmt.Sprintf(" [%s %s %s]", p.text("ParameterName"), p.text("FaultCode"), p.text("FaultString"))
	}
	return s
}

// genieNames reads a GetParameterNamesResponse as lib/soap.ts does:
// Writable must be true, false, 1 or 0, and every name must start with the
// requested path.
func genieNames(resp *genieEl, path string) ([]string, error) {
	if err := expectMethod(resp, "GetParameterNamesResponse"); err != nil {
		return nil, err
	}
	var names []string
	for _, p := range resp.child("ParameterList").children("ParameterInfoStruct") {
		n, w := p.text("Name"), p.text("Writable")
		if w != "true" && w != "false" && w != "1" && w != "0" {
			return nil, fmt.Errorf("%s: Invalid writable attribute %q", n, w)
		}
		if !strings.HasPrefix(n, path) {
			return nil, fmt.Errorf("Unexpected parameter in response: %s", n)
		}
		names = append(names, n)
	}
	return names, nil
}

// genieGotValues checks a GetParameterValuesResponse: exactly the names
// asked for (GenieACS warns of a missing or unexpected one, and blanks a
// missing one), each value valid for its type.
func genieGotValues(resp *genieEl, asked []string) (map[string][2]string, error) {
	if err := expectMethod(resp, "GetParameterValuesResponse"); err != nil {
		return nil, err
	}
	vals, err := genieValues(resp.child("ParameterList"))
	if err != nil {
		return nil, err
	}
	out := map[string][2]string{}
	for _, v := range vals {
		if !slices.Contains(asked, v[0]) {
			return nil, fmt.Errorf("Unexpected parameter in response: %s", v[0])
		}
		out[v[0]] = [2]string{v[1], v[2]}
	}
	for _, n := range asked {
		if _, ok := out[n]; !ok {
			return nil, fmt.Errorf("Missing parameter in response: %s", n)
		}
	}
	return out, nil
}

// genieRefresh is the refreshObject task (and the UI's refresh button):
// GetParameterNames of the path with NextLevel false, then the values of
// every parameter found, 32 per GetParameterValues (cwmp.gpvBatchSize).
func genieRefresh(id, path string, got func(map[string][2]string)) genieRPC {
	return genieRPC{id: id, build: func(*genieACS) string { return genieGPN(path, false) },
		check: func(g *genieACS, resp *genieEl) error {
			names, err := genieNames(resp, path)
			if err != nil {
				return err
			}
			var leaves []string
			for _, n := range names {
				if !strings.HasSuffix(n, ".") {
					leaves = append(leaves, n)
				}
			}
			if len(leaves) == 0 {
				return fmt.Errorf("no parameters under %q", path)
			}
			var batches []genieRPC
			for i := 0; i < len(leaves); i += 32 {
				batch := leaves[i:min(i+32, len(leaves))]
				batches = append(batches, genieRPC{id: fmt.Sprintf("%s%02x", id, i/32+1),
					build: func(*genieACS) string { return genieGPV(batch...) },
					check: func(_ *genieACS, resp *genieEl) error {
						v, err := genieGotValues(resp, batch)
						if err == nil && got != nil {
							got(v)
						}
						return err
					}})
			}
			g.then(batches...)
			return nil
		}}
}

var informProvisionParams = []string{
	"Device.ManagementServer.ConnectionRequestUsername", "Device.ManagementServer.ConnectionRequestPassword",
	"Device.ManagementServer.PeriodicInformEnable", "Device.ManagementServer.PeriodicInformInterval",
	"Device.ManagementServer.PeriodicInformTime",
}

// TestE2EGenieACSBootstrapAndConnectionRequest runs cwmpd against GenieACS
// as installed (genieacs-ui's "init": presets bootstrap, default and
// inform) with CPE authentication on (cwmp.auth = AUTH("cpe", ...)):
//
//   - the Digest challenge GenieACS writes (realm GenieACS, qop
//     "auth,auth-int", no algorithm, no opaque), bound to the TCP connection;
//   - the session cookie, the 204 with Connection: close that ends it;
//   - the "inform" provision: GetParameterNames of the root (the "default"
//     provision asks for InternetGatewayDevice.*, which a Device:2 CPE does
//     not have) and of Device.ManagementServer., the values of the five
//     parameters it declares, then one SetParameterValues setting the
//     connection-request credentials (user name = GenieACS's device ID,
//     %-escaped), a boolean as "true", an unsignedInt, and PeriodicInformTime
//     as a 1970 dateTime with milliseconds;
//   - a connection request made GenieACS's way with those new credentials,
//     whose session refreshes the whole tree (GetParameterNames "" with
//     NextLevel false, then every value, 32 per request) and finds every
//     value parsable the way GenieACS parses it.
func TestE2EGenieACSBootstrapAndConnectionRequest(t *testing.T) {
	g := newGenieACS(t, &[2]string{"cpe", "cpe-secret"}, false)
	var deviceID string
	const crPassword = "4fzyo82mvyr"
	// The provision's PeriodicInformTime is a per-device offset into the
	// day, as milliseconds since 1970; this one puts the next periodic
	// Inform of the 300 s interval 150 s away, out of the test's way.
	informTime := time.UnixMilli((time.Now().UnixMilli()+150_000)%86_400_000 + 123).UTC().Format("2006-01-02T15:04:05.000Z")
	g.add(
		genieRPC{id: "19a6f2c4e800000", build: func(*genieACS) string { return genieGPN("", true) },
			check: func(_ *genieACS, resp *genieEl) error {
				names, err := genieNames(resp, "")
				if err == nil && !slices.Equal(names, []string{"Device."}) {
					err = fmt.Errorf("root: %v", names)
				}
				return err
			}},
		genieRPC{id: "19a6f2c4e800001", build: func(*genieACS) string { return genieGPN("Device.ManagementServer.", true) },
			check: func(_ *genieACS, resp *genieEl) error {
				names, err := genieNames(resp, "Device.ManagementServer.")
				for _, n := range informProvisionParams {
					if err == nil && !slices.Contains(names, n) {
						err = fmt.Errorf("%s not listed", n)
					}
				}
				return err
			}},
		genieRPC{id: "19a6f2c4e800002", build: func(*genieACS) string { return genieGPV(informProvisionParams...) },
			check: func(g *genieACS, resp *genieEl) error {
				v, err := genieGotValues(resp, informProvisionParams)
				if err != nil {
					return err
				}
				if v["Device.ManagementServer.PeriodicInformTime"][1] != "xsd:dateTime" || v["Device.ManagementServer.PeriodicInformEnable"][1] != "xsd:boolean" {
					return fmt.Errorf("types %v", v)
				}
				return nil
			}},
		genieRPC{id: "19a6f2c4e800003", build: func(g *genieACS) string {
			inf := g.informs[0]
			deviceID = genieDeviceID(inf.deviceID[0], inf.deviceID[1], inf.deviceID[2])
			return genieSPV(
				[3]string{"Device.ManagementServer.ConnectionRequestUsername", deviceID, "xsd:string"},
				[3]string{"Device.ManagementServer.ConnectionRequestPassword", crPassword, "xsd:string"},
				[3]string{"Device.ManagementServer.PeriodicInformEnable", "true", "xsd:boolean"},
				[3]string{"Device.ManagementServer.PeriodicInformInterval", "300", "xsd:unsignedInt"},
				[3]string{"Device.ManagementServer.PeriodicInformTime", informTime, "xsd:dateTime"})
		}, check: okStatus("SetParameterValuesResponse")},
	)
	a := startAgent(t, t.TempDir(), "--defaults", genieDefaults(t, g.URL()))
	g.waitEnded(t, 1, a)
	if errs := g.errors(); len(errs) > 0 {
		t.Fatalf("GenieACS: %v\nagent log:\n%s", errs, a.logs())
	}
	inf := g.lastInform()
	if strings.Join(inf.events, ",") != "0 BOOTSTRAP,1 BOOT" || inf.version != genieNS || !inf.sessionTimeout {
		t.Fatalf("first Inform: %+v", inf)
	}
	for _, p := range []string{"Device.DeviceInfo.SoftwareVersion", "Device.DeviceInfo.HardwareVersion", "Device.ManagementServer.ConnectionRequestURL",
		"Device.ManagementServer.ParameterKey"} {
		if _, ok := inf.params[p]; !ok {
			t.Errorf("the Inform lacks %s, which GenieACS reads from it", p)
		}
	}
	// One challenge, answered on the connection it came on; the rest of
	// the session on that connection with the cookie.
	g.mu.Lock()
	posts := append([]geniePost(nil), g.posts...)
	g.mu.Unlock()
	if len(posts) < 3 || posts[0].status != 401 || posts[0].auth || posts[1].conn != posts[0].conn || !posts[1].auth || posts[1].status != 200 {
		t.Fatalf("authentication: %+v", posts)
	}
	for _, p := range posts[2:] {
		if p.conn != posts[0].conn || p.cookie == "" || p.status == 401 {
			t.Fatalf("session POSTs: %+v", posts)
		}
	}

	// The connection request, with the credentials GenieACS just set.
	values := map[string][2]string{}
	g.add(genieRefresh("19a6f2c4e8001", "", func(v map[string][2]string) {
		for k, x := range v {
			values[k] = x
		}
	}))
	if err := genieConnectionRequest(inf.params["Device.ManagementServer.ConnectionRequestURL"], deviceID, crPassword); err != nil {
		t.Fatalf("GenieACS's connection request: %v\nagent log:\n%s", err, a.logs())
	}
	g.waitEnded(t, 2, a)
	if errs := g.errors(); len(errs) > 0 {
		t.Fatalf("GenieACS: %v\nagent log:\n%s", errs, a.logs())
	}
	if ev := strings.Join(g.lastInform().events, ","); ev != "6 CONNECTION REQUEST" {
		t.Fatalf("connection request session: %q", ev)
	}
	// GenieACS never names a ParameterKey: the one its SPV set is empty.
	if k, ok := g.lastInform().params["Device.ManagementServer.ParameterKey"]; !ok || k != "" {
		t.Fatalf("ParameterKey %q after GenieACS's SetParameterValues", k)
	}
	if len(values) < 60 || values["Device.ManagementServer.PeriodicInformInterval"][0] != "300" ||
		values["Device.ManagementServer.ConnectionRequestUsername"][0] != deviceID {
		t.Fatalf("refresh: %d values, interval %v", len(values), values["Device.ManagementServer.PeriodicInformInterval"])
	}
	a.stop()
}

// TestE2EGenieACSTasks: GenieACS's default (no CPE authentication) and the
// tasks its UI and NBI queue, sent in a connection request's session the
// way lib/session.ts turns them into RPCs: addObject with an alias (then
// the new instance's values and a SetParameterValues of the key, typed as
// the CPE reported it), SetParameterAttributes changing the notification
// only and the access list only (the latter with an empty Notification
// element), GetParameterAttributes, deleteObject, a Download with
// GenieACS's CommandKey, FileSize and empty TargetFileName, answered later
// by TransferComplete, and a reboot without CommandKey.
func TestE2EGenieACSTasks(t *testing.T) {
	g := newGenieACS(t, nil, false)
	a := startAgent(t, t.TempDir(), "--defaults", genieDefaults(t, g.URL()))
	g.waitEnded(t, 1, a)
	crURL := g.lastInform().params["Device.ManagementServer.ConnectionRequestURL"]

	const alter = "set Device.Time.NTPServer1=ntp.genieacs.example\n"
	g.files["ntp.alter"] = []byte(alter)
	var instance string
	okMethod := func(name string) func(*genieACS, *genieEl) error {
		return func(_ *genieACS, resp *genieEl) error { return expectMethod(resp, name) }
	}
	g.add(
		genieRPC{id: "19a6f2c4e800200", build: func(*genieACS) string { return genieAddObject("Device.Users.User.") },
			check: func(g *genieACS, resp *genieEl) error {
				if err := expectMethod(resp, "AddObjectResponse"); err != nil {
					return err
				}
				instance = resp.text("InstanceNumber")
				if !regexp.MustCompile(`^[0-9]+$`).MatchString(instance) {
					return fmt.Errorf("Missing or invalid instance number %q", instance)
				}
				name := "Device.Users.User." + instance + ".Username"
				g.then(genieRPC{id: "19a6f2c4e800201", build: func(*genieACS) string { return genieGPV(name) },
					check: func(g *genieACS, resp *genieEl) error {
						v, err := genieGotValues(resp, []string{name})
						if err != nil {
							return err
						}
						g.then(genieRPC{id: "19a6f2c4e800202", build: func(*genieACS) string {
							return genieSPV([3]string{name, "genie", v[name][1]})
						}, check: okMethod("SetParameterValuesResponse")})
						return nil
					}})
				return nil
			}},
		genieRPC{id: "19a6f2c4e800203", build: func(*genieACS) string {
			return genieSPA(genieSPAItem{Name: "Device.DeviceInfo.ProvisioningCode", Notification: ptr(2)})
		}, check: okMethod("SetParameterAttributesResponse")},
		genieRPC{id: "19a6f2c4e800204", build: func(*genieACS) string {
			return genieSPA(genieSPAItem{Name: "Device.DeviceInfo.ProvisioningCode", AccessList: []string{}})
		}, check: okMethod("SetParameterAttributesResponse")},
		genieRPC{id: "19a6f2c4e800205", build: func(*genieACS) string { return genieGPA("Device.DeviceInfo.ProvisioningCode") },
			check: func(_ *genieACS, resp *genieEl) error {
				if err := expectMethod(resp, "GetParameterAttributesResponse"); err != nil {
					return err
				}
				pa := resp.child("ParameterList").child("ParameterAttributeStruct")
				if pa.text("Name") != "Device.DeviceInfo.ProvisioningCode" || pa.text("Notification") != "2" || pa.child("AccessList") == nil {
					return fmt.Errorf("attributes %+v", pa)
				}
				return nil
			}},
		genieRPC{id: "19a6f2c4e800206", build: func(*genieACS) string { return genieDeleteObject("Device.Users.User." + instance + ".") },
			check: okMethod("DeleteObjectResponse")},
		genieRPC{id: "19a6f2c4e800300", build: func(g *genieACS) string {
			return genieDownload("19a6f2c4e800300", "3 Vendor Configuration File", g.fs.URL+"/ntp.alter", len(alter), "")
		}, check: okStatus("DownloadResponse")},
	)
	if err := genieConnectionRequest(crURL, "acs", "cr-secret"); err != nil {
		t.Fatalf("GenieACS's connection request: %v\nagent log:\n%s", err, a.logs())
	}
	g.waitEnded(t, 2, a)
	// The configuration file is applied between sessions and reported in
	// the next one.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		g.mu.Lock()
		n := len(g.tcs)
		g.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no TransferComplete; GenieACS: %v\nagent log:\n%s", g.errors(), a.logs())
		}
	}
	g.waitEnded(t, 3, a)
	if errs := g.errors(); len(errs) > 0 {
		t.Fatalf("GenieACS: %v\nagent log:\n%s", errs, a.logs())
	}
	tc := g.tcs[0]
	if tc.CommandKey != "19a6f2c4e800300" || tc.FaultStruct.FaultCode != 0 {
		t.Fatalf("TransferComplete %+v", tc)
	}
	if ev := strings.Join(g.lastInform().events, ","); !strings.Contains(ev, "7 TRANSFER COMPLETE") || !strings.Contains(ev, "M Download") {
		t.Fatalf("TransferComplete session events %q", ev)
	}

	// The reboot provision, then the NTP server the file set.
	g.add(genieRPC{id: "19a6f2c4e800400", build: func(*genieACS) string { return genieReboot() }, check: okMethod("RebootResponse")})
	var ntp string
	g.addLater(genieRPC{id: "19a6f2c4e800500", build: func(*genieACS) string { return genieGPV("Device.Time.NTPServer1") },
		check: func(_ *genieACS, resp *genieEl) error {
			v, err := genieGotValues(resp, []string{"Device.Time.NTPServer1"})
			ntp = v["Device.Time.NTPServer1"][0]
			return err
		}})
	if err := genieConnectionRequest(crURL, "acs", "cr-secret"); err != nil {
		t.Fatalf("GenieACS's connection request: %v\nagent log:\n%s", err, a.logs())
	}
	g.waitEnded(t, 5, a)
	if errs := g.errors(); len(errs) > 0 {
		t.Fatalf("GenieACS: %v\nagent log:\n%s", errs, a.logs())
	}
	if ev := strings.Join(g.lastInform().events, ","); ev != "1 BOOT,M Reboot" {
		t.Fatalf("after the reboot: %q", ev)
	}
	if ntp != "ntp.genieacs.example" {
		t.Fatalf("NTPServer1 %q after the configuration file", ntp)
	}
	a.stop()
}

// TestE2EGenieACSSessionMovesToANewConnection: GenieACS keeps a session in
// its cache when the socket closes (a worker restart, its 30 s socket
// timeout) and finds it again by the cookie, but asks a CPE on a new
// connection to authenticate again, with a nonce for that connection.
func TestE2EGenieACSSessionMovesToANewConnection(t *testing.T) {
	g := newGenieACS(t, &[2]string{"cpe", "cpe-secret"}, false)
	g.dropAfter = "19a6f2c4e800000"
	g.add(genieRPC{id: "19a6f2c4e800000", build: func(*genieACS) string { return genieGPV("Device.DeviceInfo.SoftwareVersion") },
		check: func(_ *genieACS, resp *genieEl) error {
			_, err := genieGotValues(resp, []string{"Device.DeviceInfo.SoftwareVersion"})
			return err
		}})
	a := startAgent(t, t.TempDir(), "--defaults", genieDefaults(t, g.URL()))
	g.waitEnded(t, 1, a)
	if errs := g.errors(); len(errs) > 0 {
		t.Fatalf("GenieACS: %v\nagent log:\n%s", errs, a.logs())
	}
	g.mu.Lock()
	posts := append([]geniePost(nil), g.posts...)
	g.mu.Unlock()
	// 401, Inform, empty POST (answered with the GPV, then the socket
	// closes), the GPV response on a new connection: 401, again with
	// credentials, 204.
	var last []geniePost
	for _, p := range posts {
		if p.conn != posts[0].conn {
			last = append(last, p)
		}
	}
	if len(last) != 2 || last[0].status != 401 || last[0].auth || last[0].method != "GetParameterValuesResponse" ||
		last[1].status != 204 || !last[1].auth || last[1].cookie == "" {
		t.Fatalf("POSTs %+v", posts)
	}
	a.stop()
}

// TestE2EGenieACSOverTLSAsksForBasic: behind CWMP_SSL_CERT GenieACS
// challenges with Basic only (realm GenieACS), never Digest; cwmpd sends
// Basic over TLS, on every POST of the session.
func TestE2EGenieACSOverTLSAsksForBasic(t *testing.T) {
	g := newGenieACS(t, &[2]string{"cpe", "cpe-secret"}, true)
	g.add(genieRPC{id: "19a6f2c4e800000", build: func(*genieACS) string { return genieGPV("Device.DeviceInfo.SoftwareVersion") },
		check: func(_ *genieACS, resp *genieEl) error {
			_, err := genieGotValues(resp, []string{"Device.DeviceInfo.SoftwareVersion"})
			return err
		}})
	a := startAgent(t, t.TempDir(), "--defaults", genieDefaults(t, g.URL(), "ca-certificate="+g.caFile(t)))
	g.waitEnded(t, 1, a)
	if errs := g.errors(); len(errs) > 0 {
		t.Fatalf("GenieACS: %v\nagent log:\n%s", errs, a.logs())
	}
	g.mu.Lock()
	posts := append([]geniePost(nil), g.posts...)
	g.mu.Unlock()
	if len(posts) != 4 || posts[0].status != 401 || posts[0].auth {
		t.Fatalf("POSTs %+v", posts)
	}
	for _, p := range posts[1:] {
		if !p.auth || p.status == 401 || p.conn != posts[0].conn {
			t.Fatalf("POSTs %+v", posts)
		}
	}
	a.stop()
}

// okStatus checks an answer is the method named, with Status 0 (applied)
// or 1 (applied at the next reboot).
func okStatus(method string) func(*genieACS, *genieEl) error {
	return func(_ *genieACS, resp *genieEl) error {
		if err := expectMethod(resp, method); err != nil {
			return err
		}
		if s := resp.text("Status"); s != "0" && s != "1" {
			return fmt.Errorf("status %q", s)
		}
		return nil
	}
}
