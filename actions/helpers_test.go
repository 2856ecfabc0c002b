package actions

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/cwmp/acsim"
	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
	"github.com/cwmpd/cwmpd/projections/live"
)

var t0 = time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)

// startACS runs an acsim (its file server is what the tests use) on
// 127.0.0.1 for one test.
func startACS(t *testing.T, cfg acsim.Config) *acsim.Server {
	t.Helper()
	cfg.Schema = acsim.SchemaOff
	s, err := acsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// testClient retries fast and never consults the real disk's free space.
func testClient() *FileClient {
	return &FileClient{
		NewBackOff: func() backoff.BackOff { return backoff.NewConstantBackOff(5 * time.Millisecond) },
		FreeSpace:  func(string) (int64, error) { return 1 << 40, nil },
		MaxRetries: 5,
	}
}

func stats(s *acsim.Server, name string) acsim.FileStats {
	for _, st := range s.FileStats() {
		if st.Name == name {
			return st
		}
	}
	return acsim.FileStats{}
}

// fix is a device: a state directory with a real journal, the sim
// platform and a Runner.
type fix struct {
	t     *testing.T
	dir   string
	j     *journal.Journal
	store *live.Store
	sim   *Sim
	files *FileClient
	// wrap, when set, stands between the Runner and the store.
	wrap func(Journal) Journal
}

func newFix(t *testing.T) *fix {
	t.Helper()
	f := &fix{t: t, dir: t.TempDir(), files: testClient()}
	f.sim = &Sim{Dir: f.dir}
	f.open()
	return f
}

func (f *fix) open() {
	f.t.Helper()
	j, err := journal.Open(journal.Options{Dir: f.dir + "/journal", BootID: "b", Logger: zerolog.Nop(), Clock: func() time.Time { return t0 }})
	if err != nil {
		f.t.Fatal(err)
	}
	s, err := live.Open(j, live.Options{Logger: zerolog.Nop()})
	if err != nil {
		j.Close()
		f.t.Fatal(err)
	}
	f.j, f.store = j, s
	f.t.Cleanup(f.close)
}

func (f *fix) close() {
	if f.j == nil {
		return
	}
	f.store.Close()
	f.j.Close()
	f.j = nil
}

// restart closes and reopens the journal, folding it again: a crash.
func (f *fix) restart() {
	f.t.Helper()
	f.close()
	f.open()
}

func (f *fix) append(evs ...event.Event) []journal.Record {
	f.t.Helper()
	recs, err := f.store.Append(context.Background(), evs...)
	if err != nil {
		f.t.Fatal(err)
	}
	return recs
}

// state is a deep copy of the folded state.
func (f *fix) state() *projections.State {
	f.t.Helper()
	var data []byte
	var err error
	f.store.View(func(s *projections.State) { data, err = s.Snapshot() })
	if err != nil {
		f.t.Fatal(err)
	}
	st, err := projections.Restore(data)
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

func (f *fix) queue(ev event.TransferQueued) uint64 {
	f.t.Helper()
	if ev.Kind == "" {
		ev.Kind = event.KindDownload
	}
	return f.append(ev)[0].Seq
}

func (f *fix) transfer(id uint64) projections.Transfer {
	f.t.Helper()
	tr := f.state().Transfers.ByID[id]
	if tr == nil {
		f.t.Fatalf("transfer %d not in the state", id)
	}
	return *tr
}

func (f *fix) runner() *Runner {
	var j Journal = f.store
	if f.wrap != nil {
		j = f.wrap(j)
	}
	return &Runner{
		Journal: j, Platform: f.sim, Files: f.files, Dir: f.dir,
		Now:    func() time.Time { return t0.Add(time.Minute) },
		Config: func() projections.Params { return f.state().Params },
		JournalExport: func(ctx context.Context, w io.Writer) error {
			r := f.j.NewReader(1)
			defer r.Close()
			_, err := journal.ExportJSONL(w, r, journal.ExportOptions{Name: event.Name, Redact: func(rec journal.Record) journal.Record {
				rec.Payload, _ = event.RedactPayload(rec.Type, rec.Payload)
				return rec
			}})
			return err
		},
	}
}

// run runs the Runner on transfer id to its end.
func (f *fix) run(id uint64) Outcome {
	f.t.Helper()
	out, err := f.runner().Run(context.Background(), f.transfer(id))
	if err != nil {
		f.t.Fatalf("Run: %v", err)
	}
	if got := f.transfer(id); got.State != projections.TransferFinishedState || got.FaultCode != out.Finished.FaultCode {
		f.t.Fatalf("after Run the journal says %s fault %d, the outcome %d", got.State, got.FaultCode, out.Finished.FaultCode)
	}
	return out
}

// journalFunc adapts a function to Journal.
type journalFunc func(ctx context.Context, evs ...event.Event) ([]journal.Record, error)

func (fn journalFunc) Append(ctx context.Context, evs ...event.Event) ([]journal.Record, error) {
	return fn(ctx, evs...)
}

// countTypes counts the journal's records by event type.
func (f *fix) countTypes() map[event.Type]int {
	f.t.Helper()
	out := map[event.Type]int{}
	r := f.j.NewReader(1)
	defer r.Close()
	for r.Next() {
		out[event.Type(r.Record().Type)]++
	}
	if err := r.Err(); err != nil {
		f.t.Fatal(err)
	}
	return out
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// smallBufferTransport dials with a 64 KiB socket receive buffer.
func smallBufferTransport() *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetReadBuffer(64 << 10)
		}
		return c, err
	}}
}
