package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Exit codes. They are part of the interface: README lists them.
const (
	exitOK          = 0   // success
	exitError       = 1   // fatal error: nothing or not everything was done
	exitUsage       = 2   // bad flag, argument or command
	exitPartial     = 3   // completed, but some files failed (listed on stderr)
	exitDuplicates  = 4   // dedup found duplicate groups (only with --exit-code)
	exitRefused     = 5   // some dedup actions were refused (listed on stderr)
	exitDamaged     = 6   // damaged stored rows were left out of the results
	exitInterrupted = 130 // stopped by Ctrl-C / SIGTERM; committed work is kept
)

const exitCodeHelp = `EXIT CODES:
   0    success
   1    error (message on stderr)
   2    usage error (bad flag or argument)
   3    completed, but some files failed (see stderr / --errors FILE)
   4    dedup --exit-code: duplicates were found
   5    some dedup actions were refused (file changed, outside the folders, ...)
   6    damaged rows in the store were left out (run 'embedsearch index --repair')
   130  interrupted (Ctrl-C); work committed so far is kept`

// usageError marks an error as the user's invocation being wrong.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// partialError says a command finished but some inputs failed; the failures
// were already reported.
type partialError struct{ failed int }

func (e partialError) Error() string { return fmt.Sprintf("%d file(s) failed", e.failed) }

// refusedError says dedup finished but refused some actions; they were
// already reported.
type refusedError struct{ refused int }

func (e refusedError) Error() string { return fmt.Sprintf("%d action(s) refused", e.refused) }

// damagedError says results were produced with some damaged stored rows
// left out; they were already reported. With rows 0, only the store's
// checksums say it is damaged (reported before, with what failed).
type damagedError struct{ rows int }

func (e damagedError) Error() string {
	if e.rows == 0 {
		return "the store is damaged; run 'embedsearch index --repair'"
	}
	return fmt.Sprintf("%d damaged row(s) in the store were left out; run 'embedsearch index --repair'", e.rows)
}

// duplicatesFound is returned by dedup --exit-code when groups were found.
var errDuplicatesFound = errors.New("duplicates found")

// report prints err (if any) as one line on stderr and returns the exit code.
func report(stderr io.Writer, err error, interrupted bool) int {
	var pe partialError
	var ue usageError
	var re refusedError
	var de damagedError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errDuplicatesFound):
		return exitDuplicates
	case errors.As(err, &pe):
		fmt.Fprintf(stderr, "embedsearch: completed with failures: %v\n", err)
		return exitPartial
	case errors.As(err, &re):
		fmt.Fprintf(stderr, "embedsearch: completed, but %v\n", err)
		return exitRefused
	case errors.As(err, &de):
		fmt.Fprintf(stderr, "embedsearch: %v\n", err)
		return exitDamaged
	case interrupted:
		fmt.Fprintln(stderr, "embedsearch: interrupted; work committed so far is kept")
		return exitInterrupted
	case errors.As(err, &ue) || isCLIUsage(err):
		msg := err.Error()
		if name, ok := strings.CutPrefix(msg, "No help topic for "); ok {
			msg = "unknown command " + name + suggestCommand(strings.Trim(name, "'"))
		}
		fmt.Fprintf(stderr, "embedsearch: %s\nRun 'embedsearch --help' or 'embedsearch COMMAND --help' for usage.\n", msg)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "embedsearch: %s\n", withHint(err))
		return exitError
	}
}

// isCLIUsage recognises the errors urfave/cli returns for unknown commands
// and missing flags, which do not pass through OnUsageError.
func isCLIUsage(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "flag provided but not defined") ||
		strings.HasPrefix(msg, "Required flag") ||
		strings.Contains(msg, "No help topic for")
}
