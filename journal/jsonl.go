package journal

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"
)

// jsonlTime has a fixed nine-digit fraction (RFC3339Nano trims zeros), so
// export files diff cleanly and sort as text.
const jsonlTime = "2006-01-02T15:04:05.000000000Z07:00"

// ExportOptions tunes ExportJSONL.
type ExportOptions struct {
	Since  uint64                  // skip records with a lower seq
	Name   func(typ uint16) string // fills "name"; omitted when nil
	Redact func(Record) Record     // applied to every exported record
}

// ExportJSONL writes the records of r with seq >= opts.Since as JSONL (format
// in the package doc) and returns how many lines it wrote. It stops at the
// first read or write error; r is not closed.
func ExportJSONL(w io.Writer, r Reader, opts ExportOptions) (int, error) {
	bw := bufio.NewWriter(w)
	n := 0
	var line []byte
	for r.Next() {
		rec := r.Record()
		if rec.Seq < opts.Since {
			continue
		}
		if opts.Redact != nil {
			rec = opts.Redact(rec)
		}
		name := ""
		if opts.Name != nil {
			name = opts.Name(rec.Type)
		}
		line = appendJSONL(line[:0], rec, name, opts.Name != nil)
		if _, err := bw.Write(line); err != nil {
			return n, fmt.Errorf("journal: export: %w", err)
		}
		n++
	}
	if err := r.Err(); err != nil {
		bw.Flush()
		return n, err
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("journal: export: %w", err)
	}
	return n, nil
}

func appendJSONL(b []byte, rec Record, name string, withName bool) []byte {
	schema := rec.Schema
	if schema == 0 {
		schema = SchemaVersion
	}
	b = append(b, `{"v":`...)
	b = strconv.AppendUint(b, uint64(schema), 10)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, rec.Seq, 10)
	b = append(b, `,"time":"`...)
	b = rec.Time.UTC().AppendFormat(b, jsonlTime)
	b = append(b, `","boot":`...)
	b = appendJSONString(b, rec.BootID)
	b = append(b, `,"type":`...)
	b = strconv.AppendUint(b, uint64(rec.Type), 10)
	if withName {
		b = append(b, `,"name":`...)
		b = appendJSONString(b, name)
	}
	if rawJSONOK(rec.Payload) {
		b = append(b, `,"payload":`...)
		b = append(b, rec.Payload...)
	} else {
		b = append(b, `,"payload_b64":"`...)
		b = base64.StdEncoding.AppendEncode(b, rec.Payload)
		b = append(b, '"')
	}
	return append(b, "}\n"...)
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

// rawJSONOK says whether a payload can be written as itself and read back byte
// for byte: valid JSON, valid UTF-8, one line, no whitespace at either end
// (the JSON decoder would trim it).
func rawJSONOK(p []byte) bool {
	if len(p) == 0 || !utf8.Valid(p) || bytes.ContainsAny(p, "\r\n") {
		return false
	}
	if isJSONSpace(p[0]) || isJSONSpace(p[len(p)-1]) {
		return false
	}
	return json.Valid(p)
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// NewJSONLReader reads an export. Blank lines are skipped; a line that is not
// a valid record ends the iteration with a *CorruptionError carrying its line
// number and, when it could be read, its seq. "name" and unknown fields are
// ignored.
func NewJSONLReader(r io.Reader) Reader {
	return &jsonlReader{br: bufio.NewReaderSize(r, 64<<10)}
}

type jsonlReader struct {
	br   *bufio.Reader
	line int
	rec  Record
	err  error
	done bool
}

func (r *jsonlReader) Next() bool {
	for !r.done {
		raw, err := r.br.ReadBytes('\n')
		if len(raw) == 0 && err != nil {
			r.done = true
			if !errors.Is(err, io.EOF) {
				r.err = fmt.Errorf("journal: read jsonl: %w", err)
			}
			return false
		}
		if err != nil && !errors.Is(err, io.EOF) {
			r.done = true
			r.err = fmt.Errorf("journal: read jsonl: %w", err)
			return false
		}
		r.line++
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		rec, perr := parseJSONL(raw)
		if perr != nil {
			r.done = true
			r.err = &CorruptionError{Seq: rec.Seq, Line: r.line, Err: perr}
			r.rec = Record{}
			return false
		}
		r.rec = rec
		return true
	}
	return false
}

// parseJSONL returns the record's seq even on failure when it could be read.
func parseJSONL(line []byte) (Record, error) {
	var f map[string]json.RawMessage
	if err := json.Unmarshal(line, &f); err != nil {
		return Record{Seq: seqHint(line)}, err
	}
	var rec Record
	if raw, ok := f["seq"]; ok {
		if err := json.Unmarshal(raw, &rec.Seq); err != nil {
			return Record{}, fmt.Errorf("seq: %w", err)
		}
	}
	if rec.Seq == 0 {
		return rec, errors.New("missing or zero seq")
	}
	var v uint16
	if err := unmarshalField(f, "v", &v); err != nil {
		return rec, err
	}
	if v != SchemaVersion {
		return rec, fmt.Errorf("unknown schema version %d", v)
	}
	rec.Schema = v
	var ts string
	if err := unmarshalField(f, "time", &ts); err != nil {
		return rec, err
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return rec, fmt.Errorf("time: %w", err)
	}
	rec.Time = t.UTC()
	if y := rec.Time.Year(); y < 1678 || y > 2261 {
		return rec, fmt.Errorf("time %s outside the envelope's range", ts)
	}
	if err := unmarshalField(f, "type", &rec.Type); err != nil {
		return rec, err
	}
	if raw, ok := f["boot"]; ok {
		if err := json.Unmarshal(raw, &rec.BootID); err != nil {
			return rec, fmt.Errorf("boot: %w", err)
		}
		if len(rec.BootID) > MaxBootIDLen {
			return rec, fmt.Errorf("boot id longer than %d bytes", MaxBootIDLen)
		}
	}
	raw, hasRaw := f["payload"]
	b64, hasB64 := f["payload_b64"]
	switch {
	case hasRaw && hasB64:
		return rec, errors.New("both payload and payload_b64")
	case hasRaw:
		rec.Payload = append([]byte{}, raw...)
	case hasB64:
		if err := json.Unmarshal(b64, &rec.Payload); err != nil {
			return rec, fmt.Errorf("payload_b64: %w", err)
		}
		if rec.Payload == nil {
			rec.Payload = []byte{}
		}
	}
	return rec, nil
}

// seqHint reads "seq" from a line that does not parse as a whole (a torn
// last line, say), so the error can still say which record it was.
func seqHint(line []byte) uint64 {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return 0
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return 0
		}
		if k == "seq" {
			v, err := dec.Token()
			if n, ok := v.(json.Number); ok && err == nil {
				if u, err := strconv.ParseUint(n.String(), 10, 64); err == nil {
					return u
				}
			}
			return 0
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return 0
		}
	}
	return 0
}

func unmarshalField(f map[string]json.RawMessage, name string, dst any) error {
	raw, ok := f[name]
	if !ok {
		return fmt.Errorf("missing %q", name)
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func (r *jsonlReader) Record() Record { return r.rec }
func (r *jsonlReader) Err() error     { return r.err }
func (r *jsonlReader) Close() error   { r.done = true; return nil }

// importBatch is how many records one Import transaction carries at most; the
// committer's group budget still applies.
const importBatch = 512

// Import copies every record of r into j, which must be empty, keeping Seq,
// Time, BootID and Type. Records must be consecutive (the first may be any
// seq, as in an export of a trimmed journal). It returns how many records
// were written; on error the journal holds exactly those.
func Import(j *Journal, r Reader) (int, error) {
	if j.readOnly {
		return 0, ErrReadOnly
	}
	if j.LastSeq() != 0 || j.FirstSeq() != 0 {
		return 0, fmt.Errorf("journal: import: journal is not empty (last seq %d)", j.LastSeq())
	}
	n := 0
	var batch []Record
	var batchBytes int64
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		recs, err := j.submit(context.Background(), &appendReq{given: batch})
		if err != nil {
			return err
		}
		n += len(recs)
		batch, batchBytes = nil, 0
		return nil
	}
	for r.Next() {
		rec := r.Record()
		rec.Payload = append([]byte{}, rec.Payload...)
		size := int64(encodedSize(rec) + 9 + 32)
		if len(batch) > 0 && (len(batch) >= importBatch || len(batch) >= j.groupCount || batchBytes+size > j.groupBytes) {
			if err := flush(); err != nil {
				return n, err
			}
		}
		batch = append(batch, rec)
		batchBytes += size
	}
	if err := r.Err(); err != nil {
		if ferr := flush(); ferr != nil {
			return n, ferr
		}
		return n, fmt.Errorf("journal: import: %w", err)
	}
	return n, flush()
}
