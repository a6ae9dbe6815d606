package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/dedup"
	"github.com/embedsearch/embedsearch/index"
	"github.com/embedsearch/embedsearch/internal/fspath"
	"github.com/embedsearch/embedsearch/store"
)

// dedupIndexDirs indexes DIRs (and reference folders) into the store before
// grouping, incrementally. Files that cannot be indexed are named on stderr
// and counted; they do not stop dedup.
func dedupIndexDirs(ctx context.Context, o dedupOptions, storeDir string, dirs []string, stderr io.Writer) (failed int, err error) {
	spec := ""
	if o.ModelSet {
		spec = o.Model
	}
	bar := newProgress(stderr, false)
	defer bar.done()
	col, err := collection.Open(ctx, storeDir, collection.Options{Model: spec, ANNThreshold: annThreshold,
		ANNProgress: annProgress(bar), Note: func(n collection.Note) { bar.clear(); noteTo(stderr, true)(n) }})
	if err != nil {
		return 0, fmt.Errorf("store %s: %w", storeDir, err)
	}
	defer col.Close(ctx)
	eng, err := openCollectionEngine(ctx, col, o.Engine, stderr)
	if err != nil {
		return 0, err
	}
	defer eng.Close()
	st, err := col.Index(ctx, eng.Encoder, index.Options{
		Roots:       dirs,
		MaxFileSize: eng.Encoder.MaxFileSize(),
		Progress:    indexProgress(bar),
		Failure: func(f index.Failure) {
			bar.printLine(stderr, fmt.Sprintf("embedsearch: cannot index %s: %s", f.Path, withHint(fileError(f.Err))))
		},
	})
	bar.done()
	if err != nil {
		return st.Failed, err
	}
	for _, r := range st.MissingRoots {
		dedupWarn(stderr, "%s is missing or unreadable", r)
	}
	if st.New+st.Changed+st.Moved+st.Removed > 0 || st.Failed > 0 {
		dedupWarn(stderr, "index: %s", indexSummary(st))
	}
	return st.Failed, col.Close(ctx)
}

func runDedup(ctx context.Context, o dedupOptions, stdout, stderr io.Writer) error {
	if o.JSON && o.CSV || o.JSON && o.JSONL || o.CSV && o.JSONL {
		return usagef("give one of --json, --jsonl, --csv")
	}
	if o.JSONL && (o.Undo != "" || o.Purge != "") {
		return usagef("--undo and --purge print --json, not --jsonl")
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
	threshold, modelID, err := dedupThreshold(o, r)
	if err != nil {
		return err
	}

	do := collection.DuplicateOptions{Threshold: float32(threshold), In: in, References: refs, Policy: policy,
		Search: searchOptions(o.Exact, r.Len())}
	if o.Filter != "" {
		if do.Filter, err = storeFilter(r, o.Filter); err != nil {
			return err
		}
	}
	if o.MoveTo != "" { // files already moved aside there are no candidates
		if do.MovedTo, err = filepath.Abs(o.MoveTo); err != nil {
			return err
		}
	}
	bar := newProgress(stderr, false)
	do.Progress = func(done, total int) { bar.show("comparing", "images", int64(done), int64(total)) }
	dups, err := collection.FindDuplicates(ctx, r, do)
	bar.done()
	if err != nil {
		return err
	}
	searchNote(stderr, dups.Searcher)
	rep := dedupReport{Model: modelID, Threshold: threshold, Policy: policy.String(), Op: op, DryRun: o.DryRun,
		Method: dups.Method}
	rep.Stats.Images, rep.Stats.Pairs = dups.Images, dups.Pairs
	for gi, g := range dups.Groups {
		rg := dedupGroup{MaxDistance: dups.MaxDist[gi], Keep: g.Members[g.Keep].Path}
		for mi, f := range g.Members {
			rg.Members = append(rg.Members, dedupMember{Path: f.Path, Distance: dups.Dists[gi][mi], Width: f.Width,
				Height: f.Height, Size: f.Size, Keep: mi == g.Keep, Reference: fspath.WithinAny(refs, f.Path)})
		}
		rep.Groups = append(rep.Groups, rg)
	}
	damagedRows, damagedSum := dups.Searcher.Damaged()

	var applyErr, storeErr error
	if op != dedup.OpNone {
		applyErr, storeErr = dedupAct(ctx, o, op, r, storeDir, dups.Groups, refs, in, &rep, stderr)
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
	case len(damagedRows) > 0 || damagedSum != nil:
		return reportDamaged(stderr, r, dups.Searcher)
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
func dedupThreshold(o dedupOptions, r *store.Reader) (float64, string, error) {
	b := r.Model()
	if o.Threshold > 0 {
		return o.Threshold, b.ModelID, nil
	}
	spec := ""
	if o.ModelSet {
		spec = o.Model
	}
	m, _, err := collection.Model(r.Dir(), spec)
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
