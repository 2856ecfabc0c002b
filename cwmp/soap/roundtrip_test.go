package soap

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.xml")

func encodeSample(t *testing.T, env *Envelope) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Encode(&b, env); err != nil {
		t.Fatalf("encode: %v", err)
	}
	return b.Bytes()
}

func TestRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range samples() {
		t.Run(s.name, func(t *testing.T) {
			out := encodeSample(t, s.env)
			got, err := Decode(bytes.NewReader(out), 0)
			if err != nil {
				t.Fatalf("decode: %v\n%s", err, out)
			}
			if got.Version.Namespace() != s.env.Version.Namespace() {
				t.Errorf("version: got %v, want namespace of %v", got.Version, s.env.Version)
			}
			if !reflect.DeepEqual(got.Header, s.env.Header) {
				t.Errorf("header:\n got %+v\nwant %+v", got.Header, s.env.Header)
			}
			if !reflect.DeepEqual(got.Body, s.env.Body) {
				t.Errorf("body:\n got %#v\nwant %#v", got.Body, s.env.Body)
			}
			if got.Body != nil {
				seen[got.Body.MethodName()] = true
			}
			golden := filepath.Join("testdata", "golden", s.name+".xml")
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestRoundTrip -update)", err)
			}
			if !bytes.Equal(out, want) {
				t.Errorf("output differs from %s (rerun with -update if intended):\n%s", golden, out)
			}
		})
	}
	for _, m := range Methods() {
		if !seen[m] {
			t.Errorf("no round-trip sample for %s", m)
		}
	}
}

// The golden files are decoded too, so a regression in the decoder shows up
// even when the encoder changes in step with it.
func TestGoldenDecode(t *testing.T) {
	for _, s := range samples() {
		b, err := os.ReadFile(filepath.Join("testdata", "golden", s.name+".xml"))
		if err != nil {
			t.Fatal(err)
		}
		env, err := Decode(bytes.NewReader(b), 0)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if !reflect.DeepEqual(env.Body, s.env.Body) {
			t.Errorf("%s: body mismatch", s.name)
		}
	}
}
