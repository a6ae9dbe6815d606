package store

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// runAsNobody re-runs this test binary as user nobody (root ignores file
// permissions, so read-only cases need another user). It skips when that
// is not possible.
func runAsNobody(t *testing.T, test string, env ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "store.test")
	src, err := os.Open(os.Args[0])
	if err != nil {
		t.Skip("cannot copy test binary:", err)
	}
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Skip(err)
	}
	io.Copy(dst, src)
	src.Close()
	dst.Close()
	for d := filepath.Dir(bin); d != "/"; d = filepath.Dir(d) {
		if st, err := os.Stat(d); err == nil && st.Mode().Perm()&0o001 == 0 {
			os.Chmod(d, st.Mode().Perm()|0o011)
		}
	}
	cmd := exec.Command(bin, "-test.run=^"+test+"$")
	cmd.Env = append(os.Environ(), env...)
	if !asNobody(cmd) {
		t.Skip("cannot run a process as another user on this system")
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Skipf("cannot run as nobody: %v %s", err, out)
	}
	return string(out)
}
