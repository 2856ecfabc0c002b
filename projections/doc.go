// Package projections owns the agent's state as pure folds of the journal.
//
// State.Apply takes one journal record and updates every projection; it reads
// no clock, file or network, so a journal replayed anywhere (on the device at
// boot, offline from a JSONL export, in a golden test) gives the same state.
// Time enters only through records: their envelope time and the times the
// events carry (a retry's next attempt, a schedule's due time).
//
// The projections:
//   - Pending: the CWMP events owed to the ACS (digest §8), with their
//     cumulative, discard and reboot rules;
//   - Retry: consecutive failed sessions, the journaled next attempt and the
//     last session error (digest §9);
//   - Transfers: Download/Upload/ScheduleDownload from queued to
//     acknowledged, with a ScheduleDownload's failed attempts and the
//     journaled time of its next one (PlanRetry: its windows' MaxRetries);
//   - Settings and Status: the operator's settings (the seed's names) and the
//     read-only status (disabled / waiting-URL / running, last-session-error,
//     retry-count);
//   - Params: journal-backed parameter values, attributes, object instances
//     and the ParameterKey;
//   - Schedules: ScheduleInform requests not yet fired;
//   - Boot: boot count, the pending Reboot command key, BOOTSTRAP delivery.
//
// Each projection is a plain struct with exported fields; State.Snapshot and
// Restore serialise them together with the sequence they cover, so boot is
// "load the newest snapshot, fold the tail". Check lists the invariants every
// prefix of every journal must satisfy.
//
// Decisions on rules the digest marks unverified ([U]) are written where the
// rule is implemented, on the function that applies it.
package projections
