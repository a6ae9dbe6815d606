package dedup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/embedsearch/embedsearch/internal/fspath"
)

// Op is what happens to a duplicate.
type Op string

// Operations. OpNone is report-only.
const (
	OpNone     Op = ""
	OpMove     Op = "move"
	OpHardLink Op = "hardlink"
	OpSymlink  Op = "symlink"
	OpTrash    Op = "trash"
	OpDelete   Op = "delete"
)

// Config says what a Plan does and where it may act.
type Config struct {
	Op Op
	// Roots are the folders actions may touch; a duplicate outside them is
	// refused. Required for every Op but OpNone.
	Roots []string
	// References are folders whose files are always kept and never acted on.
	References []string
	// MoveTo is OpMove's destination; a moved file keeps its path relative
	// to its root under it.
	MoveTo string
	// Trash locates the home trash (OpTrash); zero means the environment.
	Trash Trash
	// LinkDiffering lets a link replace a duplicate whose bytes differ from
	// the keeper's (a near-duplicate, not a copy); its bytes are first set
	// aside in the journal's holding folder. Without it such actions are
	// refused (ErrDiffers) when applied.
	LinkDiffering bool
}

// Action is one planned step on one duplicate.
type Action struct {
	Op     Op
	Group  int  // index of the group in the input
	File   File // the duplicate, as the store describes it
	Keeper File
	// Dest is where the file goes: the new path (move), the keeper (links),
	// the trash folder (trash; the name inside is chosen when applied).
	Dest string
	// Refused is why the action will not be done (wraps one of the refusal
	// errors); nil when it will.
	Refused error
	// Differs (links only): the duplicate's bytes are not the keeper's, so
	// linking it sets them aside in the holding folder, and needs
	// Config.LinkDiffering. Decided from the stored hashes (the files are
	// hashed when the store has none); Apply hashes again.
	Differs bool
	// StoreEntry is opaque data the caller attaches before Apply (the CLI:
	// the file's store entry and vector); it is journalled with the action
	// and returned by Undo, so the caller can restore its own records.
	StoreEntry json.RawMessage
}

// Plan is the list of actions for a set of groups. Building one touches no
// file; printing it is a dry run.
type Plan struct {
	Config  Config
	Actions []Action
	roots   []root // Config.Roots, absolute and resolved
	refs    []root
	moveTo  root
}

type root struct{ path, real string }

func resolveRoots(dirs []string) ([]root, error) {
	var out []root
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, err
		}
		real, err := filepath.EvalSymlinks(abs)
		if err != nil {
			return nil, fmt.Errorf("folder %s: %w", d, err)
		}
		out = append(out, root{abs, real})
	}
	return out, nil
}

func (r root) contains(path, real string) bool {
	return fspath.Within(r.path, path) && fspath.Within(r.real, real)
}

// NewPlan makes the actions for groups (whose Keep is already chosen). It
// reads file metadata to refuse what must not be done, and writes nothing.
func NewPlan(groups []Group, c Config) (*Plan, error) {
	p := &Plan{Config: c}
	if c.Op != OpNone && len(c.Roots) == 0 {
		return nil, fmt.Errorf("%w: an action needs the folders it may touch", ErrConfig)
	}
	if c.Op == OpMove && c.MoveTo == "" {
		return nil, fmt.Errorf("%w: move needs a destination folder", ErrConfig)
	}
	var err error
	if p.roots, err = resolveRoots(c.Roots); err != nil {
		return nil, err
	}
	p.Config.Roots = nil
	for _, r := range p.roots {
		p.Config.Roots = append(p.Config.Roots, r.path)
	}
	// References need not exist (a missing one protects nothing).
	for _, d := range c.References {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, err
		}
		real, err := filepath.EvalSymlinks(abs)
		if err != nil {
			real = abs
		}
		p.refs = append(p.refs, root{abs, real})
	}
	if c.Op == OpMove {
		abs, err := filepath.Abs(c.MoveTo)
		if err != nil {
			return nil, err
		}
		p.moveTo = root{abs, abs}
		if real, err := realPrefix(abs); err == nil {
			p.moveTo.real = real
		} else {
			return nil, fmt.Errorf("move destination %s: %w", c.MoveTo, err)
		}
		p.Config.MoveTo = abs
	}
	dests := map[string]bool{}
	sums := map[string]string{} // content hashes read at plan time, by path
	for gi, g := range groups {
		if g.Keep < 0 || g.Keep >= len(g.Members) {
			return nil, fmt.Errorf("%w: group %d has no keeper", ErrConfig, gi)
		}
		keeper := g.Members[g.Keep]
		for mi, f := range g.Members {
			if mi == g.Keep || p.isReference(f.Path) {
				continue
			}
			a := Action{Op: c.Op, Group: gi, File: f, Keeper: keeper}
			if c.Op != OpNone {
				a.Dest, a.Refused = p.prepare(a, dests)
			}
			if (c.Op == OpHardLink || c.Op == OpSymlink) && a.Refused == nil {
				a.Differs = !sameBytes(a.File, a.Keeper, sums)
			}
			p.Actions = append(p.Actions, a)
		}
	}
	return p, nil
}

// sameBytes says whether two files have the same content: from their sizes
// and stored hashes, or, when a hash is unknown, by hashing the file (an
// unreadable file counts as different).
func sameBytes(f, k File, sums map[string]string) bool {
	if f.Size >= 0 && k.Size >= 0 && f.Size != k.Size {
		return false
	}
	sum := func(x File) string {
		if x.SHA256 != "" {
			return x.SHA256
		}
		s, ok := sums[x.Path]
		if !ok {
			s, _ = hashFile(x.Path)
			sums[x.Path] = s
		}
		return s
	}
	fs, ks := sum(f), sum(k)
	return fs != "" && fs == ks
}

// Differing counts the link actions (not refused) whose files differ from
// their keeper, and their bytes: what applying the plan would hold.
func (p *Plan) Differing() (n int, size int64) {
	for _, a := range p.Actions {
		if a.Differs && a.Refused == nil {
			n++
			size += max(a.File.Size, 0)
		}
	}
	return n, size
}

// isReference says whether path lies under a reference folder, lexically
// or once links are resolved.
func (p *Plan) isReference(path string) bool {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		real = path
	}
	for _, r := range p.refs {
		if fspath.Within(r.path, path) || fspath.Within(r.real, real) {
			return true
		}
	}
	return false
}

// realPrefix resolves links in the longest existing prefix of path and
// appends the rest: where path will be once created.
func realPrefix(path string) (string, error) {
	rest := ""
	for cur := path; ; {
		real, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(real, rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return "", err
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return "", err
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// target is a verified file: where it really is and what it is now.
type target struct {
	root root   // the root it lies under
	real string // path with every link resolved
	info fs.FileInfo
}

// check verifies that f may be acted on (or, for a keeper, read): under a
// root (or, when keeper, a reference), a regular file reached without
// leaving the roots, and still as the store describes it.
func (p *Plan) check(f File, keeper bool) (target, error) {
	path := filepath.Clean(f.Path)
	fi, err := os.Lstat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return target{}, fmt.Errorf("%w: %s is gone", ErrChanged, path)
		}
		return target{}, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return target{}, fmt.Errorf("%w: %s is a symbolic link; only regular files are acted on", ErrSymlink, path)
	}
	if !fi.Mode().IsRegular() {
		return target{}, fmt.Errorf("%w: %s", ErrNotRegular, path)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return target{}, err
	}
	allowed := p.roots
	if keeper {
		allowed = append(append([]root(nil), p.roots...), p.refs...)
	}
	var t target
	found, lexical := false, false
	for _, r := range allowed {
		if fspath.Within(r.path, path) {
			lexical = true
		}
		if r.contains(path, real) {
			t.root, found = r, true
			break
		}
	}
	switch {
	case !found && lexical:
		return target{}, fmt.Errorf("%w: %s resolves to %s, outside the given folders", ErrSymlink, path, real)
	case !found:
		return target{}, fmt.Errorf("%w: %s", ErrOutsideRoots, path)
	}
	if !keeper && p.isReference(path) {
		return target{}, fmt.Errorf("%w: %s is under a reference folder", ErrOutsideRoots, path)
	}
	if f.Size >= 0 && fi.Size() != f.Size {
		return target{}, fmt.Errorf("%w: %s is %d bytes, the store says %d", ErrChanged, path, fi.Size(), f.Size)
	}
	if !f.ModTime.IsZero() && !sameTime(fi.ModTime(), f.ModTime) {
		return target{}, fmt.Errorf("%w: %s was modified %s, the store says %s", ErrChanged, path,
			fi.ModTime().Format(time.RFC3339), f.ModTime.Format(time.RFC3339))
	}
	t.real, t.info = real, fi
	return t, nil
}

// sameTime compares a file's modification time with a recorded one at the
// recorded precision (stores and journals may keep seconds or milliseconds).
func sameTime(disk, recorded time.Time) bool {
	if disk.Equal(recorded) {
		return true
	}
	ns := recorded.Nanosecond()
	for _, unit := range []time.Duration{time.Second, time.Millisecond, time.Microsecond} {
		if ns%int(unit) == 0 {
			return disk.Truncate(unit).Equal(recorded)
		}
	}
	return false
}

// prepare checks an action at plan time and works out its destination.
func (p *Plan) prepare(a Action, dests map[string]bool) (string, error) {
	t, err := p.check(a.File, false)
	if err != nil {
		return "", err
	}
	// Never act on a duplicate whose keeper is gone or changed: that could
	// lose the last copy.
	k, err := p.check(a.Keeper, true)
	if err != nil {
		return "", fmt.Errorf("keeper: %w", err)
	}
	switch a.Op {
	case OpMove:
		dst, err := p.moveDest(a.File.Path, t.root)
		if err != nil {
			return "", err
		}
		if dests[dst] {
			return dst, fmt.Errorf("%w: %s (another duplicate moves there)", ErrExists, dst)
		}
		dests[dst] = true
		if ok, err := exists(dst); err != nil || ok {
			if err != nil {
				return dst, err
			}
			return dst, fmt.Errorf("%w: %s", ErrExists, dst)
		}
		return dst, nil
	case OpHardLink, OpSymlink:
		if a.Op == OpHardLink && devOf(k.info) != devOf(t.info) {
			return a.Keeper.Path, fmt.Errorf("%w: %s and %s", ErrCrossDevice, a.File.Path, a.Keeper.Path)
		}
		return a.Keeper.Path, nil
	case OpTrash:
		dir, _, err := p.Config.Trash.dirFor(t.real, devOf(t.info))
		if err != nil {
			return "", err
		}
		return filepath.Join(dir, "files"), nil
	case OpDelete:
		return "", nil
	}
	return "", fmt.Errorf("%w: unknown action %q", ErrConfig, a.Op)
}

// moveDest is where a file under r goes: MoveTo plus its path relative to r.
// The folders on the way must not lead out of MoveTo through a link.
func (p *Plan) moveDest(path string, r root) (string, error) {
	rel, err := filepath.Rel(r.path, path)
	if err != nil {
		return "", err
	}
	dst := filepath.Join(p.moveTo.path, rel)
	real, err := realPrefix(dst)
	if err != nil {
		return dst, err
	}
	if !fspath.Within(p.moveTo.real, real) {
		return dst, fmt.Errorf("%w: %s resolves to %s, outside %s", ErrSymlink, dst, real, p.moveTo.path)
	}
	return dst, nil
}

// Result is what Apply did with one action.
type Result struct {
	Action Action
	Done   bool
	// Dest is where the file now is (move, trash).
	Dest string
	// Held is the copy of a linked file's own bytes in the journal's
	// holding folder (when they differed from the keeper's), HeldSize its
	// size: space that only Purge frees.
	Held     string
	HeldSize int64
	// Refused is why it was not done (nil when Done).
	Refused error
}

// ApplyOptions configure Apply.
type ApplyOptions struct {
	// Journal receives every action before it is performed. Required.
	Journal *Journal
	// Progress, when set, is called after each action.
	Progress func(Result)
}

// testHook runs after an action's "begin" record is durable (state
// StateBegin), between holding a file's bytes and linking it (hookHeld),
// and after the action, before its "done" record (StateDone): crash tests
// kill the process there.
var testHook func(seq int, state string)

// Apply performs the plan's actions in order. Refused actions (at plan time or
// now: each file is checked again, and hashed, right before acting) are
// reported and skipped; the first I/O error stops Apply and is returned with
// the results so far.
func (p *Plan) Apply(ctx context.Context, o ApplyOptions) ([]Result, error) {
	if p.Config.Op == OpNone {
		return nil, nil
	}
	if o.Journal == nil {
		return nil, fmt.Errorf("%w: no journal", ErrConfig)
	}
	var results []Result
	for _, a := range p.Actions {
		if err := ctx.Err(); err != nil {
			return results, err
		}
		r, err := p.apply(a, o.Journal)
		if err != nil {
			return results, err
		}
		results = append(results, r)
		if o.Progress != nil {
			o.Progress(r)
		}
	}
	return results, nil
}

func (p *Plan) apply(a Action, j *Journal) (Result, error) {
	res := Result{Action: a}
	if a.Refused != nil {
		res.Refused = a.Refused
		return res, nil
	}
	t, err := p.check(a.File, false)
	if err != nil {
		return p.refuse(res, err)
	}
	sum, err := hashFile(t.real)
	if err != nil {
		return res, fmt.Errorf("%s: %w", a.File.Path, err)
	}
	if a.File.SHA256 != "" && sum != a.File.SHA256 {
		return p.refuse(res, fmt.Errorf("%w: %s has different content", ErrChanged, a.File.Path))
	}
	k, err := p.check(a.Keeper, true)
	if err != nil {
		return p.refuse(res, fmt.Errorf("keeper: %w", err))
	}
	// The journal names the file as the store does (links in the roots
	// kept); Undo resolves it again and checks containment.
	rec := Record{Op: a.Op, Src: filepath.Clean(a.File.Path), Size: t.info.Size(), MTime: t.info.ModTime(),
		Mode: uint32(t.info.Mode().Perm()), SHA256: sum, StoreEntry: a.StoreEntry}

	var actErr error // the action's own error, stops Apply
	switch a.Op {
	case OpMove:
		dst, err := p.moveDest(a.File.Path, t.root)
		if err != nil {
			return p.refuse(res, err)
		}
		if ok, err := exists(dst); err != nil {
			return res, fmt.Errorf("%s: %w", a.File.Path, err)
		} else if ok {
			return p.refuse(res, fmt.Errorf("%w: %s", ErrExists, dst))
		}
		rec.Dst = dst
		actErr = j.do(rec, func() error {
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			// The folders now exist: make sure none of them is a link out.
			if real, err := filepath.EvalSymlinks(filepath.Dir(dst)); err != nil {
				return err
			} else if !fspath.Within(p.moveTo.real, real) {
				return fmt.Errorf("%w: %s resolves outside %s", ErrSymlink, filepath.Dir(dst), p.moveTo.path)
			}
			return moveFile(t.real, dst, t.info.Mode(), t.info.ModTime())
		})
		res.Dest = dst

	case OpHardLink, OpSymlink:
		if a.Op == OpHardLink && devOf(k.info) != devOf(t.info) {
			return p.refuse(res, fmt.Errorf("%w: %s", ErrCrossDevice, a.Keeper.Path))
		}
		ksum, err := hashFile(k.real)
		if err != nil {
			return res, fmt.Errorf("keeper %s: %w", a.Keeper.Path, err)
		}
		if a.Keeper.SHA256 != "" && ksum != a.Keeper.SHA256 {
			return p.refuse(res, fmt.Errorf("keeper: %w: %s has different content", ErrChanged, a.Keeper.Path))
		}
		rec.Dst, rec.KeeperSHA256 = k.real, ksum
		if a.Op == OpHardLink && os.SameFile(k.info, t.info) {
			res.Dest, res.Done = k.real, true // already one file
			return res, nil
		}
		res.Dest = k.real
		if sum == ksum {
			actErr = j.do(rec, func() error { return replaceByLink(a.Op, k.real, t.real) })
			break
		}
		// Not a copy of the keeper: its own bytes go to the holding folder
		// first (named in the begin record), so undo can put them back.
		if !p.Config.LinkDiffering {
			return p.refuse(res, fmt.Errorf("%s %w %s (a near-duplicate, not a copy), and linking it was not confirmed",
				a.File.Path, ErrDiffers, a.Keeper.Path))
		}
		rec.Held = j.heldName(filepath.Base(t.real))
		held := filepath.Join(j.HeldDir(), rec.Held)
		actErr = j.do(rec, func() error {
			if err := holdFile(t.real, held, t.info, sum); err != nil {
				return err
			}
			if testHook != nil {
				testHook(j.seq, hookHeld)
			}
			return replaceByLink(a.Op, k.real, t.real)
		})
		res.Held, res.HeldSize = held, t.info.Size()

	case OpTrash:
		dir, topdir, err := p.Config.Trash.dirFor(t.real, devOf(t.info))
		if err != nil {
			return res, err
		}
		if err := prepareTrash(dir); err != nil {
			return res, err
		}
		name, err := freeTrashName(dir, filepath.Base(t.real))
		if err != nil {
			return res, err
		}
		rec.Dst = filepath.Join(dir, "files", name)
		actErr = j.do(rec, func() error { return trashFile(t.real, dir, name, topdir) })
		res.Dest = rec.Dst

	case OpDelete:
		actErr = j.do(rec, func() error {
			if err := os.Remove(t.real); err != nil {
				return err
			}
			return syncDir(filepath.Dir(t.real))
		})
	default:
		return res, fmt.Errorf("%w: unknown action %q", ErrConfig, a.Op)
	}
	if actErr != nil {
		return res, fmt.Errorf("%s %s: %w", a.Op, a.File.Path, actErr)
	}
	res.Done = true
	return res, nil
}

// refuse records a refusal found at apply time; I/O errors other than the
// refusal kinds stop Apply.
func (p *Plan) refuse(res Result, err error) (Result, error) {
	for _, e := range []error{ErrOutsideRoots, ErrSymlink, ErrExists, ErrChanged, ErrNotRegular, ErrCrossDevice, ErrDiffers} {
		if errors.Is(err, e) {
			res.Refused = err
			return res, nil
		}
	}
	return res, fmt.Errorf("%s: %w", res.Action.File.Path, err)
}

// replaceByLink replaces dup by a link to keeper: the link is made under a
// temporary name in dup's folder and renamed over dup, so dup is at every
// moment either the old file or the complete link.
func replaceByLink(op Op, keeper, dup string) error {
	dir := filepath.Dir(dup)
	tmp := tempPath(dir, filepath.Base(dup))
	var err error
	if op == OpHardLink {
		err = os.Link(keeper, tmp)
	} else {
		err = os.Symlink(keeper, tmp)
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, dup); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}
