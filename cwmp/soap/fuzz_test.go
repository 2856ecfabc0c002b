package soap

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// FuzzDecode: Decode never panics, every failure is a *DecodeError, and
// whatever decodes re-encodes — identically through the streaming writers
// and through etree — to an envelope that decodes to the same body.
// Seeds live in testdata/fuzz/FuzzDecode (golden envelopes and hostile
// inputs); plain `go test` runs them.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := Decode(bytes.NewReader(data), 0)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T is not a *DecodeError: %v", err, err)
			}
			_ = de.Fault() // must not panic either
			return
		}
		if _, isFault := env.Body.(*Fault); isFault {
			return // faultcode spellings are normalised, not preserved
		}
		var b bytes.Buffer
		if err := Encode(&b, env); err != nil {
			t.Fatalf("re-encode of a decoded envelope: %v", err)
		}
		// The streaming writers must agree with the etree path byte for byte.
		v := env.Version
		if v == 0 {
			v = V1_2
		}
		var tree bytes.Buffer
		if err := encodeTree(&tree, v, env); err != nil || !bytes.Equal(tree.Bytes(), b.Bytes()) {
			t.Fatalf("streamed and etree encodings differ (etree error %v):\n--- etree\n%s\n--- streamed\n%s", err, tree.Bytes(), b.Bytes())
		}
		again, err := Decode(&b, 0)
		if err != nil {
			t.Fatalf("decode of re-encoded envelope: %v\n%s", err, b.Bytes())
		}
		// A value sent without xsi:type decodes with an empty Type (kept, so
		// the data model can tell), which means xsd:string and is written
		// as xsd:string.
		untypedAsString(env.Body)
		if !reflect.DeepEqual(again.Body, env.Body) || !reflect.DeepEqual(again.Header, env.Header) {
			t.Fatalf("round trip changed the message:\n%#v\n%#v", env.Body, again.Body)
		}
	})
}

// untypedAsString gives every ParameterValueStruct of m without a Type the
// xsd:string it is encoded with.
func untypedAsString(m Message) {
	var list []ParameterValueStruct
	switch m := m.(type) {
	case *SetParameterValues:
		list = m.ParameterList
	case *Inform:
		list = m.ParameterList
	case *GetParameterValuesResponse:
		list = m.ParameterList
	}
	for i := range list {
		if list[i].Type == "" {
			list[i].Type = TypeString
		}
	}
}
