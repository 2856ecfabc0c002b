// Package journal is cwmpd's durable, ordered event log.
//
// It owns the Badger store under Options.Dir: the record envelope and its
// schema version, durable group-commit appends, ordered reads, wake-up
// subscriptions, snapshots of projection state, metadata, bounded retention,
// and the JSONL export/import format. It knows nothing about CWMP: a record's
// Type is an opaque uint16 and its Payload opaque bytes (a JSON object written
// by the event vocabulary package, in practice).
//
// # Key layout
//
// All keys live in one Badger keyspace, split by a one-byte prefix so that each
// kind iterates on its own and sorts in a useful order:
//
//	'r' seq(8, big-endian)               → record envelope (below)
//	's' name 0x00 seq(8, big-endian)     → snapshot envelope; only the newest per name is kept
//	'm' key                              → caller metadata (PutMeta/GetMeta), raw bytes
//	'x' key                              → the journal's own metadata:
//	                                          "first" = oldest retained seq (8 bytes BE)
//	                                          "bytes" = sum of retained envelope sizes (8 bytes BE)
//
// Big-endian sequence numbers make Badger's byte order the sequence order, so
// a Seek to 'r'+seq starts an ordered scan and a reverse seek finds the last
// record. Sequence numbers start at 1 and have no gaps: a reader that meets a
// missing key reports a *CorruptionError instead of skipping ahead.
//
// # Record envelope (schema version 1)
//
// Every field is big-endian. The checksum is CRC-32C (Castagnoli) over every
// byte before it, so a flipped bit anywhere, a truncated value or a value
// stored under the wrong key is a *CorruptionError carrying the seq.
//
//	offset  size  field
//	0       2     schema version (1)
//	2       8     seq (must equal the seq in the key)
//	10      8     wall time, Unix nanoseconds, UTC
//	18      2     type (opaque)
//	20      1     boot id length b (0..255)
//	21      b     boot id (UTF-8)
//	21+b    4     payload length p
//	25+b    p     payload (opaque)
//	25+b+p  4     CRC-32C of bytes [0, 25+b+p)
//
// Example: seq 12, time 2026-11-22T01:02:03.000000004Z, boot "b1", type 3,
// payload {"a":1} (7 bytes) is 38 bytes:
//
//	00 01                      schema 1
//	00 00 00 00 00 00 00 0c    seq 12
//	18 ea 38 51 3b 5c ae 04    time (Unix ns 1795309323000000004)
//	00 03                      type 3
//	02 62 31                   boot id "b1"
//	00 00 00 07 7b 22 61 22 3a 31 7d
//	                           payload {"a":1}
//	xx xx xx xx                CRC-32C
//
// A new envelope layout gets a new schema version; DecodeRecord refuses a
// version it does not know rather than guessing.
//
// # Snapshot envelope
//
//	0  2  snapshot format version (1)
//	2  8  seq covered (the last record folded into Data)
//	10 n  Data
//	.. 4  CRC-32C of everything before it
//
// # JSONL export format
//
// One record per line, fields in this order, for moving journals between
// machines and architectures and for golden test files:
//
//	{"v":1,"seq":12,"time":"2026-11-22T01:02:03.000000004Z","boot":"b1","type":3,"name":"Booted","payload":{"a":1}}
//
// "time" always has nine fractional digits in UTC. "name" comes from
// ExportOptions.Name and is omitted without it; readers ignore it, as they
// ignore any unknown field. The payload is written raw when it is one line of
// valid UTF-8 JSON without surrounding whitespace (so it reads back byte for
// byte); otherwise it is written as "payload_b64" (standard base64).
//
// # Durability and group commit
//
// Append hands its entries to a single committer goroutine, which drains every
// pending append into one Badger transaction with SyncWrites on: one sync for
// the whole group, then every waiter is acked. When more appends are in flight
// than a group holds, the committer waits up to 100µs for them (appenders
// acked by the previous commit are still waking up); a lone appender never
// waits. The committer assigns sequence numbers, so they are gap-free even
// when a commit fails (a failed group consumes no seq and every waiter in it
// gets the error).
//
// # Damage
//
// Open reads the MANIFEST and the tables it names before Badger does
// (verify.go): Badger's own goroutines panic on a garbled table. An open
// that fails on the files' content wraps ErrCorrupt; IsCorrupt tells such
// errors (and a *CorruptionError from a fold) from the environment's
// (permissions, read-only or full filesystem, I/O errors, ErrLocked), for
// which a caller must never move the journal aside.
//
// # Retention
//
// Retention drops the oldest records while the journal holds more than
// MaxRecords or MaxBytes, down to 90% of the limit so that a steady stream of
// appends does not cost one extra sync per append. It never drops a record
// that the newest snapshot of some name does not cover (with several names,
// nothing past the lowest covered seq), and never the newest record.
package journal
