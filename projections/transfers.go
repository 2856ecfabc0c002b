package projections

import (
	"fmt"
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

	// The retries of a ScheduleDownload (its windows' MaxRetries, D§11.9),
	// folded from TransferAttemptFailed: failed attempts in all, the window
	// the newest one counted against and how many did (WindowFailures), the
	// newest one's fault, and when the next attempt may start (journaled,
	// never recomputed; cleared when the transfer finishes).
	FailedAttempts  int       `json:"failed_attempts,omitempty"`
	RetryWindow     int       `json:"retry_window,omitempty"`
	WindowFailures  int       `json:"window_failures,omitempty"`
	LastFaultCode   int       `json:"last_fault_code,omitempty"`
	LastFaultString string    `json:"last_fault_string,omitempty"`
	NextAttempt     time.Time `json:"next_attempt,omitzero"`
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
	tr.NextAttempt = time.Time{}
	return true
}

// attemptFailed counts a failed attempt of a transfer in progress; it
// returns a violation's reason, or "".
func (t *Transfers) attemptFailed(ev event.TransferAttemptFailed) string {
	tr := t.get(ev.Transfer)
	if tr == nil {
		return fmt.Sprintf("failed attempt of unknown transfer #%d", ev.Transfer)
	}
	if tr.State != TransferInProgressState {
		return fmt.Sprintf("failed attempt of transfer #%d, which is %s", ev.Transfer, tr.State)
	}
	if tr.WindowFailures == 0 || tr.RetryWindow != ev.Window {
		tr.RetryWindow, tr.WindowFailures = ev.Window, 0
	}
	tr.WindowFailures++
	tr.FailedAttempts++
	tr.LastFaultCode, tr.LastFaultString = ev.FaultCode, ev.FaultString
	tr.NextAttempt = ev.NextAttempt
	return ""
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

// WindowPhase is where a moment falls among a ScheduleDownload's time
// windows (WindowAt).
type WindowPhase int

const (
	// NoWindows: not a ScheduleDownload with windows; NotBefore applies.
	NoWindows WindowPhase = iota
	// InWindow: a window is open; WindowAt returns when it closes.
	InWindow
	// BeforeWindow: no window is open, a later one will be; WindowAt
	// returns when it opens.
	BeforeWindow
	// WindowsOver: every window has closed.
	WindowsOver
)

// WindowAt tells where now falls among req's time windows (D§11.9), which
// are half-open [Start, End) and ordered (cwmp/requests checks both).
// Inside a window it returns that window's end — or the end of the last
// window that touches it, since the download may go on across the seam;
// before a window, that window's start. A zero End never closes. It is the
// one rule both Decide (when to start or resume) and the Runner (when to
// stop) use.
func WindowAt(req event.TransferQueued, now time.Time) (WindowPhase, time.Time) {
	if req.Kind != event.KindScheduleDownload || len(req.Windows) == 0 {
		return NoWindows, time.Time{}
	}
	ws := req.Windows
	for i, w := range ws {
		if now.Before(w.Start) {
			return BeforeWindow, w.Start
		}
		if w.End.IsZero() || now.Before(w.End) {
			end := w.End
			for j := i + 1; j < len(ws) && !end.IsZero() && !ws[j].Start.After(end); j++ {
				end = ws[j].End
			}
			return InWindow, end
		}
	}
	return WindowsOver, time.Time{}
}
