package actions

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cwmpd/cwmpd/cwmp/acsim"
	"github.com/cwmpd/cwmpd/projections/event"
)

// A second Download of the same firmware, a new request of the ACS after
// the first one finished, runs the install command again. The install
// marker guards a repeat of the same transfer after a crash, not every
// later install of the same image: the device may have rolled back (the
// image did not boot, the version did not change) or been reflashed from
// the LAN, and the ACS sends the Download again to install it. Before, the
// marker of the first install was still there: an image without a version
// was reported installed (fault 0) with nothing run, and a manifest's
// version got 9010 "installed but not running" with nothing run.
func TestHooksSecondDownloadOfTheSameFirmwareInstallsAgain(t *testing.T) {
	acs := startACS(t, acsim.Config{})
	img := randomBytes(t, 40<<10)
	acs.AddFile("fw.bin", img)
	acs.AddFile("fw.xml", manifestFor(linkXML(acs.FilesURL()+"/files/fw.bin", img)))
	for _, c := range []struct{ name, file string }{
		{"image without a version", "fw.bin"},
		{"manifest with a version the device rolled back from", "fw.xml"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFix(t)
			count := filepath.Join(f.dir, "installs")
			// The version stays 1.0: the image did not boot, or it has no
			// version to tell.
			h := &Hooks{Firmware: "echo %f >> " + shellQuote(count), VersionCommand: "echo 1.0", StateDir: f.dir}
			for i, ck := range []string{"first", "again"} {
				id := f.queue(event.TransferQueued{CommandKey: ck, FileType: FileTypeFirmware, URL: acs.FilesURL() + "/files/" + c.file})
				r := f.runner()
				r.Platform = h
				out, err := r.Run(t.Context(), f.transfer(id))
				if err != nil {
					t.Fatalf("%s: Run: %v", ck, err)
				}
				if out.Finished.FaultCode != 0 {
					t.Errorf("%s: fault %d %q, want the install to run and succeed", ck, out.Finished.FaultCode, out.Finished.FaultString)
				}
				b, _ := os.ReadFile(count)
				if got := strings.Count(string(b), "\n"); got != i+1 {
					t.Errorf("%s: the install command ran %d times in all, want %d", ck, got, i+1)
				}
			}
		})
	}
}

// A marker written by the agent before this one (no paths in it) still
// stops a repeat: a sysupgrade that replaced the agent mid-install must
// not install twice at the first start of the new one.
func TestHooksLegacyMarkerStillCounts(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "downloads", "7-0")
	os.MkdirAll(filepath.Dir(img), 0o755)
	os.WriteFile(img, []byte("image"), 0o644)
	os.WriteFile(filepath.Join(dir, "firmware-install"), []byte("files "+sha([]byte(sha([]byte("image"))+"\n"))+"\n"), 0o644)
	ran := filepath.Join(dir, "ran")
	h := &Hooks{Firmware: "touch " + shellQuote(ran), StateDir: dir}
	if err := h.InstallFirmware(t.Context(), []string{img}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ran); err == nil {
		t.Error("the install ran again under a legacy marker")
	}
}
