package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/dedup"
)

// runDedupUndo reverses a journal and updates the store for moved files.
func runDedupUndo(ctx context.Context, o dedupOptions, storeDir string, stdout, stderr io.Writer) error {
	dir := "" // the store the journal names, else the default one
	if o.StoreSet {
		dir = storeDir
	}
	u, err := collection.UndoWith(ctx, o.Undo, dir, storeDir, openExisting)
	if err != nil {
		return err
	}
	results, undoErr, storeErr, missing := u.Results, u.UndoErr, u.StoreErr, u.Missing
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
	for _, u := range results {
		l := undoLine{Op: string(u.Entry.Op), Path: u.Entry.Src, PathBytes: nameBytes(u.Entry.Src),
			From: u.Entry.Dst, FromBytes: nameBytes(u.Entry.Dst)}
		switch {
		case u.Restored:
			l.Status = "restored"
		case u.Already:
			l.Status = "already"
		default:
			l.Status, l.Reason = "refused", withHint(u.Refused)
			refused++
		}
		lines = append(lines, l)
	}
	if o.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if lines == nil {
			lines = []undoLine{}
		}
		out := map[string]any{"version": jsonSchema, "journal": o.Undo, "actions": lines}
		if raw := nameBytes(o.Undo); raw != "" {
			out["journal_bytes"] = raw
		}
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		tw := newTable(stdout)
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

// runDedupPurge releases the held copies of a journal's links.
func runDedupPurge(ctx context.Context, o dedupOptions, stdout, stderr io.Writer) error {
	released, err := dedup.Purge(ctx, o.Purge)
	if errors.Is(err, dedup.ErrBadJournal) || errors.Is(err, os.ErrNotExist) {
		return err
	}
	type purgeLine struct {
		Path      string `json:"path"`
		PathBytes string `json:"path_bytes,omitempty"` // see nameBytes
		Held      string `json:"held"`
		Size      int64  `json:"size"`
		// Spare: the file still had those bytes; its undo is unaffected.
		Spare bool `json:"spare,omitempty"`
	}
	lines := []purgeLine{}
	var freed int64
	lost := 0
	for _, r := range released {
		lines = append(lines, purgeLine{Path: r.Entry.Src, PathBytes: nameBytes(r.Entry.Src), Held: r.Held,
			Size: r.Size, Spare: r.Spare})
		freed += r.Size
		if !r.Spare {
			lost++
		}
	}
	if o.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		out := map[string]any{"version": jsonSchema, "journal": o.Purge, "released": lines, "released_bytes": freed}
		if raw := nameBytes(o.Purge); raw != "" {
			out["journal_bytes"] = raw
		}
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		tw := newTable(stdout)
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
