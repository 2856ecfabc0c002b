package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit statuses.
const (
	exitOK       = 0
	exitFindings = 1 // the command ran and found problems (e.g. invariant violations)
	exitUsage    = 2 // bad input: flags, files, a locked journal, a damaged one print/set cannot read
)

const usage = `usage: cwmpd <command> [flags]

commands:
  run [--state DIR] [--defaults FILE] [--platform sim] [--log-format json|console]
                                               run the agent (a damaged journal is moved
                                               aside as reset-tr069-config does, and logged)
  print [--state DIR] [--json]                 settings and status
  set [--state DIR] [--create] name=value ...  change settings (validated; all or nothing)
  reset-tr069-config [--state DIR] [--defaults FILE] [--force] [--timeout 15s]
                                               forget the client's configuration and state;
                                               a damaged journal is moved aside whole
                                               (DIR/journal.corrupt-<UTC time>, the newest 2 kept)
                                               and a new one made; --force stops a daemon
                                               that holds the journal and does not answer
  journal export [--state DIR] [--since SEQ]   write the journal as JSONL (secrets redacted)
  replay FILE|DIR [--at SEQ] [--json]          replay a JSONL export or a state dir: timeline + final state
  params doc [--format md|html]                the supported-parameter reference
`

// defaultStateDir is where a packaged daemon keeps its journal.
const defaultStateDir = "/var/lib/cwmpd"

// usageError is bad input from the operator: one line, exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	code := exitOK
	switch args[0] {
	case "journal":
		if len(args) < 2 || args[1] != "export" {
			err = usagef("journal: expected 'journal export'")
			break
		}
		err = cmdJournalExport(args[2:], stdout)
	case "replay":
		code, err = cmdReplay(args[1:], stdout)
	case "run":
		err = cmdRun(args[1:], stderr)
	case "print":
		err = cmdPrint(args[1:], stdout, stderr)
	case "set":
		err = cmdSet(args[1:], stdout, stderr)
	case "reset-tr069-config":
		err = cmdReset(args[1:], stdout, stderr)
	case "params":
		if len(args) < 2 || args[1] != "doc" {
			err = usagef("params: expected 'params doc [--format md|html]'")
			break
		}
		err = cmdParamsDoc(args[2:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		err = usagef("unknown command %q (cwmpd help lists them)", args[0])
	}
	if err != nil {
		fmt.Fprintf(stderr, "cwmpd: %s\n", oneLine(err))
		return exitUsage
	}
	return code
}

func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

// parseInterspersed parses flags that may come before or after positional
// arguments ("cwmpd replay FILE --at 5").
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, usagef("%s: flags: %s", fs.Name(), flagList(fs))
			}
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func flagList(fs *flag.FlagSet) string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, "--"+f.Name) })
	return strings.Join(names, " ")
}
