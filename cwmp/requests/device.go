package requests

import (
	"context"
	"time"

	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

// reboot journals the intent; the daemon reboots after the session ends and
// the first Inform after the boot carries "M Reboot" with the CommandKey.
func (h *Handler) reboot(ctx context.Context, r *soap.Reboot) soap.Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	recs, f := h.journal(ctx, "Reboot", event.RebootRequested{CommandKey: r.CommandKey, Source: event.SourceACS})
	if f != nil {
		return f
	}
	h.Log.Info().Uint64("seq", recs[0].Seq).Str("ck", r.CommandKey).Msg("reboot requested by the ACS")
	return &soap.RebootResponse{}
}

// factoryReset journals the intent unless one is already pending.
func (h *Handler) factoryReset(ctx context.Context) soap.Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	var pending bool
	h.view(func(st *projections.State) { pending = st.Boot.FactoryResetPending })
	if pending {
		h.Log.Info().Msg("factory reset requested again; already pending")
		return &soap.FactoryResetResponse{}
	}
	recs, f := h.journal(ctx, "FactoryReset", event.FactoryResetRequested{Source: event.SourceACS})
	if f != nil {
		return f
	}
	h.Log.Info().Uint64("seq", recs[0].Seq).Msg("factory reset requested by the ACS")
	return &soap.FactoryResetResponse{}
}

// scheduleInform journals a schedule due DelaySeconds from now.
func (h *Handler) scheduleInform(ctx context.Context, r *soap.ScheduleInform) soap.Message {
	if r.DelaySeconds == 0 {
		return fault(soap.FaultInvalidArguments, "DelaySeconds must be greater than 0")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var n int
	h.view(func(st *projections.State) { n = len(st.Schedules) })
	if max := h.maxSchedules(); n >= max {
		return fault(soap.FaultResourcesExceeded, "%d scheduled informs outstanding, the most allowed", max)
	}
	due := h.now().Add(time.Duration(r.DelaySeconds) * time.Second)
	ev := event.InformScheduled{CommandKey: r.CommandKey, DelaySeconds: r.DelaySeconds, Due: due}
	recs, f := h.journal(ctx, "ScheduleInform", ev)
	if f != nil {
		return f
	}
	h.Log.Info().Uint64("schedule", recs[0].Seq).Str("ck", r.CommandKey).Time("due", due).Msg("inform scheduled by the ACS")
	return &soap.ScheduleInformResponse{}
}
