// Package event is cwmpd's event vocabulary: the typed records the agent
// appends to its journal, and their codec (journal.Entry/Record ⇄ Go structs).
//
// The journal frames and stores opaque (type, payload) pairs; this package
// gives them meaning. Each event type is a numbered Type with a String()
// name; payloads are JSON objects.
//
// Compatibility rules, which keep every journal ever written replayable:
//   - a Type's number and meaning never change; a changed meaning is a new
//     Type (e.g. BootedV2), never an edited one;
//   - fields may be added; decoders ignore fields they do not know, so an
//     older replay reads a newer journal;
//   - a Type this build does not know decodes to Unknown, which folds as a
//     no-op and is reported by replay, never dropped silently.
//
// Records refer to earlier records by sequence number: a transfer's ID is the
// sequence of its TransferQueued record, a session's ID the sequence of its
// SessionStarted record, a schedule's ID the sequence of its InformScheduled
// record. Sequences are unique for the life of a journal, and replay needs no
// random or clock-derived identifiers.
//
// Secrets (passwords, hidden parameter values) are written to the journal —
// the device needs them after a reboot — but Redact blanks them for exports.
package event
