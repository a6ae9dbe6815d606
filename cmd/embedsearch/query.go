package main

import (
	"context"
	"fmt"
	"io"

	"github.com/embedsearch/embedsearch/collection"
	"github.com/urfave/cli/v2"
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
			&cli.IntFlag{Name: "k", Value: 10, Usage: "results per query"},
			// -n was -k's alias; it means --dry-run (dedup) now: refused, not ignored.
			&cli.IntFlag{Name: "n", Hidden: true},
			&cli.Float64Flag{Name: "max-distance", Usage: "drop results farther than `D` (0 = no limit)"},
			&cli.StringSliceFlag{Name: "in", Usage: "only results under `DIR` (repeatable)"},
			&cli.StringFlag{Name: "filter", Usage: "bleve query over the catalog, e.g. 'ext:png width:>1000' (see README)"},
			&cli.BoolFlag{Name: "exact", Usage: "always scan every vector (skip the approximate index)"},
			&cli.BoolFlag{Name: "mean", Usage: "search once with the normalised mean of all queries (\"more like these\")"},
			&cli.BoolFlag{Name: "exclude-self", Usage: "drop the query files themselves from the results"},
			&cli.StringFlag{Name: "vector", Usage: "query with the vector in `FILE.json` (a JSON array, or {\"vector\": [...]})"},
			&cli.BoolFlag{Name: "json", Usage: "one JSON object: {\"version\", \"model\", \"queries\": [{\"query\", \"results\"}]}"},
			&cli.BoolFlag{Name: "jsonl", Usage: "one JSON result per line (streaming), each with its query and version"},
			&cli.BoolFlag{Name: "csv", Usage: "CSV: query,rank,distance,path"},
			&cli.BoolFlag{Name: "paths", Usage: "bare result paths, one per line (for xargs)"},
			&cli.BoolFlag{Name: "null", Aliases: []string{"0"}, Usage: "with --paths: NUL-terminated"},
		}, engineFlags()...),
		Action: func(c *cli.Context) error {
			o, err := queryOptionsFrom(c)
			if err != nil {
				return err
			}
			return runQuery(c.Context, o, c.Args().Slice(), c.App.Reader, c.App.Writer, c.App.ErrWriter)
		},
	}
}

// queryOptions are query's parsed flags.
type queryOptions struct {
	Store  string
	Model  string // --model: "" for the store's own
	Engine engineOptions
	K      int
	// MaxDistance drops results farther (0: no limit).
	MaxDistance float64
	In          []string // absolute, existing folders
	Filter      string
	Exact       bool
	Mean        bool
	ExcludeSelf bool
	Vector      string // --vector FILE
	Format      string // "" (a table), json, jsonl, csv, paths
	Null        bool   // --paths -0
}

func queryOptionsFrom(c *cli.Context) (queryOptions, error) {
	o := queryOptions{K: c.Int("k"), MaxDistance: c.Float64("max-distance"), Filter: c.String("filter"),
		Exact: c.Bool("exact"), Mean: c.Bool("mean"), ExcludeSelf: c.Bool("exclude-self"), Vector: c.String("vector"),
		Null: c.Bool("null")}
	for _, f := range []string{"json", "jsonl", "csv", "paths"} {
		if c.Bool(f) {
			if o.Format != "" {
				return o, usagef("choose one of --json, --jsonl, --csv, --paths")
			}
			o.Format = f
		}
	}
	if c.IsSet("n") {
		return o, usagef("query -n is now -k: use -k %d (-n means --dry-run, in dedup)", c.Int("n"))
	}
	if o.Null && o.Format != "paths" {
		return o, usagef("-0 only goes with --paths")
	}
	if o.K < 1 {
		return o, usagef("-k must be at least 1 (got %d)", o.K)
	}
	if err := checkDistance("--max-distance", o.MaxDistance, true); err != nil {
		return o, err
	}
	var err error
	if o.In, err = existingDirs("--in", c.StringSlice("in")); err != nil {
		return o, err
	}
	if c.NArg() == 0 && o.Vector == "" {
		return o, usagef("query needs an IMAGE, '-', TEXT or --vector FILE")
	}
	if o.Engine, err = engineOptionsFrom(c); err != nil {
		return o, err
	}
	if c.IsSet("model") {
		o.Model = c.String("model")
	}
	o.Store, err = storeDir(c)
	return o, err
}

func runQuery(ctx context.Context, o queryOptions, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if isRemote(o.Store) && serverSearch {
		if done, err := serverQuery(ctx, o, args, stdin, stdout, stderr); done {
			return err
		}
	}
	r, err := openReader(ctx, o.Store)
	if err != nil {
		return err
	}
	defer r.Close()
	if r.Len() == 0 {
		return fmt.Errorf("store %s holds no images yet: run 'embedsearch index DIR' first", r.Dir())
	}
	if o.Model != "" {
		// --model must be the store's, even when every query reuses a
		// stored vector and no model runs.
		if _, _, err := collection.Model(r.Dir(), o.Model); err != nil {
			return err
		}
	}

	qe := &queryEmbedder{ctx: ctx, dir: r.Dir(), spec: o.Model, engine: o.Engine, stderr: stderr}
	defer qe.Close()
	inputs, err := resolveQueries(ctx, o, args, stdin, r, qe)
	if err != nil {
		return err
	}
	if o.Mean && len(inputs) > 1 {
		inputs = []queryInput{meanQuery(inputs, r.Dim())}
	}
	allow, err := queryAllow(o, r, inputs)
	if err != nil {
		return err
	}
	srch := collection.NewSearcher(r, searchOptions(o.Exact, len(inputs)))
	searchNote(stderr, srch)
	vecs := make([][]float32, len(inputs))
	for i, in := range inputs {
		vecs[i] = in.vector
		if in.selfDamaged {
			srch.LeaveOut(in.selfID)
		}
	}
	found, err := srch.NearestMany(ctx, vecs, o.K, allow)
	if err != nil {
		return err
	}
	answers := make([]queryAnswer, len(inputs))
	for i, in := range inputs {
		answers[i] = queryAnswer{Query: in.label, Results: []queryResult{}}
		for rank, nb := range found[i] {
			if o.MaxDistance > 0 && float64(nb.Dist) > o.MaxDistance {
				break
			}
			answers[i].Results = append(answers[i].Results, queryResult{Rank: rank + 1, Path: r.Path(nb.ID), Distance: nb.Dist})
		}
	}
	if err := writeAnswers(stdout, o, r.Model().ModelID, answers); err != nil {
		return err
	}
	return reportDamaged(stderr, r, srch)
}
