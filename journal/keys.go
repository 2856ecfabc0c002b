package journal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

const (
	prefixRecord   = 'r'
	prefixSnapshot = 's'
	prefixMeta     = 'm'
	prefixInternal = 'x'
)

var (
	keyFirst = []byte{prefixInternal, 'f', 'i', 'r', 's', 't'}
	keyBytes = []byte{prefixInternal, 'b', 'y', 't', 'e', 's'}
)

func recordKey(seq uint64) []byte {
	k := make([]byte, 9)
	k[0] = prefixRecord
	binary.BigEndian.PutUint64(k[1:], seq)
	return k
}

func parseRecordKey(k []byte) (uint64, bool) {
	if len(k) != 9 || k[0] != prefixRecord {
		return 0, false
	}
	return binary.BigEndian.Uint64(k[1:]), true
}

// snapshotPrefix ends in 0x00 so that "a" never matches the keys of "ab".
func snapshotPrefix(name string) []byte {
	k := make([]byte, 0, len(name)+2)
	k = append(k, prefixSnapshot)
	k = append(k, name...)
	return append(k, 0)
}

func snapshotKey(name string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(snapshotPrefix(name), seq)
}

func metaKey(key string) []byte { return append([]byte{prefixMeta}, key...) }

func checkName(what, s string) error {
	if s == "" {
		return fmt.Errorf("journal: %s: empty name", what)
	}
	if bytes.IndexByte([]byte(s), 0) >= 0 {
		return fmt.Errorf("journal: %s: name %q contains NUL", what, s)
	}
	return nil
}

func u64(b []byte) (uint64, error) {
	if len(b) != 8 {
		return 0, errors.New("internal counter is not 8 bytes")
	}
	return binary.BigEndian.Uint64(b), nil
}

func u64bytes(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
