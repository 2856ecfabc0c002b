package requests

import (
	"errors"

	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
	"github.com/cwmpd/cwmpd/projections/live"
)

// Defaults of the Handler's bounds and vendor OUI.
const (
	// DefaultMaxTransfers is the most transfers not yet acknowledged; it
	// equals the most GetQueuedTransfers can report.
	DefaultMaxTransfers = 16
	// DefaultMaxSchedules is the most ScheduleInform requests outstanding:
	// the size of an Inform's event list.
	DefaultMaxSchedules = 64
	// DefaultOUI is cwmpd's organizationally unique identifier in vendor
	// file types ("X 02C0DE Journal"), a locally administered one.
	DefaultOUI = "02C0DE"
)

// maxListed is the schema's bound on GetQueuedTransfersResponse and
// GetAllQueuedTransfersResponse.
const maxListed = 16

// RequestHandler serves ACS requests; the session dispatches to it.
type RequestHandler interface {
	Handle(ctx context.Context, req soap.Message) soap.Message
}

// Handler serves the device and transfer RPCs (see Methods). The zero value
// with a Store is ready to use; every other field has a default.
type Handler struct {
	Store *live.Store
	// Next serves the requests this Handler does not; nil answers them
	// with fault 9000.
	Next RequestHandler
	// Now is the clock relative times count from (default time.Now).
	Now func() time.Time
	// OUI is the six uppercase hex digits of the vendor file types
	// (default DefaultOUI).
	OUI string
	// MaxTransfers bounds the transfers not yet acknowledged (default
	// DefaultMaxTransfers).
	MaxTransfers int
	// MaxSchedules bounds the outstanding ScheduleInform requests (default
	// DefaultMaxSchedules).
	MaxSchedules int
	Log          zerolog.Logger

	// mu makes each check-then-append atomic with respect to the other
	// requests of this Handler.
	mu sync.Mutex
}

var methods = []string{
	"Reboot", "FactoryReset", "ScheduleInform",
	"Download", "Upload", "ScheduleDownload",
	"GetQueuedTransfers", "GetAllQueuedTransfers", "CancelTransfer",
}

// Methods returns the RPC names Handle serves, for GetRPCMethods.
func Methods() []string { return append([]string(nil), methods...) }

// Handle answers one ACS request. An accepted request's intent is durable in
// the journal before Handle returns its response.
func (h *Handler) Handle(ctx context.Context, req soap.Message) soap.Message {
	switch r := req.(type) {
	case *soap.Reboot:
		return h.reboot(ctx, r)
	case *soap.FactoryReset:
		return h.factoryReset(ctx)
	case *soap.ScheduleInform:
		return h.scheduleInform(ctx, r)
	case *soap.Download:
		return h.download(ctx, r)
	case *soap.Upload:
		return h.upload(ctx, r)
	case *soap.ScheduleDownload:
		return h.scheduleDownload(ctx, r)
	case *soap.GetQueuedTransfers:
		return h.getQueuedTransfers()
	case *soap.GetAllQueuedTransfers:
		return h.getAllQueuedTransfers()
	case *soap.CancelTransfer:
		return h.cancelTransfer(ctx, r)
	}
	if h.Next != nil {
		return h.Next.Handle(ctx, req)
	}
	name := "(none)"
	if req != nil {
		name = req.MethodName()
	}
	return soap.NewFault(soap.FaultMethodNotSupported, "method not supported: "+name)
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) oui() string {
	if h.OUI != "" {
		return h.OUI
	}
	return DefaultOUI
}

func (h *Handler) maxTransfers() int {
	if h.MaxTransfers > 0 {
		return h.MaxTransfers
	}
	return DefaultMaxTransfers
}

func (h *Handler) maxSchedules() int {
	if h.MaxSchedules > 0 {
		return h.MaxSchedules
	}
	return DefaultMaxSchedules
}

func (h *Handler) view(fn func(*projections.State)) { h.Store.View(fn) }

func fault(code soap.FaultCode, format string, args ...any) *soap.Fault {
	return soap.NewFault(code, fmt.Sprintf(format, args...))
}

// journal makes evs durable (one append) and folds them. A failure is fault
// 9002: nothing was written, so nothing is promised. The append itself is
// not cancelled with ctx, so its outcome is always known (see doc.go).
func (h *Handler) journal(ctx context.Context, rpc string, evs ...event.Event) ([]journal.Record, *soap.Fault) {
	if err := ctx.Err(); err != nil {
		h.Log.Warn().Err(err).Str("rpc", rpc).Msg("request context done before the intent was recorded; refused")
		return nil, fault(soap.FaultInternalError, "session ended before %s was recorded", rpc)
	}
	recs, err := h.Store.Append(context.WithoutCancel(ctx), evs...)
	if errors.Is(err, journal.ErrDiskFull) {
		// The storage reserve is reached: the device cannot take new work
		// (Resources exceeded), and says why.
		h.Log.Error().Err(err).Str("rpc", rpc).Msg("journal full; request refused")
		return nil, fault(soap.FaultResourcesExceeded, "storage full: cannot record %s", rpc)
	}
	if err != nil {
		h.Log.Error().Err(err).Str("rpc", rpc).Msg("journal append failed; request refused")
		return nil, fault(soap.FaultInternalError, "cannot record %s", rpc)
	}
	return recs, nil
}
