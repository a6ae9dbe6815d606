package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"
)

// nearest returns the candidate s most likely mistyped, or "": the one a
// unique prefix names, else the closest within a few edits (one for short
// words, up to three for long ones; ties go to the first candidate).
func nearest(s string, cands []string) string {
	if s == "" {
		return ""
	}
	var prefixed []string
	for _, c := range cands {
		if len(s) >= 2 && strings.HasPrefix(c, s) {
			prefixed = append(prefixed, c)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	if len(s) < 3 {
		return "" // any letter is one edit from any other
	}
	best, bestD := "", min(3, max(1, len(s)/3))+1
	for _, c := range cands {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance counts the insertions, deletions, substitutions and swaps of
// neighbouring letters that turn a into b (optimal string alignment).
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}

// commandPaths lists every command as typed: "index", "models pull", ...
func commandPaths() []string {
	var out []string
	var walk func(prefix string, cmds []*cli.Command)
	walk = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			if c.Hidden {
				continue
			}
			out = append(out, prefix+c.Name)
			walk(prefix+c.Name+" ", c.Subcommands)
		}
	}
	walk("", newApp(io.Discard, io.Discard).Commands)
	return append(out, "help")
}

// suggestCommand is " (did you mean X?)" for an unknown command name, or "".
func suggestCommand(name string) string {
	paths := commandPaths()
	last := make([]string, len(paths))
	for i, p := range paths {
		last[i] = p[strings.LastIndex(p, " ")+1:]
	}
	if s := nearest(name, last); s != "" {
		for i := range last {
			if last[i] == s {
				return fmt.Sprintf("; did you mean %s?", paths[i])
			}
		}
	}
	return ""
}

// withFlagSuggestion adds the nearest flag of the command to an unknown
// flag error.
func withFlagSuggestion(c *cli.Context, err error) error {
	name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: ")
	if !ok || c == nil {
		return err
	}
	flags := c.App.Flags
	if c.Command != nil && c.Command.Name != "" {
		flags = c.Command.Flags
	}
	var names []string
	for _, f := range flags {
		if vf, ok := f.(cli.VisibleFlag); ok && !vf.IsVisible() {
			continue
		}
		names = append(names, f.Names()...)
	}
	s := nearest(strings.TrimLeft(name, "-"), names)
	if s == "" {
		return err
	}
	dash := "--"
	if len(s) == 1 {
		dash = "-"
	}
	return fmt.Errorf("%w (did you mean %s%s?)", err, dash, s)
}
