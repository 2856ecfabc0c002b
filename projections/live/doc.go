// Package live keeps the journal and its projections in step for the
// running agent: Open boots from the newest snapshot plus the journal's
// tail, Append makes events durable and then folds them, and snapshots are
// taken every N records so boot time stays flat as the journal grows.
//
// This is the one place where the pure folds of package projections meet
// I/O; everything that decides reads the state through View.
package live
