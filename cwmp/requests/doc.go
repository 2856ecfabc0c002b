// Package requests serves the ACS's device and file-transfer RPCs: Reboot,
// FactoryReset, ScheduleInform, Download, Upload, ScheduleDownload,
// GetQueuedTransfers, GetAllQueuedTransfers and CancelTransfer.
//
// It owns the validation of those requests and the durable intent each
// accepted one leaves in the journal. It never touches the device: a
// Handler checks the request against the folded state (projections), appends
// the intent through live.Store, and only then answers. The daemon carries
// the intents out later, from the projections: the reboot or factory reset
// after the session ends, transfers by the actions package, the scheduled
// Inform when its time comes. A response is a promise, and it is only given
// once the promise is durable; when the journal cannot record the intent the
// answer is fault 9002 and nothing was promised.
//
// Requests this package does not serve go to Handler.Next (the data model's
// handler, say), or get fault 9000 when there is none. Methods lists the
// RPCs served here, for GetRPCMethods.
//
// # Rules and decisions
//
// The digest (docs/cwmp-digest.md) marks several rules unverified ([U]); the
// decisions taken for them, and for points it leaves open, are these. Each
// is covered by a test.
//
// Journal and time:
//   - The journal append runs with a context that is never cancelled
//     (context.WithoutCancel): an append that reached the journal always has
//     a known outcome, so a 9002 never hides an intent that became durable
//     anyway. A request whose context is already done when it arrives is
//     refused with 9002 before anything is written.
//   - Relative times (DelaySeconds, WindowStart, WindowEnd) are turned into
//     absolute times from the injected clock (Handler.Now) when the request
//     is handled, and journaled; replay never recomputes them.
//   - Check and append run under one lock of the Handler, so concurrent
//     requests cannot together overrun a bound.
//
// Reboot and FactoryReset (digest §11.1, §11.2):
//   - Any CommandKey is accepted, the empty one included.
//   - A second Reboot before the device has rebooted is journaled too; its
//     CommandKey replaces the first one (the device reboots once and the
//     Inform after it carries one "M Reboot", with the newer key).
//   - A FactoryReset while one is already pending is answered without a new
//     record: the intent is already durable and a reset is not done twice.
//
// ScheduleInform (digest §10.2):
//   - DelaySeconds 0 is refused with 9003 ([U] in the digest, kept).
//   - At most MaxSchedules (default 64, the size of an Inform's event list)
//     schedules may be outstanding; one more gets 9004. Schedules with the
//     same CommandKey are separate schedules.
//
// Download, Upload and ScheduleDownload (digest §11.3, §11.5, §11.7, §11.9).
// The checks run in this order, and the first one that fails answers:
//  1. URL. It must parse and be absolute: an empty URL, one that does not
//     parse, one without a scheme or without a host gets 9003. A scheme
//     other than http or https (file, ftp, tftp, …) gets 9013 at once, as
//     the fault of the RPC itself: 9013 is not allowed in TransferComplete.
//     Credentials inside the URL are accepted and never logged.
//  2. FileType, matched exactly (case and spaces). Download and
//     ScheduleDownload: "1 Firmware Upgrade Image", "3 Vendor Configuration
//     File" and "X <OUI> Factory Configuration File". Upload: "1 Vendor
//     Configuration File", "2 Vendor Log File", "X <OUI> Factory
//     Configuration File" and "X <OUI> Journal" (the journal export). <OUI>
//     is Handler.OUI (default DefaultOUI). Every other type, including
//     standard ones we do not implement ("2 Web Content", "6 Stored Firmware
//     Image", the per-instance "3 Vendor Configuration File 1"), gets 9003.
//  3. TargetFileName is a file name, not a path: one containing '/' or '\',
//     or equal to "." or "..", gets 9003. Empty means not given.
//  4. ScheduleDownload's time windows, below.
//  5. Queue room: at most MaxTransfers (default 16, the most that
//     GetQueuedTransfers can report) transfers not yet acknowledged (queued,
//     in progress, applying, or finished with TransferComplete still owed);
//     one more gets 9004.
//
// Further transfer decisions:
//   - Several transfers may share a CommandKey; each is its own transfer.
//   - FileSize 0 means not given. SuccessURL and FailureURL (Kicked only)
//     are not journaled.
//   - A Download or Upload starts no earlier than now + DelaySeconds
//     (TransferQueued.NotBefore); the answer is always Status 1 with Unknown
//     StartTime and CompleteTime, the outcome comes in TransferComplete.
//   - Logs name a transfer's scheme and host only: never the Username,
//     Password, URL userinfo, path or query (signed URLs carry tokens).
//
// ScheduleDownload time windows (digest §11.9):
//   - One or two windows, else 9003.
//   - Each window must end after it starts (WindowEnd > WindowStart; an empty
//     window could never be used), else 9003.
//   - A second window must start at or after the end of the first: windows
//     are half-open, so they may touch, but may not overlap or come out of
//     order; else 9003.
//   - WindowMode "1 At Any Time", "2 Immediately" and "3 When Idle" are
//     accepted. "4 Confirmation Needed" gets 9003: the device has no user to
//     ask, so such a window could never open; accepting it would promise a
//     download that must fail with 9020. Vendor modes ("X …") get 9003.
//   - MaxRetries below -1 gets 9003 (-1: the CPE decides).
//   - The windows are journaled as absolute times (now + seconds), and
//     NotBefore is the start of the first window.
//
// Queue inspection (digest §11.6):
//   - GetQueuedTransfers and GetAllQueuedTransfers list the transfers not
//     yet acknowledged, oldest first, at most 16 (the schema's limit; with a
//     MaxTransfers above 16 the oldest 16 are listed). State: queued → 1,
//     in progress or applying → 2, finished with TransferComplete owed → 3.
//   - FileSize is the one the request gave (0 for an upload); the agent
//     learns no other before the transfer runs.
//
// CancelTransfer (digest §11.6):
//   - A CommandKey that no transfer has gets 9003 ([U] in the digest, kept).
//   - The request names every transfer with that CommandKey, the empty key
//     included. If all of them are still queued, all are cancelled (one
//     TransferCancelled each, in one append) and none gets a
//     TransferComplete. If any of them has started (in progress, applying,
//     or finished and owed), the answer is 9021 and none is cancelled: a
//     cancel is all or nothing.
//   - A known limit: the check and the append are atomic with respect to
//     this Handler, not to the actions package. The daemon must not start a
//     queued transfer while a session is serving ACS requests (it starts
//     them between sessions), or a transfer could start between the check
//     and the cancel.
package requests
