package actions

import (
	"testing"

	"github.com/cwmpd/cwmpd/cwmp/acsim"
	"github.com/cwmpd/cwmpd/projections/event"
)

// A file server that answers 200 with an empty body (a missing file behind
// a careless CDN, a truncated publish) gives no firmware and no
// configuration. Before, the empty firmware image was "installed" (the
// sim took its digest for a version, fault 0, and a reboot), and an empty
// configuration replacement cleared every journal-backed value. Now the
// transfer fails with 9018 (file corrupted) and nothing is installed or
// applied.
func TestRunnerEmptyFileIsCorrupted(t *testing.T) {
	acs := startACS(t, acsim.Config{})
	acs.AddFile("empty", []byte{})
	for _, ft := range []string{FileTypeFirmware, FileTypeConfigDownload} {
		t.Run(ft, func(t *testing.T) {
			f := newFix(t)
			f.append(event.ParametersSet{Values: []event.ParamValue{{Name: "Device.Time.NTPServer1", Value: "pool.ntp.org", Type: "string"}}, Source: "acs"})
			before := f.sim.Identity().SoftwareVersion
			id := f.queue(event.TransferQueued{CommandKey: "empty", FileType: ft, URL: acs.FilesURL() + "/files/empty"})
			out := f.run(id)
			if out.Finished.FaultCode != FaultCorrupted || out.RebootNeeded {
				t.Errorf("outcome %+v, want 9018 without a reboot", out)
			}
			if got := f.sim.Identity().SoftwareVersion; got != before || len(f.sim.Installs()) != 0 {
				t.Errorf("version %q (was %q), installs %v", got, before, f.sim.Installs())
			}
			if v, ok := f.state().Params.Values["Device.Time.NTPServer1"]; !ok || v.Value != "pool.ntp.org" {
				t.Errorf("configuration after an empty replacement: %+v %v", v, ok)
			}
			noDownloads(t, f)
		})
	}
}
