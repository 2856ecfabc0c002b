// Package actions owns the agent's side effects on the device, behind the
// Platform interface: reboot, factory reset, firmware install, configuration
// apply and the file exports; and the transfers themselves: the resumable,
// verified downloader and the uploader (FileClient), the firmware manifest
// (ParseManifest, docs/firmware-manifest.md) and the Runner that carries one
// transfer forward from whatever state the journal says it is in. It
// decides nothing about *when* to act — the daemon calls it when the
// projections hold an intent — and it never speaks SOAP.
//
// Each Platform method states its contract: what the journal already holds
// when it is called, and what is true when it returns. Two implementations:
// Sim, a self-contained device in the state directory (reboot re-executes
// the daemon, a real restart; firmware is the device/version file), and
// Hooks, shell commands for a real router (sysupgrade, uci, logread).
// Hooks also carries out the ACS's changes of the device's configuration
// (ApplyParameters, the apply-parameters command): cwmp/datamodel calls it
// through its Applier interface, between the change's journaled intent and
// its outcome. It is not a Platform method: the simulated device's
// configuration is the journal itself.
//
// # The Runner: journal first, then act
//
// Run(ctx, transfer) reads the transfer's state (projections.Transfer) and
// goes on from there. A Download:
//
//	queued      → TransferStarted{StartTime}
//	fetch file 0 into <Dir>/downloads/<id>-0, resuming at Files[0].Offset:
//	              TransferProgress{Offset} every ≥256 KiB and ≥10 % (after
//	              fsync), then TransferFetched{Path, Size, SHA256}
//	firmware whose file 0 is a manifest: files 1..n likewise (a file
//	              already TransferFetched and intact on disk is not fetched
//	              again)
//	            → TransferApplying (the intent to install)
//	            → Platform.InstallFirmware / ApplyConfig / SetDefaultConfig
//	            → TransferFinished{0, StartTime, CompleteTime} (with the
//	              configuration's parameter events in the same append)
//	            → files deleted; Outcome.RebootNeeded for firmware and a
//	              full configuration replacement
//
// An Upload: TransferStarted → the file is produced into
// <Dir>/uploads/<id> (ExportConfig, ExportLog, ExportDefaultConfig, or the
// caller's JournalExport for "X <OUI> Journal") → HTTP PUT →
// TransferFinished. A crash mid-upload produces and sends it again (PUT is
// idempotent).
//
// A failure at any step is journaled as TransferFinished with its fault
// (table below) and the transfer's files are deleted. Run returns an error
// only when it cannot journal or ctx ends: nothing is then reported and a
// later Run resumes from the journal. (A ScheduleDownload also returns
// ErrOutsideWindow and ErrRetryWait: see "Retries" below.)
//
// Crash rules. Bytes on disk past the last TransferProgress offset are
// discarded on resume (the journal is the truth), so a crash costs at most
// one progress step (≤10 % of the file, or 256 KiB) of re-download, and a
// dropped connection resumes exactly where it broke: the file crosses the
// wire about once (bounded to 1.5× per Fetch). A crash between
// TransferApplying and TransferFinished re-runs the platform step, so the
// platform steps are idempotent: InstallFirmware recognises an install
// already done (Sim: the version file already holds the version; Hooks:
// the running version, or its install marker, which is written before the
// command and removed again when the command fails, so only an install
// cut short by the stop or crash itself is taken as done), ApplyConfig for the sim
// recomputes the same events from the journal (it touches nothing else),
// SetDefaultConfig rewrites the same file. The Runner itself never guesses
// whether an install happened; it always asks the platform again.
//
// # How the daemon uses it
//
// When a transfer is due (queued with NotBefore passed, or found
// in-progress/applying at start; a ScheduleDownload queued or in progress
// only while one of its time windows is open, see projections.WindowAt),
// outside a session, the
// daemon takes a copy of the transfer from the state and calls Run, one
// transfer at a time. Runner.Config returns a copy of State.Params;
// Runner.JournalExport writes the redacted JSONL export. When the Outcome
// says RebootNeeded, the daemon reboots (Platform.Reboot after closing the
// journal): TransferFinished is already durable with its CompleteTime, so
// the TransferComplete goes out after the reboot. At start, the daemon
// calls Sweep with the unfinished transfers' IDs to drop files left by a
// crash after TransferFinished.
//
// A crash after TransferFinished and before the reboot does not lose the
// reboot: RestartRequested (a restart without "M Reboot") is journaled in
// the same append as a successful firmware install's or full configuration
// replacement's TransferFinished (Runner.finish), and the daemon carries
// it out at its next start.
//
// # Faults (TransferComplete FaultStruct)
//
// Only codes allowed in TransferComplete are used (cwmp-digest.md §3.1).
// cwmp-1-0.xsd knows fewer (no 9014–9020): in a session negotiated to 1.0
// the session sends 9010 (download) or 9011 (upload) instead, with the
// precise code in the FaultString (soap.FaultStruct.ForVersion); the
// journal keeps the precise code.
//
//	9015  file server unreachable: DNS, connection refused or dial
//	      timeout, TLS handshake or untrusted certificate — after the
//	      retries
//	9012  401 (after answering the challenge with the credentials, or with
//	      none to give); 403 when credentials were given
//	9016  404 and any other 4xx (403 without credentials); a URL that is
//	      not http(s), also as a redirect's target (file://, ftp://…), a
//	      redirect from https to http, and more than 10 redirects: at once,
//	      not retried
//	9017  connection dropped (or under 1 KiB in IdleTimeout) after it was
//	      made, more often than the retries allow, or a server that keeps
//	      restarting the file (over 1.5× its size in one fetch)
//	9018  size or sha256 mismatch (against the Download's FileSize or the
//	      manifest's size/sha256); an invalid firmware manifest; a
//	      configuration file that is not a configuration script; an
//	      empty file (0 bytes: no firmware, and a replacement by it
//	      would clear the configuration)
//	9010  not enough free space (statfs of the download directory against
//	      the remaining bytes plus a reserve, up front when the size is
//	      known and again while writing, so a chunked body of unknown size
//	      stops at the reserve too), disk full while writing
//	      (ENOSPC), a file larger than MaxSize, 5xx after the retries,
//	      install/apply failure (a hook's non-zero exit, with its stderr),
//	      anything else
//	9020  a ScheduleDownload whose time windows all closed before it
//	      could be applied. Its fetch runs with a context that ends when
//	      the open window closes by the Runner's clock; stopped there (or
//	      found finished after it: applying is committed only inside a
//	      window), it keeps its progress and Run returns
//	      ErrOutsideWindow while a later window remains, 9020 otherwise
//	      (one whose earlier attempt failed and waited to be retried
//	      until the windows closed: that attempt's fault; see Retries).
//	      One still queued when every window has closed (the agent was
//	      down through them) never began: no TransferStarted, and its
//	      StartTime is the Unknown Time.
//	      An install once TransferApplying is journaled is never cut short
//	9011  any upload failure (non-2xx, export failure, a connection cut
//	      after it was made, a server taking under 1 KiB of the body in
//	      IdleTimeout, a redirect that would not repeat the PUT with
//	      its body: 301/302/303, or from https to http, or to a URL that
//	      is not http(s)); upload
//	      auth failures are 9012 and unreachable servers 9015
//	9002  internal error: the agent's own files (the download directory)
//	      unusable
//
// Disk full and too large are 9010 rather than 9004 ("resources exceeded"),
// which TransferComplete may not carry. Fault strings are at most 256
// bytes, name the server by host (URLs without user info) and never carry
// a password.
//
// # Retries
//
// FileClient retries a dropped connection, a connect failure and a 5xx
// answer up to MaxRetries times (back-off/v4, exponential 0.5 s … 10 s by
// default); each retry resumes with "Range: bytes=N-". A 200 answer to a
// Range request means the server ignores ranges: the file restarts from
// byte 0. A 206 whose Content-Range does not start at N restarts from 0
// too. Credentials are sent only after a 401 challenge (Digest preferred,
// via cwmp/digest, else Basic), then up front on later requests of the
// same fetch. Redirects are followed only when they repeat the request
// as it was (same method and body: 307/308 for an upload, any for a
// download) to an http(s) URL, never from https to http (net/http would
// copy a Basic Authorization to the same host name in clear), at most 10
// times; a refused redirect is a fault at once (9016 download, 9011
// upload), never retried. A manifest's links get the Download's
// credentials only on the manifest's host, and not over http when the
// manifest came over https.
//
// A ScheduleDownload's windows add retries of whole attempts (their
// MaxRetries, D§11.9; retry.go). A failed fetch whose fault a later
// attempt could change — 9015, 9016, 9017, 9010 (a 5xx, too little free
// space; not an unsupported file type or a file over MaxSize), 9002 — is
// journaled as TransferAttemptFailed, not TransferFinished, while
// projections.PlanRetry finds an attempt left: per window, MaxRetries
// retries after its first failed attempt (-1: DefaultWindowRetries),
// each after DefaultRetryDelay (1 min doubling to 15 min, ±25%), drawn
// once and journaled as NextAttempt. A spent window, or a back-off that
// would end after it, waits for the next window, whose budget starts
// again. Run returns ErrRetryWait; the files and progress stay, so the
// next attempt resumes. No attempt left: TransferFinished with this
// attempt's fault. 9012 (the same credentials get the same answer), 9018
// and failures of the install/apply step are reported at once. When the
// windows all close while a retry waits (the agent was down), the
// transfer is reported with its last attempt's fault; an attempt cut by
// the last window's end is 9020, as before.
package actions
