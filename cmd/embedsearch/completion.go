package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/embedsearch/embedsearch/models"
)

// completionFlag, as the last argument, asks for the completions of the
// word before it (the word under the cursor, "" for a new one) given the
// words before that. The shell scripts below send it; nothing runs.
const completionFlag = "--generate-bash-completion"

// Scripts for `completion SHELL`. All three ask the binary (complete) for
// the candidates, so they follow the commands and flags of the binary in
// use; an empty answer falls back to file names.
const (
	bashCompletion = `# bash completion for embedsearch: source <(embedsearch completion bash)
_embedsearch_complete() {
  local cur=${COMP_WORDS[COMP_CWORD]}
  local IFS=$'\n'
  local opts
  opts=$("${COMP_WORDS[0]}" "${COMP_WORDS[@]:1:COMP_CWORD-1}" "$cur" ` + completionFlag + ` 2>/dev/null)
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -o bashdefault -o default -F _embedsearch_complete embedsearch
`
	zshCompletion = `#compdef embedsearch
# zsh completion for embedsearch: source <(embedsearch completion zsh), or save
# as _embedsearch in a folder of $fpath.
_embedsearch() {
  local -a opts
  opts=("${(@f)$(${words[1]} "${(@)words[2,CURRENT-1]}" "${words[CURRENT]}" ` + completionFlag + ` 2>/dev/null)}")
  if [[ -n "${opts[1]}" ]]; then
    compadd -a opts
  else
    _files
  fi
}
if [[ "$funcstack[1]" = "_embedsearch" ]]; then
  _embedsearch "$@"
else
  compdef _embedsearch embedsearch
fi
`
	fishCompletion = `# fish completion for embedsearch: embedsearch completion fish > ~/.config/fish/completions/embedsearch.fish
function __embedsearch_complete
    set -l words (commandline -opc)
    $words[1] $words[2..-1] (commandline -ct) ` + completionFlag + ` 2>/dev/null
end
function __embedsearch_no_candidates
    set -l c (__embedsearch_complete)
    test (count $c) -eq 0
end
complete -c embedsearch -f -a '(__embedsearch_complete)'
complete -c embedsearch -n __embedsearch_no_candidates -F
`
)

func newCompletionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Description: "bash:  source <(embedsearch completion bash)            (e.g. in ~/.bashrc)\n" +
			"zsh:   source <(embedsearch completion zsh)             (e.g. in ~/.zshrc, after compinit)\n" +
			"fish:  embedsearch completion fish > ~/.config/fish/completions/embedsearch.fish\n" +
			"Commands, sub-commands, flags and the values of --device, --format, --preset,\n" +
			"--link, --keep and --model complete; other arguments complete as file names.",
		Action: func(c *cli.Context) error {
			script := map[string]string{"bash": bashCompletion, "zsh": zshCompletion, "fish": fishCompletion}[c.Args().First()]
			if c.NArg() != 1 || script == "" {
				return usagef("completion needs one shell: bash, zsh or fish")
			}
			_, err := io.WriteString(c.App.Writer, script)
			return err
		},
	}
}

// complete answers a completion request (args end with completionFlag)
// without running anything: it prints one candidate per line.
func complete(app *cli.App, args []string) int {
	app.Setup() // adds the help command and flag
	words := args[1 : len(args)-1]
	cur := ""
	if len(words) > 0 {
		cur, words = words[len(words)-1], words[:len(words)-1]
	}
	for _, c := range completions(app, words, cur) {
		fmt.Fprintln(app.Writer, c)
	}
	return exitOK
}

// flagValues are the fixed values of flags that have them.
func flagValues(name string) []string {
	switch name {
	case "device":
		return []string{"cpu", "cuda", "auto"}
	case "format", "f":
		return []string{"jsonl", "csv", "npy"}
	case "preset":
		return []string{"exact", "near", "similar"}
	case "link":
		return []string{"hard", "sym"}
	case "keep":
		return []string{"resolution", "size", "oldest", "newest", "shortest-path", "prefer:"}
	case "model", "m":
		return models.Names()
	}
	return nil
}

// completions lists the candidates for the word cur after words (the
// command line without the program name).
func completions(app *cli.App, words []string, cur string) []string {
	cmds, flags := app.Commands, app.Flags
	var cmd *cli.Command
	var prev string // the flag before cur when it takes a value
	for i := 0; i < len(words); i++ {
		w := words[i]
		if w == "--" {
			return nil // only positional arguments follow: files
		}
		if strings.HasPrefix(w, "-") && w != "-" {
			name := strings.TrimLeft(w, "-")
			if !strings.Contains(name, "=") && takesValue(flags, name) {
				if i+1 == len(words) {
					prev = name
				}
				i++
			}
			continue
		}
		if next := findCommand(cmds, w); next != nil && (cmd == nil || len(cmd.Subcommands) > 0) {
			cmd, cmds, flags = next, next.Subcommands, next.Flags
			continue
		}
		if cmd != nil && cmd.Name == "completion" || cmd != nil && cmd.Name == "help" {
			return nil // they take one word
		}
	}
	var out []string
	add := func(cands ...string) {
		for _, c := range cands {
			if strings.HasPrefix(c, cur) {
				out = append(out, c)
			}
		}
	}
	switch {
	case prev != "":
		add(flagValues(prev)...)
	case strings.HasPrefix(cur, "-"):
		for _, f := range flags {
			if vf, ok := f.(cli.VisibleFlag); ok && !vf.IsVisible() {
				continue
			}
			for _, n := range f.Names() {
				if len(n) == 1 {
					add("-" + n)
				} else {
					add("--" + n)
				}
			}
		}
		add("--help")
	case cmd == nil || cmd.Name == "help":
		for _, c := range app.VisibleCommands() {
			add(c.Name)
		}
	case cmd.Name == "completion":
		add("bash", "zsh", "fish")
	case len(cmds) > 0:
		for _, c := range cmds {
			if !c.Hidden {
				add(c.Name)
			}
		}
	case cmd.Name == "info" || cmd.Name == "pull" || cmd.Name == "rm" || cmd.Name == "verify":
		add(models.Names()...)
	}
	return out
}
