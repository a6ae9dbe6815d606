package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// Set at build time by scripts/build.sh:
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=<sha> -X main.date=<RFC 3339>"
//
// A plain `go build` fills them from the module's build info (the VCS
// revision and time when Go stamps them); `go run` has none: "(devel)".
var (
	version = ""
	commit  = ""
	date    = ""
)

// buildInfo is what `version` and `--version` print.
type buildInfo struct {
	Version, Commit, Date string
	Modified              bool // built from a tree with uncommitted changes
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Commit: commit, Date: date}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Commit == "" {
					b.Commit = s.Value
				}
			case "vcs.time":
				if b.Date == "" {
					b.Date = s.Value
				}
			case "vcs.modified":
				b.Modified = b.Modified || s.Value == "true"
			}
		}
	}
	if b.Version == "" {
		b.Version = "(devel)"
	}
	return b
}

// String is one line: "v1.2.3 (commit 0123456789ab, built 2026-01-02T03:04:05Z, go1.26.8 linux/amd64)".
func (b buildInfo) String() string {
	s := b.Version
	c := b.Commit
	if len(c) > 12 {
		c = c[:12]
	}
	if b.Modified && c != "" {
		c += "+dirty"
	}
	if c == "" {
		c = "unknown"
	}
	d := b.Date
	if d == "" {
		d = "unknown"
	}
	return fmt.Sprintf("%s (commit %s, built %s, %s %s/%s)", s, c, d, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func init() {
	// --version only: -v is too easily read as "verbose".
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version, commit and build date"}
	cli.VersionPrinter = func(c *cli.Context) {
		fmt.Fprintf(c.App.Writer, "embedsearch %s\n", readBuildInfo())
	}
}

func newVersionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version, commit and build date (same as --version)",
		Action: func(c *cli.Context) error {
			cli.VersionPrinter(c)
			return nil
		},
	}
}
