package session

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/cwmp/acsim"
	"github.com/cwmpd/cwmpd/cwmp/soap"
	"github.com/cwmpd/cwmpd/cwmp/testpki"
	"github.com/cwmpd/cwmpd/cwmp/transport"
)

func startACS(t *testing.T, cfg acsim.Config) *acsim.Server {
	cfg.Schema = acsim.StrictWhenPossible()
	srv, err := acsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// runAgainst runs one session of a fresh journal against url with cfg.
func runAgainst(t *testing.T, f *fixture, tc transport.Config) Outcome {
	t.Helper()
	tc.Logger = zerolog.Nop()
	if tc.ExchangeTimeout == 0 {
		tc.ExchangeTimeout = 5 * time.Second
	}
	c, err := transport.New(tc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	d := &Driver{Journal: f.store, Handler: handler{}, Log: zerolog.Nop(), Clock: func() time.Time { return now }}
	out, err := d.Run(context.Background(), NewCore(f.input(t)), c)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSessionsAgainstTheStrictACS runs whole sessions against acsim, which
// rejects what the schema rejects, under each condition an ACS can impose.
func TestSessionsAgainstTheStrictACS(t *testing.T) {
	digest := acsim.Auth{Mode: acsim.AuthDigest, Username: "cpe", Password: "pw"}
	cases := []struct {
		name    string
		acs     acsim.Config
		tc      transport.Config
		queue   []soap.Message
		wantErr string // "" = success
	}{
		{name: "digest", acs: acsim.Config{Auth: digest}, tc: transport.Config{Username: "cpe", Password: "pw"},
			queue: []soap.Message{&soap.GetRPCMethods{}}},
		{name: "401 after digest", acs: acsim.Config{Auth: digest}, tc: transport.Config{Username: "cpe", Password: "wrong"},
			wantErr: "401"},
		{name: "basic refused over http", acs: acsim.Config{Auth: acsim.Auth{Mode: acsim.AuthBasic, Username: "cpe", Password: "pw"}},
			tc: transport.Config{Username: "cpe", Password: "pw"}, wantErr: "Basic"},
		{name: "hold requests", acs: acsim.Config{Faults: acsim.FaultPlan{HoldRequests: true}},
			queue: []soap.Message{&soap.GetRPCMethods{}}},
		{name: "redirect", acs: acsim.Config{Faults: acsim.FaultPlan{Redirect: "/moved"}}},
		{name: "inform fault", acs: acsim.Config{Faults: acsim.FaultPlan{InformFault: 8005}}, wantErr: "fault 8005"},
		{name: "503", acs: acsim.Config{Faults: acsim.FaultPlan{HTTPStatus: 503}}, wantErr: "ACS returned HTTP 503"},
		{name: "500", acs: acsim.Config{Faults: acsim.FaultPlan{HTTPStatus: 500}}, wantErr: "HTTP 500"},
		{name: "reset mid-session", acs: acsim.Config{Faults: acsim.FaultPlan{DropAt: 2}}, wantErr: "ACS"},
		{name: "timeout", acs: acsim.Config{Faults: acsim.FaultPlan{Delay: acsim.Duration(2 * time.Second), DelayAt: 1}},
			tc: transport.Config{ExchangeTimeout: 300 * time.Millisecond}, wantErr: "timeout waiting for InformResponse"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := startACS(t, c.acs)
			for _, m := range c.queue {
				srv.Enqueue("", m)
			}
			f := newFixture(t)
			c.tc.URL = srv.URL()
			out := runAgainst(t, f, c.tc)
			if c.wantErr == "" {
				if out.Failure != nil {
					t.Fatalf("failed: %v", out.Failure.Message)
				}
				if errs := acsErrors(srv); len(errs) > 0 {
					t.Fatalf("the strict ACS found errors: %v", errs)
				}
				if n := srv.Counts("").Sessions; n != 1 {
					t.Fatalf("%d completed sessions", n)
				}
				return
			}
			if out.Failure == nil || !strings.Contains(out.Failure.Message, c.wantErr) {
				t.Fatalf("outcome %+v, want an error containing %q", out.Failure, c.wantErr)
			}
		})
	}
}

func acsErrors(srv *acsim.Server) []string {
	var errs []string
	for _, e := range srv.Transcript() {
		errs = append(errs, e.Errors...)
	}
	return errs
}

func TestTLSWithUnknownCAFailsAndWithConfiguredCAAndClientCertSucceeds(t *testing.T) {
	ca := testpki.NewCA(t, "test CA")
	srvCert, srvKey := ca.Issue(t, false, testpki.Localhost)
	clientCert, clientKey := ca.Issue(t, true, nil)
	pair, err := tls.X509KeyPair(srvCert, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	srv := startACS(t, acsim.Config{TLS: &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}})

	f := newFixture(t)
	out := runAgainst(t, f, transport.Config{URL: srv.URL()})
	if out.Failure == nil || out.Failure.Message != "TLS: certificate signed by unknown authority" {
		t.Fatalf("unknown CA: %+v", out.Failure)
	}
	out = runAgainst(t, f, transport.Config{URL: srv.URL(), CACertPEM: ca.PEM, ClientCertPEM: clientCert, ClientKeyPEM: clientKey})
	if out.Failure != nil {
		t.Fatalf("configured CA + client certificate: %v", out.Failure.Message)
	}
	if errs := acsErrors(srv); len(errs) > 0 {
		t.Fatalf("strict ACS: %v", errs)
	}
}
