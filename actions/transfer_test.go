package actions

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/acsim"
	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

func noDownloads(t *testing.T, f *fix) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(f.dir, "downloads", "*"))
	if len(left) != 0 {
		t.Errorf("files left in downloads: %v", left)
	}
}

func TestRunnerFirmwareSingleImage(t *testing.T) {
	acs := startACS(t, acsim.Config{})
	img := randomBytes(t, 300<<10)
	acs.AddFile("fw.bin", img)
	f := newFix(t)
	before := f.sim.Identity().SoftwareVersion
	id := f.queue(event.TransferQueued{CommandKey: "fw1", FileType: FileTypeFirmware, URL: acs.FilesURL() + "/files/fw.bin", FileSize: uint64(len(img))})
	out := f.run(id)
	if out.Finished.FaultCode != 0 || !out.RebootNeeded {
		t.Fatalf("outcome %+v, want success with a reboot", out)
	}
	if !out.Finished.StartTime.Equal(t0.Add(time.Minute)) || !out.Finished.CompleteTime.Equal(t0.Add(time.Minute)) {
		t.Errorf("times %v %v", out.Finished.StartTime, out.Finished.CompleteTime)
	}
	want := "sim-" + sha([]byte(sha(img) + "\n"))[:12]
	if got := f.sim.Identity().SoftwareVersion; got != want || got == before {
		t.Errorf("version %q, want %q", got, want)
	}
	if got := f.sim.Installs(); len(got) != 1 {
		t.Errorf("installs %v, want one", got)
	}
	c := f.countTypes()
	if c[event.TypeTransferStarted] != 1 || c[event.TypeTransferFetched] != 1 || c[event.TypeTransferApplying] != 1 || c[event.TypeTransferFinished] != 1 {
		t.Errorf("journal counts %v", c)
	}
	// 300 KiB with progress every 64 KiB: a handful of records, not hundreds.
	if c[event.TypeTransferProgress] > 5 {
		t.Errorf("%d progress records for 300 KiB", c[event.TypeTransferProgress])
	}
	noDownloads(t, f)
	// A second Run of the finished transfer does nothing.
	out2, err := f.runner().Run(context.Background(), f.transfer(id))
	if err != nil || out2.Finished != out.Finished || len(f.sim.Installs()) != 1 {
		t.Errorf("rerun: %+v %v installs %v", out2, err, f.sim.Installs())
	}
}

func manifestFor(links ...string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<upgrade version="1" type="links" firmware="cwmpd-sim 2.0.0">
  <config/>
  <links>
` + strings.Join(links, "\n") + `
  </links>
</upgrade>
`)
}

func linkXML(url string, data []byte) string {
	return fmt.Sprintf(`    <link size="%d" sha256="%s"><url>%s</url></link>`, len(data), sha(data), url)
}

func TestRunnerFirmwareManifest(t *testing.T) {
	acs := startACS(t, acsim.Config{})
	var links []string
	for i := 1; i <= 3; i++ {
		data := randomBytes(t, 40<<10*i)
		name := fmt.Sprintf("pkg%d.npk", i)
		acs.AddFile(name, data)
		links = append(links, linkXML(acs.FilesURL()+"/files/"+name, data))
	}
	acs.AddFile("upgrade.xml", manifestFor(links...))
	f := newFix(t)
	id := f.queue(event.TransferQueued{CommandKey: "m", FileType: FileTypeFirmware, URL: acs.FilesURL() + "/files/upgrade.xml"})
	out := f.run(id)
	if out.Finished.FaultCode != 0 || !out.RebootNeeded {
		t.Fatalf("outcome %+v", out)
	}
	if got := f.sim.Identity().SoftwareVersion; got != "cwmpd-sim 2.0.0" {
		t.Errorf("version %q", got)
	}
	pk, _ := os.ReadFile(filepath.Join(f.dir, "device", "packages"))
	if n := strings.Count(string(pk), "\n"); n != 3 {
		t.Errorf("packages file lists %d, want 3:\n%s", n, pk)
	}
	if c := f.countTypes(); c[event.TypeTransferFetched] != 4 {
		t.Errorf("fetched %d files, want manifest + 3", c[event.TypeTransferFetched])
	}
	for i := 1; i <= 3; i++ {
		if st := stats(acs, fmt.Sprintf("pkg%d.npk", i)); st.Requests != 1 {
			t.Errorf("pkg%d requested %d times", i, st.Requests)
		}
	}
	noDownloads(t, f)
}

func TestRunnerFirmwareManifestBadLink(t *testing.T) {
	acs := startACS(t, acsim.Config{})
	good, bad := randomBytes(t, 10<<10), randomBytes(t, 10<<10)
	acs.AddFile("a.npk", good)
	acs.AddFile("b.npk", bad)
	acs.AddFile("upgrade.xml", manifestFor(
		linkXML(acs.FilesURL()+"/files/a.npk", good),
		linkXML(acs.FilesURL()+"/files/b.npk", good), // b's sha256 is a's: corrupted
	))
	f := newFix(t)
	id := f.queue(event.TransferQueued{FileType: FileTypeFirmware, URL: acs.FilesURL() + "/files/upgrade.xml"})
	out := f.run(id)
	if out.Finished.FaultCode != FaultCorrupted || !strings.Contains(out.Finished.FaultString, "sha256 mismatch") || out.RebootNeeded {
		t.Fatalf("outcome %+v, want 9018 sha256 mismatch", out)
	}
	if len(f.sim.Installs()) != 0 {
		t.Error("installed despite a corrupted package")
	}
	noDownloads(t, f)
}

func TestRunnerFirmwareInvalidManifest(t *testing.T) {
	acs := startACS(t, acsim.Config{})
	acs.AddFile("upgrade.xml", []byte(`<upgrade version="1" type="links"><links><link><url>ftp://x/y</url></link></links></upgrade>`))
	f := newFix(t)
	id := f.queue(event.TransferQueued{FileType: FileTypeFirmware, URL: acs.FilesURL() + "/files/upgrade.xml"})
	if out := f.run(id); out.Finished.FaultCode != FaultCorrupted {
		t.Fatalf("outcome %+v, want 9018", out)
	}
}

func TestRunnerConfigAlter(t *testing.T) {
	acs := startACS(t, acsim.Config{})
	acs.AddFile("change.alter", []byte("# change\nset Device.Time.NTPServer1=pool.ntp.org\nadd Device.Users.User.\nset Device.Users.User.+.Username=alice\ndel Device.Users.User.1.\n"))
	f := newFix(t)
	f.append(event.ObjectAdded{Object: "Device.Users.User.", Instance: 1, Source: event.SourceACS},
		event.ParametersSet{Values: []event.ParamValue{{Name: "Device.Users.User.1.Username", Value: "old"}, {Name: "Device.Time.NTPServer2", Value: "keep.me"}}, Source: event.SourceACS})
	id := f.queue(event.TransferQueued{FileType: FileTypeConfigDownload, URL: acs.FilesURL() + "/files/change.alter"})
	out := f.run(id)
	if out.Finished.FaultCode != 0 || out.RebootNeeded {
		t.Fatalf("outcome %+v, want success without reboot", out)
	}
	p := f.state().Params
	want := map[string]string{"Device.Time.NTPServer1": "pool.ntp.org", "Device.Users.User.2.Username": "alice", "Device.Time.NTPServer2": "keep.me"}
	for k, v := range want {
		if p.Values[k].Value != v {
			t.Errorf("%s = %q, want %q", k, p.Values[k].Value, v)
		}
	}
	if _, ok := p.Values["Device.Users.User.1.Username"]; ok {
		t.Error("deleted instance still has values")
	}
	if live := p.Tables["Device.Users.User."].Live; len(live) != 1 || live[0] != 2 {
		t.Errorf("live users %v, want [2]", live)
	}
}

func TestRunnerConfigAlterBadScript(t *testing.T) {
	acs := startACS(t, acsim.Config{})
	acs.AddFile("bad.alter", []byte("set Device.Time.NTPServer1=x\ndel Device.Users.User.7.\n"))
	acs.AddFile("junk.alter", []byte("rm -rf /\n"))
	f := newFix(t)
	id := f.queue(event.TransferQueued{FileType: FileTypeConfigDownload, URL: acs.FilesURL() + "/files/bad.alter"})
	if out := f.run(id); out.Finished.FaultCode != FaultTransfer {
		t.Fatalf("outcome %+v, want 9010", out)
	}
	if _, ok := f.state().Params.Values["Device.Time.NTPServer1"]; ok {
		t.Error("a failed script applied its first line")
	}
	id = f.queue(event.TransferQueued{FileType: FileTypeConfigDownload, URL: acs.FilesURL() + "/files/junk.alter"})
	if out := f.run(id); out.Finished.FaultCode != FaultCorrupted {
		t.Fatalf("outcome %+v, want 9018", out)
	}
}

func TestRunnerConfigReplace(t *testing.T) {
	acs := startACS(t, acsim.Config{})
	acs.AddFile("full.cfg", []byte("set Device.Time.NTPServer1=a.example\nadd Device.Users.User.\nset Device.Users.User.+.Username=bob\n"))
	f := newFix(t)
	f.append(event.ObjectAdded{Object: "Device.Users.User.", Instance: 1, Source: event.SourceACS},
		event.ParametersSet{Values: []event.ParamValue{{Name: "Device.Users.User.1.Username", Value: "old"}, {Name: "Device.Time.NTPServer2", Value: "gone"}}, Source: event.SourceACS})
	id := f.queue(event.TransferQueued{FileType: FileTypeConfigDownload, URL: acs.FilesURL() + "/files/full.cfg"})
	out := f.run(id)
	if out.Finished.FaultCode != 0 || !out.RebootNeeded {
		t.Fatalf("outcome %+v, want success with a reboot", out)
	}
	p := f.state().Params
	if p.Values["Device.Time.NTPServer2"].Value != "" || p.Values["Device.Time.NTPServer1"].Value != "a.example" || p.Values["Device.Users.User.2.Username"].Value != "bob" {
		t.Errorf("values after replace: %+v", p.Values)
	}
	if live := p.Tables["Device.Users.User."].Live; len(live) != 1 || live[0] != 2 {
		t.Errorf("live users %v, want [2]", live)
	}
}

func TestRunnerFactoryConfiguration(t *testing.T) {
	acs := startACS(t, acsim.Config{})
	script := []byte("set Device.Time.NTPServer1=factory.example\n")
	acs.AddFile("default.rsc", script)
	f := newFix(t)
	id := f.queue(event.TransferQueued{FileType: "X " + SimOUI + " " + VendorFactoryConfig, URL: acs.FilesURL() + "/files/default.rsc"})
	if out := f.run(id); out.Finished.FaultCode != 0 || out.RebootNeeded {
		t.Fatalf("outcome %+v", out)
	}
	var b strings.Builder
	if err := f.sim.ExportDefaultConfig(context.Background(), &b); err != nil || b.String() != string(script) {
		t.Errorf("default config %q %v", b.String(), err)
	}
	// Then upload it back.
	up := f.queue(event.TransferQueued{Kind: event.KindUpload, FileType: "X " + SimOUI + " " + VendorFactoryConfig, URL: acs.FilesURL() + "/upload/default.rsc"})
	if out := f.run(up); out.Finished.FaultCode != 0 {
		t.Fatalf("upload outcome %+v", out)
	}
	if got, ok := acs.Upload("default.rsc"); !ok || string(got) != string(script) {
		t.Errorf("uploaded %q", got)
	}
	// After a factory reset the daemon journals the script's events.
	f.append(event.FactoryResetDone{})
	evs, err := f.sim.DefaultConfigEvents(f.state().Params)
	if err != nil {
		t.Fatal(err)
	}
	f.append(evs...)
	if v := f.state().Params.Values["Device.Time.NTPServer1"].Value; v != "factory.example" {
		t.Errorf("after reset + default script: %q", v)
	}
}

func TestRunnerScheduleDownloadWindowsEnded(t *testing.T) {
	acs := startACS(t, acsim.Config{})
	acs.AddFile("fw.bin", []byte("img"))
	f := newFix(t)
	id := f.queue(event.TransferQueued{Kind: event.KindScheduleDownload, FileType: FileTypeFirmware, URL: acs.FilesURL() + "/files/fw.bin",
		Windows: []event.TimeWindow{{Start: t0, End: t0.Add(30 * time.Second), Mode: "1 At Any Time"}}})
	out := f.run(id) // the Runner's clock says t0+1m
	if out.Finished.FaultCode != FaultWindow {
		t.Errorf("outcome %+v, want 9020", out)
	}
	if st := stats(acs, "fw.bin"); st.Requests != 0 {
		t.Errorf("fetched %d times after the windows", st.Requests)
	}
}

func TestRunnerUploads(t *testing.T) {
	acs := startACS(t, acsim.Config{FileAuth: acsim.Auth{Mode: acsim.AuthDigest, Username: "u", Password: "s3cret"}})
	f := newFix(t)
	f.append(event.ParametersSet{Values: []event.ParamValue{
		{Name: "Device.Time.NTPServer1", Value: "pool.ntp.org"},
		{Name: "Device.Users.User.1.Password", Value: "hunter2", Hidden: true},
	}, Source: event.SourceACS})
	f.append(event.ObjectAdded{Object: "Device.Users.User.", Instance: 1, Source: event.SourceACS})
	if err := f.sim.Log(t0, "hello from the device"); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ fileType, name, want string }{
		{FileTypeConfigUpload, "config.rsc", "set Device.Time.NTPServer1=pool.ntp.org\n"},
		{FileTypeLogUpload, "log.txt", "2026-11-22T01:00:00Z hello from the device\n"},
		{"X " + SimOUI + " " + VendorJournal, "journal.jsonl", `"ParametersSet"`},
	}
	for _, c := range cases {
		id := f.queue(event.TransferQueued{Kind: event.KindUpload, FileType: c.fileType, URL: acs.FilesURL() + "/upload/" + c.name, Username: "u", Password: "s3cret"})
		if out := f.run(id); out.Finished.FaultCode != 0 {
			t.Fatalf("%s: outcome %+v", c.fileType, out)
		}
		got, ok := acs.Upload(c.name)
		if !ok || !strings.Contains(string(got), c.want) {
			t.Errorf("%s: uploaded %q, want it to contain %q", c.fileType, got, c.want)
		}
		if strings.Contains(string(got), "hunter2") || strings.Contains(string(got), "s3cret") {
			t.Errorf("%s: a secret was uploaded:\n%s", c.fileType, got)
		}
	}
	if got, _ := acs.Upload("log.txt"); string(got) != "2026-11-22T01:00:00Z hello from the device\n" {
		t.Errorf("log upload %q", got)
	}
	// Bad credentials: 9012.
	id := f.queue(event.TransferQueued{Kind: event.KindUpload, FileType: FileTypeLogUpload, URL: acs.FilesURL() + "/upload/x", Username: "u", Password: "wrong"})
	if out := f.run(id); out.Finished.FaultCode != FaultServerAuth {
		t.Errorf("wrong password: %+v, want 9012", out)
	}
	// Nothing listening: 9015.
	id = f.queue(event.TransferQueued{Kind: event.KindUpload, FileType: FileTypeLogUpload, URL: closedURL(t) + "/upload/x"})
	if out := f.run(id); out.Finished.FaultCode != FaultContact {
		t.Errorf("closed port: %+v, want 9015", out)
	}
	left, _ := filepath.Glob(filepath.Join(f.dir, "uploads", "*"))
	if len(left) != 0 {
		t.Errorf("staged uploads left: %v", left)
	}
}

func TestRunnerDownloadFaults(t *testing.T) {
	acs := startACS(t, acsim.Config{FileAuth: acsim.Auth{Mode: acsim.AuthBasic, Username: "u", Password: "pw"}})
	img := randomBytes(t, 64<<10)
	acs.AddFile("fw.bin", img)
	acs.AddFile("gone.bin", img)
	acs.SetFileFault("gone.bin", acsim.FileFault{NotFound: true})
	acs.AddFile("bad.bin", img)
	acs.SetFileFault("bad.bin", acsim.FileFault{Corrupt: true})
	base := acs.FilesURL() + "/files/"
	cases := []struct {
		name   string
		req    event.TransferQueued
		client func(*FileClient)
		code   int
		msg    string
	}{
		{"404", event.TransferQueued{URL: base + "gone.bin", Username: "u", Password: "pw"}, nil, FaultAccess, "404"},
		{"bad credentials", event.TransferQueued{URL: base + "fw.bin", Username: "u", Password: "nope"}, nil, FaultServerAuth, "401"},
		{"no credentials", event.TransferQueued{URL: base + "fw.bin"}, nil, FaultServerAuth, "401"},
		{"wrong size", event.TransferQueued{URL: base + "fw.bin", Username: "u", Password: "pw", FileSize: uint64(len(img) + 1)}, nil, FaultCorrupted, "size mismatch"},
		{"disk full", event.TransferQueued{URL: base + "fw.bin", Username: "u", Password: "pw"},
			func(c *FileClient) { c.FreeSpace = func(string) (int64, error) { return 100 << 10, nil } }, FaultTransfer, "not enough free space"},
		{"too large", event.TransferQueued{URL: base + "fw.bin", Username: "u", Password: "pw"},
			func(c *FileClient) { c.MaxSize = 1000 }, FaultTransfer, "too large"},
		{"unreachable", event.TransferQueued{URL: closedURL(t) + "/files/fw.bin"}, nil, FaultContact, "unreachable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFix(t)
			if c.client != nil {
				c.client(f.files)
			}
			c.req.FileType = FileTypeFirmware
			id := f.queue(c.req)
			out := f.run(id)
			if out.Finished.FaultCode != c.code || !strings.Contains(out.Finished.FaultString, c.msg) || out.RebootNeeded {
				t.Errorf("outcome %+v, want %d with %q", out.Finished, c.code, c.msg)
			}
			if strings.Contains(out.Finished.FaultString, "pw") || strings.Contains(out.Finished.FaultString, "nope") {
				t.Errorf("password in fault string %q", out.Finished.FaultString)
			}
			if len(f.sim.Installs()) != 0 {
				t.Error("installed")
			}
			noDownloads(t, f)
		})
	}
	// Corrupted content caught by the manifest's sha256 is covered by
	// TestRunnerFirmwareManifestBadLink; a corrupted single image with its
	// size right installs (no digest to check it against), by design.
}

func TestRunnerDroppedConnectionResumes(t *testing.T) {
	acs := startACS(t, acsim.Config{})
	img := randomBytes(t, 1<<20)
	acs.AddFile("fw.bin", img)
	acs.SetFileFault("fw.bin", acsim.FileFault{DropAfter: 300 << 10}) // every response stops after 300 KiB
	f := newFix(t)
	id := f.queue(event.TransferQueued{FileType: FileTypeFirmware, URL: acs.FilesURL() + "/files/fw.bin", FileSize: uint64(len(img))})
	out := f.run(id)
	if out.Finished.FaultCode != 0 {
		t.Fatalf("outcome %+v", out)
	}
	st := stats(acs, "fw.bin")
	if st.RangeRequests < 3 || st.BytesServed >= int64(len(img))*3/2 {
		t.Errorf("stats %+v: want ≥3 range requests and < 1.5× the size served", st)
	}
	if st.BytesServed < int64(len(img)) {
		t.Errorf("served %d < size: counters wrong", st.BytesServed)
	}
	// Beyond the retries: 9017.
	acs.SetFileFault("fw.bin", acsim.FileFault{DropAfter: 10 << 10})
	f2 := newFix(t)
	f2.files.MaxRetries = 2
	id = f2.queue(event.TransferQueued{FileType: FileTypeFirmware, URL: acs.FilesURL() + "/files/fw.bin"})
	if out := f2.run(id); out.Finished.FaultCode != FaultIncomplete {
		t.Errorf("outcome %+v, want 9017", out)
	}
	noDownloads(t, f2)
}

// TestRunnerResumeAfterCrash stops the Runner after the first progress
// record (a crash), reopens the journal and runs a new Runner from the
// folded state: it resumes at the recorded offset, the file crosses the
// wire about once, and is installed once.
func TestRunnerResumeAfterCrash(t *testing.T) {
	acs := startACS(t, acsim.Config{})
	img := randomBytes(t, 16<<20)
	acs.AddFile("fw.bin", img)
	f := newFix(t)
	// A small socket receive buffer keeps the bytes in flight (counted as
	// served by acsim, never read by the crashed fetch) small.
	f.files.Transport = smallBufferTransport()
	id := f.queue(event.TransferQueued{FileType: FileTypeFirmware, URL: acs.FilesURL() + "/files/fw.bin", FileSize: uint64(len(img))})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.wrap = func(j Journal) Journal {
		return journalFunc(func(ctx context.Context, evs ...event.Event) ([]journal.Record, error) {
			recs, err := j.Append(ctx, evs...)
			if _, ok := evs[0].(event.TransferProgress); ok {
				cancel()
			}
			return recs, err
		})
	}
	if _, err := f.runner().Run(ctx, f.transfer(id)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel: %v, want context.Canceled", err)
	}
	f.restart()
	f.wrap = nil
	tr := f.transfer(id)
	off := tr.Files[0].Offset
	if tr.State != projections.TransferInProgressState || off <= 0 || off >= int64(len(img)) {
		t.Fatalf("after the crash: state %s offset %d", tr.State, off)
	}
	out := f.run(id)
	if out.Finished.FaultCode != 0 {
		t.Fatalf("outcome %+v", out)
	}
	st := stats(acs, "fw.bin")
	t.Logf("resumed at %d of %d; served %+v", off, len(img), st)
	if st.RangeRequests != 1 || st.BytesServed >= int64(len(img))*3/2 {
		t.Errorf("stats %+v: want one range request and < 1.5× the size", st)
	}
	if got := f.sim.Installs(); len(got) != 1 {
		t.Errorf("installs %v", got)
	}
}

// TestRunnerCrashWhileApplying: the install happened but TransferFinished
// was never journaled; the next Run sees "applying", calls InstallFirmware
// again, which recognises the version, and reports success: one install.
func TestRunnerCrashWhileApplying(t *testing.T) {
	acs := startACS(t, acsim.Config{})
	var links []string
	data := randomBytes(t, 20<<10)
	acs.AddFile("p.npk", data)
	links = append(links, linkXML(acs.FilesURL()+"/files/p.npk", data))
	acs.AddFile("upgrade.xml", manifestFor(links...))
	f := newFix(t)
	id := f.queue(event.TransferQueued{FileType: FileTypeFirmware, URL: acs.FilesURL() + "/files/upgrade.xml"})
	boom := errors.New("power cut")
	f.wrap = func(j Journal) Journal {
		return journalFunc(func(ctx context.Context, evs ...event.Event) ([]journal.Record, error) {
			for _, e := range evs {
				if _, ok := e.(event.TransferFinished); ok {
					return nil, boom
				}
			}
			return j.Append(ctx, evs...)
		})
	}
	if _, err := f.runner().Run(context.Background(), f.transfer(id)); !errors.Is(err, boom) {
		t.Fatalf("Run: %v", err)
	}
	f.restart()
	f.wrap = nil
	if st := f.transfer(id).State; st != projections.TransferApplyingState {
		t.Fatalf("state %s, want applying", st)
	}
	out := f.run(id)
	if out.Finished.FaultCode != 0 || !out.RebootNeeded {
		t.Fatalf("outcome %+v", out)
	}
	if got := f.sim.Installs(); len(got) != 1 {
		t.Errorf("installs %v, want exactly one", got)
	}
	// The restart intent is durable with the outcome, and raises no M Reboot.
	f.store.View(func(st *projections.State) {
		if !st.Boot.RestartPending || st.Boot.RestartReason != "firmware" || st.Boot.RebootPending {
			t.Errorf("boot state %+v", st.Boot)
		}
	})
	if st := stats(acs, "p.npk"); st.Requests != 1 {
		t.Errorf("package fetched %d times", st.Requests)
	}
}

func TestRunnerHookFailure(t *testing.T) {
	acs := startACS(t, acsim.Config{})
	acs.AddFile("fw.bin", randomBytes(t, 4<<10))
	acs.AddFile("c.alter", []byte("anything"))
	f := newFix(t)
	hooks := &Hooks{
		Ident:        Identity{OUI: SimOUI, SoftwareVersion: "1"},
		Firmware:     `echo "checking $#" >&2; test -s %f || exit 9; echo "bad image signature" >&2; exit 3`,
		ConfigAlter:  `cat %f > /dev/null`,
		ExportLogCmd: `printf 'boot ok\nlink up\n'`,
		StateDir:     t.TempDir(),
	}
	r := f.runner()
	r.Platform = hooks
	id := f.queue(event.TransferQueued{FileType: FileTypeFirmware, URL: acs.FilesURL() + "/files/fw.bin"})
	out, err := r.Run(context.Background(), f.transfer(id))
	if err != nil {
		t.Fatal(err)
	}
	if out.Finished.FaultCode != FaultTransfer || !strings.Contains(out.Finished.FaultString, "bad image signature") || !strings.Contains(out.Finished.FaultString, "exit status 3") {
		t.Errorf("outcome %+v, want 9010 with the command's stderr", out.Finished)
	}
	id = f.queue(event.TransferQueued{FileType: FileTypeConfigDownload, URL: acs.FilesURL() + "/files/c.alter"})
	if out, err := r.Run(context.Background(), f.transfer(id)); err != nil || out.Finished.FaultCode != 0 || out.RebootNeeded {
		t.Errorf("alter via hook: %+v %v", out, err)
	}
	id = f.queue(event.TransferQueued{Kind: event.KindUpload, FileType: FileTypeLogUpload, URL: acs.FilesURL() + "/upload/log"})
	if out, err := r.Run(context.Background(), f.transfer(id)); err != nil || out.Finished.FaultCode != 0 {
		t.Errorf("log via hook: %+v %v", out, err)
	}
	if got, _ := acs.Upload("log"); string(got) != "boot ok\nlink up\n" {
		t.Errorf("log %q", got)
	}
	// An export command that fails: 9011 with its stderr.
	hooks.ExportLogCmd = `echo "logd not running" >&2; exit 1`
	id = f.queue(event.TransferQueued{Kind: event.KindUpload, FileType: FileTypeLogUpload, URL: acs.FilesURL() + "/upload/log2"})
	if out, _ := r.Run(context.Background(), f.transfer(id)); out.Finished.FaultCode != FaultUpload || !strings.Contains(out.Finished.FaultString, "logd not running") {
		t.Errorf("failing export: %+v", out.Finished)
	}
}
