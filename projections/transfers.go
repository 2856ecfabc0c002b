package projections

import (
	"sort"
	"time"

	"github.com/cwmpd/cwmpd/projections/event"
)

// TransferState is where a transfer stands.
type TransferState string

const (
	TransferQueuedState     TransferState = "queued"      // accepted, not started
	TransferInProgressState TransferState = "in-progress" // fetching/sending
	TransferApplyingState   TransferState = "applying"    // install/apply intent journaled
	TransferFinishedState   TransferState = "finished"    // outcome known, TransferComplete owed
)

// FileProgress is the durable resume point of one file of a transfer.
type FileProgress struct {
	URL     string `json:"url,omitempty"`
	Offset  int64  `json:"offset"`
	Fetched bool   `json:"fetched,omitempty"`
	Path    string `json:"path,omitempty"`
	Size    int64  `json:"size,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
}

// Transfer is one Download/Upload/ScheduleDownload, identified by the
// sequence of its TransferQueued record.
type Transfer struct {
	ID      uint64               `json:"id"`
	Request event.TransferQueued `json:"request"`
	State   TransferState        `json:"state"`
	Files   map[int]FileProgress `json:"files,omitempty"`

	StartTime    time.Time `json:"start_time,omitempty"`
	CompleteTime time.Time `json:"complete_time,omitempty"`
	FaultCode    int       `json:"fault_code,omitempty"`
	FaultString  string    `json:"fault_string,omitempty"`
}

// Transfers holds every transfer not yet acknowledged or cancelled.
type Transfers struct {
	ByID map[uint64]*Transfer `json:"by_id,omitempty"`
	// Acked counts TransferComplete acknowledgements ever seen, a cheap
	// witness for "never after its acknowledgement" checks.
	Acked int `json:"acked,omitempty"`
}

// List returns the transfers in the order they were queued.
func (t *Transfers) List() []*Transfer {
	out := make([]*Transfer, 0, len(t.ByID))
	for _, tr := range t.ByID {
		out = append(out, tr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// HasOwed reports whether any TransferComplete is owed (without the
// allocation of Owed: it runs for every record replayed).
func (t *Transfers) HasOwed() bool {
	for _, tr := range t.ByID {
		if tr.State == TransferFinishedState {
			return true
		}
	}
	return false
}

// Owed returns the finished transfers whose TransferComplete the ACS has
// not acknowledged, oldest first.
func (t *Transfers) Owed() []*Transfer {
	var out []*Transfer
	for _, tr := range t.List() {
		if tr.State == TransferFinishedState {
			out = append(out, tr)
		}
	}
	return out
}

func (t *Transfers) get(id uint64) *Transfer {
	if t.ByID == nil {
		return nil
	}
	return t.ByID[id]
}

func (t *Transfers) queued(seq uint64, ev event.TransferQueued) {
	if t.ByID == nil {
		t.ByID = map[uint64]*Transfer{}
	}
	t.ByID[seq] = &Transfer{ID: seq, Request: ev, State: TransferQueuedState}
}

func (t *Transfers) file(id uint64, i int) (*Transfer, FileProgress) {
	tr := t.get(id)
	if tr == nil {
		return nil, FileProgress{}
	}
	if tr.Files == nil {
		tr.Files = map[int]FileProgress{}
	}
	return tr, tr.Files[i]
}

// markedFinished moves a transfer to finished; it reports false for an
// unknown transfer (an invariant violation replay reports).
func (t *Transfers) finished(ev event.TransferFinished) bool {
	tr := t.get(ev.Transfer)
	if tr == nil {
		return false
	}
	tr.State = TransferFinishedState
	tr.FaultCode, tr.FaultString = ev.FaultCode, ev.FaultString
	tr.StartTime, tr.CompleteTime = ev.StartTime, ev.CompleteTime
	return true
}

func (t *Transfers) remove(id uint64) { delete(t.ByID, id) }

// dropUnstarted forgets queued transfers and owed reports: used when the ACS
// URL changes (digest §8.2, as icwmp does: the new ACS did not ask for them).
// Decision: a transfer already in progress or applying keeps going, and its
// TransferComplete goes to the new ACS — it cannot be un-done halfway.
func (t *Transfers) dropUnstarted() {
	for id, tr := range t.ByID {
		if tr.State == TransferQueuedState || tr.State == TransferFinishedState {
			delete(t.ByID, id)
		}
	}
}

// mMethod is the "M <method>" event announcing a transfer's completion.
func mMethod(kind string) string {
	switch kind {
	case event.KindUpload:
		return EventMUpload
	case event.KindScheduleDownload:
		return EventMScheduleDownload
	}
	return EventMDownload
}
