package dedup

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// crashFixture lays out a keeper and four duplicates under dir/root: with
// identical bytes, or (differ) each with its own, which links hold first.
func crashFixture(t *testing.T, dir string, create, differ bool) []File {
	names := []string{"keep.jpg", "a/d1.jpg", "b/d2.jpg", "c/d3.jpg", "d/d4.jpg"}
	var files []File
	for _, n := range names {
		p := filepath.Join(dir, "root", n)
		if create {
			data := "same bytes"
			if differ {
				data = "bytes of " + n
			}
			files = append(files, put(t, p, data))
		} else {
			files = append(files, describe(t, p))
		}
	}
	return files
}

// TestCrashHelper is the child process of TestCrashMidApply: it applies a plan
// and kills itself with SIGKILL at the point named in the environment.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv("DEDUP_CRASH_DIR")
	if dir == "" {
		t.Skip("child process of TestCrashMidApply")
	}
	at := strings.Split(os.Getenv("DEDUP_CRASH_AT"), ":")
	seq, _ := strconv.Atoi(at[0])
	testHook = func(s int, state string) {
		if s == seq && state == at[1] {
			p, _ := os.FindProcess(os.Getpid())
			p.Kill() // SIGKILL on Unix
		}
	}
	files := crashFixture(t, dir, false, false)
	op := Op(os.Getenv("DEDUP_CRASH_OP"))
	p, err := NewPlan([]Group{{Members: files}}, Config{Op: op, Roots: []string{filepath.Join(dir, "root")},
		MoveTo: filepath.Join(dir, "moved"), LinkDiffering: true})
	if err != nil {
		t.Fatal(err)
	}
	j, err := CreateJournal(filepath.Join(dir, "journal.jsonl"), Header{Op: op, Roots: p.Config.Roots, MoveTo: p.Config.MoveTo})
	if err != nil {
		t.Fatal(err)
	}
	p.Apply(context.Background(), ApplyOptions{Journal: j})
	t.Fatal("not killed")
}

// A kill -9 in the middle of Apply leaves every file untouched or completely
// handled, the journal says which action was in flight, and Undo restores
// everything.
func TestCrashMidApply(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for _, op := range []Op{OpMove, OpTrash, OpHardLink, OpSymlink} {
		for _, at := range []string{"2:begin", "2:done"} {
			t.Run(fmt.Sprintf("%s-%s", op, at), func(t *testing.T) {
				crashAndUndo(t, op, at, false)
			})
		}
	}
}

// A kill -9 while linking near-duplicates (whose bytes are held first):
// after the begin record, between holding and linking, and after linking.
// The file in flight is the original or the link, its bytes are in the
// file or the holding folder, and Undo restores every file byte for byte.
func TestCrashWhileHolding(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for _, op := range []Op{OpHardLink, OpSymlink} {
		for _, at := range []string{"2:begin", "2:" + hookHeld, "2:done"} {
			t.Run(fmt.Sprintf("%s-%s", op, at), func(t *testing.T) {
				dir := crashAndUndo(t, op, at, true)
				gone(t, HeldDir(filepath.Join(dir, "journal.jsonl")))
			})
		}
	}
}

// crashAndUndo kills a child applying op at the point at, checks the files
// and the journal, undoes, and checks the files are as before. It returns
// the test's folder.
func crashAndUndo(t *testing.T, op Op, at string, differ bool) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "xdg"))
	files := crashFixture(t, dir, true, differ)
	before := snapshot(t, filepath.Join(dir, "root"))
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.v")
	cmd.Env = append(os.Environ(), "DEDUP_CRASH_DIR="+dir, "DEDUP_CRASH_AT="+at, "DEDUP_CRASH_OP="+string(op))
	out, err := cmd.CombinedOutput()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("child was not killed: %v\n%s", err, out)
	}
	journal := filepath.Join(dir, "journal.jsonl")
	_, entries, err := ReadJournal(journal)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Final != StateDone || entries[1].Final != StateBegin {
		t.Fatalf("journal: %+v", entries)
	}
	// Action 1 done; action 2 done or not by crash point; 3, 4 untouched.
	handled := map[string]bool{files[1].Path: true, files[2].Path: at == "2:done"}
	for _, f := range files[1:] {
		checkHandled(t, op, f, files[0], dir, handled[f.Path])
	}
	if differ {
		// The begin record names the held copy; from the hold on, it has
		// the file's bytes.
		for i, e := range entries {
			held := filepath.Join(HeldDir(journal), e.Held)
			if e.Held == "" {
				t.Fatalf("entry %d names no held copy", i)
			}
			if i == 1 && at == "2:begin" {
				gone(t, held)
			} else if got := describe(t, held); got.SHA256 != files[i+1].SHA256 {
				t.Errorf("held copy of %s: %+v", files[i+1].Path, got)
			}
		}
	}
	for _, r := range undo(t, journal) {
		if r.Refused != nil {
			t.Errorf("undo refused %s: %v", r.Entry.Src, r.Refused)
		}
	}
	sameSnapshot(t, "after crash and undo", before, snapshot(t, filepath.Join(dir, "root")))
	return dir
}

// checkHandled asserts f is either exactly as before or completely handled.
func checkHandled(t *testing.T, op Op, f, keeper File, dir string, handled bool) {
	t.Helper()
	fi, err := os.Lstat(f.Path)
	if !handled {
		got := describe(t, f.Path)
		if err != nil || !fi.Mode().IsRegular() || got.SHA256 != f.SHA256 || !got.ModTime.Equal(f.ModTime) {
			t.Errorf("%s should be untouched: %+v", f.Path, got)
		}
		kfi, _ := os.Lstat(keeper.Path)
		if os.SameFile(fi, kfi) {
			t.Errorf("%s should be untouched, but is linked", f.Path)
		}
		return
	}
	switch op {
	case OpMove, OpTrash:
		if err == nil {
			t.Errorf("%s should be gone", f.Path)
		}
	case OpHardLink:
		kfi, _ := os.Lstat(keeper.Path)
		if !os.SameFile(fi, kfi) {
			t.Errorf("%s should be a hard link", f.Path)
		}
	case OpSymlink:
		if target, _ := os.Readlink(f.Path); target != keeper.Path {
			t.Errorf("%s should be a symbolic link", f.Path)
		}
	}
}
