package requests

import (
	"context"
	"math"

	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

// queueState maps a transfer's state to QueuedTransferStruct.State. A state
// this build does not know is past "queued", so it reads as in progress.
func queueState(s projections.TransferState) int32 {
	switch s {
	case projections.TransferQueuedState:
		return soap.TransferNotStarted
	case projections.TransferFinishedState:
		return soap.TransferCompleted
	}
	return soap.TransferInProgress
}

// listed returns the oldest transfers not yet acknowledged, at most the
// schema's 16.
func (h *Handler) listed(fn func(tr *projections.Transfer)) {
	h.view(func(st *projections.State) {
		for i, tr := range st.Transfers.List() {
			if i == maxListed {
				return
			}
			fn(tr)
		}
	})
}

func (h *Handler) getQueuedTransfers() soap.Message {
	out := []soap.QueuedTransferStruct{}
	h.listed(func(tr *projections.Transfer) {
		out = append(out, soap.QueuedTransferStruct{CommandKey: tr.Request.CommandKey, State: queueState(tr.State)})
	})
	return &soap.GetQueuedTransfersResponse{TransferList: out}
}

func (h *Handler) getAllQueuedTransfers() soap.Message {
	out := []soap.AllQueuedTransferStruct{}
	h.listed(func(tr *projections.Transfer) {
		out = append(out, soap.AllQueuedTransferStruct{
			CommandKey:     tr.Request.CommandKey,
			State:          queueState(tr.State),
			IsDownload:     tr.Request.Kind != event.KindUpload,
			FileType:       tr.Request.FileType,
			FileSize:       uint32(min(tr.Request.FileSize, math.MaxUint32)),
			TargetFileName: tr.Request.TargetFileName,
		})
	})
	return &soap.GetAllQueuedTransfersResponse{TransferList: out}
}

// cancelTransfer cancels every transfer with the CommandKey, or none (see
// doc.go).
func (h *Handler) cancelTransfer(ctx context.Context, r *soap.CancelTransfer) soap.Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	var cancel []event.Event
	var ids []uint64
	started := 0
	h.view(func(st *projections.State) {
		for _, tr := range st.Transfers.List() {
			if tr.Request.CommandKey != r.CommandKey {
				continue
			}
			if tr.State != projections.TransferQueuedState {
				started++
				continue
			}
			cancel = append(cancel, event.TransferCancelled{Transfer: tr.ID})
			ids = append(ids, tr.ID)
		}
	})
	switch {
	case started > 0:
		return fault(soap.FaultCancelNotPermitted, "transfer with CommandKey %q has started; nothing cancelled", r.CommandKey)
	case len(cancel) == 0:
		return fault(soap.FaultInvalidArguments, "no transfer with CommandKey %q", r.CommandKey)
	}
	if _, f := h.journal(ctx, "CancelTransfer", cancel...); f != nil {
		return f
	}
	h.Log.Info().Str("ck", r.CommandKey).Interface("transfers", ids).Msg("transfers cancelled by the ACS")
	return &soap.CancelTransferResponse{}
}
