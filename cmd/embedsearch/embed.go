package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strconv"
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
			"the exit code is then 3.",
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
	mu sync.Mutex
	w  io.Writer
	n  int
}

func (f *failures) add(path string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	fmt.Fprintf(f.w, "embedsearch: %s: %s\n", path, withHint(fileError(err)))
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
	failed := &failures{w: stderr}
	paths := inputPaths(ctx, args, stdin, o.Null, o.WalkOptions, failed.add)
	sep := byte('\n')
	if o.Null {
		sep = 0
	}
	err = eng.Encoder.Embed(ctx, paths, func(it infer.Item) error {
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

// vectorWriter writes vectors to stdout in one of the output formats.
type vectorWriter interface {
	Write(path string, v []float32) error
	Close() error // completes the output
	Abort()       // after an error or interruption: keep what is complete
}

type jsonlWriter struct {
	w   *bufio.Writer
	buf []byte
}

func (j *jsonlWriter) Write(path string, v []float32) error {
	q, err := json.Marshal(path)
	if err != nil {
		return err
	}
	b := append(j.buf[:0], `{"path":`...)
	b = append(b, q...)
	if raw := nameBytes(path); raw != "" {
		b = append(b, `,"path_bytes":"`...)
		b = append(b, raw...) // base64: nothing to escape
		b = append(b, '"')
	}
	b = append(b, `,"vector":[`...)
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, float64(x), 'g', -1, 32)
	}
	b = append(b, "]}\n"...)
	j.buf = b
	_, err = j.w.Write(b)
	return err
}

func (j *jsonlWriter) Close() error { return j.w.Flush() }
func (j *jsonlWriter) Abort()       { j.w.Flush() }

type csvWriter struct {
	w      *csv.Writer
	dim    int
	header bool
	rec    []string
}

func (c *csvWriter) writeHeader() error {
	c.header = true
	h := make([]string, c.dim+1)
	h[0] = "path"
	for i := 0; i < c.dim; i++ {
		h[i+1] = "v" + strconv.Itoa(i)
	}
	return c.w.Write(h)
}

func (c *csvWriter) Write(path string, v []float32) error {
	if !c.header {
		if err := c.writeHeader(); err != nil {
			return err
		}
	}
	c.rec = append(c.rec[:0], path)
	for _, x := range v {
		c.rec = append(c.rec, strconv.FormatFloat(float64(x), 'g', -1, 32))
	}
	return c.w.Write(c.rec)
}

func (c *csvWriter) Close() error {
	if !c.header {
		if err := c.writeHeader(); err != nil {
			return err
		}
	}
	c.w.Flush()
	return c.w.Error()
}
func (c *csvWriter) Abort() { c.w.Flush() }

// npyWriter spills rows to a temporary file, because the .npy header
// carries the row count, then writes header and rows to w at Close.
type npyWriter struct {
	w     io.Writer
	tmp   *os.File
	buf   *bufio.Writer
	rows  int
	dim   int
	bytes []byte
}

func (n *npyWriter) Write(_ string, v []float32) error {
	if n.tmp == nil {
		f, err := os.CreateTemp("", "embedsearch-npy-*")
		if err != nil {
			return err
		}
		os.Remove(f.Name()) // lives until closed; nothing left behind
		n.tmp, n.buf = f, bufio.NewWriterSize(f, 1<<16)
	}
	if len(v) != n.dim {
		return fmt.Errorf("npy: vector of %d values in a %d-column array", len(v), n.dim)
	}
	n.bytes = n.bytes[:0]
	for _, x := range v {
		n.bytes = binary.LittleEndian.AppendUint32(n.bytes, math.Float32bits(x))
	}
	n.rows++
	_, err := n.buf.Write(n.bytes)
	return err
}

func (n *npyWriter) Close() error {
	if err := n.writeHeader(); err != nil {
		return err
	}
	if n.tmp == nil {
		return nil
	}
	defer n.tmp.Close()
	if err := n.buf.Flush(); err != nil {
		return err
	}
	if _, err := n.tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err := io.Copy(n.w, n.tmp)
	return err
}

func (n *npyWriter) Abort() {
	if n.tmp != nil {
		n.tmp.Close()
	}
}

// writeHeader writes a version 1.0 .npy header for a little-endian
// float32 C-order array of shape (rows, dim).
func (n *npyWriter) writeHeader() error {
	dict := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", n.rows, n.dim)
	total := 10 + len(dict) + 1 // magic+version+len, dict, newline
	pad := (64 - total%64) % 64
	h := make([]byte, 0, total+pad)
	h = append(h, "\x93NUMPY\x01\x00"...)
	h = binary.LittleEndian.AppendUint16(h, uint16(len(dict)+pad+1))
	h = append(h, dict...)
	h = append(h, bytes.Repeat([]byte(" "), pad)...)
	h = append(h, '\n')
	_, err := n.w.Write(h)
	return err
}
