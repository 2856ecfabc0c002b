package live

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

// DefaultSnapshotEvery is how many records pass between snapshots: small
// enough that boot folds little, large enough that snapshot writes (a sync
// each, which wears flash) stay rare.
const DefaultSnapshotEvery = 1000

// Options configure a Store.
type Options struct {
	SnapshotEvery int
	Logger        zerolog.Logger
}

// Store is the journal plus the folded state.
type Store struct {
	j     *journal.Journal
	log   zerolog.Logger
	every int

	mu        sync.Mutex
	folded    *sync.Cond
	st        *projections.State
	early     map[uint64]journal.Record // appended but waiting for a predecessor
	sinceSnap int
	snapping  bool
	subs      map[chan struct{}]struct{}
	snapWG    sync.WaitGroup
	partial   bool // see Partial
}

// Partial reports that Open could not fold the whole history: retention
// had dropped records no usable snapshot covered, so the state holds only
// what the records left say.
func (s *Store) Partial() bool { return s.partial }

// Open folds the journal into a state: the newest snapshot, then every
// record after it. A snapshot that cannot be used (another format version,
// a sequence beyond the journal) is ignored and the whole journal folded.
func Open(j *journal.Journal, opts Options) (*Store, error) {
	if opts.SnapshotEvery <= 0 {
		opts.SnapshotEvery = DefaultSnapshotEvery
	}
	s := &Store{j: j, log: opts.Logger, every: opts.SnapshotEvery, early: map[uint64]journal.Record{}}
	s.folded = sync.NewCond(&s.mu)
	st, err := s.boot()
	if err != nil {
		return nil, err
	}
	s.st = st
	return s, nil
}

func (s *Store) boot() (*projections.State, error) {
	st := projections.New()
	snap, ok, err := s.j.LoadSnapshot(projections.SnapshotName)
	if err != nil {
		if s.j.FirstSeq() > 1 && !journal.IsCorrupt(err) {
			// Folding what is left would throw away the history the
			// snapshot holds for a read error that may pass: fail the
			// start instead (the supervisor starts the agent again). A
			// snapshot whose bytes are damaged will not pass: it is
			// unusable, as one of another format, and what is left is
			// folded (below), or the agent would never start again.
			return nil, fmt.Errorf("live: snapshot unreadable and the journal trimmed behind it: %w", err)
		}
		s.log.Warn().Err(err).Msg("snapshot unreadable; folding the whole journal")
		ok = false
	}
	if ok && snap.Seq <= s.j.LastSeq() {
		restored, err := projections.RestoreAt(snap.Data, snap.Seq)
		if err == nil {
			st = restored
		} else {
			s.log.Warn().Err(err).Uint64("seq", snap.Seq).Msg("snapshot not usable; folding the whole journal")
		}
	}
	from := st.Seq + 1
	if first := s.j.FirstSeq(); st.Seq == 0 && first > 1 {
		from, s.partial = first, true
		// Retention dropped records only a snapshot covered, and that
		// snapshot is gone or unusable (another build's format after a
		// firmware change). Refusing to start would leave the device
		// unmanageable: the state is rebuilt from what is left, and what
		// was journaled before it (settings, parameters, queues) is lost;
		// the agent's start then applies the factory defaults as on a
		// first start.
		s.log.Error().Uint64("first_seq", first).Msg("no usable snapshot covers the records retention dropped; state rebuilt from the records left")
	}
	r := s.j.NewReader(from)
	defer r.Close()
	for r.Next() {
		if err := s.apply(st, r.Record()); err != nil {
			return nil, err
		}
		// A long tail folded here counts toward the next snapshot, which
		// then comes with the next append: the next start is fast again,
		// and retention, which keeps what no snapshot covers, can trim.
		s.sinceSnap++
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("live: boot: %w", err)
	}
	return st, nil
}

// apply folds one record; violations are logged, corruption is an error.
func (s *Store) apply(st *projections.State, rec journal.Record) error {
	err := st.Apply(rec)
	var v *projections.ViolationError
	switch {
	case err == nil:
	case errors.As(err, &v):
		s.log.Warn().Uint64("seq", v.Seq).Str("violation", v.Reason).Msg("journal record contradicts state")
	default:
		return fmt.Errorf("live: fold: %w", err)
	}
	return nil
}

// Append makes evs durable (one group commit) and folds them; it returns
// once the state includes them.
func (s *Store) Append(ctx context.Context, evs ...event.Event) ([]journal.Record, error) {
	if len(evs) == 0 {
		return nil, nil // nothing to record; the journal refuses an empty batch
	}
	entries := make([]journal.Entry, len(evs))
	for i, e := range evs {
		typ, payload, err := event.Encode(e)
		if err != nil {
			return nil, err
		}
		entries[i] = journal.Entry{Type: typ, Payload: payload}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Once handed over, an append is not cancelled: a record committed
	// after its caller gave up would otherwise never be folded, and every
	// later append would wait for it forever.
	recs, err := s.j.Append(context.WithoutCancel(ctx), entries...)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		s.early[r.Seq] = r
	}
	// Concurrent appends can return out of order; fold strictly in
	// sequence, whoever arrives first folds for the others.
	for {
		r, ok := s.early[s.st.Seq+1]
		if !ok {
			break
		}
		delete(s.early, r.Seq)
		if err := s.apply(s.st, r); err != nil {
			return nil, err
		}
		s.sinceSnap++
	}
	s.folded.Broadcast()
	for ch := range s.subs {
		select {
		case ch <- struct{}{}:
		default: // a wake-up is already waiting
		}
	}
	last := recs[len(recs)-1].Seq
	for s.st.Seq < last {
		s.folded.Wait()
	}
	if s.sinceSnap >= s.every && !s.snapping {
		s.startSnapshot()
	}
	for _, r := range recs {
		afterRecord(r.Type)
	}
	return recs, nil
}

// startSnapshot serialises the state under the lock and writes it in the
// background. Called with s.mu held.
func (s *Store) startSnapshot() {
	data, err := s.st.Snapshot()
	if err != nil {
		s.log.Error().Err(err).Msg("snapshot")
		return
	}
	seq := s.st.Seq
	s.sinceSnap, s.snapping = 0, true
	s.snapWG.Add(1)
	go func() {
		defer s.snapWG.Done()
		err := s.j.SaveSnapshot(journal.Snapshot{Name: projections.SnapshotName, Seq: seq, Data: data})
		s.mu.Lock()
		s.snapping = false
		s.mu.Unlock()
		if err != nil {
			s.log.Warn().Err(err).Uint64("seq", seq).Msg("snapshot not saved")
		}
	}()
}

// SnapshotNow writes a snapshot of the current state and waits for it.
func (s *Store) SnapshotNow() error {
	s.snapWG.Wait()
	s.mu.Lock()
	data, err := s.st.Snapshot()
	seq := s.st.Seq
	s.sinceSnap = 0
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.j.SaveSnapshot(journal.Snapshot{Name: projections.SnapshotName, Seq: seq, Data: data})
}

// Subscribe returns a channel that receives a (coalesced) wake-up after
// appended records are folded — unlike the journal's own subscription, the
// state a woken reader sees already includes them.
func (s *Store) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	if s.subs == nil {
		s.subs = map[chan struct{}]struct{}{}
	}
	s.subs[ch] = struct{}{}
	s.mu.Unlock()
	return ch, func() {
		s.mu.Lock()
		delete(s.subs, ch)
		s.mu.Unlock()
	}
}

// View runs fn with the current state; fn must not keep it or modify it.
func (s *Store) View(fn func(*projections.State)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s.st)
}

// Journal returns the underlying journal (for readers and exports).
func (s *Store) Journal() *journal.Journal { return s.j }

// Close waits for a background snapshot; it does not close the journal.
func (s *Store) Close() { s.snapWG.Wait() }
