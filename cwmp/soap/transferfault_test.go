package soap

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// schemaOf names the BBF schema of exactly v (samples' schemaFile checks
// 1.3 against cwmp-1-4.xsd; here each version is held to its own).
func schemaOf(v Version) string { return "cwmp-" + strings.ReplaceAll(v.String(), ".", "-") + ".xsd" }

// transferFaultCodes are the codes tried against each schema: success, the
// ACS range, every CPE code up to the vendor range's end, and beyond it.
func transferFaultCodes() []FaultCode {
	codes := []FaultCode{FaultNone, 1, FaultACSMethodNotSupported, FaultACSRetryRequest, 8899}
	for c := FaultCode(9000); c <= 9899; c++ {
		codes = append(codes, c)
	}
	return append(codes, 9900, 10000)
}

// TestKnowsTransferFaultIsTheSchemas holds KnowsTransferFault to the XSDs:
// for every version, a TransferComplete with code c validates against that
// version's schema exactly when KnowsTransferFault says v knows c.
func TestKnowsTransferFaultIsTheSchemas(t *testing.T) {
	val := newValidator(t)
	t1 := time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC)
	for v := V1_0; v <= V1_4; v++ {
		t.Run(v.String(), func(t *testing.T) {
			dir := t.TempDir()
			codes := transferFaultCodes()
			files := make([]string, len(codes))
			known := 0
			for i, c := range codes {
				out := encodeSample(t, &Envelope{Version: v, Header: Header{ID: "tc"}, Body: &TransferComplete{
					CommandKey: "k", FaultStruct: FaultStruct{FaultCode: c, FaultString: "x"}, StartTime: t1, CompleteTime: t1}})
				files[i] = filepath.Join(dir, fmt.Sprintf("%d.xml", c))
				if err := os.WriteFile(files[i], out, 0o644); err != nil {
					t.Fatal(err)
				}
				if v.KnowsTransferFault(c) {
					known++
				}
			}
			failed := val.validate(t, schemaOf(v), files)
			for i, c := range codes {
				_, rejected := failed[files[i]]
				if v.KnowsTransferFault(c) == rejected {
					t.Errorf("%s: code %d: KnowsTransferFault %v, schema accepts %v", schemaOf(v), c, v.KnowsTransferFault(c), !rejected)
				}
			}
			t.Logf("%s: %d of %d codes known", schemaOf(v), known, len(codes))
		})
	}
}

// TestFaultStructForVersion: what ForVersion sends validates against every
// version's schema, in TransferComplete and (1.1+) AutonomousTransferComplete;
// an unknown code becomes 9010 for a download and 9011 for an upload with
// the precise code leading the FaultString, cut to 256 characters.
func TestFaultStructForVersion(t *testing.T) {
	long := strings.Repeat("é", 300) // 300 characters, 600 bytes
	cases := []struct {
		in       FaultStruct
		upload   bool
		v        Version
		want     FaultStruct
		wantCut  bool // FaultString cut to 256 characters ending in "…"
		wantSame bool
	}{
		{in: FaultStruct{FaultTransferAccessFile, "HTTP 404"}, v: V1_0, want: FaultStruct{FaultTransferFailure, "9016: HTTP 404"}},
		{in: FaultStruct{FaultTransferContactServer, "connect: refused"}, upload: true, v: V1_0, want: FaultStruct{FaultUploadFailure, "9015: connect: refused"}},
		{in: FaultStruct{FaultTransferTimeWindows, ""}, v: V1_0,
			want: FaultStruct{FaultTransferFailure, "9020: File transfer failure: unable to complete download within specified time windows"}},
		{in: FaultStruct{FaultTransferAccessFile, long}, v: V1_0, wantCut: true},
		{in: FaultStruct{FaultTransferAccessFile, "HTTP 404"}, v: V1_1, wantSame: true},
		{in: FaultStruct{FaultTransferTimeWindows, "window ended"}, v: V1_1, wantSame: true}, // 1.1's future range
		{in: FaultStruct{FaultTransferTimeWindows, "window ended"}, v: V1_2, wantSame: true},
		{in: FaultStruct{FaultUnsupportedProtocol, "ftp"}, v: V1_4, want: FaultStruct{FaultTransferFailure, "9013: ftp"}},
		{in: FaultStruct{FaultResourcesExceeded, "disk"}, upload: true, v: V1_3, want: FaultStruct{FaultUploadFailure, "9004: disk"}},
		{in: FaultStruct{FaultCancelNotPermitted, "x"}, v: V1_2, want: FaultStruct{FaultTransferFailure, "9021: x"}},
		{in: FaultStruct{FaultCancelNotPermitted, "x"}, v: V1_1, wantSame: true},
		{in: FaultStruct{9850, "vendor"}, v: V1_0, want: FaultStruct{FaultTransferFailure, "9850: vendor"}},
		{in: FaultStruct{9850, "vendor"}, v: V1_4, wantSame: true},
		{in: FaultStruct{FaultTransferAuthFailure, "401"}, upload: true, v: V1_0, wantSame: true},
		{in: FaultStruct{FaultNone, ""}, v: V1_0, wantSame: true},
	}
	val := newValidator(t)
	dir := t.TempDir()
	t1 := time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC)
	bySchema := map[string][]string{}
	for i, c := range cases {
		got := c.in.ForVersion(c.v, c.upload)
		switch {
		case c.wantSame:
			if got != c.in {
				t.Errorf("%d: %v %+v changed to %+v", i, c.v, c.in, got)
			}
		case c.wantCut:
			if got.FaultCode != FaultTransferFailure || utf8.RuneCountInString(got.FaultString) != 256 ||
				!strings.HasPrefix(got.FaultString, "9016: éé") || !strings.HasSuffix(got.FaultString, "é…") {
				t.Errorf("%d: long FaultString: %d %d characters %q", i, got.FaultCode, utf8.RuneCountInString(got.FaultString), got.FaultString)
			}
		default:
			if got != c.want {
				t.Errorf("%d: %v %+v upload=%v: got %+v, want %+v", i, c.v, c.in, c.upload, got, c.want)
			}
		}
		msgs := []Message{&TransferComplete{CommandKey: "k", FaultStruct: got, StartTime: t1, CompleteTime: t1}}
		if c.v >= V1_1 {
			msgs = append(msgs, &AutonomousTransferComplete{AnnounceURL: "", TransferURL: "http://f/x", IsDownload: !c.upload,
				FileType: "1 Firmware Upgrade Image", FaultStruct: got, StartTime: t1, CompleteTime: t1})
		}
		for j, m := range msgs {
			f := filepath.Join(dir, fmt.Sprintf("%d-%d.xml", i, j))
			if err := os.WriteFile(f, encodeSample(t, &Envelope{Version: c.v, Body: m}), 0o644); err != nil {
				t.Fatal(err)
			}
			bySchema[schemaOf(c.v)] = append(bySchema[schemaOf(c.v)], f)
		}
	}
	for schema, files := range bySchema {
		for f, msg := range val.validate(t, schema, files) {
			t.Errorf("%s does not validate against %s:\n%s", filepath.Base(f), schema, msg)
		}
	}
}
