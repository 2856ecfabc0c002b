package soap

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"github.com/beevik/etree"
	"io"
	"reflect"
	"strings"
	"testing"
)

// manyParams builds n parameters cycling through every value type and
// through content that needs escaping.
func manyParams(n int) []ParameterValueStruct {
	types := []struct {
		t ValueType
		v string
	}{
		{TypeString, "plain"}, {TypeString, `<&>"'` + "\r\n\t"}, {TypeString, ""},
		{TypeUnsignedInt, "4294967295"}, {TypeInt, "-2147483648"}, {TypeBoolean, "true"},
		{TypeDateTime, "2026-11-22T01:02:03Z"}, {TypeBase64, "AAEC"}, {TypeHexBinary, "DEADbeef"},
		{TypeLong, "-1"}, {TypeUnsignedLong, "18446744073709551615"}, {TypeString, "日本語 \U0001F600"},
	}
	out := make([]ParameterValueStruct, n)
	for i := range out {
		c := types[i%len(types)]
		out[i] = ParameterValueStruct{Name: fmt.Sprintf("Device.X.%d.Value", i+1), Value: c.v, Type: c.t}
	}
	return out
}

// The streaming encoder must produce exactly what the etree path would, so
// both are held to the same golden files and schema.
func TestStreamMatchesTree(t *testing.T) {
	h := &Header{ID: "a&b", HoldRequests: true}
	cases := []Message{
		&GetParameterValuesResponse{ParameterList: manyParams(40)},
		&GetParameterValuesResponse{},
		&GetParameterValuesResponse{ParameterList: []ParameterValueStruct{{Name: "A", Value: "x", Type: `weird"type`}, {Name: "", Value: "", Type: ""}}},
		&GetParameterNamesResponse{ParameterList: []ParameterInfoStruct{{Name: "Device.", Writable: false}, {Name: "Device.A<", Writable: true}}},
		&GetParameterNamesResponse{},
		&GetParameterAttributesResponse{ParameterList: []ParameterAttributeStruct{{Name: "A", Notification: 2, AccessList: []string{"Subscriber", "X&"}}, {Name: "B"}}},
		&GetParameterAttributesResponse{},
	}
	for _, v := range []Version{V1_0, V1_2, V1_4} {
		for _, m := range cases {
			env := &Envelope{Version: v, Header: *h, Body: m}
			var tree, stream bytes.Buffer
			if err := encodeTree(&tree, v, env); err != nil {
				t.Fatal(err)
			}
			if err := Encode(&stream, env); err != nil {
				t.Fatal(err)
			}
			if tree.String() != stream.String() {
				t.Errorf("%s %v: stream and tree differ:\n--- tree\n%s\n--- stream\n%s", m.MethodName(), v, tree.String(), stream.String())
			}
		}
	}
}

// Characters XML 1.0 cannot carry are replaced, not written raw, so the
// output always parses.
func TestStreamEscapesUnrepresentable(t *testing.T) {
	in := "a\x00b\x1fc\xffd\uFFFEe\r"
	var b bytes.Buffer
	err := EncodeGetParameterValuesResponse(&b, V1_2, nil, Slice([]ParameterValueStruct{{Name: "N", Value: in, Type: TypeString}}))
	if err != nil {
		t.Fatal(err)
	}
	env, err := Decode(&b, 0)
	if err != nil {
		t.Fatalf("decode of escaped output: %v", err)
	}
	got := env.Body.(*GetParameterValuesResponse).ParameterList[0].Value
	if want := "a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\r"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestStreamLengthMismatch(t *testing.T) {
	params := List[ParameterValueStruct]{Len: 3, Items: Slice(manyParams(2)).Items}
	err := EncodeGetParameterValuesResponse(&bytes.Buffer{}, V1_2, nil, params)
	if err == nil || !strings.Contains(err.Error(), "yielded 2 items") {
		t.Fatalf("got %v, want a length mismatch error", err)
	}
}

type failWriter struct{ after int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.after -= len(p); w.after < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestStreamWriteError(t *testing.T) {
	err := EncodeGetParameterValuesResponse(&failWriter{after: 100}, V1_2, nil, Slice(manyParams(5000)))
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("got %v, want the writer's error", err)
	}
}

func TestStreamDecodesBack(t *testing.T) {
	params := manyParams(1000)
	var b bytes.Buffer
	if err := EncodeGetParameterValuesResponse(&b, V1_2, nil, Slice(params)); err != nil {
		t.Fatal(err)
	}
	env, err := Decode(&b, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := env.Body.(*GetParameterValuesResponse).ParameterList; !reflect.DeepEqual(got, params) {
		t.Errorf("round trip of 1000 params differs")
	}
}

func TestEncodeEnforcesSchemaLimits(t *testing.T) {
	long := strings.Repeat("x", 257)
	cases := []Message{
		&TransferComplete{CommandKey: "k", FaultStruct: FaultStruct{FaultCode: FaultTransferFailure, FaultString: long}},
		&TransferComplete{CommandKey: strings.Repeat("k", 33)},
		&Inform{DeviceId: DeviceIdStruct{OUI: "00ab1f"}},
		&Inform{DeviceId: DeviceIdStruct{OUI: "00AB1F"}, Event: []EventStruct{{EventCode: "BOOT"}}},
		&Inform{DeviceId: DeviceIdStruct{OUI: "00AB1F"}, ParameterList: []ParameterValueStruct{{Name: long}}},
		&AddObjectResponse{InstanceNumber: 0},
		&GetQueuedTransfersResponse{TransferList: make([]QueuedTransferStruct, 17)},
		&GetParameterValuesResponse{ParameterList: []ParameterValueStruct{{Name: "ok"}, {Name: long}}},
		&GetParameterNamesResponse{ParameterList: []ParameterInfoStruct{{Name: long}}},
		&GetParameterAttributesResponse{ParameterList: []ParameterAttributeStruct{{Name: "A", Notification: 9}}},
	}
	for _, m := range cases {
		err := Encode(io.Discard, &Envelope{Body: m})
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s %+v: got %v, want ErrInvalidArgument", m.MethodName(), m, err)
		}
	}
}

// Every message written by the struct streamer must match the etree path
// byte for byte, and an invalid one must fail with the same error and write
// nothing.
func TestStructStreamMatchesTree(t *testing.T) {
	var envs []*Envelope
	for _, s := range samples() {
		envs = append(envs, s.env)
	}
	for _, v := range []Version{V1_0, V1_4} {
		envs = append(envs,
			&Envelope{Version: v, Body: &Inform{MaxEnvelopes: 1, CurrentTime: t1, DeviceId: DeviceIdStruct{OUI: "00AB1F"}}},
			&Envelope{Version: v, Header: Header{ID: "x", SessionTimeout: 30}, Body: &TransferCompleteResponse{}},
			&Envelope{Version: v, Body: &GetRPCMethodsResponse{}},
		)
	}
	bad := []*Envelope{
		{Body: &Inform{DeviceId: DeviceIdStruct{OUI: "lower"}, CurrentTime: t1}},
		{Body: &Inform{DeviceId: DeviceIdStruct{OUI: "00AB1F"}, Event: []EventStruct{{EventCode: "not a code"}}}},
		{Body: &Inform{DeviceId: DeviceIdStruct{OUI: "00AB1F"}, ParameterList: []ParameterValueStruct{{Name: strings.Repeat("n", 257)}}}},
		{Body: &Inform{DeviceId: DeviceIdStruct{OUI: "00AB1F"}, Event: make([]EventStruct, 65)}},
		{Body: &TransferComplete{CommandKey: strings.Repeat("k", 33)}},
		// Paths through a later item of each kind of array.
		{Body: &Inform{DeviceId: DeviceIdStruct{OUI: "00AB1F"}, Event: []EventStruct{{EventCode: "1 BOOT"}, {EventCode: "2 PERIODIC"}, {EventCode: "M  Reboot"}}}},
		{Body: &Inform{DeviceId: DeviceIdStruct{OUI: "00AB1F"}, ParameterList: []ParameterValueStruct{{Name: "A"}, {Name: strings.Repeat("n", 257)}}}},
		{Body: &GetRPCMethodsResponse{MethodList: []string{"Inform", strings.Repeat("m", 65)}}},
	}
	for i, env := range append(envs, bad...) {
		var tree, stream bytes.Buffer
		v := env.Version
		if v == 0 {
			v = V1_2
		}
		terr := encodeTree(&tree, v, env)
		serr := Encode(&stream, env)
		name := fmt.Sprintf("%d %T", i, env.Body)
		if fmt.Sprint(terr) != fmt.Sprint(serr) {
			t.Errorf("%s: errors differ: tree %v, stream %v", name, terr, serr)
		}
		if i >= len(envs) {
			if serr == nil || stream.Len() != 0 {
				t.Errorf("%s: invalid message encoded (err %v, %d bytes written)", name, serr, stream.Len())
			}
			continue
		}
		if tree.String() != stream.String() {
			t.Errorf("%s: stream and tree differ:\n--- tree\n%s\n--- stream\n%s", name, tree.String(), stream.String())
		}
	}
}

// FuzzEscapeMatchesEtree: escape writes character data and attribute
// values exactly as etree's canonical modes do, the encoder the streaming
// writers must agree with byte for byte.
func FuzzEscapeMatchesEtree(f *testing.F) {
	f.Add("plain text")
	f.Add("a&b<c>d\"e'f\r\n\tg")
	f.Add("a\x00b\x1fc\xffd\uFFFEe\uFFFF\u00e9\x7f")
	f.Fuzz(func(t *testing.T, s string) {
		doc := etree.NewDocument()
		doc.WriteSettings = etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true}
		el := doc.CreateElement("a")
		el.CreateAttr("x", s)
		el.SetText(s)
		want, err := doc.WriteToString()
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		w := bufio.NewWriter(&got)
		w.WriteString(`<a x="`)
		escape(w, s, true)
		w.WriteString(`">`)
		escape(w, s, false)
		w.WriteString(`</a>`)
		w.Flush()
		if s == "" {
			want = strings.Replace(want, "<a x=\"\"/>", "<a x=\"\"></a>", 1)
		}
		if got.String() != want {
			t.Fatalf("escape(%q):\n got %q\nwant %q", s, got.String(), want)
		}
	})
}
