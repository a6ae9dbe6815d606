package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/embedsearch/embedsearch/models"
)

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// progressBar draws download progress on a terminal (one line, redrawn at
// most ten times a second) and stays silent otherwise.
type progressBar struct {
	w      io.Writer
	on     bool
	last   time.Time
	drawn  bool
	lastNm string
}

func newProgressBar(w io.Writer) *progressBar {
	f, ok := w.(*os.File)
	on := false
	if ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			on = true
		}
	}
	return &progressBar{w: w, on: on}
}

func (b *progressBar) update(p models.Progress) {
	if !b.on {
		return
	}
	now := time.Now()
	if p.File == b.lastNm && now.Sub(b.last) < 100*time.Millisecond && (p.Total == 0 || p.Done < p.Total) {
		return
	}
	b.last, b.lastNm, b.drawn = now, p.File, true
	if p.Total > 0 {
		pct := float64(p.Done) / float64(p.Total)
		const width = 30
		fill := int(pct * width)
		fmt.Fprintf(b.w, "\r%s %s/%s [%s%s] %3.0f%% ", p.Model+"/"+p.File, humanBytes(p.Done), humanBytes(p.Total),
			strings.Repeat("=", fill), strings.Repeat(" ", width-fill), pct*100)
	} else {
		fmt.Fprintf(b.w, "\r%s %s ", p.Model+"/"+p.File, humanBytes(p.Done))
	}
}

func (b *progressBar) done() {
	if b.on && b.drawn {
		fmt.Fprintln(b.w)
		b.drawn = false
	}
}
