package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/internal/testenv"
)

// envRunMain makes the test binary run main() instead of the tests, so
// that tests can start the real program as a process and send it signals.
const envRunMain = "EMBEDSEARCH_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// process is the program started as a child process.
type process struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan struct{}
}

func startMain(t *testing.T, stdin *os.File, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(os.Args[0], args...), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), envRunMain+"=1")
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = stdin, &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done })
	return p
}

// wait returns the exit code, or fails the test after limit, killing the
// process with SIGKILL (a hung process may ignore SIGINT and SIGTERM).
func (p *process) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		t.Fatalf("%v still running after %v; killed\nstderr: %s", p.cmd.Args[1:], limit, p.stderr.String())
	}
	return p.cmd.ProcessState.ExitCode()
}

func runMain(t *testing.T, args ...string) (int, string) {
	t.Helper()
	p := startMain(t, nil, args...)
	code := p.wait(t, 20*time.Second)
	return code, p.stderr.String()
}

// TestHostileFilesDoNotHang: a FIFO, a device and an 8 GB file named .jpg,
// given to embed, index (as an argument or through '-') and query, are
// refused within the limit with one line saying what they are, and the
// store stays usable (a hung index used to keep the writer lock).
func TestHostileFilesDoNotHang(t *testing.T) {
	dir := t.TempDir()
	good := writePNGs(t, dir, "good", 0, 1)[0]
	fifo := filepath.Join(dir, "x.jpg")
	testenv.Mkfifo(t, fifo)
	big := filepath.Join(dir, "big.jpg")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(8 << 30); err != nil { // sparse: no disk used
		t.Skipf("sparse file: %v", err)
	}
	f.Close()
	sdir := filepath.Join(dir, "store")
	if code, errs := runMain(t, "index", "--store", sdir, "-q", good); code != exitOK {
		t.Fatalf("index good.png: exit %d: %s", code, errs)
	}

	pathList := filepath.Join(dir, "list")
	os.WriteFile(pathList, []byte(fifo+"\n"+good+"\n"), 0o644)
	for _, c := range []struct {
		args  []string
		stdin string
		code  int
		want  string
	}{
		{[]string{"embed", fifo}, "", exitPartial, "named pipe"},
		{[]string{"embed", "/dev/zero"}, "", exitPartial, "character device"},
		{[]string{"embed", big}, "", exitPartial, "too large"},
		{[]string{"index", "--store", sdir, fifo}, "", exitPartial, "named pipe"},
		{[]string{"index", "--store", sdir, "-"}, pathList, exitPartial, "named pipe"},
		{[]string{"index", "--store", sdir, "/dev/zero"}, "", exitPartial, "character device"},
		{[]string{"index", "--store", sdir, big}, "", exitPartial, "too large"},
		{[]string{"index", "--store", sdir, "--max-file-size", "10GB", big}, "", exitPartial, "too large"}, // the pixel cap's bound
		{[]string{"query", "--store", sdir, fifo}, "", exitError, "named pipe"},
		{[]string{"query", "--store", sdir, big}, "", exitError, "too large"},
	} {
		t.Run(strings.Join(c.args[:1], " ")+" "+filepath.Base(c.args[len(c.args)-1]), func(t *testing.T) {
			var in *os.File
			if c.stdin != "" {
				if in, err = os.Open(c.stdin); err != nil {
					t.Fatal(err)
				}
				defer in.Close()
			}
			start := time.Now()
			p := startMain(t, in, c.args...)
			code := p.wait(t, 20*time.Second)
			if code != c.code || !strings.Contains(p.stderr.String(), c.want) {
				t.Errorf("%v: exit %d after %v, stderr:\n%s\nwant exit %d and %q", c.args, code, time.Since(start), p.stderr.String(), c.code, c.want)
			}
		})
	}
	// Nothing was left locked or recorded as a root.
	if code, errs := runMain(t, "index", "--store", sdir, "-q", good); code != exitOK {
		t.Fatalf("index after the hostile files: exit %d: %s", code, errs)
	}
	st := statusJSON(t, sdir)
	for _, r := range st.Roots {
		if r == "/dev/zero" || r == fifo || r == big {
			t.Errorf("%s became a root", r)
		}
	}
}

// TestSecondInterruptExits: the first Ctrl-C asks a command to stop
// cleanly; if it has not ended, a second one ends it at once with 130.
// index reading paths from a stdin that never ends stops on the first.
func TestSecondInterruptExits(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	defer r.Close()
	sdir := filepath.Join(t.TempDir(), "store")
	p := startMain(t, r, "index", "--store", sdir, "-")
	time.Sleep(500 * time.Millisecond) // let it start reading stdin
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(2 * time.Second):
		t.Errorf("index - still waiting on stdin 2 s after Ctrl-C")
		p.cmd.Process.Signal(os.Interrupt)
	}
	code := p.wait(t, 2*time.Second)
	if code != exitInterrupted {
		t.Errorf("exit %d, want %d; stderr: %s", code, exitInterrupted, p.stderr.String())
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1GiB": 1 << 30, "500MB": 500e6, "2 gib": 2 << 30, "1024": 1024, "1.5KiB": 1536, "7b": 7} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1MB", "1XB", "MB", "1e400"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}
}
