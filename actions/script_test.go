package actions

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections"
	"github.com/cwmpd/cwmpd/projections/event"
)

// An export read back as a full replacement into an empty configuration
// gives the same values (instance numbers aside), hidden ones excepted.
func TestScriptExportRoundTrip(t *testing.T) {
	cur := projections.Params{
		Values: map[string]projections.Value{
			"Device.Time.NTPServer1":       {Value: "pool.ntp.org"},
			"Device.Users.User.3.Username": {Value: "alice"},
			"Device.Users.User.3.Password": {Value: "secret", Hidden: true},
			"Device.Users.User.5.Username": {Value: "bob"},
			"Device.X.Table.1.Sub.2.Name":  {Value: "nested"},
			"Device.X.Table.1.Label":       {Value: "with = sign"},
			"Device.Time.LocalTimeZone":    {Value: ""},
		},
		Tables: map[string]*projections.Table{
			"Device.Users.User.":    {Highest: 5, Live: []uint32{3, 5}},
			"Device.X.Table.":       {Highest: 1, Live: []uint32{1}},
			"Device.X.Table.1.Sub.": {Highest: 2, Live: []uint32{2}},
		},
	}
	var b strings.Builder
	if err := writeScript(&b, cur, "test"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "secret") || !strings.Contains(out, "# hidden, not exported: Device.Users.User.+.Password") {
		t.Errorf("export:\n%s", out)
	}
	evs, err := configEvents([]byte(out), false, projections.Params{}, nil)
	if err != nil {
		t.Fatalf("reading the export back: %v\n%s", err, out)
	}
	st := projections.New()
	for i, e := range evs {
		typ, payload, err := event.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Apply(journal.Record{Seq: uint64(i + 1), Type: typ, Payload: payload}); err != nil {
			t.Fatalf("event %d %T: %v", i, e, err)
		}
	}
	want := map[string]string{
		"Device.Time.NTPServer1":       "pool.ntp.org",
		"Device.Users.User.1.Username": "alice",
		"Device.Users.User.2.Username": "bob",
		"Device.X.Table.1.Sub.1.Name":  "nested",
		"Device.X.Table.1.Label":       "with = sign",
		"Device.Time.LocalTimeZone":    "",
	}
	if len(st.Params.Values) != len(want) {
		t.Errorf("values %+v", st.Params.Values)
	}
	for k, v := range want {
		if got, ok := st.Params.Values[k]; !ok || got.Value != v {
			t.Errorf("%s = %q (%v), want %q", k, got.Value, ok, v)
		}
	}
}

func TestScriptErrors(t *testing.T) {
	cur := projections.Params{Tables: map[string]*projections.Table{"Device.Users.User.": {Highest: 2, Live: []uint32{2}}}}
	cases := map[string]int{
		"set Device.A":                FaultCorrupted, // no =
		"set Other.A=1":               FaultCorrupted, // not Device.
		"add Device.Users.User":       FaultCorrupted, // no trailing dot
		"reboot":                      FaultCorrupted,
		"set Device.Users.User.+.A=1": FaultTransfer, // no add before
		"set Device.Users.User.1.A=1": FaultTransfer, // 1 is not live
		"del Device.Users.User.1.":    FaultTransfer,
		"del Device.Users.User.":      FaultTransfer, // not an instance
		"set Device.Users.User.2.A=1": 0,
		"del Device.Users.User.2.\n":  0,
		"\n# only a comment\n\n":      0,
	}
	for in, code := range cases {
		_, err := configEvents([]byte(in), true, cur, nil)
		var f *Fault
		switch {
		case code == 0 && err != nil:
			t.Errorf("%q: %v", in, err)
		case code != 0 && (!errors.As(err, &f) || f.Code != code):
			t.Errorf("%q: %v, want fault %d", in, err, code)
		}
	}
}

// CheckParam lets the daemon refuse what the data model refuses.
func TestSimCheckParam(t *testing.T) {
	dir := t.TempDir()
	s := &Sim{Dir: dir, CheckParam: func(name, value string) (event.ParamValue, error) {
		if name != "Device.Time.NTPServer1" {
			return event.ParamValue{}, errors.New("not writable")
		}
		return event.ParamValue{Name: name, Value: value, Type: "string"}, nil
	}}
	p := filepath.Join(dir, "c.alter")
	os.WriteFile(p, []byte("set Device.DeviceInfo.SerialNumber=x\n"), 0o644)
	if _, err := s.ApplyConfig(context.Background(), p, true, projections.Params{}); err == nil || !strings.Contains(err.Error(), "not writable") {
		t.Errorf("err %v", err)
	}
}
