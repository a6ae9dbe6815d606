package search

import "sync/atomic"

// progress reports a long search's work to Options.Progress, from any of
// its workers: done and total are rows (rows compared so far, or searched
// so far), done scaled from the work units the search counts in.
type progress struct {
	report func(done, total int)
	rows   int
	work   int64
	done   atomic.Int64
}

// newProgress is nil (reporting nothing) when report is nil.
func newProgress(report func(done, total int), rows int, work int64) *progress {
	if report == nil || rows <= 0 || work <= 0 {
		return nil
	}
	report(0, rows)
	return &progress{report: report, rows: rows, work: work}
}

// add counts w more units of work done and reports.
func (p *progress) add(w int64) {
	if p == nil {
		return
	}
	d := p.done.Add(w)
	p.report(min(p.rows, int(float64(p.rows)*float64(d)/float64(p.work))), p.rows)
}
