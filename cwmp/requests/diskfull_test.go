package requests

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections/event"
	"github.com/cwmpd/cwmpd/projections/live"
)

// TestDiskFullIsResourcesExceeded: when the journal's storage falls below
// its reserve mid-session, a new Download is refused with 9004 (the device
// is full), not 9002, and nothing is promised.
func TestDiskFullIsResourcesExceeded(t *testing.T) {
	var free atomic.Uint64
	free.Store(1 << 30)
	j, err := journal.Open(journal.Options{Dir: t.TempDir(), BootID: "b", Logger: zerolog.Nop(),
		MinFreeBytes: 20 << 20, FreeSpace: func() (uint64, error) { return free.Load(), nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	s, err := live.Open(j, live.Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(context.Background(), event.Booted{Reason: event.BootPowerOn}); err != nil {
		t.Fatal(err)
	}
	h := &Handler{Store: s, Now: func() time.Time { return t0 }, Log: zerolog.Nop()}
	free.Store(5 << 20)
	before := j.LastSeq()
	resp := h.Handle(context.Background(), &soap.Download{CommandKey: "dl", FileType: "1 Firmware Upgrade Image", URL: "https://files.example/fw.bin"})
	f, ok := resp.(*soap.Fault)
	if !ok || f.Detail.FaultCode != soap.FaultResourcesExceeded || j.LastSeq() != before {
		t.Fatalf("got %#v (journal %d → %d)", resp, before, j.LastSeq())
	}
	free.Store(1 << 30)
	if _, ok := h.Handle(context.Background(), &soap.Download{CommandKey: "dl", FileType: "1 Firmware Upgrade Image", URL: "https://files.example/fw.bin"}).(*soap.DownloadResponse); !ok {
		t.Fatal("Download refused once space was freed")
	}
}
