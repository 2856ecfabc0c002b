package actions

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

// journaled is e as it reads back from the journal.
func journaled(t *testing.T, e event.Event) event.Event {
	t.Helper()
	typ, p, err := event.Encode(e)
	if err != nil {
		t.Fatalf("%T does not encode: %v", e, err)
	}
	back, err := event.Decode(typ, p)
	if err != nil {
		t.Fatalf("%T does not decode: %v", e, err)
	}
	return back
}

// FuzzHookOutputs runs real hook commands (sh -c) that print any bytes on
// stdout and stderr and exit with any status, and reads what the agent
// takes from them: the software version (version-command), the boot
// identity (boot-id-file) and the fault of a failed hook.
//
// What the hooks platform reports is journaled and compared with what it
// reports at the next start (a changed version is a VALUE CHANGE, a
// changed boot identity a BOOT): it must read back from the journal
// unchanged, fit the data model (SoftwareVersion is a string(64)) and
// reach the ACS as the agent holds it. A
// failed hook is a *Fault with a transfer's code (9010 for a download)
// and a fault string of valid UTF-8 within the schema's 256 characters,
// which reads back from the journal unchanged too.
func FuzzHookOutputs(f *testing.F) {
	f.Add([]byte("1.2.3\n"), []byte(""), uint8(0))
	f.Add([]byte("  OpenWrt 23.05.2 r23630  \n"), []byte("warning: x\n"), uint8(0))
	f.Add([]byte("line one\nline two\n"), []byte(""), uint8(0))
	f.Add([]byte("v\xff\xfe1"), []byte(""), uint8(0))
	f.Add([]byte("\x1b[31m1.0\x1b[0m"), []byte(""), uint8(0))
	f.Add([]byte("0123456789012345678901234567890123456789012345678901234567890123456789"), []byte(""), uint8(0))
	f.Add([]byte(""), []byte("sysupgrade: image check failed\n"), uint8(1))
	f.Add([]byte(""), append(make([]byte, 199), []byte("ééé: failed")...), uint8(2))
	f.Add([]byte("2.0"), []byte("\xe9\x80\x80\xe9\x80\x80 "+string(make([]byte, 300))), uint8(127))
	f.Add([]byte("a1b2c3d4-0000-4000-8000-000000000000\n"), []byte(""), uint8(0))
	f.Add([]byte(""), []byte("x"+strings.Repeat("é", 150)+"y"), uint8(1))
	dir := f.TempDir()
	out, errOut := filepath.Join(dir, "out"), filepath.Join(dir, "err")
	img := filepath.Join(dir, "img")
	if err := os.WriteFile(img, []byte("image"), 0o644); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, stdout, stderr []byte, exit uint8) {
		if err := os.WriteFile(out, stdout, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(errOut, stderr, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := "cat " + shellQuote(out) + "; cat " + shellQuote(errOut) + " >&2; exit " + strconv.Itoa(int(exit))
		h := &Hooks{Ident: Identity{SoftwareVersion: "configured"}, VersionCommand: cmd, ConfigAlter: cmd, BootIDFile: out}

		v := h.Identity().SoftwareVersion
		if !utf8.ValidString(v) || utf8.RuneCountInString(v) > 64 {
			t.Fatalf("software version %q: not a string(64)", v)
		}
		// The ACS reads the version the agent compares firmware with.
		var wire bytes.Buffer
		if err := soap.Encode(&wire, &soap.Envelope{Body: &soap.GetParameterValuesResponse{ParameterList: []soap.ParameterValueStruct{
			{Name: "Device.DeviceInfo.SoftwareVersion", Value: v, Type: soap.TypeString}}}}); err != nil {
			t.Fatal(err)
		}
		env, err := soap.Decode(&wire, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := env.Body.(*soap.GetParameterValuesResponse).ParameterList[0].Value; got != v {
			t.Fatalf("software version %q reaches the ACS as %q", v, got)
		}
		boot := h.DeviceBoot()
		b := journaled(t, event.Booted{Reason: "power on", SoftwareVersion: v, DeviceBoot: boot}).(event.Booted)
		if b.SoftwareVersion != v || b.DeviceBoot != boot {
			t.Fatalf("journaled as version %q, boot %q; reported %q, %q", b.SoftwareVersion, b.DeviceBoot, v, boot)
		}

		// A configuration change: the same hook runner as a firmware
		// install, without the install marker's syncs.
		_, err = h.ApplyConfig(context.Background(), img, true, projections.Params{})
		if exit == 0 {
			if err != nil {
				t.Fatalf("exit 0: %v", err)
			}
			return
		}
		var fl *Fault
		if !errors.As(err, &fl) || fl.Code != FaultTransfer {
			t.Fatalf("exit %d: %v", exit, err)
		}
		code, msg := FaultOf(err, FaultTransfer)
		if code != FaultTransfer || !utf8.ValidString(msg) || utf8.RuneCountInString(msg) > 256 {
			t.Fatalf("fault %d %q", code, msg)
		}
		fin := event.TransferFinished{Transfer: 1, FaultCode: code, FaultString: msg}
		if back := journaled(t, fin); !reflect.DeepEqual(back, fin) {
			t.Fatalf("fault string %q journaled as %q", msg, back.(event.TransferFinished).FaultString)
		}
	})
}
