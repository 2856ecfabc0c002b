package soap

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// realisticParams looks like a TR-181 dump: long names, mostly short values.
func realisticParams(n int) []ParameterValueStruct {
	out := make([]ParameterValueStruct, n)
	for i := range out {
		switch i % 4 {
		case 0:
			out[i] = ParameterValueStruct{Name: fmt.Sprintf("Device.IP.Interface.%d.IPv4Address.%d.IPAddress", i/100+1, i%100+1), Value: "192.168.1.1", Type: TypeString}
		case 1:
			out[i] = ParameterValueStruct{Name: fmt.Sprintf("Device.Ethernet.Interface.%d.Stats.BytesSent", i+1), Value: "1234567890", Type: TypeUnsignedLong}
		case 2:
			out[i] = ParameterValueStruct{Name: fmt.Sprintf("Device.WiFi.SSID.%d.Enable", i+1), Value: "true", Type: TypeBoolean}
		default:
			out[i] = ParameterValueStruct{Name: fmt.Sprintf("Device.Hosts.Host.%d.HostName", i+1), Value: "laptop <home> & co", Type: TypeString}
		}
	}
	return out
}

func BenchmarkEncodeGPVResponse10k(b *testing.B) {
	params := realisticParams(10000)
	h := &Header{ID: "bench"}
	var n countWriter
	b.ReportAllocs()
	for b.Loop() {
		if err := EncodeGetParameterValuesResponse(&n, V1_2, h, Slice(params)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n.n)/float64(b.N), "bytes/envelope")
}

// BenchmarkEncodeGPVResponse10kTree is the etree path, for comparison only.
func BenchmarkEncodeGPVResponse10kTree(b *testing.B) {
	env := &Envelope{Version: V1_2, Header: Header{ID: "bench"}, Body: &GetParameterValuesResponse{ParameterList: realisticParams(10000)}}
	b.ReportAllocs()
	for b.Loop() {
		if err := encodeTree(io.Discard, V1_2, env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeSPV10k(b *testing.B) {
	var buf bytes.Buffer
	env := &Envelope{Version: V1_2, Header: Header{ID: "bench"}, Body: &SetParameterValues{ParameterList: realisticParams(10000), ParameterKey: "k"}}
	if err := Encode(&buf, env); err != nil {
		b.Fatal(err)
	}
	doc := buf.Bytes()
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(bytes.NewReader(doc), 0); err != nil {
			b.Fatal(err)
		}
	}
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// The streaming encoder's allocations must not grow with the parameter
// count: that is the reason it exists.
func TestStreamAllocationsFlat(t *testing.T) {
	small, large := realisticParams(100), realisticParams(10000)
	var w countWriter
	a := testing.AllocsPerRun(5, func() { EncodeGetParameterValuesResponse(&w, V1_2, &Header{ID: "x"}, Slice(small)) })
	b := testing.AllocsPerRun(5, func() { EncodeGetParameterValuesResponse(&w, V1_2, &Header{ID: "x"}, Slice(large)) })
	if b > a+2 {
		t.Errorf("allocations grow with size: %v for 100 params, %v for 10000", a, b)
	}
}

// A periodic Inform, as every session sends one: the struct streamer
// against the etree path it replaced.
func benchmarkInform(b *testing.B, encode func(io.Writer, *Envelope) error) {
	env := &Envelope{Version: V1_4, Header: Header{ID: "1", SessionTimeout: 60, SupportedCWMPVersions: "1.0,1.1,1.2,1.3,1.4"},
		Body: &Inform{
			DeviceId:      DeviceIdStruct{Manufacturer: "Acme", OUI: "00AB1F", ProductClass: "RT-1", SerialNumber: "SN0001"},
			Event:         []EventStruct{{EventCode: "2 PERIODIC"}},
			MaxEnvelopes:  1,
			CurrentTime:   t1,
			ParameterList: realisticParams(12),
		}}
	b.ReportAllocs()
	for b.Loop() {
		if err := encode(io.Discard, env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeInform(b *testing.B) { benchmarkInform(b, Encode) }

func BenchmarkEncodeInformTree(b *testing.B) {
	benchmarkInform(b, func(w io.Writer, env *Envelope) error { return encodeTree(w, env.Version, env) })
}
