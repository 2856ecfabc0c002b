package requests

import (
	"context"
	"encoding/json"
	"io"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/cwmp/soap"
)

// FuzzHandleRequests drives the device and transfer RPCs with fuzzed
// arguments against a real journal whose queue the earlier inputs filled.
// A request the decoder would accept must get an answer that encodes, and
// neither a fault nor the debug log may quote the request's password or
// the password in its URL.
func FuzzHandleRequests(f *testing.F) {
	f.Add(uint8(0), "k", "1 Firmware Upgrade Image", "http://files.example/fw.bin", "u", "secret1", uint32(1000), "fw.bin", uint32(0), uint32(0), uint32(60), "1 At Any Time", int32(-1))
	f.Add(uint8(1), "k", "3 Vendor Log File", "https://user:secret2@files.example/up", "u", "", uint32(0), "", uint32(5), uint32(0), uint32(0), "", int32(0))
	f.Add(uint8(1), "k", "1 Vendor Configuration File", "https://user:secret5@files.example/up", "u", "secret6", uint32(0), "", uint32(5), uint32(0), uint32(0), "", int32(0))
	f.Add(uint8(0), "k", "1 Firmware Upgrade Image", "https://user:secret7@files.example/fw.bin", "u", "", uint32(100), "fw.bin", uint32(0), uint32(0), uint32(0), "", int32(0))
	f.Add(uint8(2), "sd", "1 Firmware Upgrade Image", "http://files.example/fw.bin", "u", "secret3", uint32(10), "", uint32(0), uint32(30), uint32(3600), "2 Immediately", int32(3))
	f.Add(uint8(2), "sd", "1 Firmware Upgrade Image", "http://files.example/fw.bin", "", "", uint32(10), "", uint32(0), uint32(60), uint32(30), "X 02C0DE Mine", int32(0))
	f.Add(uint8(3), "si", "", "", "", "", uint32(0), "", uint32(30), uint32(0), uint32(0), "", int32(0))
	f.Add(uint8(4), "r", "", "", "", "", uint32(0), "", uint32(0), uint32(0), uint32(0), "", int32(0))
	f.Add(uint8(5), "k", "", "", "", "", uint32(0), "", uint32(0), uint32(0), uint32(0), "", int32(0))
	f.Add(uint8(0), "k", "X 02C0DE Factory Configuration", "ftp://files.example/a", "", "pw-secret", uint32(0), "../x", uint32(0), uint32(0), uint32(0), "", int32(0))
	f.Add(uint8(0), "k", "1 Firmware Upgrade Image", "http://:secret4@/x", "", "", uint32(0), "", uint32(0), uint32(0), uint32(0), "", int32(0))

	// Bounds far above the defaults: with 16 transfers and 64 schedules the
	// queue is full after a few hundred inputs and every later request
	// would only meet the 9004 refusal (tested on its own elsewhere).
	h := newFix(f).h
	h.MaxTransfers, h.MaxSchedules = 1<<20, 1<<20

	f.Fuzz(func(t *testing.T, method uint8, key, fileType, rawURL, user, pass string, size uint32, target string,
		delay, winStart, winEnd uint32, winMode string, retries int32) {
		// The passwords carry a marker, so that finding one in a fault or
		// the log means it was quoted, not that it happens to be a word
		// the handler writes anyway.
		var secrets []string
		if pass != "" {
			pass = "pw<" + pass + ">7f3a"
			secrets = append(secrets, pass)
		}
		if u, err := url.Parse(rawURL); err == nil && u.User != nil {
			if p, ok := u.User.Password(); ok {
				p = "url<" + p + ">9c1e"
				u.User = url.UserPassword(u.User.Username(), p)
				rawURL = u.String()
				secrets = append(secrets, p, url.UserPassword("", p).String()[1:])
			}
		}
		var req soap.Message
		switch method % 9 {
		case 0:
			req = &soap.Download{CommandKey: key, FileType: fileType, URL: rawURL, Username: user, Password: pass,
				FileSize: size, TargetFileName: target, DelaySeconds: delay}
		case 1:
			req = &soap.Upload{CommandKey: key, FileType: fileType, URL: rawURL, Username: user, Password: pass, DelaySeconds: delay}
		case 2:
			req = &soap.ScheduleDownload{CommandKey: key, FileType: fileType, URL: rawURL, Username: user, Password: pass,
				FileSize: size, TargetFileName: target, TimeWindowList: []soap.TimeWindowStruct{
					{WindowStart: winStart, WindowEnd: winEnd, WindowMode: winMode, MaxRetries: retries},
					{WindowStart: winEnd, WindowEnd: winEnd + delay, WindowMode: winMode, UserMessage: target, MaxRetries: retries},
				}[:1+int(delay%2)]}
		case 3:
			req = &soap.ScheduleInform{DelaySeconds: delay, CommandKey: key}
		case 4:
			req = &soap.Reboot{CommandKey: key}
		case 5:
			req = &soap.CancelTransfer{CommandKey: key}
		case 6:
			req = &soap.GetQueuedTransfers{}
		case 7:
			req = &soap.GetAllQueuedTransfers{}
		default:
			req = &soap.FactoryReset{}
		}
		if err := soap.Encode(io.Discard, &soap.Envelope{Header: soap.Header{ID: "f"}, Body: req}); err != nil {
			return // the decoder would have refused it before any handler
		}
		logs := &syncBuffer{}
		h.Log = zerolog.New(logs).Level(zerolog.DebugLevel)
		resp := h.Handle(context.Background(), req)
		if resp == nil {
			t.Fatalf("%s %+v: no answer", req.MethodName(), req)
		}
		if err := soap.Encode(io.Discard, &soap.Envelope{Header: soap.Header{ID: "f"}, Body: resp}); err != nil {
			t.Fatalf("%s %+v: the answer %T does not encode: %v", req.MethodName(), req, resp, err)
		}
		var faultString string
		if fault, ok := resp.(*soap.Fault); ok && fault.Detail != nil {
			faultString = fault.Detail.FaultString
		}
		for _, s := range secrets {
			// As written, and as a JSON log line or a %q would escape it.
			js, _ := json.Marshal(s)
			forms := []string{s, string(js[1 : len(js)-1]), strconv.Quote(s)[1 : len(strconv.Quote(s))-1]}
			for _, form := range forms {
				if strings.Contains(faultString, form) {
					t.Fatalf("%s: fault %q quotes the secret %q", req.MethodName(), faultString, s)
				}
				if strings.Contains(logs.String(), form) {
					t.Fatalf("%s: the log quotes the secret %q:\n%s", req.MethodName(), s, logs.String())
				}
			}
		}
	})
}
