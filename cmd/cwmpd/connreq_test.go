package main

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections/live"
)

// newTestConnReqs is a connReqs on a real journal in a temporary directory,
// not started; --connreq-listen is listen.
func newTestConnReqs(t *testing.T, listen string) (*connReqs, *live.Store) {
	t.Helper()
	j, err := journal.Open(journal.Options{Dir: t.TempDir(), BootID: "b", Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	store, err := live.Open(j, live.Options{Logger: zerolog.Nop()})
	if err != nil {
		j.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close(); j.Close() })
	c := newConnReqs(connReqOptions{listen: listen, host: "127.0.0.1", burst: 4, interval: time.Second,
		store: store, j: j, log: zerolog.Nop(), kick: func() {}, journalErr: func(error) {}})
	return c, store
}

// set is the operator's cwmpd set, as the control socket applies it.
func set(t *testing.T, store *live.Store, assign ...string) {
	t.Helper()
	if err := applySettings(context.Background(), store, assign); err != nil {
		t.Fatal(err)
	}
}

// The conductor checks the connection-request listener on every turn of
// its loop, a few times a session, for the agent's whole life: when the
// listener is where it should be (or connection requests are off and
// nothing listens), the check allocates nothing. Measured against a real
// server on 127.0.0.1, with the port from the setting (--connreq-listen
// naming a host alone, which takes the same path as no flag, the default)
// and with --connreq-listen naming the port.
func TestConnReqSyncAllocatesNothingInSteadyState(t *testing.T) {
	port := freePort(t)
	for _, tc := range []struct {
		name, listen string
		notice       string // what the operator is told, every time
	}{
		{"port from the setting", "127.0.0.1", ""},
		{"port named by --connreq-listen", fmt.Sprintf("127.0.0.1:%d", port), "(--connreq-listen names the port)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, store := newTestConnReqs(t, tc.listen)
			set(t, store, fmt.Sprintf("connection-request-port=%d", port))
			if err := c.start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer c.stop()
			want := fmt.Sprintf("http://127.0.0.1:%d/", port)
			if !strings.HasPrefix(c.URL(), want) {
				t.Fatalf("published %q, want %s…", c.URL(), want)
			}
			check := func(state string) {
				t.Helper()
				first := c.sync() // builds what it keeps
				if tc.notice == "" && first != "" || !strings.Contains(first, tc.notice) {
					t.Fatalf("%s: notice %q, want %q in it", state, first, tc.notice)
				}
				var got string
				if n := testing.AllocsPerRun(200, func() { got = c.sync() }); n != 0 {
					t.Errorf("%s: the steady-state check allocates %v times", state, n)
				}
				if got != first {
					t.Fatalf("%s: notice %q, then %q", state, first, got)
				}
			}
			check("listening")
			// Turned off: nothing listens, and asking again costs nothing.
			set(t, store, "enabled=no")
			if c.sync(); c.URL() != "" {
				t.Fatalf("URL %q with connection requests off", c.URL())
			}
			if n := testing.AllocsPerRun(200, func() { c.sync() }); n != 0 {
				t.Errorf("off: the steady-state check allocates %v times", n)
			}
			// On again: the same port, and the same check for free.
			set(t, store, "enabled=yes")
			c.sync()
			if !strings.HasPrefix(c.URL(), want) {
				t.Fatalf("published %q after turning on, want %s…", c.URL(), want)
			}
			conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err != nil {
				t.Fatalf("not listening after turning on: %v", err)
			}
			conn.Close()
			check("listening again")
		})
	}
}
