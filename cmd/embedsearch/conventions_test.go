package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestVersion(t *testing.T) {
	// A plain test binary has no version stamped: "(devel)".
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errs := runCLI(t, args...)
		if code != exitOK || !regexp.MustCompile(`^embedsearch \(devel\) \(commit \S+, built \S+, go\S+ \w+/\w+\)\n$`).MatchString(out) {
			t.Fatalf("%v: exit %d %q %q", args, code, out, errs)
		}
	}
	// What scripts/build.sh sets with -ldflags -X.
	defer func(v, c, d string) { version, commit, date = v, c, d }(version, commit, date)
	version, commit, date = "v1.2.3", "0123456789abcdef0123", "2026-01-02T03:04:05Z"
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, _ := runCLI(t, args...)
		if code != exitOK || !strings.HasPrefix(out, "embedsearch v1.2.3 (commit 0123456789ab, built 2026-01-02T03:04:05Z, go") {
			t.Fatalf("%v with ldflags: exit %d %q", args, code, out)
		}
	}
	if code, _, errs := runCLI(t, "-v"); code != exitUsage {
		t.Fatalf("-v is not --version (too easily read as verbose): exit %d %s", code, errs)
	}
}

func TestHelpCommand(t *testing.T) {
	code, out, errs := runCLI(t, "help", "dedup")
	if code != exitOK || !strings.Contains(out, "embedsearch dedup - find near-duplicate images") || !strings.Contains(out, "--threshold") {
		t.Fatalf("help dedup: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = runCLI(t, "help")
	if code != exitOK || !strings.Contains(out, "COMMANDS:") || !strings.Contains(out, "completion") {
		t.Fatalf("help: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "models", "help", "pull")
	if code != exitOK || !strings.Contains(out, "--base-url") {
		t.Fatalf("models help pull: exit %d\n%s", code, out)
	}
}

func TestUnknownCommandSuggests(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"indx", "photos"}, "unknown command 'indx'; did you mean index?"},
		{[]string{"qeury", "x.jpg"}, "unknown command 'qeury'; did you mean query?"},
		{[]string{"help", "dedpu"}, "unknown command 'dedpu'; did you mean dedup?"},
		{[]string{"models", "pul"}, "unknown command 'pul'; did you mean models pull?"},
		{[]string{"stat"}, "unknown command 'stat'; did you mean status?"},
		{[]string{"xyzzy"}, "unknown command 'xyzzy'\n"},
		{[]string{"dedup", "--treshold", "0.3"}, "-treshold (did you mean --threshold?)"},
		{[]string{"index", "--exlude", "x"}, "(did you mean --exclude?)"},
	} {
		code, out, errs := runCLI(t, tc.args...)
		if code != exitUsage || out != "" || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, code, out, errs, tc.want)
		}
	}
}

// TestDashNOneMeaning: -n is dedup's --dry-run; query's old -n (for -k) is
// refused with the replacement, never read as something else.
func TestDashNOneMeaning(t *testing.T) {
	code, _, errs := runCLI(t, "query", "-n", "5", "x.jpg")
	if code != exitUsage || !strings.Contains(errs, "query -n is now -k: use -k 5") {
		t.Fatalf("query -n: exit %d %s", code, errs)
	}
	for _, name := range []string{"query", "dedup", "index", "embed"} {
		var meanings []string
		for _, f := range findCommand(newApp(nil, nil).Commands, name).Flags {
			if slices.Contains(f.Names(), "n") && f.(interface{ IsVisible() bool }).IsVisible() {
				meanings = append(meanings, f.Names()[0])
			}
		}
		if want := map[string]string{"dedup": "dry-run"}[name]; strings.Join(meanings, ",") != want {
			t.Errorf("%s: -n means %v, want %q", name, meanings, want)
		}
	}
}

func TestCompletions(t *testing.T) {
	app := newApp(nil, nil)
	app.Setup()
	for _, tc := range []struct {
		words []string
		cur   string
		want  []string // all of these, and nothing that does not start with cur
	}{
		{nil, "ind", []string{"index"}},
		{nil, "", []string{"index", "query", "dedup", "models", "completion", "man", "help"}},
		{[]string{"dedup"}, "--pre", []string{"--preset"}},
		{[]string{"dedup", "--store", "s", "photos"}, "--dr", []string{"--dry-run"}},
		{[]string{"query"}, "-", []string{"-k", "--json", "--jsonl", "--help"}},
		{[]string{"query", "--device"}, "", []string{"cpu", "cuda", "auto"}},
		{[]string{"embed", "-f"}, "n", []string{"npy"}},
		{[]string{"dedup", "--link"}, "", []string{"hard", "sym"}},
		{[]string{"models"}, "", []string{"list", "info", "pull", "verify", "rm"}},
		{[]string{"models", "pull"}, "dino", []string{"dinov2-base", "dinov2-small"}},
		{[]string{"completion"}, "", []string{"bash", "zsh", "fish"}},
		{[]string{"help"}, "de", []string{"dedup"}},
		{[]string{"index"}, "pho", nil},                // a file name: the shell's own
		{[]string{"index", "--store"}, "", nil},        // a folder
		{[]string{"index", "--", "x"}, "--q", nil},     // only arguments after --
		{[]string{"completion", "bash"}, "", nil},      // one shell only
		{[]string{"query"}, "--n", []string{"--null"}}, // hidden -n is not offered
	} {
		got := completions(app, tc.words, tc.cur)
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("%v %q: %v lacks %q", tc.words, tc.cur, got, w)
			}
		}
		for _, g := range got {
			if !strings.HasPrefix(g, tc.cur) || g == "-n" {
				t.Errorf("%v %q: offers %q", tc.words, tc.cur, g)
			}
		}
		if tc.want == nil && len(got) > 0 {
			t.Errorf("%v %q: want nothing (file names), got %v", tc.words, tc.cur, got)
		}
	}
	// The request runs nothing: no action, whatever the words.
	dir := t.TempDir()
	code, out, errs := runCLI(t, "index", "--store", filepath.Join(dir, "store"), dir, "", completionFlag)
	if code != exitOK || out != "" || errs != "" {
		t.Fatalf("completing an index command line: exit %d %q %q", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "store")); err == nil {
		t.Fatal("completing an index command line created a store")
	}
}

// installedMain puts an `embedsearch` that runs this test binary's main()
// first on PATH.
func installedMain(t *testing.T) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	script := "#!/bin/sh\n" + envRunMain + "=1 exec '" + exe + "' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "embedsearch"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// TestCompletionBash runs the bash script as bash does on TAB.
func TestCompletionBash(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not installed")
	}
	installedMain(t)
	script := `source <(embedsearch completion bash) || exit 1
c() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _embedsearch_complete; echo "${COMPREPLY[*]}"; }
c embedsearch ind
c embedsearch dedup --pre
c embedsearch query --device ""
c embedsearch models p
`
	out, err := exec.Command("bash", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	if want := "index\n--preset\ncpu cuda auto\npull\n"; string(out) != want {
		t.Fatalf("bash completion:\n%s\nwant:\n%s", out, want)
	}
}

// TestCompletionScriptsParse checks the zsh and fish scripts with their own
// shells' syntax check where those shells are installed.
func TestCompletionScriptsParse(t *testing.T) {
	ran := 0
	for _, sh := range []string{"zsh", "fish"} {
		if _, err := exec.LookPath(sh); err != nil {
			t.Logf("%s not installed: its script is not checked", sh)
			continue
		}
		code, script, errs := runCLI(t, "completion", sh)
		if code != exitOK || !strings.Contains(script, completionFlag) {
			t.Fatalf("completion %s: exit %d %s", sh, code, errs)
		}
		f := filepath.Join(t.TempDir(), "embedsearch."+sh)
		os.WriteFile(f, []byte(script), 0o644)
		if out, err := exec.Command(sh, "-n", f).CombinedOutput(); err != nil {
			t.Errorf("%s -n: %v\n%s", sh, err, out)
		}
		if sh == "fish" { // fish answers a completion request from a script
			installedMain(t)
			files := t.TempDir()
			os.WriteFile(filepath.Join(files, "photo.jpg"), nil, 0o644)
			cmd := exec.Command("fish", "-c", "source "+f+`; complete -C"embedsearch ind"; complete -C"embedsearch dedup --pre"; complete -C"embedsearch index pho"`)
			cmd.Dir = files
			out, err := cmd.CombinedOutput()
			if err != nil || string(out) != "index\n--preset\nphoto.jpg\n" {
				t.Errorf("fish completion: %v\n%s", err, out)
			}
		}
		ran++
	}
	if code, _, errs := runCLI(t, "completion", "tcsh"); code != exitUsage || !strings.Contains(errs, "bash, zsh or fish") {
		t.Fatalf("completion tcsh: exit %d %s", code, errs)
	}
	if ran == 0 {
		t.Skip("neither zsh nor fish installed")
	}
}

// TestManPage renders `embedsearch man` with groff and checks that every
// command, sub-command and flag is in it, and that groff has no warning.
func TestManPage(t *testing.T) {
	code, page, errs := runCLI(t, "man")
	if code != exitOK || !strings.HasPrefix(page, ".TH EMBEDSEARCH 1 ") {
		t.Fatalf("man: exit %d %s\n%.200s", code, errs, page)
	}
	if _, err := exec.LookPath("groff"); err != nil {
		t.Skip("groff not installed (Debian: groff-base): the page is not rendered")
	}
	cmd := exec.Command("groff", "-k", "-man", "-Tutf8", "-ww", "-rLL=100n")
	cmd.Stdin = strings.NewReader(page)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("groff: %v\n%s", err, stderr.String())
	}
	text := regexp.MustCompile(".\b").ReplaceAllString(string(out), "") // overstrike: bold
	text = strings.ReplaceAll(text, "‐\n", "")                          // hyphenation
	text = strings.ReplaceAll(text, "‐", "-")
	var walk func(path string, cmds []*cli.Command)
	walk = func(path string, cmds []*cli.Command) {
		for _, c := range cmds {
			if c.Hidden || c.Name == "help" {
				continue
			}
			if !strings.Contains(text, path+c.Name) {
				t.Errorf("man page lacks %q", path+c.Name)
			}
			for _, f := range c.VisibleFlags() {
				if n := f.Names()[0]; !strings.Contains(text, "-"+n) {
					t.Errorf("man page lacks %s's flag %s", path+c.Name, n)
				}
			}
			walk(path+c.Name+" ", c.Subcommands)
		}
	}
	walk("embedsearch ", newApp(nil, nil).Commands)
	for _, want := range []string{"EXIT CODES", "ENVIRONMENT", envStore, "130"} {
		if !strings.Contains(text, want) {
			t.Errorf("man page lacks %q", want)
		}
	}
}
