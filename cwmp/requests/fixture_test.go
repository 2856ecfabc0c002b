package requests

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
	"github.com/cwmpd/cwmpd/projections/live"
)

// t0 is the injected clock's reading.
var t0 = time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)

// fix is a Handler over a real journal in a temporary directory.
type fix struct {
	t     testing.TB
	dir   string
	j     *journal.Journal
	store *live.Store
	h     *Handler
	logs  *syncBuffer
}

// syncBuffer collects log output from concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newFix(t testing.TB) *fix {
	t.Helper()
	f := &fix{t: t, dir: t.TempDir(), logs: &syncBuffer{}}
	f.open()
	f.append(event.Booted{Reason: event.BootPowerOn})
	return f
}

func (f *fix) open() {
	f.t.Helper()
	j, err := journal.Open(journal.Options{Dir: f.dir, BootID: "b", Logger: zerolog.Nop()})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { j.Close() })
	s, err := live.Open(j, live.Options{Logger: zerolog.Nop()})
	if err != nil {
		f.t.Fatal(err)
	}
	f.j, f.store = j, s
	// Debug level and a buffer: tests can search everything logged.
	log := zerolog.New(f.logs).Level(zerolog.DebugLevel)
	f.h = &Handler{Store: s, Now: func() time.Time { return t0 }, Log: log}
}

// restart closes the journal and opens it again, as a reboot would.
func (f *fix) restart() {
	f.t.Helper()
	f.store.Close()
	if err := f.j.Close(); err != nil {
		f.t.Fatal(err)
	}
	f.open()
}

func (f *fix) append(evs ...event.Event) []journal.Record {
	f.t.Helper()
	recs, err := f.store.Append(context.Background(), evs...)
	if err != nil {
		f.t.Fatal(err)
	}
	return recs
}

func (f *fix) do(req soap.Message) soap.Message {
	return f.h.Handle(context.Background(), req)
}

func (f *fix) seq() uint64 { return f.j.LastSeq() }

// state returns a deep copy of the folded state.
func (f *fix) state() *projections.State {
	f.t.Helper()
	var b []byte
	var err error
	f.store.View(func(st *projections.State) { b, err = st.Snapshot() })
	if err != nil {
		f.t.Fatal(err)
	}
	st, err := projections.Restore(b)
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

// since returns the events journaled after seq, decoded.
func (f *fix) since(seq uint64) []event.Event {
	f.t.Helper()
	r := f.j.NewReader(seq + 1)
	defer r.Close()
	var out []event.Event
	for r.Next() {
		rec := r.Record()
		e, err := event.Decode(rec.Type, rec.Payload)
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, e)
	}
	if err := r.Err(); err != nil {
		f.t.Fatal(err)
	}
	return out
}

// expectFault checks that resp is a CWMP fault with code and that the
// request journaled nothing.
func (f *fix) expectFault(name string, before uint64, resp soap.Message, code soap.FaultCode) {
	f.t.Helper()
	fl, ok := resp.(*soap.Fault)
	if !ok || fl.Detail == nil {
		f.t.Errorf("%s: got %#v, want fault %d", name, resp, code)
	} else if fl.Detail.FaultCode != code {
		f.t.Errorf("%s: fault %d (%s), want %d", name, fl.Detail.FaultCode, fl.Detail.FaultString, code)
	}
	if after := f.seq(); after != before {
		f.t.Errorf("%s: journal moved from %d to %d on a fault", name, before, after)
	}
}

// queued appends n queued downloads with command key ck.
func (f *fix) queued(n int, ck string) []uint64 {
	f.t.Helper()
	var ids []uint64
	for range n {
		recs := f.append(event.TransferQueued{Kind: event.KindDownload, CommandKey: ck,
			FileType: FileTypeFirmware, URL: "https://fw.example/x", NotBefore: t0})
		ids = append(ids, recs[0].Seq)
	}
	return ids
}

func download(url, ft string) *soap.Download {
	return &soap.Download{CommandKey: "dl", FileType: ft, URL: url}
}

func upload(url, ft string) *soap.Upload {
	return &soap.Upload{CommandKey: "ul", FileType: ft, URL: url}
}

func window(start, end uint32, mode string) soap.TimeWindowStruct {
	return soap.TimeWindowStruct{WindowStart: start, WindowEnd: end, WindowMode: mode, MaxRetries: -1}
}

func scheduleDownload(url, ft string, ws ...soap.TimeWindowStruct) *soap.ScheduleDownload {
	return &soap.ScheduleDownload{CommandKey: "sd", FileType: ft, URL: url, TimeWindowList: ws}
}
