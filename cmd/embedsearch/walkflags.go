package main

import (
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/embedsearch/embedsearch/index"
)

// walkFlags choose which files a walk of a DIR takes: index and embed have
// the same ones and walk the same way (index.Walk).
func walkFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "exclude", Usage: "skip files and folders matching `GLOB` (name or full path; repeatable)"},
		&cli.BoolFlag{Name: "include-hidden", Usage: "also take hidden files and folders"},
		&cli.BoolFlag{Name: "follow-symlinks", Usage: "follow symbolic links to files and folders"},
	}
}

func walkOptionsFrom(c *cli.Context) (index.WalkOptions, error) {
	o := index.WalkOptions{Exclude: c.StringSlice("exclude"), IncludeHidden: c.Bool("include-hidden"), FollowSymlinks: c.Bool("follow-symlinks")}
	for _, g := range o.Exclude {
		if _, err := filepath.Match(g, ""); err != nil {
			return o, usagef("--exclude %q: %v", g, err)
		}
	}
	return o, nil
}
