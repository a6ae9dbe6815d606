package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/embedsearch/embedsearch/tune"
)

// printEpoch is tune's progress line: the epoch's loss and the scores on
// the early-stopping images (a star marks the head kept so far).
func printEpoch(w io.Writer, e tune.Epoch, classes bool) {
	star := ""
	if e.Best {
		star = "  *"
	}
	s := e.Stop
	scores := fmt.Sprintf("recall@1 %.3f  precision@10 %.3f", s.Recall1, s.Precision10)
	if !classes {
		scores = fmt.Sprintf("copy recall@1 %.3f  pair F1 %.3f", s.CopyRecall1, s.F1Best)
	}
	fmt.Fprintf(w, "epoch %2d/%d  loss %.4f  active %.2f  %s  (%s)%s\n",
		e.Epoch, e.Epochs, e.Loss, e.Active, scores, e.Elapsed.Round(1e6), star)
}

// printTuneReport prints the held-out scores before and after, and what
// was written.
func printTuneReport(w io.Writer, rep tuneReport, classes bool) {
	rec := rep.Record
	fmt.Fprintf(w, "trained on %d images (%d more for early stopping), %d epochs; %d held out (split %s, seed %d)\n",
		rec.Train, rec.Stop, len(rec.Epochs), rec.Validate, rec.Split, rec.Seed)
	b, a := rec.Before, rec.After
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "held out\tbase\ttuned\n")
	if classes {
		fmt.Fprintf(tw, "recall@1 (%d images)\t%.3f\t%.3f\n", b.Queries, b.Recall1, a.Recall1)
		fmt.Fprintf(tw, "precision@10\t%.3f\t%.3f\n", b.Precision10, a.Precision10)
	}
	if b.Copies > 0 {
		fmt.Fprintf(tw, "copy recall@1 (%d copies)\t%.3f\t%.3f\n", b.Copies, b.CopyRecall1, a.CopyRecall1)
		fmt.Fprintf(tw, "pair F1, best threshold\t%.3f (%.3f)\t%.3f (%.3f)\n", b.F1Best, b.BestThreshold, a.F1Best, a.BestThreshold)
		fmt.Fprintf(tw, "pair F1, preset near\t%.3f (%.3f)\t%.3f (%.3f)\n", b.F1Preset, b.Preset, a.F1Preset, a.Preset)
	}
	tw.Flush()
	how := "the base's scaled to the head's distances"
	if rec.NearFromCopies {
		how = "best pair F1 on the training copies"
	}
	fmt.Fprintf(w, "wrote model %s to %s (near %.4f: %s)\n", rep.Model, rep.Dir, rep.Thresholds.Near, how)
	if r := rep.Reprojected; r != nil {
		fmt.Fprintf(w, "wrote store %s: %d entries through the tuned model (dedup's presets measured on it: embedsearch calibrate --store %s)\n", r.Store, r.Entries, r.Store)
	} else {
		fmt.Fprintf(w, "use it: embedsearch index --model %s --store NEW_STORE FOLDER (or tune again with --reproject NEW_STORE)\n", rep.Dir)
	}
}
