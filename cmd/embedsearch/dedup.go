package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/embedsearch/embedsearch/dedup"
	"github.com/embedsearch/embedsearch/index"
	"github.com/embedsearch/embedsearch/internal/fspath"
	"github.com/embedsearch/embedsearch/search"
	"github.com/embedsearch/embedsearch/store"
)

type dedupOptions struct {
	Store      string
	StoreSet   bool // --store or $EMBEDSEARCH_STORE given
	Model      string
	ModelSet   bool    // --model given: check it against the store
	Threshold  float64 // 0: from --preset and the model's manifest
	Preset     string
	In         []string
	Filter     string
	Keep       []string
	References []string
	MoveTo     string
	Link       string // "", "hard", "sym"
	Trash      bool
	Delete     bool
	Yes        bool
	DryRun     bool
	Undo       string
	Purge      string // --purge JOURNAL
	Journal    string
	JSON, CSV  bool
	ExitCode   bool
	Exact      bool // compare all pairs even when the store has an approximate index
	Dirs       []string
	Engine     engineOptions
}

const dedupDescription = `Finds groups of near-duplicate images in the store and, when asked, acts on
every duplicate but one keeper per group.

With DIRs, the folders are indexed first (incrementally, into the store) and
only their images are grouped; without, the store's images are grouped
(restricted by --in and --filter).

THRESHOLD. Two images are duplicates when the Euclidean distance between their
L2-normalised embeddings is at most D (0 = identical, 2 = opposite). It relates
to cosine similarity by d² = 2 − 2·cos, i.e. cos = 1 − d²/2: d = 0.2 is
cos = 0.98, d = 0.5 is cos = 0.875. The default and the --preset values
(exact, near, similar) come from the model's manifest; near is the default.
In a group every two images are within D (pairs are joined nearest first, and
two groups merge only when all distances across them are within D), so a chain
a≈b≈c with a≉c never puts a and c together; each member's distance to the
keeper and the group's largest internal distance are shown.

KEEPER (--keep, repeatable, applied in order; ties go to the first path):
` + dedup.PolicyHelp + `
Files under --reference folders are always kept and never acted on.

ACTIONS (none by default: report only; only one at a time):
   --move-to DIR   move duplicates under DIR, keeping their path relative to the
                   folder they were found in; an existing file is never replaced
   --link hard|sym replace each duplicate by a link to its keeper (--yes when
                   some differ from their keeper, see below)
   --trash         move duplicates to the freedesktop.org trash
   --delete --yes  delete duplicates permanently
--dry-run prints exactly what would be done and changes nothing. Before each
action, the file is checked against the store (size, time, content hash) and
skipped with a reason if it changed; nothing outside the folders given (DIRs,
--in, or the store's indexed folders) is touched, and no symbolic link is
followed out of them. Every action is first written to a journal
(<store>/journals/dedup-TIME.jsonl, named on stderr);
'embedsearch dedup --undo JOURNAL' reverses moves, trash and links. Deletion
cannot be undone. The store is updated to match: moved, trashed, deleted and
symbolically linked files leave it (so a later dedup does not report them
again), and undo puts their entries back.

LINKS. Near-duplicates are not copies: linking one replaces its own bytes.
Those bytes are first set aside in the journal's holding folder
(dedup-TIME.held/ beside it, named on stderr), so undo restores the file byte
for byte; linking files whose bytes differ from their keeper needs --yes
(byte-identical copies link without it). The holding folder frees no space:
the space held is reported (stderr, "held_bytes" in --json stats), and
'embedsearch dedup --purge JOURNAL' releases it, after which undo cannot
restore those files (they stay links; undo says so and restores the rest).

OUTPUT. Readable groups by default; --json prints
{"model","threshold","groups":[{"keep","members":[{"path","distance","width",
"height","size",...}],"max_distance"}],"stats":{...}}; --csv prints one row per
member: group,path,keep,distance,width,height,size,action,dest,status,reason.
EXIT STATUS: 0 done; 3 some files of DIRs could not be indexed; 5 some actions
(or, with --undo, some restores) were refused (file changed, outside the
folders, destination exists, not restorable), listed on stderr; 4 duplicate
groups were found and --exit-code was given; 6 damaged vectors in the store
were left out, or its checksums do not match (run 'embedsearch index --repair');
when several apply, 6 wins over 3, 3 over 5, and all over 4; 1 error; 2 usage.`

func newDedupCommand() *cli.Command {
	return &cli.Command{
		Name:        "dedup",
		Usage:       "find near-duplicate images and optionally move, link, trash or delete them",
		ArgsUsage:   "[DIR...]",
		Description: dedupDescription,
		Flags: append([]cli.Flag{
			storeFlag(),
			&cli.Float64Flag{Name: "threshold", Aliases: []string{"t"}, Usage: "largest Euclidean distance `D` between duplicates (cos = 1 − D²/2)", DefaultText: "the model's --preset"},
			&cli.StringFlag{Name: "preset", Usage: "threshold preset from the model: `exact|near|similar`", Value: "near"},
			&cli.StringSliceFlag{Name: "in", Usage: "only images under `DIR` (repeatable)"},
			&cli.StringFlag{Name: "filter", Usage: "only images matching the bleve `QUERY` (e.g. 'ext:jpg width:>1000')"},
			&cli.StringSliceFlag{Name: "keep", Usage: "keeper `POLICY`: resolution|size|oldest|newest|shortest-path|prefer:DIR (repeatable)"},
			&cli.StringSliceFlag{Name: "reference", Usage: "`DIR` whose images are always kept, never acted on (repeatable)"},
			&cli.StringFlag{Name: "move-to", Usage: "move duplicates under `DIR`"},
			&cli.StringFlag{Name: "link", Usage: "replace duplicates by `hard|sym` links to the keeper"},
			&cli.BoolFlag{Name: "trash", Usage: "move duplicates to the trash"},
			&cli.BoolFlag{Name: "delete", Usage: "delete duplicates permanently (needs --yes)"},
			&cli.BoolFlag{Name: "yes", Usage: "confirm --delete, or --link of files whose bytes differ from their keeper"},
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "show what the action would do; change nothing"},
			&cli.StringFlag{Name: "undo", Usage: "reverse the actions recorded in `JOURNAL`"},
			&cli.StringFlag{Name: "purge", Usage: "release the space held for undoing the links in `JOURNAL` (those links can then not be undone)"},
			&cli.StringFlag{Name: "journal", Usage: "write the journal to `FILE` (default: under the store)"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON"},
			&cli.BoolFlag{Name: "csv", Usage: "print CSV, one row per group member"},
			&cli.BoolFlag{Name: "exit-code", Usage: "exit with status 4 when duplicates were found"},
			&cli.BoolFlag{Name: "exact", Usage: "compare all pairs even in a store big enough for the approximate index"},
		}, engineFlags()...),
		Action: func(c *cli.Context) error {
			dir, err := storeDir(c)
			if err != nil {
				return err
			}
			o := dedupOptions{
				Store: dir, StoreSet: c.IsSet("store") || os.Getenv(envStore) != "", Model: c.String("model"), ModelSet: c.IsSet("model"), Preset: c.String("preset"),
				In: c.StringSlice("in"), Filter: c.String("filter"), Keep: c.StringSlice("keep"),
				References: c.StringSlice("reference"), MoveTo: c.String("move-to"), Link: c.String("link"),
				Trash: c.Bool("trash"), Delete: c.Bool("delete"), Yes: c.Bool("yes"), DryRun: c.Bool("dry-run"),
				Undo: c.String("undo"), Purge: c.String("purge"), Journal: c.String("journal"), JSON: c.Bool("json"), CSV: c.Bool("csv"),
				ExitCode: c.Bool("exit-code"), Exact: c.Bool("exact"), Dirs: c.Args().Slice(),
			}
			if o.Engine, err = engineOptionsFrom(c); err != nil {
				return err
			}
			if c.IsSet("threshold") {
				o.Threshold = c.Float64("threshold")
				if err := checkDistance("--threshold", o.Threshold, false); err != nil {
					return err
				}
				if c.IsSet("preset") {
					return usagef("--threshold and --preset: give one")
				}
			}
			return runDedup(c.Context, o, c.App.Writer, c.App.ErrWriter)
		},
	}
}

// op checks the action flags and returns the action.
func (o dedupOptions) op() (dedup.Op, error) {
	var ops []dedup.Op
	if o.MoveTo != "" {
		ops = append(ops, dedup.OpMove)
	}
	switch o.Link {
	case "":
	case "hard":
		ops = append(ops, dedup.OpHardLink)
	case "sym", "symbolic", "soft":
		ops = append(ops, dedup.OpSymlink)
	default:
		return "", usagef("--link %q: use --link hard or --link sym", o.Link)
	}
	if o.Trash {
		ops = append(ops, dedup.OpTrash)
	}
	if o.Delete {
		ops = append(ops, dedup.OpDelete)
	}
	switch {
	case len(ops) > 1:
		return "", usagef("give one action: --move-to, --link, --trash or --delete")
	case len(ops) == 0:
		if o.DryRun {
			return "", usagef("--dry-run needs an action (--move-to, --link, --trash or --delete)")
		}
		if o.Yes {
			return "", usagef("--yes confirms --delete or --link; nothing to confirm")
		}
		return dedup.OpNone, nil
	}
	if ops[0] == dedup.OpDelete && !o.Yes && !o.DryRun {
		return "", usagef("--delete removes files permanently: add --yes to confirm (or try --dry-run, or --trash)")
	}
	return ops[0], nil
}

// dedupIndexDirs indexes DIRs (and reference folders) into the store before
// grouping, incrementally. Files that cannot be indexed are named on stderr
// and counted; they do not stop dedup.
func dedupIndexDirs(ctx context.Context, o dedupOptions, storeDir string, dirs []string, stderr io.Writer) (failed int, err error) {
	eng, err := openEngine(ctx, o.Engine, stderr)
	if err != nil {
		return 0, err
	}
	defer eng.Close()
	w, err := store.OpenWriter(storeDir, index.Binding(eng.Model), store.WriterOptions{})
	if err != nil {
		return 0, fmt.Errorf("store %s: %w", storeDir, err)
	}
	defer w.Close()
	ann := index.PrepareANN(w)
	defer ann.Close()
	bar := &indexBar{w: stderr, tty: isTerminal(stderr)}
	st, err := index.Run(ctx, w, eng.Encoder, index.Options{
		Roots:       dirs,
		MaxFileSize: eng.Encoder.MaxFileSize(),
		Progress:    bar.update,
		Failure: func(f index.Failure) {
			bar.clear()
			dedupWarn(stderr, "cannot index %s: %s", f.Path, withHint(fileError(f.Err)))
		},
	})
	bar.clear()
	if err != nil {
		return st.Failed, err
	}
	for _, r := range st.MissingRoots {
		dedupWarn(stderr, "%s is missing or unreadable", r)
	}
	if st.New+st.Changed+st.Moved+st.Removed > 0 || st.Failed > 0 {
		dedupWarn(stderr, "index: %s", indexSummary(st))
	}
	if err := updateANN(ctx, ann, w, true, io.Discard); err != nil {
		return st.Failed, err
	}
	return st.Failed, w.Close()
}

func runDedup(ctx context.Context, o dedupOptions, stdout, stderr io.Writer) error {
	if o.JSON && o.CSV {
		return usagef("--json and --csv: give one")
	}
	op, err := o.op()
	if err != nil {
		return err
	}
	storeDir, err := filepath.Abs(o.Store)
	if err != nil {
		return err
	}
	if o.Undo != "" {
		if op != dedup.OpNone || len(o.Dirs) > 0 || o.Purge != "" {
			return usagef("--undo takes only the journal (and --store, --json)")
		}
		return runDedupUndo(ctx, o, storeDir, stdout, stderr)
	}
	if o.Purge != "" {
		if op != dedup.OpNone || len(o.Dirs) > 0 {
			return usagef("--purge takes only the journal (and --json)")
		}
		return runDedupPurge(ctx, o, stdout, stderr)
	}
	policy, err := dedup.ParsePolicy(o.Keep)
	if err != nil {
		return usageError{err}
	}
	dirs, err := existingDirs("folder", o.Dirs)
	if err != nil {
		return err
	}
	in, err := existingDirs("--in", o.In)
	if err != nil {
		return err
	}
	refs := make([]string, 0, len(o.References))
	for _, d := range o.References {
		abs, err := filepath.Abs(d)
		if err != nil {
			return err
		}
		refs = append(refs, abs)
	}
	indexFailed := 0
	if len(dirs) > 0 {
		var existingRefs []string
		for _, d := range refs {
			if fi, err := os.Stat(d); err == nil && fi.IsDir() {
				existingRefs = append(existingRefs, d)
			}
		}
		if indexFailed, err = dedupIndexDirs(ctx, o, storeDir, append(append([]string(nil), dirs...), existingRefs...), stderr); err != nil {
			return err
		}
		in = append(in, dirs...)
	}

	r, err := store.Open(storeDir)
	if errors.Is(err, store.ErrNotExist) {
		return fmt.Errorf("no store at %s: run 'embedsearch dedup DIR' or 'embedsearch index DIR' first, or pass --store", storeDir)
	}
	if err != nil {
		return err
	}
	defer r.Close()
	threshold, modelID, err := dedupThreshold(o, r.Model())
	if err != nil {
		return err
	}

	// Which images take part: --in / DIRs (and the reference folders, whose
	// images are candidates for keeping), and --filter.
	var allow func(int) bool
	if len(in) > 0 {
		scope := append(append([]string(nil), in...), refs...)
		allow = func(id int) bool { return fspath.WithinAny(scope, r.Path(id)) }
	}
	if o.Filter != "" {
		f, err := storeFilter(r, o.Filter)
		if err != nil {
			return err
		}
		if allow != nil {
			scope := allow
			allow = func(id int) bool { return scope(id) && f(id) }
		} else {
			allow = f
		}
	}

	// Files already moved aside by an earlier --move-to are not candidates.
	if o.MoveTo != "" {
		dest, err := filepath.Abs(o.MoveTo)
		if err != nil {
			return err
		}
		scope := allow
		allow = func(id int) bool { return (scope == nil || scope(id)) && !fspath.Within(dest, r.Path(id)) }
	}

	m := search.Matrix{Data: r.Vectors(), Dim: r.Dim()}
	// A damaged vector (search.Damaged) pairs with whatever its inner
	// products say. Checking the store costs about five exact scans
	// (100,000 × 512 on 2 cores: Verify 0.14 s, one exact query 0.03 s),
	// a fraction of pairing (all pairs: 26.5 s at 200,000 × 512, README;
	// through the graph: one search per image), so every run does it; a
	// mismatch finds the damaged rows and leaves them out before pairing.
	// Groups checks the rows of the pairs in any case (a vector stored
	// damaged, by a model that returned NaN, has a valid checksum).
	damaged := leftOut{checksum: r.Verify()}
	if damaged.checksum != nil {
		dedupWarn(stderr, "%v", damaged.checksum)
		damaged.scan(m)
	}
	scope := allow
	allow = damaged.allow(scope)
	var pairs []search.Pair
	method := "exact"
	ix, note := queryANN(r, o.Exact, r.Len())
	if ix != nil {
		method = "hnsw"
		pairs, err = ix.Pairs(ctx, m, dedupANNK, float32(threshold), search.Options{Allow: allow})
	} else {
		if note != "" {
			dedupWarn(stderr, "%s", note)
		}
		pairs, err = search.Pairs(ctx, m, float32(threshold), search.Options{Allow: allow})
	}
	if err != nil {
		return err
	}
	files := map[int]dedup.File{}
	file := func(id int) dedup.File {
		f, ok := files[id]
		if !ok {
			e := r.Entry(id)
			f = dedup.File{Path: e.Path, Size: e.Size, ModTime: e.ModTime, Width: e.Width, Height: e.Height,
				Taken: e.Taken, SHA256: e.SHA256}
			files[id] = f
		}
		return f
	}
	better := func(a, b int) bool {
		fa, fb := file(a), file(b)
		ra, rb := fspath.WithinAny(refs, fa.Path), fspath.WithinAny(refs, fb.Path)
		if ra != rb {
			return ra
		}
		return policy.Less(fa, fb)
	}
	groups, more := search.Groups(m, pairs, float32(threshold), better)
	damaged.add(more...)
	allow = damaged.allow(scope)
	if len(more) > 0 && ix != nil {
		// In the graph, a damaged row may have pushed real neighbours out
		// of an image's nearest dedupANNK: pair again without it.
		if pairs, err = ix.Pairs(ctx, m, dedupANNK, float32(threshold), search.Options{Allow: allow}); err != nil {
			return err
		}
		groups, more = search.Groups(m, pairs, float32(threshold), better)
		damaged.add(more...)
		allow = damaged.allow(scope)
	}

	rep := dedupReport{Model: modelID, Threshold: threshold, Policy: policy.String(), Op: op, DryRun: o.DryRun}
	if allow == nil {
		rep.Stats.Images = r.Len()
	} else {
		for id := 0; id < r.Len(); id++ {
			if allow(id) {
				rep.Stats.Images++
			}
		}
	}
	rep.Stats.Pairs = len(pairs)
	rep.Method = method
	dgroups := make([]dedup.Group, len(groups))
	for gi, g := range groups {
		dg := dedup.Group{Members: make([]dedup.File, len(g.Members))}
		rg := dedupGroup{MaxDistance: g.MaxDist}
		for mi, id := range g.Members {
			f := file(id)
			dg.Members[mi] = f
			if id == g.Keeper {
				dg.Keep = mi
				rg.Keep = f.Path
			}
			rg.Members = append(rg.Members, dedupMember{Path: f.Path, Distance: g.Dists[mi], Width: f.Width,
				Height: f.Height, Size: f.Size, Keep: id == g.Keeper, Reference: fspath.WithinAny(refs, f.Path)})
		}
		dgroups[gi] = dg
		rep.Groups = append(rep.Groups, rg)
	}

	var applyErr, storeErr error
	if op != dedup.OpNone {
		applyErr, storeErr = dedupAct(ctx, o, op, r, storeDir, dgroups, refs, in, &rep, stderr)
		if ue := (usageError{}); errors.As(applyErr, &ue) {
			return applyErr // refused before acting: nothing to report
		}
	}
	rep.count()
	if err := rep.write(stdout, o); err != nil {
		return err
	}
	for _, g := range rep.Groups {
		for _, m := range g.Members {
			if m.Action != nil && m.Action.Status == "refused" {
				dedupWarn(stderr, "refused %s: %s", m.Path, m.Action.Reason)
			}
		}
	}
	switch {
	case applyErr != nil:
		return errors.Join(applyErr, storeErr)
	case storeErr != nil:
		return storeErr
	case damaged.found():
		return damaged.report(stderr, r)
	case indexFailed > 0:
		return partialError{failed: indexFailed}
	case rep.Stats.Refused > 0:
		return refusedError{refused: rep.Stats.Refused}
	case o.ExitCode && len(rep.Groups) > 0:
		return errDuplicatesFound
	}
	return nil
}

func dedupWarn(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "embedsearch: "+format+"\n", args...)
}

// dedupThreshold returns the distance threshold and the model id: --threshold,
// or the --preset of the manifest of the model the store was built with
// (--model when given, else the registered model with the store's id).
func dedupThreshold(o dedupOptions, b store.Binding) (float64, string, error) {
	if o.Threshold > 0 {
		return o.Threshold, b.ModelID, nil
	}
	m, err := storeModel(o.Model, o.ModelSet, b)
	if err != nil {
		return 0, "", fmt.Errorf("the default threshold comes from the store's model: %w (or give --threshold D)", err)
	}
	t := m.Manifest.Thresholds
	v := map[string]float64{"exact": t.Exact, "near": t.Near, "similar": t.Similar}
	d, ok := v[strings.ToLower(o.Preset)]
	if !ok {
		return 0, "", usagef("--preset %q: use exact, near or similar", o.Preset)
	}
	if !(d > 0) {
		return 0, "", fmt.Errorf("model %s has no %s threshold; give --threshold D", b.ModelID, o.Preset)
	}
	return d, b.ModelID, nil
}

// dedupAct plans (and unless --dry-run applies) the action, records what
// happened in rep, and brings the store in step with the files.
func dedupAct(ctx context.Context, o dedupOptions, op dedup.Op, r *store.Reader, storeDir string,
	groups []dedup.Group, refs, in []string, rep *dedupReport, stderr io.Writer) (applyErr, storeErr error) {
	roots := in
	if len(roots) == 0 {
		// The folders indexed into the store (those present now).
		for _, root := range r.Roots() {
			if _, err := os.Stat(root); err == nil {
				roots = append(roots, root)
			}
		}
	}
	if len(roots) == 0 {
		return usagef("an action needs the folders it may touch: give DIRs or --in DIR"), nil
	}
	cfg := dedup.Config{Op: op, Roots: roots, References: refs, MoveTo: o.MoveTo, LinkDiffering: o.Yes}
	plan, err := dedup.NewPlan(groups, cfg)
	if err != nil {
		return err, nil
	}
	if n, size := plan.Differing(); n > 0 && !o.Yes {
		what := fmt.Sprintf("%d of the files to link (%s) differ from their keeper: near-duplicates, not copies. "+
			"Linking sets their own bytes aside in a holding folder beside the journal, so undo can restore them; "+
			"that frees no space until 'embedsearch dedup --purge JOURNAL'", n, dedupSize(size))
		if !o.DryRun {
			return usagef("%s. Add --yes to confirm (or --dry-run to see them)", what), nil
		}
		dedupWarn(stderr, "%s; the real run needs --yes", what)
	}
	byPath := map[string]*dedupMember{}
	for gi := range rep.Groups {
		for mi := range rep.Groups[gi].Members {
			m := &rep.Groups[gi].Members[mi]
			byPath[m.Path] = m
		}
	}
	for _, a := range plan.Actions {
		act := &dedupAction{Op: string(a.Op), Dest: a.Dest, Status: "planned", Differs: a.Differs}
		if a.Refused != nil {
			act.Status, act.Reason = "refused", withHint(a.Refused)
		} else if !o.DryRun {
			act.Status = "not-run"
		}
		byPath[a.File.Path].Action = act
	}
	if o.DryRun {
		return nil, nil
	}

	// Hold the writer lock while acting, so no index run interleaves, and
	// make sure the store is still the one the groups came from.
	w, err := store.OpenWriter(storeDir, r.Model(), store.WriterOptions{})
	if err != nil {
		return fmt.Errorf("store: %w", err), nil
	}
	defer w.Close()
	if w.Generation() != r.Generation() {
		return errors.New("the store changed while grouping (an index run?); run dedup again"), nil
	}
	// The journal keeps each file's store entry, for undo to put back.
	for i := range plan.Actions {
		a := &plan.Actions[i]
		if id, ok := r.Lookup(a.File.Path); ok && a.Refused == nil {
			if a.StoreEntry, err = json.Marshal(dedupStoreEntry{Binding: r.Model(), Entry: r.Entry(id),
				Vector: r.Vector(id)}); err != nil {
				return err, nil
			}
		}
	}
	jpath := o.Journal
	if jpath == "" {
		jpath = filepath.Join(storeDir, "journals", "dedup-"+time.Now().UTC().Format("20060102T150405.000000000Z")+".jsonl")
	}
	j, err := dedup.CreateJournal(jpath, dedup.Header{Op: op, Roots: plan.Config.Roots, MoveTo: plan.Config.MoveTo, Store: storeDir})
	if err != nil {
		return err, nil
	}
	defer j.Close()
	dedupWarn(stderr, "journal: %s (undo with: embedsearch dedup --undo %s)", jpath, dedupQuote(jpath))
	rep.Journal = jpath
	results, applyErr := plan.Apply(ctx, dedup.ApplyOptions{Journal: j})
	var held, heldSize int64
	for _, res := range results {
		act := byPath[res.Action.File.Path].Action
		act.Dest, act.Held = res.Dest, res.Held
		if res.Held != "" {
			held, heldSize = held+1, heldSize+res.HeldSize
		}
		switch {
		case res.Done:
			act.Status = "done"
		case res.Refused != nil:
			act.Status, act.Reason = "refused", withHint(res.Refused)
		}
	}
	if held > 0 {
		dedupWarn(stderr, "%d linked file(s) differed from their keeper: their own bytes (%s) are held in %s, so undo can restore them; "+
			"'embedsearch dedup --purge %s' frees that space (those links can then not be undone)",
			held, dedupSize(heldSize), j.HeldDir(), dedupQuote(jpath))
	}
	return applyErr, dedupUpdateStore(w, r, results)
}

// dedupStoreEntry is what a journal keeps of a file's store entry
// (dedup.Action.StoreEntry), so undo can put it back without embedding the
// image again; Binding keeps it out of a store rebuilt with another model.
type dedupStoreEntry struct {
	Binding store.Binding `json:"binding"`
	Entry   store.Entry   `json:"entry"`
	Vector  []float32     `json:"vector"` // JSON writes float32 exactly
}

// dedupUpdateStore makes the store say what the files now are: a moved,
// trashed or deleted image gone (a moved one is outside the folders dedup
// acts on, and would otherwise be reported again by every run), a duplicate
// replaced by a hard link described as its keeper (same bytes), one replaced
// by a symbolic link gone (index does not follow links). Undo puts the
// entries back from the journal.
func dedupUpdateStore(w *store.Writer, r *store.Reader, results []dedup.Result) error {
	ann := index.PrepareANN(w)
	defer ann.Close()
	changed := false
	for _, res := range results {
		if !res.Done {
			continue
		}
		src := res.Action.File.Path
		if _, ok := r.Lookup(src); !ok {
			continue
		}
		switch res.Action.Op {
		case dedup.OpMove, dedup.OpTrash, dedup.OpDelete, dedup.OpSymlink:
			w.Delete(src)
		case dedup.OpHardLink:
			kid, ok := r.Lookup(res.Action.Keeper.Path)
			if !ok {
				w.Delete(src)
				break
			}
			e := r.Entry(kid)
			e.Path = src
			if err := w.Put(e, r.Vector(kid)); err != nil {
				return fmt.Errorf("store: %w", err)
			}
		}
		changed = true
	}
	if !changed {
		return nil
	}
	if err := w.Commit(); err != nil {
		return fmt.Errorf("store: %w (the files were changed as the journal says; 'embedsearch index' brings the store in step)", err)
	}
	if w.NeedsCompaction() {
		if err := w.Compact(); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	return updateANN(context.Background(), ann, w, true, io.Discard)
}

func dedupQuote(s string) string {
	if strings.ContainsAny(s, " \t'\"$\\") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}

// runDedupUndo reverses a journal and updates the store for moved files.
func runDedupUndo(ctx context.Context, o dedupOptions, storeDir string, stdout, stderr io.Writer) error {
	// The journal names the store it was made with.
	if h, _, err := dedup.ReadJournal(o.Undo); err == nil && h.Store != "" && !o.StoreSet {
		storeDir = h.Store
	}
	results, undoErr := dedup.Undo(ctx, o.Undo, nil)
	if errors.Is(undoErr, dedup.ErrBadJournal) || errors.Is(undoErr, os.ErrNotExist) {
		return undoErr
	}
	type undoLine struct {
		Op        string `json:"op"`
		Path      string `json:"path"`
		PathBytes string `json:"path_bytes,omitempty"` // see nameBytes
		From      string `json:"from,omitempty"`
		FromBytes string `json:"from_bytes,omitempty"`
		Status    string `json:"status"` // restored | already | refused
		Reason    string `json:"reason,omitempty"`
	}
	var lines []undoLine
	refused := 0
	var restored []dedup.UndoResult
	for _, u := range results {
		l := undoLine{Op: string(u.Entry.Op), Path: u.Entry.Src, PathBytes: nameBytes(u.Entry.Src),
			From: u.Entry.Dst, FromBytes: nameBytes(u.Entry.Dst)}
		switch {
		case u.Restored:
			l.Status = "restored"
			restored = append(restored, u)
		case u.Already:
			l.Status = "already"
		default:
			l.Status, l.Reason = "refused", withHint(u.Refused)
			refused++
		}
		lines = append(lines, l)
	}
	missing, storeErr := dedupUndoStore(storeDir, restored)
	if o.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if lines == nil {
			lines = []undoLine{}
		}
		out := map[string]any{"journal": o.Undo, "actions": lines}
		if raw := nameBytes(o.Undo); raw != "" {
			out["journal_bytes"] = raw
		}
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		for _, l := range lines {
			switch l.Status {
			case "restored":
				fmt.Fprintf(tw, "restored\t%s\t(%s)\n", l.Path, l.Op)
			case "already":
				fmt.Fprintf(tw, "in place\t%s\t(%s)\n", l.Path, l.Op)
			default:
				fmt.Fprintf(tw, "refused\t%s\t%s\n", l.Path, l.Reason)
			}
		}
		tw.Flush()
	}
	if missing > 0 {
		dedupWarn(stderr, "%d restored file(s) are not in the store (the journal has no entry for them, or the store now has another model); "+
			"run 'embedsearch index' on their folders to add them back", missing)
	}
	switch {
	case undoErr != nil:
		return errors.Join(undoErr, storeErr)
	case storeErr != nil:
		return storeErr
	case refused > 0:
		return refusedError{refused: refused}
	}
	return nil
}

// dedupUndoStore puts the store entries of restored files back, from the
// journal (dedupStoreEntry); it returns how many it could not (journals
// written before entries were kept: a moved file's entry is then taken
// from its new path, as those versions kept it there).
func dedupUndoStore(storeDir string, restored []dedup.UndoResult) (missing int, err error) {
	if len(restored) == 0 {
		return 0, nil
	}
	r, err := store.Open(storeDir)
	if errors.Is(err, store.ErrNotExist) {
		return len(restored), nil // the files are back; there is no store to tell
	}
	if err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	defer r.Close()
	w, err := store.OpenWriter(storeDir, r.Model(), store.WriterOptions{})
	if err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	defer w.Close()
	ann := index.PrepareANN(w)
	defer ann.Close()
	for _, u := range restored {
		var se dedupStoreEntry
		var e store.Entry
		var vec []float32
		if json.Unmarshal(u.Entry.StoreEntry, &se) == nil && se.Binding == w.Model() && len(se.Vector) == w.Model().Dim {
			e, vec = se.Entry, se.Vector
		} else if id, ok := r.Lookup(u.Entry.Dst); ok && u.Entry.Op == dedup.OpMove {
			e, vec = r.Entry(id), r.Vector(id)
		} else {
			missing++
			continue
		}
		e.Path = u.Entry.Src
		if err := w.Put(e, vec); err != nil {
			return missing, fmt.Errorf("store: %w", err)
		}
		if u.Entry.Op == dedup.OpMove {
			w.Delete(u.Entry.Dst)
		}
	}
	if w.Pending() == 0 {
		return missing, nil
	}
	if err := w.Commit(); err != nil {
		return missing, fmt.Errorf("store: %w", err)
	}
	if w.NeedsCompaction() {
		if err := w.Compact(); err != nil {
			return missing, err
		}
	}
	return missing, updateANN(context.Background(), ann, w, true, io.Discard)
}

// runDedupPurge releases the held copies of a journal's links.
func runDedupPurge(ctx context.Context, o dedupOptions, stdout, stderr io.Writer) error {
	released, err := dedup.Purge(ctx, o.Purge)
	if errors.Is(err, dedup.ErrBadJournal) || errors.Is(err, os.ErrNotExist) {
		return err
	}
	type purgeLine struct {
		Path string `json:"path"`
		Held string `json:"held"`
		Size int64  `json:"size"`
		// Spare: the file still had those bytes; its undo is unaffected.
		Spare bool `json:"spare,omitempty"`
	}
	lines := []purgeLine{}
	var freed int64
	lost := 0
	for _, r := range released {
		lines = append(lines, purgeLine{Path: r.Entry.Src, Held: r.Held, Size: r.Size, Spare: r.Spare})
		freed += r.Size
		if !r.Spare {
			lost++
		}
	}
	if o.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"journal": o.Purge, "released": lines, "released_bytes": freed}); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		for _, l := range lines {
			what := "undo can no longer restore it"
			if l.Spare {
				what = "spare copy"
			}
			fmt.Fprintf(tw, "released\t%s\t%s\t(%s)\n", l.Path, dedupSize(l.Size), what)
		}
		tw.Flush()
	}
	if err == nil {
		dedupWarn(stderr, "released %d held file(s) (%s) of %s; %d linked file(s) can no longer be restored by undo", len(lines),
			dedupSize(freed), o.Purge, lost)
	}
	return err
}

// Output.

type dedupReport struct {
	Model     string  `json:"model"`
	Threshold float64 `json:"threshold"`
	// Method is how the pairs were found: "exact" (all pairs) or "hnsw"
	// (each image's dedupANNK nearest neighbours in the approximate index,
	// used from annThreshold images on unless --exact).
	Method  string       `json:"method"`
	Policy  string       `json:"keep_policy"`
	Op      dedup.Op     `json:"action,omitempty"`
	DryRun  bool         `json:"dry_run,omitempty"`
	Journal string       `json:"journal,omitempty"`
	Groups  []dedupGroup `json:"groups"`
	Stats   dedupStats   `json:"stats"`
	// JournalBytes and the other *Bytes fields are set only for JSON, by
	// setNameBytes (see nameBytes).
	JournalBytes string `json:"journal_bytes,omitempty"`
}

type dedupGroup struct {
	Keep        string        `json:"keep"`
	KeepBytes   string        `json:"keep_bytes,omitempty"`
	Members     []dedupMember `json:"members"`
	MaxDistance float32       `json:"max_distance"`
}

type dedupMember struct {
	Path      string       `json:"path"`
	PathBytes string       `json:"path_bytes,omitempty"`
	Distance  float32      `json:"distance"`
	Width     int          `json:"width"`
	Height    int          `json:"height"`
	Size      int64        `json:"size"`
	Keep      bool         `json:"keep,omitempty"`
	Reference bool         `json:"reference,omitempty"`
	Action    *dedupAction `json:"action,omitempty"`
}

type dedupAction struct {
	Op        string `json:"op"`
	Dest      string `json:"dest,omitempty"`
	DestBytes string `json:"dest_bytes,omitempty"`
	// Differs (links): the file's bytes are not its keeper's; Held is where
	// they were set aside.
	Differs bool   `json:"differs,omitempty"`
	Held    string `json:"held,omitempty"`
	Status  string `json:"status"` // planned (dry run) | done | refused | not-run (stopped by an error)
	Reason  string `json:"reason,omitempty"`
}

type dedupStats struct {
	Images         int   `json:"images"`
	Pairs          int   `json:"pairs"`
	Groups         int   `json:"groups"`
	Duplicates     int   `json:"duplicates"`
	DuplicateBytes int64 `json:"duplicate_bytes"`
	Done           int   `json:"done"`
	Refused        int   `json:"refused"`
	Planned        int   `json:"planned"`
	// Held, HeldBytes: linked files whose own bytes are (dry run: would be)
	// kept in the journal's holding folder, and their size.
	Held      int   `json:"held"`
	HeldBytes int64 `json:"held_bytes"`
}

func (r *dedupReport) count() {
	if r.Groups == nil {
		r.Groups = []dedupGroup{}
	}
	r.Stats.Groups = len(r.Groups)
	for _, g := range r.Groups {
		for _, m := range g.Members {
			if m.Keep || m.Reference {
				continue
			}
			r.Stats.Duplicates++
			r.Stats.DuplicateBytes += m.Size
			if m.Action == nil {
				continue
			}
			if m.Action.Held != "" || m.Action.Differs && m.Action.Status == "planned" {
				r.Stats.Held++
				r.Stats.HeldBytes += m.Size
			}
			switch m.Action.Status {
			case "done":
				r.Stats.Done++
			case "refused":
				r.Stats.Refused++
			case "planned":
				r.Stats.Planned++
			}
		}
	}
}

// setNameBytes sets the *_bytes companion of every file name (nameBytes).
func (r *dedupReport) setNameBytes() {
	r.JournalBytes = nameBytes(r.Journal)
	for gi := range r.Groups {
		g := &r.Groups[gi]
		g.KeepBytes = nameBytes(g.Keep)
		for mi := range g.Members {
			m := &g.Members[mi]
			m.PathBytes = nameBytes(m.Path)
			if m.Action != nil {
				m.Action.DestBytes = nameBytes(m.Action.Dest)
			}
		}
	}
}

func (r *dedupReport) write(w io.Writer, o dedupOptions) error {
	switch {
	case o.JSON:
		r.setNameBytes()
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case o.CSV:
		cw := csv.NewWriter(w)
		cw.Write([]string{"group", "path", "keep", "distance", "width", "height", "size", "action", "dest", "status", "reason"})
		for gi, g := range r.Groups {
			for _, m := range g.Members {
				var act dedupAction
				if m.Action != nil {
					act = *m.Action
				}
				cw.Write([]string{strconv.Itoa(gi + 1), m.Path, strconv.FormatBool(m.Keep),
					strconv.FormatFloat(float64(m.Distance), 'f', 4, 32), strconv.Itoa(m.Width), strconv.Itoa(m.Height),
					strconv.FormatInt(m.Size, 10), act.Op, act.Dest, act.Status, act.Reason})
			}
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for gi, g := range r.Groups {
		fmt.Fprintf(tw, "group %d: %d images, largest distance %.3f\n", gi+1, len(g.Members), g.MaxDistance)
		for _, m := range g.Members {
			mark := fmt.Sprintf("%.3f", m.Distance)
			switch {
			case m.Keep && m.Reference:
				mark = "keep (ref)"
			case m.Keep:
				mark = "keep"
			case m.Reference:
				mark = "ref"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%dx%d\t%s\t%s\n", mark, m.Path, m.Width, m.Height, dedupSize(m.Size), m.Action.describe())
		}
	}
	tw.Flush()
	s := r.Stats
	cos := 1 - r.Threshold*r.Threshold/2
	fmt.Fprintf(w, "%d groups, %d duplicates (%s) among %d images at distance ≤ %g (cosine ≥ %.4f), keeping by %s\n",
		s.Groups, s.Duplicates, dedupSize(s.DuplicateBytes), s.Images, r.Threshold, cos, r.Policy)
	switch {
	case r.Op == dedup.OpNone:
	case r.DryRun:
		fmt.Fprintf(w, "dry run: %d would be handled (%s), %d refused; nothing was changed\n", s.Planned, r.Op, s.Refused)
	default:
		fmt.Fprintf(w, "%d handled (%s), %d refused\n", s.Done, r.Op, s.Refused)
	}
	return nil
}

func (a *dedupAction) describe() string {
	if a == nil {
		return ""
	}
	verb := map[string][2]string{
		"move":     {"would move to ", "moved to "},
		"hardlink": {"would hard-link to ", "hard-linked to "},
		"symlink":  {"would link to ", "linked to "},
		"trash":    {"would move to the trash", "trashed"},
		"delete":   {"would delete", "deleted"},
	}[a.Op]
	dest := a.Dest
	if a.Op == "trash" || a.Op == "delete" {
		dest = ""
	}
	if a.Differs && (a.Status == "planned" || a.Held != "") {
		dest += " (own bytes held for undo)"
	}
	switch a.Status {
	case "planned":
		return verb[0] + dest
	case "done":
		return verb[1] + dest
	case "refused":
		return "refused: " + a.Reason
	}
	return "not done (stopped by an error)"
}

func dedupSize(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}
