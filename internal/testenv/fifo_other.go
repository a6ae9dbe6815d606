//go:build !unix

package testenv

import "testing"

// Mkfifo makes a named pipe at path; the test is skipped on systems
// without them.
func Mkfifo(t testing.TB, path string) {
	t.Helper()
	t.Skip("no named pipes (mkfifo) on this system")
}
