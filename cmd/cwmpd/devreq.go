package main

import (
	"context"

	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/projections/event"
)

// rebootHandler journals a Reboot's intent before answering.
type rebootHandler struct{ d *daemon }

func (h rebootHandler) Handle(ctx context.Context, req soap.Message) soap.Message {
	if r, ok := req.(*soap.Reboot); ok {
		if _, err := h.d.store.Append(ctx, event.RebootRequested{CommandKey: r.CommandKey, Source: event.SourceACS}); err != nil {
			return soap.NewFault(soap.FaultInternalError, "cannot record the request")
		}
		return &soap.RebootResponse{}
	}
	return soap.NewFault(soap.FaultMethodNotSupported, "method not supported: "+req.MethodName())
}

func deviceRequests(d *daemon) rebootHandler { return rebootHandler{d} }
