package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/embedsearch/embedsearch/index"
	"github.com/embedsearch/embedsearch/infer"
)

type embedOptions struct {
	engineOptions
	index.WalkOptions
	Format   string // jsonl | csv | npy
	Null     bool   // stdin paths are NUL-separated
	PathsOut string // file receiving the path of each output row
}

func newEmbedCommand() *cli.Command {
	return &cli.Command{
		Name:      "embed",
		Usage:     "print one L2-normalised vector per image, in input order",
		ArgsUsage: "IMAGE|DIR|- ...",
		Description: "Embeds images with the model and prints their vectors to stdout in input order.\n" +
			"A DIR is walked in sorted order exactly as index walks it (the same files: image files\n" +
			"by extension; hidden files and folders and junk skipped; links followed only with\n" +
			"--follow-symlinks); an IMAGE is tried whatever its name. '-' reads paths from stdin,\n" +
			"one per line (-0: NUL-separated).\n\n" +
			"Formats:\n" +
			"  jsonl  one {\"path\":\"...\",\"vector\":[...]} per line (default); a name that is not\n" +
			"         UTF-8 also gets \"path_bytes\", its exact bytes in base64\n" +
			"  csv    a header row path,v0,v1,... then one row per image\n" +
			"  npy    a float32 array of shape (N, dim) (stdout must not be a terminal); rows follow\n" +
			"         input order without the failed files; --paths-out FILE names each row\n\n" +
			"A file that cannot be read or decoded is reported on stderr (one line) and skipped;\n" +
			"the exit code is then 3. Files a walk does not take are counted on stderr at the end\n" +
			"(skipped: N unsupported (by format), N not images, N links not followed).",
		Flags: append(append(engineFlags(), walkFlags()...),
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "jsonl", Usage: "output `FORMAT`: jsonl, csv or npy"},
			&cli.BoolFlag{Name: "0", Usage: "paths on stdin are NUL-separated (find -print0)"},
			&cli.StringFlag{Name: "paths-out", Usage: "write the path of each output row to `FILE`, one per line (NUL-separated with -0)"},
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
			o := embedOptions{engineOptions: eo, WalkOptions: wo, Format: c.String("format"), Null: c.Bool("0"), PathsOut: c.String("paths-out")}
			switch o.Format {
			case "jsonl", "csv":
			case "npy":
				if isTerminal(c.App.Writer) {
					return usagef("--format npy writes binary data: redirect stdout to a file (embed --format npy DIR > vectors.npy)")
				}
			default:
				return usagef("--format %q: want jsonl, csv or npy", o.Format)
			}
			if c.NArg() == 0 {
				return usagef("embed needs IMAGE, DIR or - (paths on stdin)")
			}
			stdins := 0
			for _, a := range c.Args().Slice() {
				if a == "-" {
					stdins++
				}
			}
			if stdins > 1 {
				return usagef("'-' (paths on stdin) can be given once")
			}
			return runEmbed(c.Context, o, c.Args().Slice(), c.App.Reader, c.App.Writer, c.App.ErrWriter)
		},
	}
}

// failures prints per-file failures, one line each, from any goroutine.
type failures struct {
	mu  sync.Mutex
	w   io.Writer
	bar *progress // nil: none
	n   int
}

func (f *failures) add(path string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	f.bar.printLine(f.w, fmt.Sprintf("embedsearch: %s: %s", path, withHint(fileError(err))))
}

// fileError drops the path an *fs.PathError repeats.
func fileError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s %w", pe.Op, pe.Err)
	}
	return err
}

func runEmbed(ctx context.Context, o embedOptions, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var pathsOut *bufio.Writer
	if o.PathsOut != "" {
		f, err := os.Create(o.PathsOut)
		if err != nil {
			return fmt.Errorf("--paths-out: %w", err)
		}
		defer f.Close()
		pathsOut = bufio.NewWriter(f)
	}

	eng, err := openEngine(ctx, o.engineOptions, stderr)
	if err != nil {
		return err
	}
	defer eng.Close()
	var out vectorWriter
	switch dim := eng.Encoder.Dim(); o.Format {
	case "csv":
		out = &csvWriter{w: csv.NewWriter(stdout), dim: dim}
	case "npy":
		out = &npyWriter{w: stdout, dim: dim}
	default:
		out = &jsonlWriter{w: bufio.NewWriterSize(stdout, 1<<16)}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	bar := newProgress(stderr, false)
	failed := &failures{w: stderr, bar: bar}
	var skipMu sync.Mutex
	var skipped index.SkipCounts
	o.WalkOptions.Skipped = func(s index.Skip) { skipMu.Lock(); skipped.Add(s); skipMu.Unlock() }
	defer func() {
		skipMu.Lock()
		defer skipMu.Unlock()
		if s := skippedSummary(skipped); s != "" {
			fmt.Fprintf(stderr, "embedsearch: %s\n", s)
		}
	}()
	paths := inputPaths(ctx, args, stdin, o.Null, o.WalkOptions, failed.add)
	sep := byte('\n')
	if o.Null {
		sep = 0
	}
	var done int64
	err = eng.Encoder.EmbedWith(ctx, paths, infer.EmbedOptions{NoSHA256: true}, func(it infer.Item) error {
		done++
		bar.show("embedding", "images", done, -1)
		if it.Err != nil {
			failed.add(it.Path, it.Err)
			return nil
		}
		if pathsOut != nil {
			pathsOut.WriteString(it.Path)
			pathsOut.WriteByte(sep)
		}
		return out.Write(it.Path, it.Vector)
	})
	bar.done()
	if err != nil {
		out.Abort()
		return err
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if pathsOut != nil {
		if err := pathsOut.Flush(); err != nil {
			return fmt.Errorf("--paths-out: %w", err)
		}
	}
	if failed.n > 0 {
		return partialError{failed: failed.n}
	}
	return nil
}

// inputPaths streams the paths named by args in order: files as given,
// directories walked as index walks them (index.Walk), '-' as the paths read
// from stdin. Walk errors go to fail. The channel closes at the end or when
// ctx is cancelled.
func inputPaths(ctx context.Context, args []string, stdin io.Reader, null bool, wo index.WalkOptions, fail func(string, error)) <-chan string {
	ch := make(chan string)
	send := func(p string) bool {
		select {
		case ch <- p:
			return true
		case <-ctx.Done():
			return false
		}
	}
	go func() {
		defer close(ch)
		for _, a := range args {
			if a == "-" {
				if !readPaths(stdin, null, send, fail) {
					return
				}
				continue
			}
			st, err := os.Stat(a)
			if err != nil || !st.IsDir() {
				if !send(a) { // the pipeline reports what is wrong with it
					return
				}
				continue
			}
			if !index.Walk(ctx, a, wo, func(p string, _ fs.FileInfo) bool { return send(p) }, fail) {
				return
			}
		}
	}()
	return ch
}

// readPaths sends the non-empty lines (or NUL-separated names) of r.
func readPaths(r io.Reader, null bool, send func(string) bool, fail func(string, error)) bool {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	if null {
		sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
			if i := bytes.IndexByte(data, 0); i >= 0 {
				return i + 1, data[:i], nil
			}
			if atEOF && len(data) > 0 {
				return len(data), data, nil
			}
			return 0, nil, nil
		})
	}
	for sc.Scan() {
		p := sc.Text()
		if !null {
			p = strings.TrimSuffix(p, "\r")
		}
		if p == "" {
			continue
		}
		if !send(p) {
			return false
		}
	}
	if err := sc.Err(); err != nil {
		fail("-", fmt.Errorf("read paths from stdin: %w", err))
	}
	return true
}
