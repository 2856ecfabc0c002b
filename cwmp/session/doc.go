// Package session is the CPE side of one CWMP session (digest §2.1, §7):
// Inform → InformResponse → the CPE's own requests (TransferComplete) → an
// empty POST → the ACS's requests, answered in order → an empty HTTP
// response ends it.
//
// It is split the way the journal demands. Core is a pure state machine:
// given what arrived it returns a Step — the events to journal, the ACS
// request to serve, the message to send next, or the outcome — and reads no
// clock, network or journal. Driver is the thin loop that carries a Step
// out in the only safe order: journal first, then act. Nothing is sent that
// depends on a record not yet durable, so a crash at any instant leaves a
// journal that says how far the session got.
//
// One ordering is relaxed on purpose. InformAccepted — the record that the
// ACS's InformResponse arrived, so the events it lists are delivered — rides
// with the session's next durable append instead of costing a sync of its
// own: before the first ACS request is served (so the handler's intents
// follow it in the journal), before a TransferComplete is acknowledged, or
// with SessionSucceeded or SessionFailed. Nothing the CPE sends depends on
// it. A periodic session is then two durable commits, not three. The price:
// a crash (SIGKILL, power cut) between the InformResponse and that append —
// the empty POST and its answer, any owed TransferComplete exchange, and any
// request the session answers with a fault itself — leaves the events
// undelivered in the journal, so the next session repeats them, which an ACS
// already sees when an InformResponse is lost on the wire. The same happens
// if the journal refuses that append (disk full). A session that fails
// without a crash keeps digest §8.2: the acknowledgement is journaled with
// SessionFailed and nothing delivered is sent again. The fold does not
// depend on where the record lands (events raised during the session are
// told apart by sequence; see projections.Pending). TransferCompleteAcked
// is not held: a TransferComplete sent twice starts work on the ACS, a
// repeated event does not.
//
// Decisions on rules the digest leaves open ([U]):
//   - HoldRequests lasts while the ACS has requests: an empty HTTP response
//     ends the ACS's turn, and TransferCompletes still owed are then sent
//     (each answered, then a new empty POST) before the session ends.
//   - Any SOAP fault to the Inform or to a TransferComplete fails the
//     session (8005 "retry request" and every other code alike); the
//     TransferComplete stays owed.
//   - A redirect is followed for the Inform only (a later one fails the
//     session); the transport enforces both and the limit of 5.
//   - The CPE offers CWMP 1.4 (cwmp-1-2 namespace, SupportedCWMPVersions)
//     unless configured lower, uses the ACS's UseCWMPVersion when given and
//     otherwise the lower of its own and the InformResponse's namespace;
//     every response to an ACS request is written in that request's version.
package session
