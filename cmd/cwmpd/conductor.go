package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cwmpd/cwmpd/actions"
	"github.com/cwmpd/cwmpd/cwmp/datamodel"
	"github.com/cwmpd/cwmpd/cwmp/requests"
	"github.com/cwmpd/cwmpd/cwmp/session"
	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/cwmp/transport"
	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

// rebootRequest ends the conductor so the daemon can close the journal and
// reboot the platform.
type rebootRequest struct{ reason string }

func (r *rebootRequest) Error() string { return "reboot: " + r.reason }

// conduct is the one loop that decides when a session starts: it asks
// projections.Decide, journals due triggers, runs sessions and carries out
// the reboot and factory-reset intents; between decisions it sleeps until
// the decision's wake time or a new journal record.
func (d *daemon) conduct(ctx, sessionCtx context.Context) error {
	wake, cancel := d.store.Subscribe()
	defer cancel()
	for {
		err := d.conductOnce(ctx, sessionCtx, wake)
		if !errors.Is(err, journal.ErrDiskFull) {
			return err
		}
		// The journal's storage is below its reserve: nothing can be
		// recorded, so nothing may be done. Say so, and try again later
		// (or as soon as the operator frees space and asks, with print).
		d.noteJournalError(err)
		d.log.Error().Err(err).Msg("journal storage full: the agent waits until space is freed")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-d.kick:
		case <-time.After(30 * time.Second):
		}
		d.recheckStorage()
	}
}

// conductOnce runs the conductor until it must stop or a journal append is
// refused.
func (d *daemon) conductOnce(ctx, sessionCtx context.Context, wake <-chan struct{}) error {
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := d.carryOutIntents(ctx); err != nil {
			return err
		}
		// The ACS (EnableCWMP, HTTPConnectionRequestEnable) or the
		// operator may have turned connection requests off or on.
		d.cr.sync()
		var dec projections.Decision
		now := d.clock()
		d.store.View(func(s *projections.State) { dec = projections.Decide(s, now) })
		for _, e := range dec.Raise {
			d.log.Info().Str("trigger", e.Type().String()).Str("detail", e.Summary()).Msg("trigger")
		}
		if len(dec.Raise) > 0 && !dec.Start {
			// A retry wait: the triggers are journaled now and ride in
			// the retry.
			if _, err := d.store.Append(ctx, dec.Raise...); err != nil {
				return fmt.Errorf("conductor: journal trigger: %w", err)
			}
			continue
		}
		if dec.Start {
			// Triggers due now are journaled with SessionStarted.
			if err := d.runSession(sessionCtx, dec.Reasons, dec.Raise); err != nil {
				return err
			}
			d.problem.Store("")
			d.diskFull.Store("")
			// The session's own appends signalled wake, and the loop
			// decides again right now on the state they left: that
			// signal is spent. An append from here on signals anew.
			select {
			case <-wake:
			default:
			}
			continue
		}
		if dec.Transfer != 0 && !d.xfer.running() && d.xfer.mayStart(dec.Transfer, now) {
			if err := d.xfer.start(ctx, dec.Transfer); err != nil {
				return fmt.Errorf("conductor: start transfer: %w", err)
			}
		}
		if retry := d.intentRetryAt; !retry.IsZero() && (dec.Wake.IsZero() || retry.Before(dec.Wake)) {
			dec.Wake = retry
		}
		if retry := d.xfer.retryAt(); !retry.IsZero() && (dec.Wake.IsZero() || retry.Before(dec.Wake)) {
			dec.Wake = retry
		}
		var timer *time.Timer
		var fire <-chan time.Time
		if !dec.Wake.IsZero() {
			timer = time.NewTimer(time.Until(dec.Wake))
			fire = timer.C
		}
		select {
		case <-ctx.Done():
		case <-wake:
		case <-d.kick:
		case <-fire:
		}
		if timer != nil {
			timer.Stop() // not deferred: this loop runs for the daemon's life
		}
	}
}

// carryOutIntents acts on intents the journal holds and no outcome closes:
// a factory reset, then a reboot. Both happen between sessions only.
func (d *daemon) carryOutIntents(ctx context.Context) error {
	// An ACS change the device was applying when the agent stopped: the
	// device must be settled before a session shows its values.
	d.handler()
	if err := d.rpc.Resume(ctx); err != nil {
		return fmt.Errorf("conductor: %w", err)
	}
	var reset, reboot, restart bool
	var why string
	d.store.View(func(s *projections.State) {
		reset, reboot, restart, why = s.Boot.FactoryResetPending, s.Boot.RebootPending, s.Boot.RestartPending, s.Boot.RestartReason
	})
	if (reset || reboot || restart) && d.xfer.running() {
		return nil // a transfer is being carried forward: reboot after it
	}
	if (reset || reboot || restart) && d.clock().Before(d.intentRetryAt) {
		return nil // a failed attempt waits for its retry time
	}
	if reset {
		d.log.Info().Msg("factory reset")
		if err := d.platform.FactoryReset(ctx); err != nil {
			// Retried with a growing pause (1 min … 1 h): the intent stays
			// durable, and the device keeps no session until it is done.
			d.postponeIntent()
			d.log.Error().Err(err).Int("attempt", d.intentFailures).Time("retry_at", d.intentRetryAt).Msg("factory reset failed")
			d.problem.Store("factory reset failed: " + err.Error())
			return nil
		}
		d.intentFailures, d.intentRetryAt = 0, time.Time{}
		// The reset point, then the device's default configuration, in one
		// append: a crash cannot leave a half-reset device.
		evs := []event.Event{event.FactoryResetDone{Defaults: settingsEvents(d.defaults)}}
		// The configuration as the reset leaves it: no values, no rows, but
		// every table's highest instance number (never reused).
		after := d.paramsCopy()
		after.Values, after.Attributes, after.ParameterKey = nil, nil, ""
		for _, t := range after.Tables {
			t.Live = nil
		}
		var defaults []event.Event
		if d.sim != nil {
			// The simulated device's default configuration script; a real
			// router's reset command applies its own.
			var err error
			if defaults, err = d.sim.DefaultConfigEvents(after); err != nil {
				d.log.Warn().Err(err).Msg("default configuration script not applied")
			}
		}
		if _, err := d.store.Append(ctx, append(evs, defaults...)...); err != nil {
			return fmt.Errorf("conductor: journal factory reset: %w", err)
		}
		d.keepBootReason(event.BootFactoryReset) // the reset is done: reboot regardless
		return &rebootRequest{reason: "factory reset"}
	}
	if reboot {
		if !d.keepBootReason(event.BootReboot) {
			return nil
		}
		return &rebootRequest{reason: "Reboot RPC"}
	}
	if restart {
		reason := event.BootFirmware
		if why != "firmware" {
			reason = event.BootPowerOn
		}
		if !d.keepBootReason(reason) {
			return nil
		}
		return &rebootRequest{reason: why}
	}
	return nil
}

// runSession runs one CWMP session. Only a journal failure is an error:
// a failed session is journaled with its retry decision and the loop goes on.
func (d *daemon) runSession(ctx context.Context, reasons []string, triggers []event.Event) error {
	var (
		in       session.Input
		settings projections.Settings
		failures int
		policy   session.RetryPolicy
		err      error
	)
	// The Inform's forced parameters come from the state and the identity;
	// the host is read (about a millisecond: /proc, /sys/class/net) only
	// when changed values ride along, as they may be host readings.
	// The Inform's ConnectionRequestURL names the route to this ACS: the
	// ACS URL may have changed since the last session (a new ACS's
	// BOOTSTRAP must not carry the route to the old one).
	d.cr.refreshRoute(ctx)
	var host datamodel.HostSnapshot
	var changes bool
	d.store.View(func(s *projections.State) { changes = s.Pending.Has(projections.EventValueChange, "") })
	if changes {
		host = d.model.Host.Read()
	}
	now := d.clock()
	d.store.View(func(s *projections.State) {
		triggers = s.LiveTriggers(triggers) // the state may have moved since Decide
		id := d.identity()
		in = session.Input{
			DeviceID:       soap.DeviceIdStruct{Manufacturer: id.Manufacturer, OUI: id.OUI, ProductClass: id.ProductClass, SerialNumber: id.SerialNumber},
			Events:         s.InformEventsAfter(triggers),
			Triggers:       triggers,
			RetryCount:     s.Retry.Failures,
			Composed:       s.Seq,
			CurrentTime:    now,
			Parameters:     d.model.InformParameters(s, host),
			SessionTimeout: 60,
		}
		for _, tr := range s.Transfers.Owed() {
			in.Transfers = append(in.Transfers, session.OwedTransfer{ID: tr.ID, Message: soap.TransferComplete{
				CommandKey:   tr.Request.CommandKey,
				FaultStruct:  soap.FaultStruct{FaultCode: soap.FaultCode(tr.FaultCode), FaultString: tr.FaultString},
				StartTime:    tr.StartTime,
				CompleteTime: tr.CompleteTime,
			}, Upload: tr.Request.Kind == event.KindUpload})
		}
		settings = projections.Settings{}
		for k, v := range s.Settings {
			settings[k] = v
		}
		failures = s.Retry.Failures
		policy.MinWait, policy.Multiplier = s.RetryPolicy()
	})
	d.log.Info().Strs("reasons", reasons).Msg("session needed")

	cfg := transport.Config{
		URL:      settings.Get(projections.SettingACSURL),
		Username: settings.Get(projections.SettingUsername),
		Password: settings.Get(projections.SettingPassword),
		Logger:   d.log.With().Str("component", "transport").Logger(),
		// The dial notes the route to the ACS: ConnectionRequestURL names it.
		DialContext: d.cr.acsDialer(),
	}
	// A configured certificate that cannot be read fails the session: a
	// missing CA file must never widen trust to the system roots.
	var certErr string
	if p := settings.Get(projections.SettingCACertificate); p != "" {
		if cfg.CACertPEM, err = projections.ReadPEMFile(p); err != nil || len(cfg.CACertPEM) == 0 {
			certErr = "cannot read ca-certificate " + p
		}
	}
	if p := settings.Get(projections.SettingClientCertificate); p != "" {
		if cfg.ClientCertPEM, err = projections.ReadPEMFile(p); err != nil || len(cfg.ClientCertPEM) == 0 {
			certErr = "cannot read client-certificate " + p
		}
	}
	driver := &session.Driver{
		Journal:  d.store,
		Handler:  d.handler(),
		Log:      d.log.With().Str("component", "session").Logger(),
		Clock:    d.clock,
		Retry:    policy,
		Failures: failures,
	}
	client, err := transport.New(cfg)
	if err == nil && certErr != "" {
		client.Close()
		err = errors.New(certErr)
	}
	if err != nil {
		// A configuration the transport refuses is a failed session the
		// operator sees in last-session-error, not a crash.
		msg := err.Error()
		var te *transport.Error
		if errors.As(err, &te) {
			msg = te.UserMessage()
		}
		_, err := driver.Run(ctx, session.NewCore(in), failingPoster{msg})
		return err
	}
	defer client.Close()
	out, err := driver.Run(ctx, session.NewCore(in), client)
	if err == nil && (out.Failure == nil || out.Failure.Delivered) {
		d.cr.noteInformed(in.Parameters)
	}
	return err
}

// failingPoster fails every POST with a configuration message.
type failingPoster struct{ msg string }

func (f failingPoster) Post(context.Context, []byte, transport.Message) (int, []byte, error) {
	return 0, nil, errors.New(f.msg)
}

// handler chains the ACS request handlers: the parameter RPCs, then the
// device and transfer RPCs; anything else gets fault 9000.
func (d *daemon) handler() session.Handler {
	if d.rpc == nil {
		dev := &requests.Handler{Store: d.store, Now: d.clock, OUI: d.identity().OUI,
			Log: d.log.With().Str("component", "requests").Logger()}
		d.rpc = &datamodel.Handler{Model: d.model, Store: d.store, Watcher: d.watcher, Methods: requests.Methods(),
			Log: d.log.With().Str("component", "datamodel").Logger(), Next: dev, Apply: d.applier()}
	}
	return d.rpc
}

// applier is the hooks platform's apply-parameters command, nil when there
// is none (the simulated device's configuration is the journal itself).
func (d *daemon) applier() datamodel.Applier {
	if h, ok := d.platform.(*actions.Hooks); ok && h.ApplyParametersCmd != "" {
		return h
	}
	return nil
}

// pollValues runs the value-change watcher and journals what it finds.
func (d *daemon) pollValues(ctx context.Context) {
	t := time.NewTicker(d.cfg.pollInterval)
	defer t.Stop()
	record := func(changes []event.ParamValue, active bool) error {
		if _, err := d.store.Append(ctx, event.ValueChanged{Changes: changes, Active: active}); err != nil {
			return err
		}
		names := make([]string, len(changes))
		for i, c := range changes {
			names[i] = c.Name
		}
		d.log.Info().Strs("parameters", names).Bool("active", active).Msg("value change")
		return nil
	}
	d.watcher.Poll(record) // the baseline
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		d.cr.refreshRoute(ctx)
		if err := d.watcher.Poll(record); err != nil {
			// The changes stay unreported: the next poll finds them again.
			d.log.Error().Err(err).Msg("value change not journaled; retried at the next poll")
			d.noteJournalError(err)
		}
	}
}

// keepBootReason tells the next start why the device goes down. It must
// be kept: a start that finds the device's boot identity unchanged (a
// reboot hook that only restarts services) and no reason takes itself for
// a restart of the agent alone, finds the reboot still pending and carries
// it out again, for ever. When it cannot be written the reboot waits for
// the intent retry time, as a failed factory reset does.
func (d *daemon) keepBootReason(reason string) bool {
	if err := d.j.PutMeta(metaNextBootReason, []byte(reason)); err != nil {
		d.postponeIntent()
		d.log.Error().Err(err).Str("reason", reason).Time("retry_at", d.intentRetryAt).Msg("next boot reason not kept; reboot postponed")
		d.noteJournalError(err)
		return false
	}
	return true
}

// postponeIntent makes a failed intent wait: a minute, doubling with each
// failure, at most an hour.
func (d *daemon) postponeIntent() {
	d.intentFailures++
	pause := time.Minute << min(d.intentFailures-1, 6)
	d.intentRetryAt = d.clock().Add(min(pause, time.Hour))
}
