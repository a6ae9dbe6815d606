package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/embedsearch/embedsearch/dedup"
)

// dedupReport is what dedup prints: the groups, what was done to each
// member, the counts. Its JSON field names are part of the interface.
type dedupReport struct {
	Version int    `json:"version"` // jsonSchema
	Model   string `json:"model"`
	// Preset is the preset grouped by ("" for --threshold), PresetSource
	// where its distances come from ("calibration of DATE": the store's
	// own, embedsearch calibrate; "the model manifest"); Threshold the
	// largest distance inside a group; Criterion the near test's
	// constants (near only).
	Preset       string     `json:"preset,omitempty"`
	PresetSource string     `json:"preset_source,omitempty"`
	Threshold    float64    `json:"threshold"`
	Criterion    *dedupTest `json:"criterion,omitempty"`
	// Method is how the pairs were found: "exact" (all pairs) or "hnsw"
	// (each image's collection.PairsK nearest neighbours in the approximate
	// index, used from annThreshold images on unless --exact).
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

// dedupLine is one line of dedup --jsonl: a group member with its group's
// number (the order of --json's groups).
type dedupLine struct {
	Version int `json:"version"` // jsonSchema
	Group   int `json:"group"`
	dedupMember
}

type dedupGroup struct {
	Keep      string `json:"keep"`
	KeepBytes string `json:"keep_bytes,omitempty"`
	// KeepReason names the keeper policy's criteria that set the keeper
	// apart, in order (e.g. "real pixels", "compression"; "path" when
	// the path order had the last word).
	KeepReason  []string      `json:"keep_reason,omitempty"`
	Members     []dedupMember `json:"members"`
	MaxDistance float32       `json:"max_distance"`
}

type dedupMember struct {
	Path      string  `json:"path"`
	PathBytes string  `json:"path_bytes,omitempty"`
	Distance  float32 `json:"distance"`
	// Score is the distance to the keeper over the mean of the two
	// images' K-th neighbour distances (near only); Check the test that
	// accepted the member with the keeper: "exact", "pixels", "vectors"
	// or "distance"; Match the signatures' gradient correlation when
	// they were compared. None for the keeper.
	Score     float32      `json:"score,omitempty"`
	Check     string       `json:"check,omitempty"`
	Match     float32      `json:"match,omitempty"`
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
	Images int `json:"images"`
	// Signed: images with a signature; Pairs: candidate pairs; Checked:
	// pairs whose signatures were compared.
	Signed  int `json:"signed"`
	Pairs   int `json:"pairs"`
	Checked int `json:"checked"`
	// Linked: members left out as hard links of their keeper.
	Linked         int   `json:"linked"`
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
		r.Version = jsonSchema
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case o.JSONL:
		r.setNameBytes()
		enc := json.NewEncoder(w)
		for gi, g := range r.Groups {
			for _, m := range g.Members {
				if err := enc.Encode(dedupLine{Version: jsonSchema, Group: gi + 1, dedupMember: m}); err != nil {
					return err
				}
			}
		}
		return nil
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
	r.writeTable(w)
	s := r.Stats
	test := fmt.Sprintf("at distance ≤ %g (cosine ≥ %.4f)", r.Threshold, 1-r.Threshold*r.Threshold/2)
	if r.Criterion != nil {
		test = fmt.Sprintf("by the %s test (distance ≤ %g against each image's neighbourhood, then the pixels)", r.Preset, r.Threshold)
	}
	if r.PresetSource != "" {
		test += ", preset from " + r.PresetSource
	}
	fmt.Fprintf(w, "%d groups, %d duplicates (%s) among %d images %s, keeping by %s\n",
		s.Groups, s.Duplicates, dedupSize(s.DuplicateBytes), s.Images, test, r.Policy)
	if s.Linked > 0 {
		fmt.Fprintf(w, "%d files left out: already hard links of their keeper (one file, no space to gain)\n", s.Linked)
	}
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
