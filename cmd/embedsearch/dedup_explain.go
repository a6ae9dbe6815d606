package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/internal/fspath"
	"github.com/embedsearch/embedsearch/models"
)

// dedupTest is the near test's constants in the JSON report: the model's
// exact distance and its dedup block (k, score, ..., how they were chosen).
type dedupTest struct {
	Exact float32 `json:"exact"`
	models.Dedup
}

// newDedupReport describes the groups found, each member with why it is
// in its group and the keeper with why it keeps.
func newDedupReport(model string, c collection.Criterion, policy string, dups *collection.Duplicates, refs []string) dedupReport {
	rep := dedupReport{Model: model, Preset: c.Preset, PresetSource: c.Source, Threshold: shortest(c.Within), Policy: policy, Method: dups.Method}
	if !c.DistanceOnly {
		d := c.Dedup
		rep.Criterion = &dedupTest{Exact: c.Exact, Dedup: d}
	}
	rep.Stats.Images, rep.Stats.Signed, rep.Stats.Pairs, rep.Stats.Checked = dups.Images, dups.Signed, dups.Pairs, dups.Checked
	rep.Stats.Linked = dups.Linked
	for gi, g := range dups.Groups {
		rg := dedupGroup{MaxDistance: dups.MaxDist[gi], Keep: g.Members[g.Keep].Path, KeepReason: dups.KeepWhy[gi]}
		for mi, f := range g.Members {
			m := dedupMember{Path: f.Path, Distance: dups.Dists[gi][mi], Width: f.Width, Height: f.Height, Size: f.Size,
				Keep: mi == g.Keep, Reference: fspath.WithinAny(refs, f.Path)}
			if v := dups.Verdicts[gi][mi]; mi != g.Keep {
				m.Score, m.Check = v.Score, v.Check
				if v.Pixels != nil {
					m.Match = v.Pixels.Grad
				}
			}
			rg.Members = append(rg.Members, m)
		}
		rep.Groups = append(rep.Groups, rg)
	}
	return rep
}

// shortest is f as a float64 with f's shortest decimal form (0.2, not
// 0.20000000298023224), as the manifest and the flag wrote it.
func shortest(f float32) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
	return v
}

// writeTable prints the groups for people: the keeper first, with the
// criteria it was kept for, then the others nearest first, each with its
// distance and the test that took it in (or what was done to it).
func (r *dedupReport) writeTable(w io.Writer) {
	tw := newTable(w)
	for gi, g := range r.Groups {
		fmt.Fprintf(tw, "group %d: %d images, largest distance %.3f\n", gi+1, len(g.Members), g.MaxDistance)
		ms := slices.Clone(g.Members)
		slices.SortStableFunc(ms, func(a, b dedupMember) int {
			switch {
			case a.Keep != b.Keep:
				if a.Keep {
					return -1
				}
				return 1
			case a.Distance != b.Distance:
				if a.Distance < b.Distance {
					return -1
				}
				return 1
			}
			return 0
		})
		for _, m := range ms {
			mark := fmt.Sprintf("%.3f", m.Distance)
			note := m.Action.describe()
			switch {
			case m.Keep && m.Reference:
				mark = "keep (ref)"
			case m.Keep:
				mark = "keep"
			case m.Reference:
				mark = "ref"
			}
			if note == "" {
				switch {
				case m.Keep && len(g.KeepReason) > 0:
					note = "kept for: " + strings.Join(g.KeepReason, ", ")
				case !m.Keep && m.Check != "":
					note = m.Check
				}
			}
			fmt.Fprintf(tw, "  %s\t%s\t%dx%d\t%s\t%s\n", mark, m.Path, m.Width, m.Height, dedupSize(m.Size), note)
		}
	}
	tw.Flush()
}
