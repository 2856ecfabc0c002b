package requests

import (
	"context"
	"reflect"
	"testing"

	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/projections/event"
)

// fourStates queues four transfers and moves them to queued, in progress,
// applying and finished; it returns their IDs.
func (f *fix) fourStates() []uint64 {
	f.t.Helper()
	recs := f.append(
		event.TransferQueued{Kind: event.KindDownload, CommandKey: "q", FileType: FileTypeFirmware, URL: "https://x/a", FileSize: 100, TargetFileName: "a.bin", NotBefore: t0},
		event.TransferQueued{Kind: event.KindUpload, CommandKey: "p", FileType: FileTypeLogUpload, URL: "https://x/b", NotBefore: t0},
		event.TransferQueued{Kind: event.KindScheduleDownload, CommandKey: "a", FileType: FileTypeConfigDownload, URL: "https://x/c", NotBefore: t0},
		event.TransferQueued{Kind: event.KindDownload, CommandKey: "f", FileType: factoryType, URL: "https://x/d", FileSize: 1 << 40, NotBefore: t0},
	)
	ids := []uint64{recs[0].Seq, recs[1].Seq, recs[2].Seq, recs[3].Seq}
	f.append(
		event.TransferStarted{Transfer: ids[1], StartTime: t0},
		event.TransferStarted{Transfer: ids[2], StartTime: t0},
		event.TransferApplying{Transfer: ids[2]},
		event.TransferStarted{Transfer: ids[3], StartTime: t0},
		event.TransferFinished{Transfer: ids[3], StartTime: t0, CompleteTime: t0},
	)
	return ids
}

func TestGetQueuedTransfers(t *testing.T) {
	f := newFix(t)
	resp := f.do(&soap.GetQueuedTransfers{})
	if r, ok := resp.(*soap.GetQueuedTransfersResponse); !ok || r.TransferList == nil || len(r.TransferList) != 0 {
		t.Fatalf("empty queue: %#v", resp)
	}
	f.fourStates()
	before := f.seq()
	resp = f.do(&soap.GetQueuedTransfers{})
	want := &soap.GetQueuedTransfersResponse{TransferList: []soap.QueuedTransferStruct{
		{CommandKey: "q", State: 1}, {CommandKey: "p", State: 2}, {CommandKey: "a", State: 2}, {CommandKey: "f", State: 3},
	}}
	if !reflect.DeepEqual(resp, want) {
		t.Fatalf("got %#v\nwant %#v", resp, want)
	}
	if f.seq() != before {
		t.Fatal("a query journaled something")
	}
}

func TestGetAllQueuedTransfers(t *testing.T) {
	f := newFix(t)
	f.fourStates()
	resp := f.do(&soap.GetAllQueuedTransfers{})
	want := &soap.GetAllQueuedTransfersResponse{TransferList: []soap.AllQueuedTransferStruct{
		{CommandKey: "q", State: 1, IsDownload: true, FileType: FileTypeFirmware, FileSize: 100, TargetFileName: "a.bin"},
		{CommandKey: "p", State: 2, IsDownload: false, FileType: FileTypeLogUpload},
		{CommandKey: "a", State: 2, IsDownload: true, FileType: FileTypeConfigDownload},
		{CommandKey: "f", State: 3, IsDownload: true, FileType: factoryType, FileSize: 1<<32 - 1},
	}}
	if !reflect.DeepEqual(resp, want) {
		t.Fatalf("got %#v\nwant %#v", resp, want)
	}
}

// With more than 16 transfers (a raised MaxTransfers), the oldest 16 are
// listed: the schema allows no more.
func TestQueueListsAtMostSixteenOldestFirst(t *testing.T) {
	f := newFix(t)
	for i := range 20 {
		f.append(event.TransferQueued{Kind: event.KindDownload, CommandKey: string(rune('a' + i)), FileType: FileTypeFirmware, URL: "https://x/", NotBefore: t0})
	}
	q := f.do(&soap.GetQueuedTransfers{}).(*soap.GetQueuedTransfersResponse)
	all := f.do(&soap.GetAllQueuedTransfers{}).(*soap.GetAllQueuedTransfersResponse)
	if len(q.TransferList) != 16 || len(all.TransferList) != 16 {
		t.Fatalf("listed %d and %d, want 16", len(q.TransferList), len(all.TransferList))
	}
	for i := range 16 {
		want := string(rune('a' + i))
		if q.TransferList[i].CommandKey != want || all.TransferList[i].CommandKey != want {
			t.Fatalf("entry %d: %q / %q, want %q", i, q.TransferList[i].CommandKey, all.TransferList[i].CommandKey, want)
		}
	}
}

func TestCancelTransfer(t *testing.T) {
	f := newFix(t)
	ids := f.fourStates() // keys q (queued), p (in progress), a (applying), f (finished)
	dup := f.queued(2, "dup")
	empty := f.queued(1, "")
	mixed := f.queued(1, "p") // shares "p" with the transfer in progress

	// Faults first: nothing journaled, nothing removed.
	for _, tc := range []struct {
		name, ck string
		code     soap.FaultCode
	}{
		{"unknown key", "nope", soap.FaultInvalidArguments},
		{"in progress (and a queued one with the same key)", "p", soap.FaultCancelNotPermitted},
		{"applying", "a", soap.FaultCancelNotPermitted},
		{"finished, TransferComplete owed", "f", soap.FaultCancelNotPermitted},
	} {
		f.expectFault(tc.name, f.seq(), f.do(&soap.CancelTransfer{CommandKey: tc.ck}), tc.code)
	}
	if st := f.state(); st.Transfers.ByID[mixed[0]] == nil || st.Transfers.ByID[ids[1]] == nil {
		t.Fatal("a refused cancel removed a transfer")
	}

	for _, tc := range []struct {
		name, ck string
		ids      []uint64
	}{
		{"queued", "q", ids[:1]},
		{"every transfer with a shared key", "dup", dup},
		{"empty key", "", empty},
	} {
		before := f.seq()
		if _, ok := f.do(&soap.CancelTransfer{CommandKey: tc.ck}).(*soap.CancelTransferResponse); !ok {
			t.Errorf("%s: refused", tc.name)
			continue
		}
		var want []event.Event
		for _, id := range tc.ids {
			want = append(want, event.TransferCancelled{Transfer: id})
		}
		if got := f.since(before); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: journaled %#v, want %#v", tc.name, got, want)
		}
		st := f.state()
		for _, id := range tc.ids {
			if st.Transfers.ByID[id] != nil {
				t.Errorf("%s: transfer #%d still in the projection", tc.name, id)
			}
		}
		// Cancelled means forgotten: a second cancel is an unknown key.
		f.expectFault(tc.name+" again", f.seq(), f.do(&soap.CancelTransfer{CommandKey: tc.ck}), soap.FaultInvalidArguments)
	}
	// No TransferComplete is owed for a cancelled transfer: only "f" is.
	owed := f.state().Transfers.Owed()
	if len(owed) != 1 || owed[0].ID != ids[3] {
		t.Fatalf("owed after cancels: %v", owed)
	}
}

// Every request that journals answers 9002 when the journal cannot record
// it, and also when its session context is already done; nothing is
// written either way.
func TestJournalFailureIs9002AndPromisesNothing(t *testing.T) {
	f := newFix(t)
	f.queued(1, "c")
	w := window(0, 60, WindowAtAnyTime)
	reqs := []soap.Message{
		&soap.Reboot{CommandKey: "r"},
		&soap.FactoryReset{},
		&soap.ScheduleInform{DelaySeconds: 5},
		download("https://x.example/a", FileTypeFirmware),
		upload("https://x.example/a", FileTypeLogUpload),
		scheduleDownload("https://x.example/a", FileTypeFirmware, w),
		&soap.CancelTransfer{CommandKey: "c"},
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, r := range reqs {
		f.expectFault(r.MethodName()+" with a done context", f.seq(), f.h.Handle(ctx, r), soap.FaultInternalError)
	}
	before := f.state()
	f.j.Close()
	for _, r := range reqs {
		f.expectFault(r.MethodName()+" on a closed journal", f.seq(), f.do(r), soap.FaultInternalError)
	}
	after := f.state()
	if !reflect.DeepEqual(before, after) {
		t.Fatal("a refused request changed the state")
	}
	if after.Boot.RebootPending || after.Boot.FactoryResetPending || len(after.Schedules) != 0 || len(after.Transfers.ByID) != 1 {
		t.Fatalf("state after refusals: boot %+v, schedules %v, transfers %d", after.Boot, after.Schedules, len(after.Transfers.ByID))
	}
}

type recorder struct{ got []soap.Message }

func (r *recorder) Handle(_ context.Context, req soap.Message) soap.Message {
	r.got = append(r.got, req)
	return &soap.GetRPCMethodsResponse{}
}

func TestOtherMethodsGoToNextOr9000(t *testing.T) {
	f := newFix(t)
	req := &soap.GetParameterValues{ParameterNames: []string{"Device."}}
	resp := f.do(req)
	fl, ok := resp.(*soap.Fault)
	if !ok || fl.Detail.FaultCode != soap.FaultMethodNotSupported || fl.Detail.FaultString != "method not supported: GetParameterValues" {
		t.Fatalf("no Next: %#v", resp)
	}
	next := &recorder{}
	f.h.Next = next
	if _, ok := f.do(req).(*soap.GetRPCMethodsResponse); !ok || len(next.got) != 1 || next.got[0] != req {
		t.Fatalf("Next not called with the request: %v", next.got)
	}
	// Requests served here never reach Next.
	f.do(&soap.GetQueuedTransfers{})
	if len(next.got) != 1 {
		t.Fatal("a served request went to Next")
	}
}

// Methods lists exactly what Handle serves.
func TestMethodsMatchesHandle(t *testing.T) {
	f := newFix(t)
	f.queued(1, "c")
	served := map[string]soap.Message{
		"Reboot":                &soap.Reboot{},
		"FactoryReset":          &soap.FactoryReset{},
		"ScheduleInform":        &soap.ScheduleInform{DelaySeconds: 1},
		"Download":              download("https://x.example/a", FileTypeFirmware),
		"Upload":                upload("https://x.example/a", FileTypeLogUpload),
		"ScheduleDownload":      scheduleDownload("https://x.example/a", FileTypeFirmware, window(0, 1, WindowAtAnyTime)),
		"GetQueuedTransfers":    &soap.GetQueuedTransfers{},
		"GetAllQueuedTransfers": &soap.GetAllQueuedTransfers{},
		"CancelTransfer":        &soap.CancelTransfer{CommandKey: "c"},
	}
	list := Methods()
	if len(list) != len(served) {
		t.Fatalf("Methods() = %v, want the %d served", list, len(served))
	}
	for _, name := range list {
		req, ok := served[name]
		if !ok {
			t.Errorf("Methods lists %q, which is not served", name)
			continue
		}
		if fl, isFault := f.do(req).(*soap.Fault); isFault {
			t.Errorf("%s: fault %d %s", name, fl.Detail.FaultCode, fl.Detail.FaultString)
		}
	}
	list[0] = "changed"
	if Methods()[0] == "changed" {
		t.Fatal("Methods returns its internal slice")
	}
}

// closingCtx is a session context cancelled just after the handler checked
// it: Err still reads nil, Done is already closed.
type closingCtx struct{ context.Context }

func (closingCtx) Done() <-chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

// A cancellation that arrives while the append is under way must not leave
// its outcome unknown (a 9002 for an intent that became durable): the
// append runs to its end and the request is answered with what happened.
func TestCancellationDuringAppendDoesNotLoseTheOutcome(t *testing.T) {
	f := newFix(t)
	ctx := closingCtx{context.Background()}
	for i, r := range []soap.Message{&soap.Reboot{CommandKey: "late"}, download("https://x.example/a", FileTypeFirmware)} {
		before := f.seq()
		resp := f.h.Handle(ctx, r)
		if fl, ok := resp.(*soap.Fault); ok {
			t.Fatalf("%d %s: fault %d %s (journal %d → %d)", i, r.MethodName(), fl.Detail.FaultCode, fl.Detail.FaultString, before, f.seq())
		}
		if f.seq() != before+1 {
			t.Fatalf("%s answered but journal moved %d → %d", r.MethodName(), before, f.seq())
		}
	}
}
