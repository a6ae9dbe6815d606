package main

import (
	"io"
	"text/tabwriter"
)

// jsonSchema is the "version" field of the JSON that query and dedup print
// (--json documents and every --jsonl line). README's "JSON output" section
// describes each version and what changed; a change that can break a reader
// (a field renamed, removed or given another meaning or shape) bumps it,
// a new field does not.
const jsonSchema = 2

// newTable is the one aligned-text writer of every table the commands
// print: columns fitted to their widest cell, two spaces apart, and no
// trailing spaces (a row whose last cells are empty ends at its last text).
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(&trimTrailing{w: w}, 0, 0, 2, ' ', 0)
}

// trimTrailing drops the spaces before each newline (and at the end of
// the output) of what is written through it.
type trimTrailing struct {
	w      io.Writer
	spaces int // held back until something other than a newline follows
}

func (t *trimTrailing) Write(p []byte) (int, error) {
	out := make([]byte, 0, len(p))
	for _, c := range p {
		switch c {
		case ' ':
			t.spaces++
			continue
		case '\n':
			t.spaces = 0
		default:
			for ; t.spaces > 0; t.spaces-- {
				out = append(out, ' ')
			}
		}
		out = append(out, c)
	}
	if _, err := t.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}
