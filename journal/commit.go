package journal

import (
	"context"
	"errors"
	"fmt"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// appendReq is one Append (entries) or one Import batch (given records, whose
// seq/time/boot are kept). Each is committed whole or not at all.
type appendReq struct {
	entries []Entry
	given   []Record
	res     chan appendResult // buffered: the committer never blocks on it
}

type appendResult struct {
	recs []Record
	err  error
}

func (r *appendReq) n() int {
	if r.given != nil {
		return len(r.given)
	}
	return len(r.entries)
}

// estimate is a conservative guess of what the request costs in Badger's
// per-transaction budget (key + value + per-entry overhead).
func (r *appendReq) estimate(bootLen int) int64 {
	var s int64
	for _, e := range r.entries {
		s += int64(envOverhead + bootLen + len(e.Payload) + 9 + 32)
	}
	for _, g := range r.given {
		s += int64(envOverhead + len(g.BootID) + len(g.Payload) + 9 + 32)
	}
	return s
}

// Append makes entries durable as consecutive records and returns them with
// their seq, time and boot id. It returns only after the records are synced
// to disk; concurrent Appends share one transaction and one sync.
//
// The entries of one call are committed atomically. If ctx ends before the
// committer has taken the entries, nothing is written and ctx's error is
// returned. If it ends after, the error wraps both ErrMaybeCommitted and ctx's
// error: the records may still become durable (a later LastSeq or a read
// tells).
func (j *Journal) Append(ctx context.Context, entries ...Entry) ([]Record, error) {
	if j.readOnly {
		return nil, ErrReadOnly
	}
	if len(entries) == 0 {
		return nil, nil
	}
	return j.submit(ctx, &appendReq{entries: entries})
}

func (j *Journal) submit(ctx context.Context, r *appendReq) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("journal: append: %w", err)
	}
	r.res = make(chan appendResult, 1)
	j.inflight.Add(1)
	defer j.inflight.Add(-1)
	// reqs is unbuffered: a completed send is the exact moment the committer
	// owns the request, which is what makes the ctx contract above precise.
	select {
	case j.reqs <- r:
	case <-ctx.Done():
		return nil, fmt.Errorf("journal: append: %w", ctx.Err())
	case <-j.quit:
		return nil, ErrClosed
	}
	select {
	case res := <-r.res:
		return res.recs, res.err
	case <-ctx.Done():
		return nil, fmt.Errorf("journal: append: %w: %w", ErrMaybeCommitted, ctx.Err())
	}
}

// maxLinger bounds how long a group waits for appenders that are about to
// join it: short next to a sync, so it costs latency only under concurrency.
const maxLinger = 100 * time.Microsecond

// commitLoop is the single committer. Every request it receives is answered
// before it looks at quit again, so Close never strands a waiter.
func (j *Journal) commitLoop() {
	defer close(j.committerDone)
	var carry *appendReq
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for {
		group := make([]*appendReq, 0, 16)
		if carry != nil {
			group = append(group, carry)
			carry = nil
		} else {
			select {
			case r := <-j.reqs:
				group = append(group, r)
			case <-j.quit:
				return
			}
		}
		bootLen := len(j.opts.BootID)
		size, count := group[0].estimate(bootLen), group[0].n()
	drain:
		for group[0].given == nil {
			select {
			case r := <-j.reqs:
				if r.given != nil || size+r.estimate(bootLen) > j.groupBytes || count+r.n() > j.groupCount {
					carry = r
					break drain
				}
				size += r.estimate(bootLen)
				count += r.n()
				group = append(group, r)
			default:
				break drain
			}
		}
		// Appenders acked by the previous commit are still waking up when the
		// next group is drained; without waiting for them, N appenders settle
		// into two cohorts of N/2 that alternate syncs. When more appends are
		// in flight than the group holds, wait briefly for the rest.
		if carry == nil && group[0].given == nil && int64(len(group)) < j.inflight.Load() {
			linger.Reset(maxLinger)
		wait:
			for int64(len(group)) < j.inflight.Load() {
				select {
				case r := <-j.reqs:
					if r.given != nil || size+r.estimate(bootLen) > j.groupBytes || count+r.n() > j.groupCount {
						carry = r
						break wait
					}
					size += r.estimate(bootLen)
					count += r.n()
					group = append(group, r)
				case <-linger.C:
					break wait
				}
			}
			if !linger.Stop() {
				select {
				case <-linger.C:
				default:
				}
			}
		}
		j.commitGroup(group)
	}
}

// commitGroup writes the group in one transaction with one sync. Seqs are
// assigned here and published only after the commit succeeds, so a failed
// commit consumes none and the next group reuses them.
func (j *Journal) commitGroup(group []*appendReq) {
	j.wmu.Lock()
	defer j.wmu.Unlock()

	if err := j.checkFree(groupOp(group)); err != nil {
		for _, r := range group {
			r.res <- appendResult{err: err}
		}
		return
	}
	now := j.clock().UTC()
	first, last, bytes := j.first.Load(), j.last.Load(), j.bytes
	next := last + 1
	txn := j.db.NewTransaction(true)
	defer txn.Discard()

	var ok []*appendReq
	var results [][]Record
	for _, r := range group {
		recs, err := j.stamp(r, first, last, next, now)
		if err != nil {
			r.res <- appendResult{err: err}
			continue
		}
		var reqBytes int64
		var setErr error
		for _, rec := range recs {
			val := EncodeRecord(rec)
			if setErr = txn.SetEntry(badger.NewEntry(recordKey(rec.Seq), val)); setErr != nil {
				break
			}
			reqBytes += int64(len(val))
		}
		if setErr != nil {
			// The transaction now holds part of this request and cannot take
			// it back: fail the whole group rather than commit a torn append.
			if errors.Is(setErr, badger.ErrTxnTooBig) && len(ok) == 0 {
				setErr = fmt.Errorf("journal: append: %d entries too large for one transaction: %w", r.n(), setErr)
			} else {
				setErr = fmt.Errorf("journal: append: %w", setErr)
			}
			for _, o := range append(ok, r) {
				o.res <- appendResult{err: setErr}
			}
			return
		}
		if first == 0 {
			first = recs[0].Seq
		}
		bytes += reqBytes
		last = recs[len(recs)-1].Seq
		next = last + 1
		ok = append(ok, r)
		results = append(results, recs)
	}
	if len(ok) == 0 {
		return
	}
	err := txn.Set(keyFirst, u64bytes(first))
	if err == nil {
		err = txn.Set(keyBytes, u64bytes(uint64(bytes)))
	}
	if err == nil && j.beforeCommit != nil {
		err = j.beforeCommit()
	}
	if err == nil {
		err = txn.Commit()
	}
	if err != nil {
		err = fmt.Errorf("journal: append: commit: %w", err)
		j.log.Error().Err(err).Int("requests", len(ok)).Msg("journal: group commit failed")
		for _, r := range ok {
			r.res <- appendResult{err: err}
		}
		return
	}
	j.commits.Add(1)
	// Envelopes plus what Badger adds per entry (key, meta, skiplist node)
	// and the two metadata keys of every commit.
	n := 0
	for _, recs := range results {
		n += len(recs)
	}
	j.noteWritten(bytes - j.bytes + int64(n)*64 + 64)
	j.bytes = bytes
	j.first.Store(first)
	j.last.Store(last)
	for i, r := range ok {
		r.res <- appendResult{recs: results[i]}
	}
	j.notify()
	j.maybeTriggerRetention()
}

func groupOp(group []*appendReq) string {
	if group[0].given != nil {
		return "import"
	}
	return "append"
}

// stamp turns a request into records numbered from next.
func (j *Journal) stamp(r *appendReq, first, last, next uint64, now time.Time) ([]Record, error) {
	if r.given == nil {
		recs := make([]Record, len(r.entries))
		for i, e := range r.entries {
			recs[i] = Record{Schema: SchemaVersion, Seq: next + uint64(i), Time: now, BootID: j.opts.BootID, Type: e.Type, Payload: e.Payload}
		}
		return recs, nil
	}
	if first == 0 && last == 0 && len(r.given) > 0 {
		next = r.given[0].Seq // an empty journal takes the import's numbering
		if next == 0 {
			return nil, errors.New("journal: import: seq 0")
		}
	}
	recs := make([]Record, len(r.given))
	for i, g := range r.given {
		if g.Seq != next+uint64(i) {
			return nil, fmt.Errorf("journal: import: gap: want seq %d, got %d", next+uint64(i), g.Seq)
		}
		if g.Schema != SchemaVersion {
			return nil, fmt.Errorf("journal: import: seq %d: unknown schema %d", g.Seq, g.Schema)
		}
		if len(g.BootID) > MaxBootIDLen {
			return nil, fmt.Errorf("journal: import: seq %d: boot id longer than %d bytes", g.Seq, MaxBootIDLen)
		}
		if y := g.Time.Year(); y < 1678 || y > 2261 {
			return nil, fmt.Errorf("journal: import: seq %d: time %v outside the envelope's range", g.Seq, g.Time)
		}
		g.Time = g.Time.UTC()
		recs[i] = g
	}
	return recs, nil
}
