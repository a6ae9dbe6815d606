package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/dedup"
	"github.com/embedsearch/embedsearch/index"
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
	col, err := openCollection(ctx, storeDir, collection.Options{Model: spec, ANNThreshold: annThreshold,
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
	if isRemote(o.Store) {
		storeDir, err = o.Store, nil
	}
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

	var r *store.Reader
	if isRemote(storeDir) {
		r, err = openReader(ctx, storeDir)
	} else {
		r, err = store.Open(storeDir)
	}
	if errors.Is(err, store.ErrNotExist) {
		return fmt.Errorf("no store at %s: run 'embedsearch dedup DIR' or 'embedsearch index DIR' first, or pass --store", storeDir)
	}
	if err != nil {
		return err
	}
	defer r.Close()
	crit, modelID, err := dedupCriterion(o, r)
	if err != nil {
		return err
	}

	do := collection.DuplicateOptions{Criterion: crit, In: in, References: refs, Policy: policy,
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
	signatureNote(stderr, crit, dups.Images, dups.Signed)
	rep := newDedupReport(modelID, crit, policy.String(), dups, refs)
	rep.Op, rep.DryRun = op, o.DryRun
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
