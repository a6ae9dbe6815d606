package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/embedsearch/embedsearch/infer/preprocess"
	"github.com/embedsearch/embedsearch/internal/fspath"
	"github.com/embedsearch/embedsearch/internal/inputfile"
	"github.com/embedsearch/embedsearch/search"
	"github.com/embedsearch/embedsearch/store"
)

func newQueryCommand() *cli.Command {
	return &cli.Command{
		Name:      "query",
		Usage:     "find the indexed images closest to an image, a vector or a text",
		ArgsUsage: "IMAGE|-|TEXT ...",
		Description: "Each QUERY is an image file (an indexed, unchanged one reuses its stored vector),\n" +
			"'-' for image bytes on stdin, or text (only with a model that has a text tower).\n" +
			"Distances are Euclidean between L2-normalised vectors: d² = 2 − 2·cos, 0 = identical.\n" +
			"Results are ordered by distance, then path.",
		Flags: append([]cli.Flag{
			storeFlag(),
			&cli.IntFlag{Name: "k", Aliases: []string{"n"}, Value: 10, Usage: "results per query"},
			&cli.Float64Flag{Name: "max-distance", Usage: "drop results farther than `D` (0 = no limit)"},
			&cli.StringSliceFlag{Name: "in", Usage: "only results under `DIR` (repeatable)"},
			&cli.StringFlag{Name: "filter", Usage: "bleve query over the catalog, e.g. 'ext:png width:>1000' (see README)"},
			&cli.BoolFlag{Name: "exact", Usage: "always scan every vector (skip the approximate index)"},
			&cli.BoolFlag{Name: "mean", Usage: "search once with the normalised mean of all queries (\"more like these\")"},
			&cli.BoolFlag{Name: "exclude-self", Usage: "drop the query files themselves from the results"},
			&cli.StringFlag{Name: "vector", Usage: "query with the vector in `FILE.json` (a JSON array, or {\"vector\": [...]})"},
			&cli.BoolFlag{Name: "json", Usage: "one JSON object per query (an array for several)"},
			&cli.BoolFlag{Name: "jsonl", Usage: "one JSON result per line, each with its query"},
			&cli.BoolFlag{Name: "csv", Usage: "CSV: query,rank,distance,path"},
			&cli.BoolFlag{Name: "paths", Usage: "bare result paths, one per line (for xargs)"},
			&cli.BoolFlag{Name: "null", Aliases: []string{"0"}, Usage: "with --paths: NUL-terminated"},
		}, engineFlags()...),
		Action: runQuery,
	}
}

// queryResult is one ranked neighbour; the JSON names are part of the
// interface. The *Bytes fields are set only for JSON (see nameBytes).
type queryResult struct {
	Rank      int     `json:"rank"`
	Path      string  `json:"path"`
	PathBytes string  `json:"path_bytes,omitempty"`
	Distance  float32 `json:"distance"`
}

type queryAnswer struct {
	Query      string        `json:"query"`
	QueryBytes string        `json:"query_bytes,omitempty"`
	Model      string        `json:"model"`
	Results    []queryResult `json:"results"`
}

// queryInput is one query after resolution to a vector.
type queryInput struct {
	label       string
	vector      []float32
	selfID      int  // id of the query file in the store, or -1
	selfDamaged bool // its stored vector is damaged (the file was embedded instead)
}

func runQuery(c *cli.Context) error {
	formats := 0
	for _, f := range []string{"json", "jsonl", "csv", "paths"} {
		if c.Bool(f) {
			formats++
		}
	}
	if formats > 1 {
		return usagef("choose one of --json, --jsonl, --csv, --paths")
	}
	if c.Bool("null") && !c.Bool("paths") {
		return usagef("-0 only goes with --paths")
	}
	k := c.Int("k")
	if k < 1 {
		return usagef("-k must be at least 1 (got %d)", k)
	}
	if err := checkDistance("--max-distance", c.Float64("max-distance"), true); err != nil {
		return err
	}
	inDirs, err := existingDirs("--in", c.StringSlice("in"))
	if err != nil {
		return err
	}
	if c.NArg() == 0 && c.String("vector") == "" {
		return usagef("query needs an IMAGE, '-', TEXT or --vector FILE")
	}
	r, err := openStoreReader(c)
	if err != nil {
		return err
	}
	defer r.Close()
	if r.Len() == 0 {
		return fmt.Errorf("store %s holds no images yet: run 'embedsearch index DIR' first", r.Dir())
	}

	qe := newQueryEmbedder(c, r)
	defer qe.Close()
	inputs, err := resolveQueries(c, r, qe)
	if err != nil {
		return err
	}
	if c.Bool("mean") && len(inputs) > 1 {
		inputs = []queryInput{meanQuery(inputs, r.Dim())}
	}

	allow, err := queryAllow(c, r, inputs, inDirs)
	if err != nil {
		return err
	}
	ann, note := queryANN(r, c.Bool("exact"), len(inputs))
	if note != "" {
		fmt.Fprintf(c.App.ErrWriter, "embedsearch: %s\n", note)
	}
	qs := &querySearch{m: search.Matrix{Data: r.Vectors(), Dim: r.Dim()}, ann: ann, k: k, allow: allow,
		tie: func(a, b int) bool { return r.Path(a) < r.Path(b) }}
	maxDist := float32(c.Float64("max-distance"))
	answers := make([]queryAnswer, len(inputs))
	for i, in := range inputs {
		if in.selfDamaged {
			qs.damaged.add(in.selfID)
		}
		answers[i] = queryAnswer{Query: in.label, Model: r.Model().ModelID, Results: []queryResult{}}
		for rank, nb := range qs.nearest(in.vector) {
			if maxDist > 0 && nb.Dist > maxDist {
				break
			}
			answers[i].Results = append(answers[i].Results, queryResult{Rank: rank + 1, Path: r.Path(nb.ID), Distance: nb.Dist})
		}
	}
	if err := writeAnswers(c, answers); err != nil {
		return err
	}
	return qs.damaged.report(c.App.ErrWriter, r)
}

// querySearch answers the queries of one run over one store.
type querySearch struct {
	m       search.Matrix
	ann     *search.HNSW // nil: exact only
	k       int
	allow   func(int) bool // --filter, --in, --exclude-self
	tie     func(a, b int) bool
	damaged leftOut
}

// nearest returns the k rows nearest to q, through the approximate index
// when there is one, refined. The search ranks by inner products, which
// assume unit rows, so a damaged row (search.Damaged) can rank as
// "0.0000" and push a real neighbour out; Refine catches it among the k,
// and then every damaged row of the store is found (once per run) and the
// search runs again without them.
func (qs *querySearch) nearest(q []float32) []search.Neighbor {
	for {
		o := search.Options{Allow: qs.damaged.allow(qs.allow), TieLess: qs.tie}
		var found []search.Neighbor
		ok := false
		if qs.ann != nil {
			found, ok = annSearch(qs.ann, qs.m, q, qs.k, o)
		}
		if !ok {
			found = search.Exact(qs.m, q, qs.k, o)
		}
		found, damaged := search.Refine(qs.m, q, found, qs.tie)
		if len(damaged) == 0 || qs.damaged.scanned {
			return found
		}
		qs.damaged.scan(qs.m)
	}
}

// resolveQueries turns every argument (and --vector) into a normalised vector.
func resolveQueries(c *cli.Context, r *store.Reader, qe *queryEmbedder) ([]queryInput, error) {
	var inputs []queryInput
	if f := c.String("vector"); f != "" {
		v, err := readVectorFile(f, r.Dim())
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, queryInput{label: f, vector: v, selfID: -1})
	}
	stdinUsed := false
	for _, arg := range c.Args().Slice() {
		switch {
		case arg == "-":
			if stdinUsed {
				return nil, usagef("'-' (image on stdin) can be given only once")
			}
			stdinUsed = true
			data, err := io.ReadAll(io.LimitReader(c.App.Reader, maxStdinImage+1))
			if err != nil {
				return nil, fmt.Errorf("read stdin: %w", err)
			}
			if len(data) > maxStdinImage {
				return nil, fmt.Errorf("image on stdin is larger than %d MiB", maxStdinImage>>20)
			}
			v, err := qe.image(data, "stdin")
			if err != nil {
				return nil, err
			}
			inputs = append(inputs, queryInput{label: "-", vector: v, selfID: -1})
		case isFile(arg):
			in, err := fileQuery(c.Context, r, qe, arg)
			if err != nil {
				return nil, err
			}
			inputs = append(inputs, in)
		case looksLikePath(arg):
			if st, err := os.Stat(arg); err == nil {
				return nil, fmt.Errorf("query image %s: %w (%s)", arg, inputfile.ErrNotRegular, inputfile.Kind(st.Mode()))
			}
			return nil, fmt.Errorf("query image %s: no such file", arg)
		default:
			v, err := qe.text(arg)
			if err != nil {
				return nil, err
			}
			inputs = append(inputs, queryInput{label: arg, vector: v, selfID: -1})
		}
	}
	return inputs, nil
}

const maxStdinImage = 256 << 20

// fileQuery reuses the stored vector of an indexed file whose size and mtime
// are unchanged, and embeds the file otherwise (also when the stored vector
// is damaged: the row is then left out of the results).
func fileQuery(ctx context.Context, r *store.Reader, qe *queryEmbedder, arg string) (queryInput, error) {
	abs, err := filepath.Abs(arg)
	if err != nil {
		return queryInput{}, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return queryInput{}, err
	}
	damaged := false
	if id, ok := r.Lookup(abs); ok {
		e := r.Entry(id)
		damaged = search.Damaged(r.Vector(id))
		if e.Size == st.Size() && e.ModTime.Equal(st.ModTime()) && !damaged {
			v := append([]float32(nil), r.Vector(id)...)
			return queryInput{label: arg, vector: v, selfID: id}, nil
		}
	}
	if err := qe.open(); err != nil {
		return queryInput{}, err
	}
	data, _, err := inputfile.ReadAll(ctx, abs, inputfile.Options{FollowLinks: true, MaxSize: qe.eng.Encoder.MaxFileSize()})
	if err != nil {
		return queryInput{}, fmt.Errorf("query image: %w", err)
	}
	v, err := qe.image(data, arg)
	if err != nil {
		return queryInput{}, err
	}
	self := -1
	if id, ok := r.Lookup(abs); ok {
		self = id
	}
	return queryInput{label: arg, vector: v, selfID: self, selfDamaged: damaged}, nil
}

// isFile: a query argument naming anything but a directory is a file query
// (a FIFO or device is then refused by the opener, never waited on).
func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// looksLikePath tells a mistyped file name from a text query: text queries
// are words, paths have separators or an image extension.
func looksLikePath(s string) bool {
	if strings.ContainsRune(s, os.PathSeparator) && !strings.ContainsRune(s, ' ') {
		return true
	}
	if preprocess.IsImageName(s) || preprocess.UnsupportedImageName(s) != "" {
		return !strings.ContainsRune(s, ' ')
	}
	return false
}

func readVectorFile(path string, dim int) ([]float32, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var v []float32
	if err := json.Unmarshal(data, &v); err != nil {
		var obj struct {
			Vector []float32 `json:"vector"`
		}
		if err2 := json.Unmarshal(data, &obj); err2 != nil || obj.Vector == nil {
			return nil, fmt.Errorf("--vector %s: want a JSON array of numbers or {\"vector\": [...]}: %v", path, err)
		}
		v = obj.Vector
	}
	if len(v) != dim {
		return nil, fmt.Errorf("--vector %s has %d numbers; this store's model has dim %d", path, len(v), dim)
	}
	if search.Normalize(v) == 0 {
		return nil, fmt.Errorf("--vector %s is all zeros", path)
	}
	return v, nil
}

func meanQuery(inputs []queryInput, dim int) queryInput {
	mean := make([]float32, dim)
	labels := make([]string, len(inputs))
	for i, in := range inputs {
		labels[i] = in.label
		for j, x := range in.vector {
			mean[j] += x
		}
	}
	search.Normalize(mean)
	return queryInput{label: "mean(" + strings.Join(labels, ", ") + ")", vector: mean, selfID: -1}
}

// queryAllow combines --filter, --in (inDirs, absolute) and --exclude-self
// into one predicate applied before ranking.
func queryAllow(c *cli.Context, r *store.Reader, inputs []queryInput, inDirs []string) (func(int) bool, error) {
	var preds []func(int) bool
	if q := c.String("filter"); q != "" {
		f, err := storeFilter(r, q)
		if err != nil {
			return nil, err
		}
		preds = append(preds, f)
	}
	if len(inDirs) > 0 {
		preds = append(preds, func(id int) bool { return fspath.WithinAny(inDirs, r.Path(id)) })
	}
	if c.Bool("exclude-self") {
		self := map[int]bool{}
		for _, in := range inputs {
			if in.selfID >= 0 {
				self[in.selfID] = true
			}
		}
		preds = append(preds, func(id int) bool { return !self[id] })
	}
	if len(preds) == 0 {
		return nil, nil
	}
	return func(id int) bool {
		for _, p := range preds {
			if !p(id) {
				return false
			}
		}
		return true
	}, nil
}

func writeAnswers(c *cli.Context, answers []queryAnswer) error {
	w := c.App.Writer
	if c.Bool("json") || c.Bool("jsonl") {
		for i := range answers {
			a := &answers[i]
			a.QueryBytes = nameBytes(a.Query)
			for j := range a.Results {
				a.Results[j].PathBytes = nameBytes(a.Results[j].Path)
			}
		}
	}
	switch {
	case c.Bool("json"):
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if len(answers) == 1 {
			return enc.Encode(answers[0])
		}
		return enc.Encode(answers)
	case c.Bool("jsonl"):
		enc := json.NewEncoder(w)
		for _, a := range answers {
			for _, res := range a.Results {
				line := struct {
					Query      string `json:"query"`
					QueryBytes string `json:"query_bytes,omitempty"`
					queryResult
				}{a.Query, a.QueryBytes, res}
				if err := enc.Encode(line); err != nil {
					return err
				}
			}
		}
		return nil
	case c.Bool("csv"):
		cw := csv.NewWriter(w)
		cw.Write([]string{"query", "rank", "distance", "path"})
		for _, a := range answers {
			for _, res := range a.Results {
				cw.Write([]string{a.Query, strconv.Itoa(res.Rank), formatDist(res.Distance), res.Path})
			}
		}
		cw.Flush()
		return cw.Error()
	case c.Bool("paths"):
		end := "\n"
		if c.Bool("null") {
			end = "\x00"
		}
		for _, a := range answers {
			for _, res := range a.Results {
				if _, err := io.WriteString(w, res.Path+end); err != nil {
					return err
				}
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, a := range answers {
		if len(answers) > 1 {
			if i > 0 {
				fmt.Fprintln(tw)
			}
			fmt.Fprintf(tw, "# %s\n", a.Query)
		}
		if len(a.Results) == 0 {
			fmt.Fprintln(tw, "(no results)")
		}
		for _, res := range a.Results {
			fmt.Fprintf(tw, "%d\t%s\t%s\n", res.Rank, formatDist(res.Distance), res.Path)
		}
	}
	return tw.Flush()
}

func formatDist(d float32) string { return strconv.FormatFloat(float64(d), 'f', 4, 32) }

var errNoTextTower = errors.New("text queries need a model with a text tower")
