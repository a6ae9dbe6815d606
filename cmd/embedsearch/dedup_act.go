package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/dedup"
	"github.com/embedsearch/embedsearch/store"
)

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

	// Hold the writer lock while acting, so no index run interleaves; Act
	// makes sure the store is still the one the groups came from.
	co := collection.Options{}
	if isRemote(storeDir) {
		// The groups came from the mirror; the cluster is told in the
		// same step.
		if co, err = remoteActOptions(storeDir, r); err != nil {
			return err, nil
		}
	}
	co.ANNThreshold, co.Note = annThreshold, noteTo(stderr, true)
	col, err := openCollection(ctx, storeDir, co)
	if err != nil {
		return fmt.Errorf("store: %w", err), nil
	}
	defer col.Close(ctx)
	res, err := col.Act(ctx, r, plan, o.Journal)
	if err != nil {
		return err, nil
	}
	dedupWarn(stderr, "journal: %s (undo with: embedsearch dedup --undo %s)", res.Journal, dedupQuote(res.Journal))
	rep.Journal = res.Journal
	var held, heldSize int64
	for _, r := range res.Results {
		act := byPath[r.Action.File.Path].Action
		act.Dest, act.Held = r.Dest, r.Held
		if r.Held != "" {
			held, heldSize = held+1, heldSize+r.HeldSize
		}
		switch {
		case r.Done:
			act.Status = "done"
		case r.Refused != nil:
			act.Status, act.Reason = "refused", withHint(r.Refused)
		}
	}
	if held > 0 {
		dedupWarn(stderr, "%d linked file(s) differed from their keeper: their own bytes (%s) are held in %s, so undo can restore them; "+
			"'embedsearch dedup --purge %s' frees that space (those links can then not be undone)",
			held, dedupSize(heldSize), res.HeldDir, dedupQuote(res.Journal))
	}
	storeErr = res.StoreErr
	if err := col.Close(ctx); storeErr == nil {
		storeErr = err
	}
	return res.ApplyErr, storeErr
}

func dedupQuote(s string) string {
	if strings.ContainsAny(s, " \t'\"$\\") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}
