package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/index"
	"github.com/embedsearch/embedsearch/internal/fspath"
)

// indexShownFailures is how many per-file failures index prints on stderr;
// --errors FILE gets them all.
const indexShownFailures = 10

type indexOptions struct {
	engineOptions
	Store string
	index.WalkOptions
	ErrorsFile     string
	Quiet          bool
	Repair         bool
	Null           bool
	CommitEvery    int
	CommitInterval time.Duration
}

func newIndexCommand() *cli.Command {
	return &cli.Command{
		Name:      "index",
		Usage:     "embed new and changed images into the store, forget deleted ones",
		ArgsUsage: "DIR|FILE|- ...",
		Description: "Walks each DIR (hidden files and folders, and junk such as @eaDir, .git, node_modules,\n" +
			"$RECYCLE.BIN, skipped; symbolic links not followed unless --follow-symlinks, loops detected),\n" +
			"taking image files by extension (jpg jpeg png gif bmp tif tiff webp; heic heif avif with\n" +
			"libheif; the camera RAWs dng cr2 cr3 nef nrw arw orf rw2 raf, by their embedded preview);\n" +
			"a FILE is tried whatever its name; '-' reads file paths from stdin, one per line (-0:\n" +
			"NUL-separated).\n\n" +
			"A file is embedded again only when its size or modification time changed; a moved,\n" +
			"renamed or copied file whose content is already stored reuses its vector. Entries of\n" +
			"deleted files are removed, but only under DIRs that exist, are readable and still hold\n" +
			"images: an unmounted drive keeps its entries ('embedsearch forget PATH' removes them).\n\n" +
			"Progress is committed every --commit-every images or --commit-interval, so an\n" +
			"interrupted run (Ctrl-C, kill, power loss) keeps its work and the next run resumes.\n" +
			"A file that fails is listed on stderr (the first " + fmt.Sprint(indexShownFailures) + ") and in --errors FILE, and\n" +
			"the exit code is 3. Files of walked folders that are not taken (other image formats, files\n" +
			"that are not images, links not followed) are counted in the summary (skipped: ...) and\n" +
			"listed in --errors FILE as 'skipped: REASON'; they do not change the exit code.\n" +
			"The store is bound to the model: --store NEW_DIR for another model.",
		Flags: append(append(engineFlags(), walkFlags()...),
			storeFlag(),
			&cli.StringFlag{Name: "errors", Usage: "write every failed and every skipped file to `FILE` (path<TAB>reason; odd paths Go-quoted)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress and no per-file lines; only the summary"},
			&cli.BoolFlag{Name: "repair", Usage: "rebuild a damaged store: drop damaged segments (re-embedded), rebuild MANIFEST and catalog"},
			&cli.BoolFlag{Name: "0", Usage: "paths on stdin are NUL-separated (find -print0)"},
			&cli.IntFlag{Name: "commit-every", Value: index.DefaultCommitEvery, Usage: "commit after `N` changed images"},
			&cli.DurationFlag{Name: "commit-interval", Value: index.DefaultCommitInterval, Usage: "commit at least every `DURATION`"},
		),
		Action: func(c *cli.Context) error {
			eo, err := engineOptionsFrom(c)
			if err != nil {
				return err
			}
			wo, err := walkOptionsFrom(c)
			if err != nil {
				return err
			}
			dir, err := storeDir(c)
			if err != nil {
				return err
			}
			if !c.IsSet("model") {
				eo.Model = "" // the store's own (collection.Model)
			}
			o := indexOptions{
				engineOptions: eo, Store: dir, WalkOptions: wo,
				ErrorsFile: c.String("errors"), Quiet: c.Bool("quiet"), Repair: c.Bool("repair"),
				Null: c.Bool("0"), CommitEvery: c.Int("commit-every"), CommitInterval: c.Duration("commit-interval"),
			}
			if c.NArg() == 0 {
				return usagef("index needs DIR, FILE or - (paths on stdin)")
			}
			if o.CommitEvery < 1 || o.CommitInterval <= 0 {
				return usagef("--commit-every and --commit-interval must be positive")
			}
			return runIndex(c.Context, o, c.Args().Slice(), c.App.Reader, c.App.Writer, c.App.ErrWriter)
		},
	}
}

func runIndex(ctx context.Context, o indexOptions, args []string, stdin io.Reader, stdout, stderr io.Writer) (err error) {
	var roots, files []string
	for _, a := range args {
		if a != "-" {
			roots = append(roots, a)
			continue
		}
		// The list is read whole before the store is locked; a stdin that
		// never ends still gives way to Ctrl-C.
		read := make(chan struct{})
		var got []string
		go func() {
			defer close(read)
			readPaths(stdin, o.Null, func(p string) bool { got = append(got, p); return true },
				func(p string, err error) { fmt.Fprintf(stderr, "embedsearch: %v\n", err) })
		}()
		select {
		case <-read:
			files = append(files, got...)
		case <-ctx.Done():
			return fmt.Errorf("index interrupted while reading paths from stdin: %w", ctx.Err())
		}
	}

	if err := missingArgs(storeRoots(ctx, o.Store), roots); err != nil {
		return err
	}

	var errFile *bufio.Writer
	if o.ErrorsFile != "" {
		f, cerr := os.Create(o.ErrorsFile)
		if cerr != nil {
			return fmt.Errorf("--errors: %w", cerr)
		}
		errFile = bufio.NewWriter(f)
		// A list that could not be written in full must not pass for
		// complete: exit 1, whatever the run's own outcome.
		defer func() {
			ferr := errFile.Flush()
			if cerr := f.Close(); ferr == nil {
				ferr = cerr
			}
			switch {
			case ferr == nil:
			case err == nil:
				err = fmt.Errorf("--errors %s: %w", o.ErrorsFile, ferr)
			default:
				err = fmt.Errorf("%v; and the --errors list %s is incomplete: %w", err, o.ErrorsFile, ferr)
			}
		}()
	}

	bar := newProgress(stderr, o.Quiet)
	defer bar.done()
	col, err := openCollection(ctx, o.Store, collection.Options{Model: o.Model, Repair: o.Repair,
		ANNThreshold: annThreshold, ANNProgress: annProgress(bar), Note: func(n collection.Note) { bar.clear(); noteTo(stderr, o.Quiet)(n) }})
	if err != nil {
		return err
	}
	defer col.Close(ctx)
	eng, err := openCollectionEngine(ctx, col, o.engineOptions, stderr)
	if err != nil {
		return err
	}
	defer eng.Close()
	shown := 0
	st, err := col.Index(ctx, eng.Encoder, index.Options{
		Roots: roots, Files: files, Exclude: o.Exclude,
		IncludeHidden: o.IncludeHidden, FollowSymlinks: o.FollowSymlinks, MaxFileSize: eng.Encoder.MaxFileSize(),
		CommitEvery: o.CommitEvery, CommitInterval: o.CommitInterval,
		Progress: indexProgress(bar),
		Skipped: func(s index.Skip) {
			if errFile != nil {
				fmt.Fprintf(errFile, "%s\t%s\n", pathField(s.Path), skipReason(s))
			}
		},
		Failure: func(f index.Failure) {
			if errFile != nil {
				fmt.Fprintf(errFile, "%s\t%s\n", pathField(f.Path), oneLine(withHint(fileError(f.Err))))
			}
			if o.Quiet {
				return
			}
			shown++
			switch {
			case shown <= indexShownFailures:
				bar.printLine(stderr, fmt.Sprintf("embedsearch: %s: %s", f.Path, withHint(fileError(f.Err))))
			case shown == indexShownFailures+1 && errFile == nil:
				bar.printLine(stderr, "embedsearch: more files failed; --errors FILE lists them all")
			}
		},
	})
	bar.done()
	if len(st.MissingRoots)+len(st.EmptyRoots) > 0 && !o.Quiet {
		fmt.Fprintln(stderr, "embedsearch: entries under a missing or empty root are kept; 'embedsearch forget PATH' removes them")
	}
	fmt.Fprintln(stdout, indexSummary(st))
	if err == nil {
		err = col.Close(ctx)
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("index interrupted: %w", err)
		}
		return err
	}
	if st.Failed > 0 {
		return partialError{failed: st.Failed}
	}
	return nil
}

func indexSummary(st index.Stats) string {
	secs := st.Elapsed.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(st.New+st.Changed+st.Moved) / secs
	}
	skipped := ""
	if s := skippedSummary(st.Skipped); s != "" {
		skipped = "; " + s
	}
	signed := ""
	if st.Signed > 0 {
		signed = fmt.Sprintf(", signed %d", st.Signed)
	}
	return fmt.Sprintf("scanned %d, new %d, changed %d, moved %d, removed %d%s, failed %d%s; %s, %.1f images/s",
		st.Scanned, st.New, st.Changed, st.Moved, st.Removed, signed, st.Failed, skipped, st.Elapsed.Round(10*time.Millisecond), rate)
}

func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\t", " ").Replace(s) }

// missingArgs refuses a DIR or FILE argument that does not exist, before
// anything is written, unless it is (or holds, or lies under) a root the
// store already has: that is an unmounted drive, whose entries are kept
// with a warning. Anything else is a mistyped path, and nothing is done.
func missingArgs(known []string, args []string) error {
	for _, a := range args {
		if _, err := os.Lstat(a); err == nil || !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		abs, err := filepath.Abs(a)
		if err == nil && slices.ContainsFunc(known, func(r string) bool { return fspath.Within(r, abs) || fspath.Within(abs, r) }) {
			continue
		}
		return usagef("%s: no such file or folder; nothing was indexed", a)
	}
	return nil
}
