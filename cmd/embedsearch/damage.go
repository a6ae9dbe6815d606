package main

import (
	"fmt"
	"io"
	"slices"

	"github.com/embedsearch/embedsearch/search"
	"github.com/embedsearch/embedsearch/store"
)

// leftOut is the set of damaged stored rows (see search.Damaged) a
// command leaves out of its results. It is written between searches and
// read by them (Allow runs on several goroutines), never both at once.
type leftOut struct {
	rows    map[int]bool
	scanned bool // every damaged row of the store is in rows
	// checksum is the store's vector checksum mismatch, when it was
	// checked and did not match: a damaged value that keeps its row's
	// norm (a sign, a low mantissa bit) shows only there.
	checksum error
}

// found reports whether the command must exit with code 6.
func (d *leftOut) found() bool { return len(d.rows) > 0 || d.checksum != nil }

// add records damaged rows.
func (d *leftOut) add(ids ...int) {
	if d.rows == nil {
		d.rows = map[int]bool{}
	}
	for _, id := range ids {
		d.rows[id] = true
	}
}

// scan finds every damaged row of m, once: one pass over the vectors
// (BenchmarkDamagedRows: about one exact scan).
func (d *leftOut) scan(m search.Matrix) {
	if !d.scanned {
		d.add(search.DamagedRows(m, 0)...)
		d.scanned = true
	}
}

// allow wraps an Options.Allow to leave the damaged rows out; with none
// known it returns next unchanged, so the search paths stay as fast.
func (d *leftOut) allow(next func(int) bool) func(int) bool {
	if len(d.rows) == 0 {
		return next
	}
	return func(id int) bool { return !d.rows[id] && (next == nil || next(id)) }
}

// report names the damaged rows on stderr (the first few) and returns the
// error behind exit code 6, or nil when there are none.
func (d *leftOut) report(stderr io.Writer, r *store.Reader) error {
	if !d.found() {
		return nil
	}
	ids := make([]int, 0, len(d.rows))
	for id := range d.rows {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	const show = 10
	for _, id := range ids[:min(len(ids), show)] {
		fmt.Fprintf(stderr, "embedsearch: damaged vector in the store, left out: %s\n", r.Path(id))
	}
	if len(ids) > show {
		fmt.Fprintf(stderr, "embedsearch: ... and %d more damaged vectors\n", len(ids)-show)
	}
	return damagedError{rows: len(ids)}
}
