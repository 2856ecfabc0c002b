package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/rs/zerolog"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections/event"
)

// openForReading opens a state dir's journal read-only, with a one-line
// error an operator can act on.
func openForReading(dir string) (*journal.Journal, error) {
	// A state dir holds its journal in journal/; a bare journal dir works too.
	if st, err := os.Stat(filepath.Join(dir, "journal")); err == nil && st.IsDir() {
		dir = filepath.Join(dir, "journal")
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, usagef("state dir %s: %v", dir, errors.Unwrap(err))
	}
	if !st.IsDir() {
		return nil, usagef("state dir %s is not a directory", dir)
	}
	j, err := journal.Open(journal.Options{Dir: dir, ReadOnly: true, Logger: zerolog.New(os.Stderr).Level(zerolog.ErrorLevel)})
	if errors.Is(err, journal.ErrLocked) {
		return nil, usagef("journal %s is locked by a running cwmpd; use its control socket or stop it", dir)
	}
	if err != nil {
		return nil, usagef("journal %s: %v", dir, err)
	}
	return j, nil
}

// redactRecord blanks secrets for exports.
func redactRecord(r journal.Record) journal.Record {
	p, err := event.RedactPayload(r.Type, r.Payload)
	if err == nil || p != nil {
		r.Payload = p
	}
	return r
}

func cmdJournalExport(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("journal export", flag.ContinueOnError)
	state := fs.String("state", defaultStateDir, "state directory of the agent")
	since := fs.Uint64("since", 0, "first sequence to export")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("journal export: unexpected argument %q", pos[0])
	}
	j, err := openForReading(*state)
	if err != nil {
		return err
	}
	defer j.Close()
	r := j.NewReader(*since)
	defer r.Close()
	_, err = journal.ExportJSONL(stdout, r, journal.ExportOptions{Since: *since, Name: event.Name, Redact: redactRecord})
	if err != nil {
		return fmt.Errorf("journal export: %w", err)
	}
	return nil
}
