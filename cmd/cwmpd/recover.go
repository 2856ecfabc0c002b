package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/cwmpd/cwmpd/journal"
	"github.com/cwmpd/cwmpd/projections/event"
	"github.com/cwmpd/cwmpd/projections/live"
)

// A damaged journal is moved aside, whole, to <state>/journal.corrupt-<UTC
// time>, for post-mortem (cwmpd journal export and replay read what they
// can of it). At most keepCorrupt such copies stay: a flash that keeps
// damaging journals must not fill up with them.
const (
	corruptPrefix = "journal.corrupt-"
	keepCorrupt   = 2
)

func journalDir(state string) string { return filepath.Join(state, "journal") }

// moveAside renames state/journal to a new journal.corrupt-* beside it and
// then removes the oldest earlier copies beyond keepCorrupt. It never
// removes the copy it has just made, whatever its name says about its age:
// a router's clock may still be at 1970 before NTP has answered. removed
// lists what was deleted.
func moveAside(state string, now time.Time) (moved string, removed []string, err error) {
	if abs, err := filepath.Abs(state); err == nil {
		state = abs // the path the journal and the log keep, for post-mortem
	}
	name := corruptPrefix + now.UTC().Format("20060102T150405Z")
	moved = filepath.Join(state, name)
	for i := 2; ; i++ {
		if _, err := os.Lstat(moved); errors.Is(err, os.ErrNotExist) {
			break
		}
		moved = filepath.Join(state, fmt.Sprintf("%s-%d", name, i))
	}
	if err := os.Rename(journalDir(state), moved); err != nil {
		return "", nil, fmt.Errorf("move the journal aside: %w", err)
	}
	// The rename must be durable before a new journal takes the name: a
	// power cut could otherwise bring back the damaged one beside it.
	if d, err := os.Open(state); err == nil {
		d.Sync()
		d.Close()
	}
	ents, err := os.ReadDir(state)
	if err != nil {
		return moved, nil, nil // the move is done; pruning waits for the next one
	}
	var older []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), corruptPrefix) && e.Name() != filepath.Base(moved) {
			older = append(older, e.Name())
		}
	}
	sort.Strings(older) // the UTC stamp sorts by time
	for len(older) > keepCorrupt-1 {
		p := filepath.Join(state, older[0])
		older = older[1:]
		if err := os.RemoveAll(p); err == nil {
			removed = append(removed, p)
		}
	}
	return moved, removed, nil
}

// recovered is the outcome of replacing a damaged journal.
type recovered struct {
	j       *journal.Journal
	store   *live.Store
	moved   string
	removed []string
	cause   string // the damage, in one line
}

// replaceJournal moves the damaged journal of state aside and opens a fresh
// one with opts, whose first record says so (JournalRecovered, by by). It
// is only ever called for an error journal.IsCorrupt recognises.
func replaceJournal(state string, opts journal.Options, lopts live.Options, cause error, by string) (*recovered, error) {
	moved, removed, err := moveAside(state, time.Now())
	if err != nil {
		return nil, fmt.Errorf("the journal in %s is damaged (%v), and %w", state, cause, err)
	}
	r := &recovered{moved: moved, removed: removed, cause: causeText(cause)}
	if r.j, err = journal.Open(opts); err != nil {
		return r, fmt.Errorf("damaged journal moved to %s, but a new one cannot be made: %w", moved, err)
	}
	if r.store, err = live.Open(r.j, lopts); err != nil {
		r.j.Close()
		return r, fmt.Errorf("damaged journal moved to %s, but the new one does not open: %w", moved, err)
	}
	if _, err := r.store.Append(context.Background(), event.JournalRecovered{MovedTo: moved, Cause: r.cause, By: by}); err != nil {
		r.store.Close()
		r.j.Close()
		return r, fmt.Errorf("damaged journal moved to %s, but the new one cannot be written: %w", moved, err)
	}
	return r, nil
}

// causeText is the damage in one line, without the journal's own prefixes.
func causeText(err error) string {
	s := oneLine(err)
	if i := strings.LastIndex(s, "files damaged: "); i >= 0 {
		return s[i+len("files damaged: "):]
	}
	return s
}

// removedText says which older copies went, for the operator.
func removedText(removed []string) string {
	if len(removed) == 0 {
		return ""
	}
	return fmt.Sprintf(" (at most %d damaged journals are kept: removed the oldest, %s)", keepCorrupt, strings.Join(removed, ", "))
}
