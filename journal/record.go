package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"
)

// SchemaVersion is the version of the record envelope written by this code.
const SchemaVersion uint16 = 1

// Record is one journal entry as stored: the caller's Entry plus what the
// journal stamped on it when it became durable.
type Record struct {
	Schema  uint16    // envelope schema version
	Seq     uint64    // 1-based, gap-free, assigned by Append
	Time    time.Time // wall time at append (from Options.Clock), UTC
	BootID  string    // Options.BootID of the process that appended it
	Type    uint16    // opaque to the journal
	Payload []byte    // opaque to the journal (JSON object in practice)
}

// Entry is what an appender hands to Append.
type Entry struct {
	Type    uint16
	Payload []byte
}

// MaxBootIDLen is the longest boot id the one-byte length field can frame.
const MaxBootIDLen = 255

const (
	envFixedHead = 2 + 8 + 8 + 2 + 1 // schema, seq, time, type, boot length
	envOverhead  = envFixedHead + 4 + 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// CorruptionError reports a record that cannot be trusted. Seq is the record's
// sequence number when known (0 otherwise) and Line the 1-based line of a JSONL
// input (0 for the binary store).
type CorruptionError struct {
	Seq  uint64
	Line int
	Err  error
}

func (e *CorruptionError) Error() string {
	switch {
	case e.Line > 0 && e.Seq > 0:
		return fmt.Sprintf("journal: corrupt record seq %d at line %d: %v", e.Seq, e.Line, e.Err)
	case e.Line > 0:
		return fmt.Sprintf("journal: corrupt record at line %d: %v", e.Line, e.Err)
	default:
		return fmt.Sprintf("journal: corrupt record seq %d: %v", e.Seq, e.Err)
	}
}

func (e *CorruptionError) Unwrap() error { return e.Err }

var (
	errShort    = errors.New("envelope too short")
	errChecksum = errors.New("crc32c mismatch")
	errLength   = errors.New("length fields disagree with envelope size")
)

func encodedSize(r Record) int { return envOverhead + len(r.BootID) + len(r.Payload) }

// EncodeRecord frames r in the binary envelope described in the package doc.
// A zero Schema is written as SchemaVersion. The boot id is cut to
// MaxBootIDLen bytes (Open refuses longer ones, so this only matters for
// hand-built records).
func EncodeRecord(r Record) []byte {
	return appendRecord(make([]byte, 0, encodedSize(r)), r)
}

func appendRecord(b []byte, r Record) []byte {
	schema := r.Schema
	if schema == 0 {
		schema = SchemaVersion
	}
	boot := r.BootID
	if len(boot) > MaxBootIDLen {
		boot = boot[:MaxBootIDLen]
	}
	start := len(b)
	b = binary.BigEndian.AppendUint16(b, schema)
	b = binary.BigEndian.AppendUint64(b, r.Seq)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Time.UnixNano()))
	b = binary.BigEndian.AppendUint16(b, r.Type)
	b = append(b, byte(len(boot)))
	b = append(b, boot...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(r.Payload)))
	b = append(b, r.Payload...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

// DecodeRecord parses one envelope read under the key for seq. A seq of 0
// skips the key/envelope agreement check (for envelopes found outside the
// store). The returned record owns its memory: b may be reused afterwards.
// Every failure is a *CorruptionError.
func DecodeRecord(seq uint64, b []byte) (Record, error) {
	fail := func(err error) (Record, error) { return Record{}, &CorruptionError{Seq: seq, Err: err} }
	if len(b) < envOverhead {
		return fail(errShort)
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return fail(errChecksum)
	}
	schema := binary.BigEndian.Uint16(b[0:2])
	if schema != SchemaVersion {
		return fail(fmt.Errorf("unknown envelope schema %d", schema))
	}
	got := binary.BigEndian.Uint64(b[2:10])
	if seq != 0 && got != seq {
		return fail(fmt.Errorf("envelope seq %d stored under key seq %d", got, seq))
	}
	if seq == 0 {
		seq = got
	}
	bootLen := int(b[20])
	if envFixedHead+bootLen+4 > len(body) {
		return fail(errLength)
	}
	p := envFixedHead + bootLen
	payLen := binary.BigEndian.Uint32(body[p : p+4])
	p += 4
	if uint64(payLen) != uint64(len(body)-p) {
		return fail(errLength)
	}
	r := Record{
		Schema: schema,
		Seq:    got,
		Time:   time.Unix(0, int64(binary.BigEndian.Uint64(b[10:18]))).UTC(),
		Type:   binary.BigEndian.Uint16(b[18:20]),
		BootID: string(b[envFixedHead : envFixedHead+bootLen]),
	}
	r.Payload = append([]byte{}, body[p:]...)
	return r, nil
}
