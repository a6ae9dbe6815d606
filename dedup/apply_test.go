package dedup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// put writes a file (making folders) with a fixed old mtime and returns it
// as the store would describe it.
func put(t *testing.T, path, content string) File {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	mt := time.Date(2021, 5, 6, 7, 8, 9, 123456789, time.UTC)
	if err := os.Chtimes(path, mt, mt); err != nil {
		t.Fatal(err)
	}
	return describe(t, path)
}

func describe(t *testing.T, path string) File {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return File{Path: path, Size: fi.Size(), ModTime: fi.ModTime(), SHA256: hex.EncodeToString(sum[:])}
}

func content(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(b)
}

func gone(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s still exists (err %v)", path, err)
	}
}

// snapshot lists every path under dir with its content (or link target).
func snapshot(t *testing.T, dirs ...string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, dir := range dirs {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				t.Fatal(err)
			}
			fi, _ := d.Info()
			switch {
			case d.Type()&fs.ModeSymlink != 0:
				target, _ := os.Readlink(p)
				m[p] = "-> " + target
			case d.Type().IsRegular():
				m[p] = content(t, p) + " " + fi.Mode().String() + " " + fi.ModTime().String()
			default:
				m[p] = "dir"
			}
			return nil
		})
	}
	return m
}

func sameSnapshot(t *testing.T, what string, a, b map[string]string) {
	t.Helper()
	for k, v := range a {
		if b[k] != v {
			t.Errorf("%s: %s was %q, now %q", what, k, v, b[k])
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			t.Errorf("%s: %s appeared (%q)", what, k, v)
		}
	}
}

func newJournal(t *testing.T) *Journal {
	t.Helper()
	j, err := CreateJournal(filepath.Join(t.TempDir(), "journal.jsonl"), Header{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// run plans and applies one action kind on groups; the journal header names
// the roots so Undo can run.
func run(t *testing.T, groups []Group, c Config) (*Plan, []Result, string) {
	t.Helper()
	p, err := NewPlan(groups, c)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	j, err := CreateJournal(path, Header{Op: c.Op, Roots: p.Config.Roots, MoveTo: p.Config.MoveTo})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	res, err := p.Apply(context.Background(), ApplyOptions{Journal: j})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return p, res, path
}

func undo(t *testing.T, journal string) []UndoResult {
	t.Helper()
	res, err := Undo(context.Background(), journal, nil)
	if err != nil {
		t.Fatalf("undo: %v", err)
	}
	return res
}

func TestMoveUndo(t *testing.T) {
	root := filepath.Join(t.TempDir(), "photos")
	dest := filepath.Join(t.TempDir(), "dups")
	k := put(t, filepath.Join(root, "a", "keep.jpg"), "keeper bytes")
	d1 := put(t, filepath.Join(root, "a", "b", "dup.jpg"), "dup one")
	d2 := put(t, filepath.Join(root, "dup2.jpg"), "dup two")
	os.Chmod(d2.Path, 0o444) // read-only files move too, keeping their mode
	before := snapshot(t, root)

	_, res, journal := run(t, []Group{{Members: []File{d1, k, d2}, Keep: 1}}, Config{Op: OpMove, Roots: []string{root}, MoveTo: dest})
	if len(res) != 2 || !res[0].Done || !res[1].Done {
		t.Fatalf("results %+v", res)
	}
	if got := content(t, filepath.Join(dest, "a", "b", "dup.jpg")); got != "dup one" {
		t.Errorf("moved content %q", got)
	}
	fi, err := os.Stat(filepath.Join(dest, "dup2.jpg"))
	if err != nil || fi.Mode().Perm() != 0o444 || !fi.ModTime().Equal(d2.ModTime) {
		t.Errorf("moved read-only file: %v %v", fi, err)
	}
	gone(t, d1.Path)
	gone(t, d2.Path)
	if content(t, k.Path) != "keeper bytes" {
		t.Error("keeper touched")
	}
	if res[0].Dest != filepath.Join(dest, "a", "b", "dup.jpg") {
		t.Errorf("dest %s", res[0].Dest)
	}

	_, entries, err := ReadJournal(journal)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Final != StateDone || entries[0].SHA256 != d1.SHA256 ||
		entries[0].Size != d1.Size || entries[0].Src != d1.Path || !entries[0].MTime.Equal(d1.ModTime) {
		t.Errorf("journal entries %+v", entries)
	}

	u := undo(t, journal)
	if len(u) != 2 || !u[0].Restored || !u[1].Restored {
		t.Fatalf("undo %+v", u)
	}
	after := snapshot(t, root)
	sameSnapshot(t, "after undo", before, after)
	// Idempotent: a second undo finds everything in place.
	for _, r := range undo(t, journal) {
		if !r.Already {
			t.Errorf("second undo: %+v", r)
		}
	}
}

func TestMoveRefusals(t *testing.T) {
	tmp := t.TempDir()
	root1, root2 := filepath.Join(tmp, "r1"), filepath.Join(tmp, "r2")
	outside := filepath.Join(tmp, "outside")
	dest := filepath.Join(tmp, "dest")
	k := put(t, filepath.Join(root1, "keep.jpg"), "k")
	same1 := put(t, filepath.Join(root1, "x", "same.jpg"), "one")
	same2 := put(t, filepath.Join(root2, "x", "same.jpg"), "two") // same relative path: collision
	taken := put(t, filepath.Join(root1, "taken.jpg"), "t")
	put(t, filepath.Join(dest, "taken.jpg"), "already there")
	out := put(t, filepath.Join(outside, "o.jpg"), "o")
	// A folder link inside the root pointing out of it.
	if err := os.Symlink(outside, filepath.Join(root1, "escape")); err != nil {
		t.Fatal(err)
	}
	esc := describe(t, filepath.Join(root1, "escape", "o.jpg"))
	// A file that is itself a link (to a file inside the root).
	if err := os.Symlink(k.Path, filepath.Join(root1, "link.jpg")); err != nil {
		t.Fatal(err)
	}
	lnk := File{Path: filepath.Join(root1, "link.jpg"), Size: -1}
	ref := put(t, filepath.Join(root2, "ref", "r.jpg"), "r")

	before := snapshot(t, tmp)
	g := Group{Members: []File{k, same1, same2, taken, out, esc, lnk, ref}}
	p, res, _ := run(t, []Group{g}, Config{Op: OpMove, Roots: []string{root1, root2}, MoveTo: dest,
		References: []string{filepath.Join(root2, "ref")}})
	want := map[string]error{
		same1.Path: nil, same2.Path: ErrExists, taken.Path: ErrExists, out.Path: ErrOutsideRoots,
		esc.Path: ErrSymlink, lnk.Path: ErrSymlink,
	}
	if len(p.Actions) != len(want) {
		t.Errorf("%d actions, want %d (reference and keeper have none)", len(p.Actions), len(want))
	}
	for _, r := range res {
		w, ok := want[r.Action.File.Path]
		if !ok {
			t.Errorf("unexpected action on %s", r.Action.File.Path)
			continue
		}
		if w == nil && !r.Done || w != nil && !errors.Is(r.Refused, w) {
			t.Errorf("%s: done %v refused %v, want %v", r.Action.File.Path, r.Done, r.Refused, w)
		}
	}
	after := snapshot(t, tmp)
	delete(before, same1.Path)
	delete(after, filepath.Join(dest, "x", "same.jpg"))
	delete(after, filepath.Join(dest, "x"))
	sameSnapshot(t, "refused files", before, after)
}

func TestChangedFileRefused(t *testing.T) {
	root := t.TempDir()
	k := put(t, filepath.Join(root, "k.jpg"), "keeper")
	sz := put(t, filepath.Join(root, "size.jpg"), "aaaa")
	mt := put(t, filepath.Join(root, "mtime.jpg"), "bbbb")
	ct := put(t, filepath.Join(root, "content.jpg"), "cccc")
	gn := put(t, filepath.Join(root, "gone.jpg"), "dddd")
	plan, err := NewPlan([]Group{{Members: []File{k, sz, mt, ct, gn}}}, Config{Op: OpDelete, Roots: []string{root}})
	if err != nil {
		t.Fatal(err)
	}
	// The files change between planning (the dry run) and applying.
	os.WriteFile(sz.Path, []byte("longer"), 0o644)
	os.Chtimes(mt.Path, time.Now(), time.Now())
	os.WriteFile(ct.Path, []byte("CCCC"), 0o644) // same size and mtime, other bytes
	os.Chtimes(ct.Path, ct.ModTime, ct.ModTime)
	os.Remove(gn.Path)
	res, err := plan.Apply(context.Background(), ApplyOptions{Journal: newJournal(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Done || !errors.Is(r.Refused, ErrChanged) {
			t.Errorf("%s: done %v refused %v, want ErrChanged", r.Action.File.Path, r.Done, r.Refused)
		}
	}
	for _, p := range []string{sz.Path, mt.Path, ct.Path} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("changed file %s was acted on: %v", p, err)
		}
	}
}

func TestDryRunTouchesNothing(t *testing.T) {
	tmp := t.TempDir()
	root := filepath.Join(tmp, "root")
	t.Setenv("XDG_DATA_HOME", filepath.Join(tmp, "xdg"))
	k := put(t, filepath.Join(root, "k.jpg"), "keeper")
	d := put(t, filepath.Join(root, "sub", "d.jpg"), "dup")
	before := snapshot(t, tmp)
	for _, op := range []Op{OpMove, OpHardLink, OpSymlink, OpTrash, OpDelete} {
		p, err := NewPlan([]Group{{Members: []File{k, d}}}, Config{Op: op, Roots: []string{root}, MoveTo: filepath.Join(tmp, "to")})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Actions) != 1 || p.Actions[0].Refused != nil || p.Actions[0].File.Path != d.Path {
			t.Errorf("%s: plan %+v", op, p.Actions)
		}
		wantDest := map[Op]string{OpMove: filepath.Join(tmp, "to", "sub", "d.jpg"), OpHardLink: k.Path, OpSymlink: k.Path,
			OpTrash: filepath.Join(tmp, "xdg", "Trash", "files"), OpDelete: ""}[op]
		if p.Actions[0].Dest != wantDest {
			t.Errorf("%s: dest %q, want %q", op, p.Actions[0].Dest, wantDest)
		}
	}
	sameSnapshot(t, "dry run", before, snapshot(t, tmp))
}

// Linking replaces a byte-identical copy by a link, and a near-duplicate
// too once its own bytes are held; undo restores both byte for byte, with
// their mode and modification time.
func TestLinks(t *testing.T) {
	for _, op := range []Op{OpHardLink, OpSymlink} {
		t.Run(string(op), func(t *testing.T) {
			root := t.TempDir()
			k := put(t, filepath.Join(root, "k.jpg"), "same bytes")
			ident := put(t, filepath.Join(root, "ident.jpg"), "same bytes")
			os.Chmod(ident.Path, 0o600)
			ident = describe(t, ident.Path)
			near := put(t, filepath.Join(root, "near.jpg"), "other bytes")
			os.Chmod(near.Path, 0o640)
			near = describe(t, near.Path)
			before := snapshot(t, root)
			p, res, journal := run(t, []Group{{Members: []File{k, ident, near}}}, Config{Op: op, Roots: []string{root}, LinkDiffering: true})
			if n, size := p.Differing(); n != 1 || size != near.Size || p.Actions[0].Differs || !p.Actions[1].Differs {
				t.Errorf("plan: %d differing (%d bytes), actions %+v", n, size, p.Actions)
			}
			for _, r := range res {
				if !r.Done {
					t.Fatalf("%s not done: %v", r.Action.File.Path, r.Refused)
				}
				fi, err := os.Lstat(r.Action.File.Path)
				if err != nil {
					t.Fatal(err)
				}
				kfi, _ := os.Lstat(k.Path)
				if op == OpHardLink && !os.SameFile(fi, kfi) {
					t.Errorf("%s is not a hard link to the keeper", r.Action.File.Path)
				}
				if target, _ := os.Readlink(r.Action.File.Path); op == OpSymlink && target != k.Path {
					t.Errorf("%s links to %q", r.Action.File.Path, target)
				}
				if content(t, r.Action.File.Path) != "same bytes" {
					t.Error("link does not read as the keeper")
				}
			}
			// The near-duplicate's own bytes are held beside the journal.
			if res[0].Held != "" || res[1].Held == "" || res[1].HeldSize != near.Size ||
				filepath.Dir(res[1].Held) != HeldDir(journal) || content(t, res[1].Held) != "other bytes" {
				t.Errorf("held: %q %q (%d bytes)", res[0].Held, res[1].Held, res[1].HeldSize)
			}
			_, entries, _ := ReadJournal(journal)
			if entries[1].Held != filepath.Base(res[1].Held) {
				t.Errorf("journal names the held copy %q, want %q", entries[1].Held, filepath.Base(res[1].Held))
			}
			dirs, _ := os.ReadDir(root)
			for _, e := range dirs {
				if strings.HasPrefix(e.Name(), tempPrefix) {
					t.Errorf("temporary file left: %s", e.Name())
				}
			}
			u := undo(t, journal)
			for _, r := range u {
				if !r.Restored {
					t.Errorf("undo %s: %+v", r.Entry.Src, r)
				}
			}
			sameSnapshot(t, "after undo", before, snapshot(t, root))
			for _, f := range []File{ident, near} {
				fi, _ := os.Lstat(f.Path)
				kfi, _ := os.Lstat(k.Path)
				if got := describe(t, f.Path); got.SHA256 != f.SHA256 || os.SameFile(fi, kfi) {
					t.Errorf("%s restored as %+v, sharing the keeper's inode %v", f.Path, got, os.SameFile(fi, kfi))
				}
			}
			gone(t, HeldDir(journal))
			// Idempotent.
			for _, r := range undo(t, journal) {
				if !r.Already {
					t.Errorf("second undo %+v", r)
				}
			}
		})
	}
}

// Without LinkDiffering (the CLI's --yes) a near-duplicate is not linked.
func TestLinkDifferingRefused(t *testing.T) {
	root := t.TempDir()
	k := put(t, filepath.Join(root, "k.jpg"), "keeper bytes")
	near := put(t, filepath.Join(root, "near.jpg"), "other bytes!")
	ident := put(t, filepath.Join(root, "ident.jpg"), "keeper bytes")
	before := snapshot(t, root)
	p, res, journal := run(t, []Group{{Members: []File{k, near, ident}}}, Config{Op: OpSymlink, Roots: []string{root}})
	if n, _ := p.Differing(); n != 1 {
		t.Errorf("%d differing, want 1", n)
	}
	if res[0].Done || !errors.Is(res[0].Refused, ErrDiffers) || !res[1].Done {
		t.Fatalf("results %+v", res)
	}
	delete(before, ident.Path)
	after := snapshot(t, root)
	delete(after, ident.Path)
	sameSnapshot(t, "refused near-duplicate", before, after)
	gone(t, HeldDir(journal))

	// A file whose store hash is unknown is hashed at plan time.
	near.SHA256, k.SHA256 = "", ""
	p, err := NewPlan([]Group{{Members: []File{k, near}}}, Config{Op: OpHardLink, Roots: []string{root}})
	if err != nil || !p.Actions[0].Differs {
		t.Errorf("plan without stored hashes: %+v %v", p.Actions, err)
	}
}

// The holding folder on another file system than the file: a verified copy,
// put back by undo with the same bytes, mode and time.
func TestLinkHeldOnOtherDevice(t *testing.T) {
	other := otherDeviceDir(t)
	root := t.TempDir()
	k := put(t, filepath.Join(root, "k.jpg"), "keeper")
	d := put(t, filepath.Join(root, "s", "d.jpg"), "near-duplicate bytes")
	os.Chmod(d.Path, 0o604)
	d = describe(t, d.Path)
	before := snapshot(t, root)
	p, err := NewPlan([]Group{{Members: []File{k, d}}}, Config{Op: OpHardLink, Roots: []string{root}, LinkDiffering: true})
	if err != nil {
		t.Fatal(err)
	}
	journal := filepath.Join(other, "j.jsonl")
	j, err := CreateJournal(journal, Header{Op: OpHardLink, Roots: p.Config.Roots})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Apply(context.Background(), ApplyOptions{Journal: j})
	j.Close()
	if err != nil || !res[0].Done {
		t.Fatalf("apply %+v %v", res, err)
	}
	hfi, err := os.Stat(res[0].Held)
	if err != nil || hfi.Mode().Perm() != 0o604 || !hfi.ModTime().Equal(d.ModTime) || describe(t, res[0].Held).SHA256 != d.SHA256 {
		t.Errorf("held copy %v %v", hfi, err)
	}
	for _, r := range undo(t, journal) {
		if !r.Restored {
			t.Errorf("undo %+v", r)
		}
	}
	sameSnapshot(t, "after undo", before, snapshot(t, root))
	gone(t, HeldDir(journal))
}

// Purge frees the held bytes; undo then restores what it still can and
// says why the others stay links.
func TestPurge(t *testing.T) {
	root := t.TempDir()
	k := put(t, filepath.Join(root, "k.jpg"), "keeper")
	ident := put(t, filepath.Join(root, "ident.jpg"), "keeper")
	near := put(t, filepath.Join(root, "near.jpg"), "near bytes")
	_, res, journal := run(t, []Group{{Members: []File{k, ident, near}}}, Config{Op: OpSymlink, Roots: []string{root}, LinkDiffering: true})
	if !res[1].Done || res[1].Held == "" {
		t.Fatalf("results %+v", res)
	}
	rel, err := Purge(context.Background(), journal)
	if err != nil || len(rel) != 1 || rel[0].Entry.Src != near.Path || rel[0].Size != near.Size || rel[0].Spare {
		t.Fatalf("purge: %+v %v", rel, err)
	}
	gone(t, res[1].Held)
	gone(t, HeldDir(journal))
	_, entries, err := ReadJournal(journal)
	if err != nil || !entries[1].Purged || entries[0].Purged {
		t.Errorf("journal after purge: %+v %v", entries, err)
	}
	if rel, err := Purge(context.Background(), journal); err != nil || len(rel) != 0 {
		t.Errorf("second purge: %+v %v", rel, err)
	}
	u := undo(t, journal)
	sort.Slice(u, func(i, j int) bool { return u[i].Entry.Src < u[j].Entry.Src })
	if !u[0].Restored || !errors.Is(u[1].Refused, ErrNotRestorable) || !strings.Contains(u[1].Refused.Error(), "purge") {
		t.Errorf("undo after purge: ident %+v; near %+v", u[0], u[1])
	}
	if describe(t, ident.Path).SHA256 != ident.SHA256 {
		t.Error("identical file not restored")
	}
	if target, _ := os.Readlink(near.Path); target != k.Path {
		t.Error("purged file is no longer the link")
	}
}

// Purge appends to a journal whose last line was torn by a crash.
func TestPurgeAfterTornJournal(t *testing.T) {
	root := t.TempDir()
	k := put(t, filepath.Join(root, "k.jpg"), "keeper")
	near := put(t, filepath.Join(root, "near.jpg"), "near bytes")
	_, _, journal := run(t, []Group{{Members: []File{k, near}}}, Config{Op: OpHardLink, Roots: []string{root}, LinkDiffering: true})
	f, _ := os.OpenFile(journal, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"seq":2,"sta`)
	f.Close()
	if rel, err := Purge(context.Background(), journal); err != nil || len(rel) != 1 {
		t.Fatalf("purge: %+v %v", rel, err)
	}
	if _, entries, err := ReadJournal(journal); err != nil || len(entries) != 1 || !entries[0].Purged {
		t.Errorf("journal: %+v %v", entries, err)
	}
}

func TestLinkUndoRefusedWhenKeeperChanged(t *testing.T) {
	root := t.TempDir()
	k := put(t, filepath.Join(root, "k.jpg"), "same bytes")
	d := put(t, filepath.Join(root, "d.jpg"), "same bytes")
	_, res, journal := run(t, []Group{{Members: []File{k, d}}}, Config{Op: OpSymlink, Roots: []string{root}})
	if !res[0].Done {
		t.Fatal(res[0].Refused)
	}
	os.WriteFile(k.Path, []byte("edited keeper"), 0o644)
	u := undo(t, journal)
	if !errors.Is(u[0].Refused, ErrNotRestorable) || !strings.Contains(u[0].Refused.Error(), "SHA-256") {
		t.Errorf("undo after keeper edit: %+v", u[0])
	}
	if target, _ := os.Readlink(d.Path); target != k.Path {
		t.Error("refused undo changed the link")
	}
}

func TestHardLinkAcrossDevicesRefused(t *testing.T) {
	other := otherDeviceDir(t)
	root := t.TempDir()
	k := put(t, filepath.Join(other, "k.jpg"), "k")
	d := put(t, filepath.Join(root, "d.jpg"), "k")
	p, err := NewPlan([]Group{{Members: []File{k, d}}}, Config{Op: OpHardLink, Roots: []string{root, other}})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(p.Actions[0].Refused, ErrCrossDevice) {
		t.Errorf("refused %v, want ErrCrossDevice", p.Actions[0].Refused)
	}
}

// otherDeviceDir returns a temporary folder on another file system than
// t.TempDir(), or skips.
func otherDeviceDir(t *testing.T) string {
	t.Helper()
	a, err := deviceOf(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{"/dev/shm", "/run/user/" + itoa(os.Getuid()), "/var/tmp"} {
		if b, err := deviceOf(base); err != nil || b == a {
			continue
		}
		dir, err := os.MkdirTemp(base, "dedup-test-")
		if err != nil {
			continue
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		return dir
	}
	t.Skip("no writable folder on another file system (tried /dev/shm, /run/user/UID, /var/tmp)")
	return ""
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestMoveAcrossDevices(t *testing.T) {
	other := otherDeviceDir(t)
	root := t.TempDir()
	k := put(t, filepath.Join(root, "k.jpg"), "k")
	d := put(t, filepath.Join(root, "s", "d.jpg"), "dup content")
	before := snapshot(t, root)
	_, res, journal := run(t, []Group{{Members: []File{k, d}}}, Config{Op: OpMove, Roots: []string{root}, MoveTo: other})
	if !res[0].Done {
		t.Fatal(res[0].Refused)
	}
	moved := filepath.Join(other, "s", "d.jpg")
	if got := describe(t, moved); got.SHA256 != d.SHA256 || !got.ModTime.Equal(d.ModTime) {
		t.Errorf("copy across devices: %+v, want %+v", got, d)
	}
	gone(t, d.Path)
	undo(t, journal)
	sameSnapshot(t, "undo across devices", before, snapshot(t, root))
	gone(t, moved)
}

func TestTrash(t *testing.T) {
	tmp := t.TempDir()
	root := filepath.Join(tmp, "root")
	xdg := filepath.Join(tmp, "xdg")
	t.Setenv("XDG_DATA_HOME", xdg)
	k := put(t, filepath.Join(root, "k.jpg"), "k")
	d1 := put(t, filepath.Join(root, "a", "d.jpg"), "one")
	d2 := put(t, filepath.Join(root, "b", "d.jpg"), "two") // same name: a second trash name
	before := snapshot(t, root)
	_, res, journal := run(t, []Group{{Members: []File{k, d1, d2}}}, Config{Op: OpTrash, Roots: []string{root}})
	trash := filepath.Join(xdg, "Trash")
	wantDest := []string{filepath.Join(trash, "files", "d.jpg"), filepath.Join(trash, "files", "d.2.jpg")}
	for i, r := range res {
		if !r.Done || r.Dest != wantDest[i] {
			t.Fatalf("result %d: %+v", i, r)
		}
		gone(t, r.Action.File.Path)
		info := content(t, trashInfoPath(r.Dest))
		if !strings.HasPrefix(info, "[Trash Info]\nPath="+r.Action.File.Path+"\nDeletionDate=") {
			t.Errorf("trashinfo %q", info)
		}
		date := strings.TrimSpace(strings.SplitN(info, "DeletionDate=", 2)[1])
		if _, err := time.ParseInLocation("2006-01-02T15:04:05", date, time.Local); err != nil {
			t.Errorf("DeletionDate %q: %v", date, err)
		}
	}
	if content(t, wantDest[1]) != "two" {
		t.Error("wrong file in the trash")
	}
	fi, _ := os.Stat(trash)
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("trash folder mode %v", fi.Mode())
	}
	undo(t, journal)
	sameSnapshot(t, "undo trash", before, snapshot(t, root))
	for _, d := range wantDest {
		gone(t, d)
		gone(t, trashInfoPath(d))
	}
}

func TestTrashInfoEscapes(t *testing.T) {
	got := trashInfo("/home/u/my photos/ä#1.jpg", "", time.Date(2024, 2, 3, 4, 5, 6, 0, time.Local))
	want := "[Trash Info]\nPath=/home/u/my%20photos/%C3%A4%231.jpg\nDeletionDate=2024-02-03T04:05:06\n"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if got := trashInfo("/mnt/usb/a b.jpg", "/mnt/usb", time.Date(2024, 2, 3, 4, 5, 6, 0, time.Local)); !strings.Contains(got, "\nPath=a%20b.jpg\n") {
		t.Errorf("volume trash path should be relative to the top folder: %q", got)
	}
}

// A file on another file system than the home trash goes to that volume's
// $topdir/.Trash-$uid (here the top of the other device).
func TestTrashOtherVolume(t *testing.T) {
	other := otherDeviceDir(t)
	t.Setenv("XDG_DATA_HOME", filepath.Join(t.TempDir(), "xdg"))
	k := put(t, filepath.Join(other, "k.jpg"), "k")
	d := put(t, filepath.Join(other, "dup-"+filepath.Base(other)+".jpg"), "d")
	dev, _ := deviceOf(other)
	top, err := mountPoint(d.Path, dev)
	if err != nil {
		t.Fatal(err)
	}
	trashDir := filepath.Join(top, ".Trash-"+itoa(os.Getuid()))
	if fi, err := os.Lstat(filepath.Join(top, ".Trash")); err == nil && fi.Mode()&fs.ModeSticky != 0 {
		trashDir = filepath.Join(top, ".Trash", itoa(os.Getuid()))
	}
	_, existed := os.Lstat(trashDir)
	t.Cleanup(func() {
		if existed != nil {
			os.RemoveAll(trashDir)
		}
	})
	_, res, journal := run(t, []Group{{Members: []File{k, d}}}, Config{Op: OpTrash, Roots: []string{other}})
	if !res[0].Done || filepath.Dir(filepath.Dir(res[0].Dest)) != trashDir {
		t.Fatalf("result %+v, want under %s", res[0], trashDir)
	}
	rel, _ := filepath.Rel(top, d.Path)
	if info := content(t, trashInfoPath(res[0].Dest)); !strings.Contains(info, "\nPath="+rel+"\n") {
		t.Errorf("trashinfo %q, want relative path %s", info, rel)
	}
	undo(t, journal)
	if describe(t, d.Path).SHA256 != d.SHA256 {
		t.Error("not restored")
	}
}

func TestDelete(t *testing.T) {
	root := t.TempDir()
	k := put(t, filepath.Join(root, "k.jpg"), "k")
	d := put(t, filepath.Join(root, "d.jpg"), "d")
	os.Chmod(d.Path, 0o400)
	d = describe(t, d.Path)
	_, res, journal := run(t, []Group{{Members: []File{d, k}, Keep: 1}}, Config{Op: OpDelete, Roots: []string{root}})
	if !res[0].Done {
		t.Fatal(res[0].Refused)
	}
	gone(t, d.Path)
	u := undo(t, journal)
	if !errors.Is(u[0].Refused, ErrNotRestorable) {
		t.Errorf("undo of delete: %+v", u[0])
	}
}

func TestReferenceOnlyGroupHasNoActions(t *testing.T) {
	root := t.TempDir()
	a := put(t, filepath.Join(root, "lib", "a.jpg"), "a")
	b := put(t, filepath.Join(root, "lib", "b.jpg"), "b")
	p, err := NewPlan([]Group{{Members: []File{a, b}}}, Config{Op: OpDelete, Roots: []string{root}, References: []string{filepath.Join(root, "lib")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Actions) != 0 {
		t.Errorf("actions on reference files: %+v", p.Actions)
	}
}

// The first I/O error stops Apply with a message naming the file; later
// actions are not attempted and the journal says which one failed.
func TestStopsOnFirstIOError(t *testing.T) {
	tmp := t.TempDir()
	root := filepath.Join(tmp, "root")
	dest := filepath.Join(tmp, "dest")
	k := put(t, filepath.Join(root, "k.jpg"), "k")
	d1 := put(t, filepath.Join(root, "a", "d1.jpg"), "1")
	d2 := put(t, filepath.Join(root, "b", "d2.jpg"), "2")
	d3 := put(t, filepath.Join(root, "c", "d3.jpg"), "3")
	p, err := NewPlan([]Group{{Members: []File{k, d1, d2, d3}}}, Config{Op: OpMove, Roots: []string{root}, MoveTo: dest})
	if err != nil {
		t.Fatal(err)
	}
	// A plain file where folder "b" must be created makes the second move fail.
	put(t, filepath.Join(dest, "b"), "in the way")
	j := newJournal(t)
	res, err := p.Apply(context.Background(), ApplyOptions{Journal: j})
	if err == nil || !strings.Contains(err.Error(), d2.Path) {
		t.Fatalf("err %v, want an error naming %s", err, d2.Path)
	}
	if len(res) != 1 || !res[0].Done {
		t.Errorf("results before the error: %+v", res)
	}
	for _, f := range []File{d2, d3} {
		if content(t, f.Path) == "" {
			t.Errorf("%s touched", f.Path)
		}
	}
	_, entries, err := ReadJournal(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Final != StateDone || entries[1].Final != StateFailed {
		t.Errorf("journal %+v", entries)
	}
}

func TestReadJournalRejects(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{
		"empty":   "",
		"other":   `{"hello":1}` + "\n",
		"version": `{"journal":"embedsearch-dedup","version":99}` + "\n",
		"garbage": `{"journal":"embedsearch-dedup","version":1}` + "\n" + "not json\n",
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(data), 0o644)
		if _, _, err := ReadJournal(p); !errors.Is(err, ErrBadJournal) {
			t.Errorf("%s: err %v, want ErrBadJournal", name, err)
		}
	}
	// A torn last line (crash mid-write) is not an error.
	p := filepath.Join(dir, "torn")
	os.WriteFile(p, []byte(`{"journal":"embedsearch-dedup","version":1}`+"\n"+`{"seq":1,"state":"begin","op":"delete","src":"/x"}`+"\n"+`{"seq":1,"sta`), 0o644)
	_, e, err := ReadJournal(p)
	if err != nil || len(e) != 1 || e[0].Final != StateBegin {
		t.Errorf("torn journal: %+v %v", e, err)
	}
}

// A journal edited to name a file outside its roots is refused by Undo.
func TestUndoRefusesForeignPaths(t *testing.T) {
	tmp := t.TempDir()
	victim := put(t, filepath.Join(tmp, "elsewhere", "v.jpg"), "v")
	p := filepath.Join(tmp, "j.jsonl")
	j, err := CreateJournal(p, Header{Op: OpMove, Roots: []string{filepath.Join(tmp, "root")}, MoveTo: filepath.Join(tmp, "to")})
	if err != nil {
		t.Fatal(err)
	}
	j.writeLine(Record{Seq: 1, State: StateBegin, Op: OpMove, Src: filepath.Join(tmp, "root", "v.jpg"), Dst: victim.Path, Size: 1, SHA256: victim.SHA256})
	j.Close()
	u := undo(t, p)
	if !errors.Is(u[0].Refused, ErrOutsideRoots) {
		t.Errorf("undo %+v", u[0])
	}
	if content(t, victim.Path) != "v" {
		t.Error("foreign file moved")
	}
}

// A root reached through a symbolic link (a common photo-library setup) is
// fine: files are named as the store names them, and undo puts them back.
func TestRootThroughLink(t *testing.T) {
	tmp := t.TempDir()
	real := filepath.Join(tmp, "data", "photos")
	link := filepath.Join(tmp, "photos")
	os.MkdirAll(real, 0o755)
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	k := put(t, filepath.Join(link, "k.jpg"), "k")
	d := put(t, filepath.Join(link, "sub", "d.jpg"), "d")
	before := snapshot(t, real)
	for _, op := range []Op{OpMove, OpTrash, OpSymlink} {
		t.Setenv("XDG_DATA_HOME", filepath.Join(tmp, "xdg"))
		_, res, journal := run(t, []Group{{Members: []File{k, d}}}, Config{Op: op, Roots: []string{link}, MoveTo: filepath.Join(tmp, "to"),
			LinkDiffering: true})
		if !res[0].Done {
			t.Fatalf("%s: %v", op, res[0].Refused)
		}
		_, entries, _ := ReadJournal(journal)
		if entries[0].Src != d.Path {
			t.Errorf("%s: journal src %s, want the path as stored %s", op, entries[0].Src, d.Path)
		}
		for _, u := range undo(t, journal) {
			if !u.Restored {
				t.Errorf("%s: undo %+v", op, u)
			}
		}
		sameSnapshot(t, string(op), before, snapshot(t, real))
	}
}

// A duplicate whose keeper vanished or changed after indexing is not acted
// on: it may be the last copy.
func TestKeeperGoneRefuses(t *testing.T) {
	root := t.TempDir()
	k := put(t, filepath.Join(root, "k.jpg"), "keeper")
	d := put(t, filepath.Join(root, "d.jpg"), "dup")
	k2 := put(t, filepath.Join(root, "k2.jpg"), "keeper two")
	d2 := put(t, filepath.Join(root, "d2.jpg"), "dup two")
	os.Remove(k.Path) // before planning
	p, err := NewPlan([]Group{{Members: []File{k, d}}, {Members: []File{k2, d2}}}, Config{Op: OpDelete, Roots: []string{root}})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(p.Actions[0].Refused, ErrChanged) || p.Actions[1].Refused != nil {
		t.Fatalf("plan: %v / %v", p.Actions[0].Refused, p.Actions[1].Refused)
	}
	os.WriteFile(k2.Path, []byte("edited"), 0o644) // after planning
	res, err := p.Apply(context.Background(), ApplyOptions{Journal: newJournal(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Done || !strings.Contains(fmt.Sprint(r.Refused), "keeper") {
			t.Errorf("%s: done %v refused %v", r.Action.File.Path, r.Done, r.Refused)
		}
	}
	for _, f := range []File{d, d2} {
		if content(t, f.Path) == "" {
			t.Error("duplicate deleted")
		}
	}
}
