// Package replay folds a journal offline: any journal.Reader (a Badger
// directory opened read-only, a JSONL export, records in memory) into the
// projections, with a human timeline (one line per record), invariant checks
// after every record, and an optional stop at a given sequence.
//
// Replay never writes to what it reads and never reads the clock: the same
// journal gives the same timeline and final state on any machine. Golden
// journals in testdata/ pin that down.
package replay
