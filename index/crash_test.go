package index

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/store"

	"github.com/embedsearch/embedsearch/internal/testenv"
)

const crashChildEnv = "INDEX_CRASH_CHILD"

// crashChild is the body of the child process: index root into the store
// with small, frequent commits, and say DONE when complete.
func crashChild(t *testing.T, arg string) {
	sdir, root, _ := strings.Cut(arg, "|")
	enc, m := testEncoder(t)
	w, err := store.OpenWriter(sdir, Binding(m), store.WriterOptions{LockWait: 10 * time.Second})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	done := 0
	progress := func(p Progress) { // one line per embedded file: the parent kills on these
		if p.Phase == PhaseEmbed && p.Done > done {
			done = p.Done
			fmt.Printf("EMBEDDED %d\n", done)
		}
	}
	st, err := Run(context.Background(), w, enc, Options{Roots: []string{root}, CommitEvery: 7,
		CommitInterval: 30 * time.Millisecond, Progress: progress})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	w.Close()
	fmt.Printf("DONE new=%d unchanged=%d\n", st.New, st.Unchanged)
	os.Exit(0)
}

// TestCrashResume kills an index run (a child process) with SIGKILL at
// random moments, checks after each kill that the store is consistent
// (readable, no duplicates, every entry a real file with the vector of a
// fresh embedding, nothing lost that was committed), and that resumed runs
// end with exactly the right set.
func TestCrashResume(t *testing.T) {
	if arg := os.Getenv(crashChildEnv); arg != "" {
		crashChild(t, arg)
		return
	}
	if testing.Short() {
		t.Skip("crash test runs child processes; skipped with -short")
	}
	src := testenv.SharedData(t, "caltech101-neardup")
	enc, _ := testEncoder(t)
	fresh := &freshVectors{enc: enc}
	root := filepath.Join(t.TempDir(), "photos")
	copyImages(t, filepath.Join(src, "dups"), filepath.Join(root, "d"), 40)
	copyImages(t, filepath.Join(src, "distractors"), filepath.Join(root, "x"), 30)
	all := imagesUnder(t, root)
	sdir := filepath.Join(t.TempDir(), "store")

	child := func() (*exec.Cmd, *bufio.Scanner) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashResume$", "-test.v")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+sdir+"|"+root)
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, bufio.NewScanner(out)
	}

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	// Each run is killed after a random number of embedded files (drawn
	// from the first half of the work left) plus a random few milliseconds,
	// so kills land between and during commits whatever the machine's
	// speed, and the work left shrinks about by half each time.
	kills, prev := 0, 0
	for i := 0; i < 12 && prev < len(all); i++ {
		cmd, sc := child()
		target := 1 + rng.IntN(max(1, (len(all)-prev)/2))
		jitter := time.Duration(rng.Int64N(int64(5 * time.Millisecond)))
		killed := false
		var lines []string
		for sc.Scan() {
			line := sc.Text()
			lines = append(lines, line)
			var n int
			if _, err := fmt.Sscanf(line, "EMBEDDED %d", &n); err == nil && n >= target && !killed {
				killed = true
				time.AfterFunc(jitter, func() { cmd.Process.Signal(syscall.SIGKILL) })
			}
		}
		err := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			kills++
		} else if err != nil {
			t.Fatalf("child failed: %v\n%s", err, strings.Join(lines, "\n"))
		}
		// Consistency after the kill.
		r, err := store.Open(sdir)
		if err != nil {
			if prev == 0 && strings.Contains(err.Error(), "no store") {
				continue // killed before the first commit: nothing to lose yet
			}
			t.Fatalf("after kill %d (after %d files): %v", i, target, err)
		}
		n := r.Len()
		var got []string
		for id := 0; id < n; id++ {
			got = append(got, r.Path(id))
		}
		r.Close()
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Fatalf("after kill %d: duplicate or unsorted entries", i)
		}
		for _, p := range got {
			if !slices.Contains(all, p) {
				t.Fatalf("after kill %d: orphan entry %s", i, p)
			}
		}
		checkStore(t, sdir, got, fresh)
		if n < prev {
			t.Fatalf("after kill %d: %d entries, fewer than the %d committed before", i, n, prev)
		}
		prev = n
	}
	t.Logf("%d runs killed; %d of %d entries committed before the final run", kills, prev, len(all))
	if kills < 3 {
		t.Fatalf("only %d runs were killed: the test proved too little", kills)
	}
	// A final, uninterrupted run completes the set and compacts.
	cmd, sc := child()
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := cmd.Wait(); err != nil || !strings.Contains(strings.Join(lines, "\n"), "DONE") {
		t.Fatalf("final run: %v\n%s", err, strings.Join(lines, "\n"))
	}
	checkStore(t, sdir, all, fresh)
	r, err := store.Open(sdir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Segments() != 1 {
		t.Errorf("final store has %d segments, want 1 (compacted)", r.Segments())
	}
	allow, err := r.Filter("ext:jpg")
	if err != nil {
		t.Fatal(err)
	}
	jpg := 0
	for id := 0; id < r.Len(); id++ {
		if allow(id) {
			jpg++
		}
		if strings.HasSuffix(r.Path(id), ".jpg") != allow(id) {
			t.Fatalf("catalog disagrees with entries on %s", r.Path(id))
		}
	}
	if jpg == 0 {
		t.Fatal("no jpg matched")
	}
}
