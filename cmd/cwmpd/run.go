package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/actions"
	"github.com/cwmpd/cwmpd/cwmp/datamodel"
	"github.com/cwmpd/cwmpd/cwmp/session"
	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
	"github.com/cwmpd/cwmpd/projections/live"
)

// runConfig is cwmpd run's command line.
type runConfig struct {
	state        string
	defaults     string
	platform     string
	hooks        string
	logFormat    string
	logLevel     string
	crListen     string // connection-request listen address override (tests)
	crHost       string // host published in ConnectionRequestURL
	pollInterval time.Duration
	crBurst      int
	crInterval   time.Duration
	stopWait     time.Duration
	memoryLimit  string
	procs        int
	timerSlack   time.Duration
	minFree      string
	journalMax   string
	args         []string // the full command line, re-executed on reboot
}

// Meta keys in the journal's metadata space.
const (
	metaNextBootReason = "next-boot-reason"
	metaDefaultsFile   = "defaults-file"
	metaCRPath         = "connreq-path"
	// metaInformedCRURL is the ConnectionRequestURL the ACS last received
	// in an Inform: a restart of the agent alone (no Inform of its own)
	// compares it with the URL it listens on now.
	metaInformedCRURL = "informed-connreq-url"
)

func cmdRun(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var c runConfig
	fs.StringVar(&c.state, "state", defaultStateDir, "state directory (journal, control socket, simulated device)")
	fs.StringVar(&c.defaults, "defaults", "", "factory-default settings file (key=value lines) for the first boot and resets")
	fs.StringVar(&c.platform, "platform", "", "device platform: hooks (a real device, through the --hooks file's shell commands) or sim (a simulated device in the state dir, for demos and tests); default: hooks when --hooks is given, else sim")
	fs.StringVar(&c.hooks, "hooks", "", "the file of key=command lines that act on the device (see dist/hooks.conf.example); implies --platform hooks")
	fs.StringVar(&c.logFormat, "log-format", "json", "json or console")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.crListen, "connreq-listen", "", "connection-request listen address: host:port fixes the port; a host alone takes connection-request-port (default: all addresses)")
	fs.StringVar(&c.crHost, "connreq-host", "", "host or address published in ConnectionRequestURL (default: the local address of the route to the ACS, followed as it changes)")
	fs.IntVar(&c.crBurst, "connreq-burst", 4, "connection requests accepted in a burst (each costs two: challenge and answer)")
	fs.DurationVar(&c.crInterval, "connreq-interval", 2*time.Second, "one more connection request allowed per interval")
	fs.DurationVar(&c.pollInterval, "poll-interval", 30*time.Second, "how often watched parameters are compared for value changes")
	fs.DurationVar(&c.stopWait, "stop-wait", 10*time.Second, "how long SIGTERM waits for a running session")
	fs.StringVar(&c.minFree, "min-free", "20MiB", "free space the journal leaves on its filesystem: below it appends are refused (disk full) instead of letting Badger crash")
	fs.StringVar(&c.journalMax, "journal-max", "8MiB", "journal records kept, by their encoded size: past it the oldest records already covered by a state snapshot are dropped (about 23,000 periodic sessions at 8MiB); 0 keeps everything")
	fs.IntVar(&c.procs, "procs", 1, "threads running Go code at once (GOMAXPROCS; the environment variable wins): 1 suits a daemon that mostly waits")
	fs.DurationVar(&c.timerSlack, "timer-slack", 10*time.Millisecond, "how late the kernel may run the agent's timers so that wake-ups coalesce (Linux timer slack, like systemd's TimerSlackNSec=; hook programs inherit it), at most 1s; 0 keeps the slack cwmpd was started with")
	fs.StringVar(&c.memoryLimit, "memory-limit", "24MiB", "soft limit of the Go heap (GOMEMLIMIT): the garbage collector works harder near it instead of growing; 0 turns it off")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("run: unexpected argument %q", pos[0])
	}
	if c.platform == "" {
		c.platform = "sim"
		if c.hooks != "" {
			c.platform = "hooks"
		}
	}
	switch {
	case c.platform != "sim" && c.platform != "hooks":
		return usagef("run: --platform takes sim or hooks, not %q", c.platform)
	case c.platform == "hooks" && c.hooks == "":
		return usagef("run: --platform hooks needs --hooks FILE")
	case c.platform == "sim" && c.hooks != "":
		return usagef("run: --hooks is for --platform hooks")
	}
	if c.logFormat != "json" && c.logFormat != "console" {
		return usagef("run: --log-format takes json or console, not %q", c.logFormat)
	}
	level, err := zerolog.ParseLevel(c.logLevel)
	if err != nil {
		return usagef("run: --log-level takes debug, info, warn or error, not %q", c.logLevel)
	}
	if c.crBurst < 1 || c.crInterval <= 0 {
		return usagef("run: --connreq-burst must be at least 1 and --connreq-interval positive")
	}
	if err := applyMemoryLimit(c.memoryLimit); err != nil {
		return usagef("run: --memory-limit: %v", err)
	}
	if c.procs < 1 {
		return usagef("run: --procs must be at least 1")
	}
	applyProcs(c.procs)
	if c.timerSlack < 0 || c.timerSlack > time.Second {
		return usagef("run: --timer-slack must be between 0 and 1s, not %v", c.timerSlack)
	}
	if c.pollInterval < 100*time.Millisecond {
		return usagef("run: --poll-interval must be at least 100ms")
	}
	var hooks *actions.Hooks
	if c.platform == "hooks" {
		if hooks, err = readHooks(c.hooks, c.state); err != nil {
			return usagef("run: hooks file %s: %v", c.hooks, err)
		}
	}
	var defaults map[string]string
	if c.defaults != "" {
		if defaults, err = readDefaults(c.defaults); err != nil {
			return usagef("run: defaults file %s: %v", c.defaults, err)
		}
	}
	if err := os.MkdirAll(c.state, 0o700); err != nil {
		return usagef("run: state dir %s: %v", c.state, err)
	}
	c.args = append([]string{os.Args[0], "run"}, args...)

	var out io.Writer = stderr
	if c.logFormat == "console" {
		out = zerolog.ConsoleWriter{Out: stderr, TimeFormat: "15:04:05.000"}
	}
	log := zerolog.New(out).Level(level).With().Timestamp().Logger()
	if err := applyTimerSlack(c.timerSlack); err != nil {
		log.Info().Err(err).Msg("timer slack left as it was")
	} else if c.timerSlack > 0 {
		log.Info().Dur("timer_slack", c.timerSlack).Msg("timer slack set on every thread")
	}
	if c.platform == "sim" {
		// An operator who forgot --hooks on a router would otherwise see
		// firmware upgrades "succeed" with nothing flashed.
		log.Warn().Str("device", filepath.Join(c.state, "device")).Msg("simulated device: what the ACS asks for (firmware, reboot, factory reset) changes nothing on this machine; give --hooks FILE on a real device")
	}
	return runDaemon(c, defaults, hooks, log)
}

// readDefaults parses a factory-default settings file: key=value lines with
// the settings' names, spaces around either side ignored; blank lines and
// # comments are ignored.
func readDefaults(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.Unwrap(err)
	}
	var lines []string
	for i, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		name, value, ok := strings.Cut(l, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: expected name=value", i+1)
		}
		// Spaces around '=' are layout, as in the hooks file: "password =
		// x" is the password "x", not " x" (which would fail at the ACS
		// with nothing to say why). `cwmpd set` keeps a value as quoted.
		lines = append(lines, strings.TrimSpace(name)+"="+strings.TrimSpace(value))
	}
	// A relative certificate path is the defaults file's neighbour.
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	return parseAssignments(absolutePaths(lines, filepath.Dir(abs)))
}

func settingsEvents(m map[string]string) []event.Setting {
	var out []event.Setting
	for _, name := range projections.SortedSettings(m) {
		out = append(out, event.Setting{Name: name, Value: m[name]})
	}
	return out
}

func newBootID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// daemon is the running agent's wiring.
type daemon struct {
	cfg      runConfig
	log      zerolog.Logger
	j        *journal.Journal
	store    *live.Store
	platform actions.Platform
	sim      *actions.Sim
	xfer     *transfers
	model    *datamodel.Model
	watcher  *datamodel.Watcher
	defaults map[string]string
	clock    func() time.Time

	rpc *datamodel.Handler
	// cr is the connection-request side: the server, the published
	// ConnectionRequestURL and the route to the ACS it names.
	cr *connReqs
	// minFree is the journal's reserve (--min-free): downloads, on the same
	// filesystem, leave it untouched.
	minFree int64
	// restarted: this start is a restart of the agent alone
	// (AgentRestarted), not a boot.
	restarted bool
	// id is the device identity read at boot: a hooks platform runs a
	// command for it, which must not happen under the state's lock, and
	// the software version only changes across a restart.
	id datamodel.Identity
	// A failed reset intent is retried at intentRetryAt (conductor only).
	intentFailures int
	intentRetryAt  time.Time
	// problem is what keeps the agent from working, for print (the journal
	// cannot record it when the problem is the journal's storage).
	problem atomic.Value // string
	// diskFull is the problem text while it is a refused append (storage
	// below the reserve), "" otherwise.
	diskFull atomic.Value  // string
	kick     chan struct{} // wakes the conductor
	stopped  chan struct{}
}

func runDaemon(c runConfig, defaults map[string]string, hooks *actions.Hooks, log zerolog.Logger) error {
	bootID := newBootID()
	minFree, err := parseBytes(c.minFree)
	if err != nil {
		return usagef("run: --min-free: %v", err)
	}
	var keep journal.Retention
	if c.journalMax != "0" {
		if keep.MaxBytes, err = parseBytes(c.journalMax); err != nil {
			return usagef("run: --journal-max: %v", err)
		}
	}
	jopts := journal.Options{Dir: journalDir(c.state), BootID: bootID, MinFreeBytes: minFree,
		Retention: keep, Logger: log.With().Str("component", "journal").Logger()}
	lopts := live.Options{Logger: log}
	j, err := journal.Open(jopts)
	if errors.Is(err, journal.ErrLocked) {
		return usagef("run: %s is in use by another cwmpd", c.state)
	}
	var store *live.Store
	if err == nil {
		if store, err = live.Open(j, lopts); err != nil {
			j.Close()
			err = fmt.Errorf("fold: %w", err)
		}
	}
	if journal.IsCorrupt(err) {
		// A router whose flash damaged the journal must come back to its
		// ACS without a human: the damaged journal is kept aside and the
		// agent starts afresh (a first start: BOOTSTRAP, the factory
		// defaults). Only damage known as such gets here: permissions, a
		// read-only or full filesystem, I/O errors and a held lock stop
		// the start instead, and the supervisor tries again.
		r, rerr := replaceJournal(c.state, jopts, lopts, err, "cwmpd run")
		if rerr != nil {
			log.Error().Err(err).Msg("journal damaged and not replaced")
			return fmt.Errorf("run: %w", rerr)
		}
		log.Error().Err(err).Str("moved_to", r.moved).Strs("removed", r.removed).
			Msg("journal damaged: moved aside whole, starting with a new journal (the ACS gets a BOOTSTRAP)")
		j, store, err = r.j, r.store, nil
	}
	if err != nil {
		return fmt.Errorf("run: open journal: %w", err)
	}
	d := &daemon{cfg: c, log: log, j: j, store: store, defaults: defaults, clock: time.Now, minFree: minFree,
		kick: make(chan struct{}, 1), stopped: make(chan struct{})}
	d.cr = newConnReqs(connReqOptions{listen: c.crListen, host: c.crHost, burst: c.crBurst, interval: c.crInterval,
		store: store, j: j, log: log, kick: d.kickConductor, journalErr: d.noteJournalError})
	if hooks != nil {
		d.platform = hooks
		if hooks.ApplyParametersCmd == "" {
			log.Warn().Msg("the hooks file sets no apply-parameters command: what the ACS sets of the device's configuration (Device.Time, Device.Users, Device.DNS.Client, ProvisioningCode, …) is kept by the agent and not applied to the device")
		}
	} else {
		d.sim = &actions.Sim{Dir: c.state, Args: c.args, CheckParam: datamodel.DefaultSchema().Check}
		d.platform = d.sim
	}
	if c.defaults != "" {
		if abs, err := filepath.Abs(c.defaults); err == nil {
			j.PutMeta(metaDefaultsFile, []byte(abs))
		}
	}
	return d.run()
}

func (d *daemon) run() error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := d.boot(ctx); err != nil {
		d.close()
		return err
	}
	d.id = datamodel.Identity(d.platform.Identity())
	d.model = &datamodel.Model{Schema: datamodel.DefaultSchema(), Host: &datamodel.LinuxHost{},
		Identity: d.identity, Runtime: func() datamodel.Runtime {
			return datamodel.Runtime{ConnectionRequestURL: d.cr.URL()}
		}}
	d.watcher = &datamodel.Watcher{Model: d.model, Store: d.store}
	d.xfer = newTransfers(d)

	var wg sync.WaitGroup
	d.cr.refreshRoute(ctx) // the first Inform's ConnectionRequestURL names the route to the ACS
	if err := d.cr.start(ctx); err != nil {
		d.log.Error().Err(err).Msg("connection-request server not started; the ACS cannot ask for sessions")
	}
	if d.restarted {
		d.cr.announceIfMoved(ctx)
	}
	stopCtl, err := d.startControl(ctx)
	if err != nil {
		d.cr.stop() // before the journal closes: a late bind would use it
		d.close()
		return fmt.Errorf("run: control socket: %w", err)
	}
	wg.Add(1)
	go func() { defer wg.Done(); d.pollValues(ctx) }()

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	sessionCtx, stopSessions := context.WithCancel(context.Background())
	defer stopSessions()
	done := make(chan error, 1)
	go func() { done <- d.conduct(ctx, sessionCtx) }()

	var result error
	select {
	case sig := <-sigs:
		d.log.Info().Str("signal", sig.String()).Dur("wait", d.cfg.stopWait).Msg("stopping: no new sessions; waiting for a running one")
		cancel() // no new triggers or sessions
		go func() {
			select {
			case <-sigs:
				d.log.Warn().Msg("second signal: exiting at once")
				os.Exit(1)
			case <-d.stopped:
			}
		}()
		select {
		case result = <-done:
		case <-time.After(d.cfg.stopWait):
			d.log.Warn().Msg("session still running: interrupting it (journaled as failed)")
			stopSessions()
			result = <-done
		}
	case result = <-done:
		cancel()
	}
	d.cr.stop()
	stopCtl()
	wg.Wait()
	d.xfer.wait()
	var rb *rebootRequest
	if errors.As(result, &rb) {
		d.close()
		d.log.Info().Str("reason", rb.reason).Str("platform", d.cfg.platform).Msg("rebooting the device")
		if err := d.platform.Reboot(context.Background()); err != nil {
			return fmt.Errorf("run: reboot: %w", err)
		}
		return nil
	}
	d.close()
	close(d.stopped)
	if result != nil && !errors.Is(result, context.Canceled) {
		return result
	}
	d.log.Info().Msg("stopped")
	return nil
}

func (d *daemon) close() {
	d.store.Close()
	if err := d.store.SnapshotNow(); err != nil {
		d.log.Warn().Err(err).Msg("final snapshot not saved")
	}
	if err := d.j.Close(); err != nil {
		d.log.Error().Err(err).Msg("journal close")
	}
}

func (d *daemon) identity() datamodel.Identity { return d.id }

// boot journals this start: Booted (with the reason the previous run left),
// and at the first start on this journal the factory-default settings, but
// not those the operator provisioned before it (cwmpd set --create): the
// journal may already hold those records, so the first start is the one
// that finds no Booted in it. When the platform says the device did not
// boot since the last Booted and nothing the agent did asked for a boot,
// AgentRestarted instead.
func (d *daemon) boot(ctx context.Context) error {
	var first bool
	provisioned := map[string]bool{}
	d.store.View(func(s *projections.State) {
		first = s.Boot.Count == 0
		for name := range s.Settings {
			provisioned[name] = true
		}
	})
	reason := event.BootPowerOn
	announced := false // a reboot, reset or restart the agent itself set off
	if b, ok, _ := d.j.GetMeta(metaNextBootReason); ok && len(b) > 0 {
		reason, announced = string(b), true
	}
	deviceBoot := d.platform.DeviceBoot()
	var lastBoot, previous string
	var open uint64
	var failures int
	var policy session.RetryPolicy
	d.store.View(func(s *projections.State) {
		lastBoot, previous = s.Boot.DeviceBoot, s.Boot.SoftwareVersion
		open, failures = s.Session.Open, s.Retry.Failures
		policy.MinWait, policy.Multiplier = s.RetryPolicy()
	})
	var evs []event.Event
	if !first && !announced && deviceBoot != "" && deviceBoot == lastBoot {
		// Only the agent's process started again (a crash, its
		// supervisor): nothing pending is dropped and no "1 BOOT" goes to
		// the ACS, whose BOOT is a power-up or reset of the device.
		reason = "agent restart"
		d.restarted = true
		if open != 0 {
			// The session the stopped process left open failed: it is
			// retried as any failed session is (D§9), with its RetryCount.
			evs = append(evs, session.Failed(open, "agent stopped during the session", failures, policy, d.clock(), nil))
		}
		evs = append(evs, event.AgentRestarted{DeviceBoot: deviceBoot})
	} else {
		version := d.platform.Identity().SoftwareVersion // read once more below, for the model
		evs = []event.Event{event.Booted{Reason: reason, SoftwareVersion: version, DeviceBoot: deviceBoot}}
		if previous != "" && previous != version {
			// SoftwareVersion has forced active notification: a new
			// firmware is a VALUE CHANGE in the first Inform after it.
			evs = append(evs, event.ValueChanged{Active: true, Changes: []event.ParamValue{
				{Name: "Device.DeviceInfo.SoftwareVersion", Value: version, Type: "string"}}})
		}
		if first || d.store.Partial() {
			// A partial history lost the settings journaled before it:
			// the defaults fill what the records left do not say.
			defaults := map[string]string{}
			for name, v := range d.defaults {
				if !provisioned[name] {
					defaults[name] = v
				}
			}
			if len(defaults) > 0 {
				evs = append(evs, event.SettingsChanged{Source: event.SourceDefaults, Changes: settingsEvents(defaults)})
			}
		}
	}
	if _, err := d.store.Append(ctx, evs...); err != nil {
		return fmt.Errorf("run: journal boot: %w", err)
	}
	if announced {
		d.j.PutMeta(metaNextBootReason, nil)
	}
	var st projections.Status
	var url string
	d.store.View(func(s *projections.State) { st = s.Status(); url = s.Settings.Get(projections.SettingACSURL) })
	ev := d.log.Info().Str("reason", reason).Bool("first_boot", first).Str("status", st.Status).Str("acs_url", url)
	ev.Msg("cwmpd started")
	if strings.HasPrefix(url, "http://") {
		d.log.Warn().Str("acs_url", url).Msg("the ACS URL is plain http: sessions are not encrypted; use https in production")
	}
	return nil
}

// noteJournalError remembers a refused append for print: when the journal's
// storage is full, the journal cannot record that itself.
func (d *daemon) noteJournalError(err error) {
	if errors.Is(err, journal.ErrDiskFull) {
		d.problem.Store(err.Error())
		d.diskFull.Store(err.Error())
	}
}

// recheckStorage clears a disk-full problem as soon as the journal has room
// again: saving a snapshot passes the journal's own free-space check only
// then. Without it print kept the problem until the next successful
// session, which may be an hour away.
func (d *daemon) recheckStorage() {
	full, _ := d.diskFull.Load().(string)
	if full == "" {
		return
	}
	if err := d.store.SnapshotNow(); err != nil {
		return
	}
	if d.diskFull.CompareAndSwap(full, "") {
		d.problem.CompareAndSwap(full, "")
		d.log.Info().Msg("journal storage has room again")
	}
}

// kickConductor wakes the conductor without blocking.
func (d *daemon) kickConductor() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// applyMemoryLimit sets the runtime's soft memory limit. A router has tens
// of megabytes: without a limit the garbage collector lets the heap grow to
// twice what is live before collecting. GOMEMLIMIT in the environment wins.
func applyMemoryLimit(v string) error {
	if os.Getenv("GOMEMLIMIT") != "" || v == "0" {
		return nil
	}
	n, err := parseBytes(v)
	if err != nil {
		return err
	}
	debug.SetMemoryLimit(n)
	return nil
}

// applyProcs sets GOMAXPROCS unless the environment does. The agent waits
// almost all the time and then runs one session: a second processor buys it
// nothing, while every wake-up with more than one makes the scheduler spin
// idle threads looking for work. Measured with make bench-agent: 3.6 ms of
// CPU per periodic session with two, 2.0 ms with one (docs/benchmarks.md).
func applyProcs(n int) {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(n)
	}
}

// parseBytes reads "24MiB", "64MB", "512KiB" or a number of bytes.
func parseBytes(v string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(v, u.suffix); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
			if err != nil || n <= 0 {
				return 0, fmt.Errorf("takes a size like 24MiB")
			}
			if n > math.MaxInt64/u.mult {
				// Wrapped, it would turn into a small or negative size:
				// a disk-full reserve silently gone.
				return 0, fmt.Errorf("%s is too large", v)
			}
			return n * u.mult, nil
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("takes a size like 24MiB")
	}
	return n, nil
}
