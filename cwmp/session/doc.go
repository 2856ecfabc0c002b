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
// One ordering is relaxed on purpose. What only records an acknowledgement
// from the ACS — InformAccepted after an InformResponse,
// TransferCompleteAcked after a TransferCompleteResponse — rides with the
// session's next durable append instead of costing a sync of its own: before
// the first ACS request is served (so the handler's intents follow it in
// the journal), with SessionSucceeded, or with SessionFailed. Nothing the
// CPE sends depends on it. A periodic session is then two durable commits,
// not three. The price: a crash (SIGKILL, power cut) inside the one
// exchange between the acknowledgement and that append leaves the events
// undelivered in the journal, so the next session repeats them — the same
// thing an ACS already sees when an InformResponse is lost on the wire. A
// session that fails there keeps the rule of digest §8.2: the
// acknowledgement is journaled with SessionFailed and nothing delivered is
// sent again.
//
// Decisions on rules the digest leaves open ([U]):
//   - HoldRequests lasts while the ACS has requests: an empty HTTP response
//     ends the ACS's turn, and TransferCompletes still owed are then sent
//     (each answered, then a new empty POST) before the session ends.
//   - Any SOAP fault to the Inform or to a TransferComplete fails the
//     session (8005 "retry request" and every other code alike); the
//     TransferComplete stays owed.
//   - A redirect is followed for the Inform only; the transport enforces the
//     limit of 5.
//   - The CPE offers CWMP 1.4 (cwmp-1-2 namespace, SupportedCWMPVersions)
//     unless configured lower, uses the ACS's UseCWMPVersion when given and
//     otherwise the lower of its own and the InformResponse's namespace;
//     every response to an ACS request is written in that request's version.
package session
