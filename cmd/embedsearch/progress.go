package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/embedsearch/embedsearch/index"
)

// isTerminal reports whether w is a terminal. (/dev/null is a character
// device too, and is not one.)
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// terminalWidth is the width of the terminal w writes to (0: unknown).
func terminalWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if width, _, err := term.GetSize(int(f.Fd())); err == nil {
			return width
		}
	}
	return 0
}

// progress is the one progress display of every long job (index, embed,
// the approximate index, dedup's grouping, downloads): one line redrawn
// in place on a terminal, fitted to its width, and nothing at all when
// the output is not a terminal (or the command is quiet). A job shows a
// step with show; a new description or total starts a new bar. Lines
// printed while a bar is up go through clear first. Safe for concurrent
// use.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	on    bool
	width func() int // the terminal's columns (0: unknown, 80 assumed)

	bar        *progressbar.ProgressBar
	desc, unit string
	total      int64
	last       int64 // the largest done shown by this bar
}

// progressAnywhere makes bars draw on any writer: tests see them in buffers.
var progressAnywhere = false

// newProgress draws on w when it is a terminal and quiet is false.
func newProgress(w io.Writer, quiet bool) *progress {
	return &progress{w: w, on: !quiet && (progressAnywhere || isTerminal(w)), width: func() int { return terminalWidth(w) }}
}

// Byte counts are shown as sizes; any other unit is a counted noun.
const unitBytes = "bytes"

// show draws done of total units (total < 0: not known, a counter) after
// desc, with the rate and, when total is known, the time left.
func (p *progress) show(desc, unit string, done, total int64) {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar == nil || desc != p.desc || total != p.total || unit != p.unit {
		p.clearLocked()
		p.desc, p.unit, p.total, p.last = desc, unit, total, 0
		p.bar = p.newBar(desc, unit, total)
	}
	if done >= p.last { // workers may report out of order
		p.last = done
		p.bar.Set64(done)
	}
}

func (p *progress) newBar(desc, unit string, total int64) *progressbar.ProgressBar {
	cols := p.width()
	if cols <= 0 {
		cols = 80
	}
	if n := utf8.RuneCountInString(desc); n > cols/3 && cols > 12 { // keep the end of a long name
		desc = "…" + string([]rune(desc)[n-cols/3+1:])
	}
	// The bar takes what the text around it leaves (percentage, counts,
	// rate, time elapsed and left: 2×digits + unit + ~30 columns), at
	// most 40; fitWriter cuts whatever would still wrap.
	text := utf8.RuneCountInString(desc) + 2*len(fmt.Sprint(max(total, 100000))) + len(unit) + 32
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(&fitWriter{w: p.w, cols: cols}),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(min(40, max(5, cols-text))),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionClearOnFinish(),
		// No spinner goroutine: every redraw happens under p.mu.
		progressbar.OptionSetSpinnerChangeInterval(0),
		progressbar.OptionSetPredictTime(total > 0),
		progressbar.OptionSetElapsedTime(total <= 0),
		progressbar.OptionShowTotalBytes(total > 0),
		progressbar.OptionShowCount(),
	}
	if unit == unitBytes {
		opts = append(opts, progressbar.OptionShowBytes(true), progressbar.OptionUseIECUnits(true))
	} else if cols >= 60 {
		opts = append(opts, progressbar.OptionShowIts(), progressbar.OptionSetItsString(unit))
	}
	if total <= 0 {
		total = -1
	}
	return progressbar.NewOptions64(total, opts...)
}

// fitWriter cuts every line (up to a carriage return or newline) written
// through it at cols characters, so that a redraw never wraps onto a
// second line, which \r could not take back.
type fitWriter struct {
	w    io.Writer
	cols int
	col  int // characters of the current line so far
}

func (f *fitWriter) Write(b []byte) (int, error) {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		switch {
		case c == '\r' || c == '\n':
			f.col = 0
		case c&0xC0 == 0x80: // a UTF-8 continuation byte: same character
			if f.col > f.cols {
				continue
			}
		default:
			f.col++
			if f.col > f.cols {
				continue
			}
		}
		out = append(out, c)
	}
	if _, err := f.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// clear removes the bar from the screen (before a line is printed); the
// next show draws it again.
func (p *progress) clear() {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Clear()
	}
}

// printLine writes line and a newline to w with the bar off the screen,
// so that the two never mix; the next show draws the bar again.
func (p *progress) printLine(w io.Writer, line string) {
	if p == nil || !p.on {
		fmt.Fprintln(w, line)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Clear()
	}
	fmt.Fprintln(w, line)
}

// done removes the bar for good: the job is over.
func (p *progress) done() {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
}

func (p *progress) clearLocked() {
	if p.bar != nil {
		p.bar.Clear()
		p.bar = nil
	}
}

// indexProgress shows an index run's phases.
func indexProgress(p *progress) func(index.Progress) {
	return func(ip index.Progress) {
		switch ip.Phase {
		case index.PhaseScan:
			p.show("scanning", "files", int64(ip.Scanned), -1)
		case index.PhaseEmbed:
			p.show("embedding", "images", int64(ip.Done), int64(ip.Todo))
		case index.PhaseSign:
			p.show("signing", "images", int64(ip.Done), int64(ip.Todo))
		default:
			p.show("saving", "entries", int64(ip.New+ip.Changed+ip.Moved+ip.Removed), -1)
		}
	}
}

// annProgress shows the approximate index being built or brought up to date
// (collection.Options.ANNProgress).
func annProgress(p *progress) func(done, total int) {
	return func(done, total int) { p.show("search graph", "images", int64(done), int64(total)) }
}
