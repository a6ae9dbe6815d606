package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/embedsearch/embedsearch/models"
)

func newManCommand() *cli.Command {
	return &cli.Command{
		Name:  "man",
		Usage: "print the manual page (roff), made from the same definitions as --help",
		Description: "man <(embedsearch man)\n" +
			"or install it: embedsearch man | gzip > /usr/local/share/man/man1/embedsearch.1.gz",
		Action: func(c *cli.Context) error {
			return writeMan(c.App.Writer, c.App)
		},
	}
}

// manEnvironment is the ENVIRONMENT section (README's table).
var manEnvironment = [][2]string{
	{envStore, "default store folder (as --store)"},
	{envRuntimeLib, "onnxruntime library file or lib/ folder (as --onnxruntime)"},
	{envORTBaseURL, "mirror for the pinned onnxruntime download"},
	{envOffline, "1: never download onnxruntime"},
	{models.EnvCacheDir, "model cache folder"},
	{models.EnvBaseURL, "mirror for zoo model downloads (as models pull --base-url)"},
	{"NO_COLOR", "respected (the output has no colour anyway)"},
}

// writeMan writes the manual page of app in roff (man(7)): every command
// with its arguments, description and flags, as --help shows them.
func writeMan(w io.Writer, app *cli.App) error {
	var b strings.Builder
	fmt.Fprintf(&b, ".TH EMBEDSEARCH 1 \"\" \"embedsearch %s\" \"User Commands\"\n", roffQuoted(readBuildInfo().Version))
	fmt.Fprintf(&b, ".SH NAME\nembedsearch \\- %s\n", roff(app.Usage))
	b.WriteString(".SH SYNOPSIS\n.B embedsearch\n.I command\n[\\fIoptions\\fR] [\\fIarguments\\fR]\n.br\n.B embedsearch\n\\-\\-version | \\-\\-help\n")
	b.WriteString(".SH DESCRIPTION\n")
	manText(&b, app.Description)
	b.WriteString(".SH COMMANDS\n")
	var walk func(path string, cmds []*cli.Command)
	walk = func(path string, cmds []*cli.Command) {
		for _, c := range cmds {
			if c.Hidden || c.Name == "help" {
				continue
			}
			name := path + c.Name
			if len(c.Subcommands) > 0 {
				fmt.Fprintf(&b, ".SS \"%s\"\n%s\n", roffQuoted(name), roff(c.Usage))
				walk(name+" ", c.Subcommands)
				continue
			}
			head := name
			if len(c.VisibleFlags()) > 0 {
				head += " [options]"
			}
			if c.ArgsUsage != "" {
				head += " " + c.ArgsUsage
			}
			fmt.Fprintf(&b, ".SS \"%s\"\n%s\n", roffQuoted(head), roff(c.Usage))
			if c.Description != "" {
				b.WriteString(".PP\n")
				manText(&b, c.Description)
			}
			for _, f := range c.VisibleFlags() {
				spec, usage, _ := strings.Cut(f.String(), "\t")
				fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", roff(spec), roff(usage))
			}
		}
	}
	walk("embedsearch ", app.Commands)
	b.WriteString(".SH ENVIRONMENT\n")
	for _, e := range manEnvironment {
		fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", roff(e[0]), roff(e[1]))
	}
	b.WriteString(".SH SEE ALSO\nREADME.md in the source tree; \\fBembedsearch COMMAND \\-\\-help\\fR.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// manText writes preformatted text (the --help descriptions are laid out
// by hand), one roff line per line.
func manText(b *strings.Builder, text string) {
	b.WriteString(".nf\n")
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		b.WriteString(roff(line) + "\n")
	}
	b.WriteString(".fi\n")
}

// roff escapes text for a roff text line: backslashes, hyphens (so that
// flags copy as typed) and a leading control character.
func roff(s string) string {
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`, "\t", " ").Replace(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// roffQuoted is roff for inside a quoted macro argument.
func roffQuoted(s string) string { return strings.ReplaceAll(roff(s), `"`, `\(dq`) }
