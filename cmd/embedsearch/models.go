package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/embedsearch/embedsearch/models"
)

func cacheDirFlag() cli.Flag {
	return &cli.StringFlag{Name: "cache-dir", EnvVars: []string{models.EnvCacheDir},
		Usage: "model cache `DIR` (default: the user cache directory, embedsearch/models)"}
}

func newModelsCommand() *cli.Command {
	jsonFlag := &cli.BoolFlag{Name: "json", Usage: "print JSON"}
	return &cli.Command{
		Name:  "models",
		Usage: "list, inspect, download, verify and remove encoders",
		Description: "Zoo models are downloaded into a content-addressed cache (files named by their SHA-256,\n" +
			"each model's manifest written last). Use a model with --model NAME after 'models pull NAME',\n" +
			"or --model DIR for a directory holding manifest.json and the files it lists.",
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list the built-in and zoo models: dimension, text tower, whether cached",
				Flags: []cli.Flag{jsonFlag, cacheDirFlag()},
				Action: func(c *cli.Context) error {
					return runModelsList(c.Context, modelsOptionsFrom(c), c.App.Writer)
				},
			},
			{
				Name:      "info",
				Usage:     "show a model's source, files, tensors, preprocessing, licence and thresholds",
				ArgsUsage: "NAME|DIR",
				Flags:     []cli.Flag{jsonFlag, cacheDirFlag()},
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return usagef("models info needs one model name or directory")
					}
					return runModelsInfo(c.Context, modelsOptionsFrom(c), c.Args().First(), c.App.Writer)
				},
			},
			{
				Name:      "pull",
				Usage:     "download zoo models into the cache (resumable, verified)",
				ArgsUsage: "NAME...",
				Flags: []cli.Flag{
					cacheDirFlag(),
					&cli.StringFlag{Name: "base-url", EnvVars: []string{models.EnvBaseURL},
						Usage: "download from this mirror `URL` (same repository layout) instead of " + models.ZooBaseURL},
					&cli.BoolFlag{Name: "offline", Usage: "never download; succeed only for models already in the cache"},
				},
				Action: func(c *cli.Context) error {
					if c.NArg() == 0 {
						return usagef("models pull needs at least one model name (see 'embedsearch models list')")
					}
					return runModelsPull(c.Context, modelsOptionsFrom(c), c.Args().Slice(), c.App.Writer, c.App.ErrWriter)
				},
			},
			{
				Name:      "verify",
				Usage:     "re-read cached models and check every file's size and SHA-256",
				ArgsUsage: "[NAME...]  (default: every cached model)",
				Flags:     []cli.Flag{cacheDirFlag()},
				Action: func(c *cli.Context) error {
					return runModelsVerify(c.Context, modelsOptionsFrom(c), c.Args().Slice(), c.App.Writer, c.App.ErrWriter)
				},
			},
			{
				Name:      "rm",
				Usage:     "remove models from the cache (files another cached model uses are kept)",
				ArgsUsage: "NAME...",
				Description: "The digests recorded at the first download of files the registry has none for\n" +
					"stay, so that a model pulled again must come back byte for byte; --forget drops\n" +
					"them too (after the publisher really changed a file).",
				Flags: []cli.Flag{cacheDirFlag(),
					&cli.BoolFlag{Name: "forget", Usage: "also forget the digests recorded at the first download"}},
				Action: func(c *cli.Context) error {
					if c.NArg() == 0 {
						return usagef("models rm needs at least one model name")
					}
					o := modelsOptionsFrom(c)
					o.Forget = c.Bool("forget")
					return runModelsRemove(c.Context, o, c.Args().Slice(), c.App.Writer)
				},
			},
		},
	}
}

// modelsOptions are the flags of the models subcommands.
type modelsOptions struct {
	CacheDir string
	JSON     bool
	Pull     models.PullOptions // pull's --base-url and --offline
	Forget   bool               // rm --forget
}

func modelsOptionsFrom(c *cli.Context) modelsOptions {
	return modelsOptions{CacheDir: c.String("cache-dir"), JSON: c.Bool("json"),
		Pull: models.PullOptions{BaseURL: c.String("base-url"), Offline: c.Bool("offline")}}
}

// modelRow is one line of `models list --json`.
type modelRow struct {
	Name        string `json:"name"`
	ID          string `json:"id"`
	Dim         int    `json:"dim"`
	Text        bool   `json:"text"`
	Cached      bool   `json:"cached"`
	Description string `json:"description"`
	License     string `json:"license"`
	Builtin     bool   `json:"builtin"` // embedded in the binary (the default built-in model or another)
}

func runModelsList(ctx context.Context, o modelsOptions, stdout io.Writer) error {
	cacheDir, asJSON := o.CacheDir, o.JSON
	cache, err := models.NewCache(cacheDir)
	if err != nil {
		return err
	}
	var rows []modelRow
	if b, err := models.Builtin(); err == nil {
		m := b.Manifest
		rows = append(rows, modelRow{Name: models.BuiltinName, ID: m.ID, Dim: m.Dim, Text: m.Text != nil, Cached: true,
			Description: m.Description, License: m.License, Builtin: true})
	}
	for _, id := range models.OtherBuiltins() {
		if b, err := models.OpenID(id); err == nil {
			m := b.Manifest
			rows = append(rows, modelRow{Name: id, ID: m.ID, Dim: m.Dim, Text: m.Text != nil, Cached: true,
				Description: m.Description, License: m.License, Builtin: true})
		}
	}
	for _, e := range models.Zoo() {
		m := e.Manifest
		rows = append(rows, modelRow{Name: e.Name, ID: m.ID, Dim: m.Dim, Text: e.HasText(), Cached: cache.Cached(e.Name),
			Description: m.Description, License: m.License})
	}
	w := stdout
	if asJSON {
		return writeJSON(w, rows)
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "NAME\tDIM\tTEXT\tCACHED\tDESCRIPTION")
	for _, r := range rows {
		cached := yesNo(r.Cached)
		if r.Builtin {
			cached = "built in"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", r.Name, r.Dim, yesNo(r.Text), cached, r.Description)
	}
	return tw.Flush()
}

func runModelsPull(ctx context.Context, mo modelsOptions, names []string, stdout, stderr io.Writer) error {
	cacheDir, o := mo.CacheDir, mo.Pull
	cache, err := models.NewCache(cacheDir)
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, ok := models.LookupZoo(n); !ok {
			return usagef("unknown model %q; known: %s", n, strings.Join(models.ZooNames(), ", "))
		}
	}
	bar := newProgress(stderr, false)
	o.Progress = func(p models.Progress) {
		total := p.Total
		if total == 0 {
			total = -1
		}
		bar.show(p.Model+"/"+p.File, unitBytes, p.Done, total)
	}
	for _, n := range names {
		m, err := cache.Pull(ctx, n, o)
		bar.done()
		if err != nil {
			return fmt.Errorf("pull %s: %w", n, err)
		}
		var total int64
		for _, f := range m.Manifest.Files {
			total += f.Size
		}
		fmt.Fprintf(stdout, "%s: ready (%d files, %s) in %s\n", n, len(m.Manifest.Files), humanBytes(total), m.Dir)
	}
	return nil
}

func runModelsVerify(ctx context.Context, o modelsOptions, names []string, stdout, stderr io.Writer) error {
	cacheDir := o.CacheDir
	cache, err := models.NewCache(cacheDir)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		if names, err = cache.CachedNames(); err != nil {
			return err
		}
		if len(names) == 0 {
			fmt.Fprintf(stdout, "no models in the cache %s\n", cache.Root)
			return nil
		}
	}
	bad := 0
	for _, n := range names {
		checks, err := cache.Verify(n)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", n, err)
			bad++
			continue
		}
		ok := true
		for _, fc := range checks {
			if fc.Err != nil {
				ok = false
				fmt.Fprintf(stderr, "%s: %v\n", n, fc.Err)
			}
		}
		if ok {
			fmt.Fprintf(stdout, "%s: ok (%d files)\n", n, len(checks))
		} else {
			bad++
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d model(s) failed verification; run 'embedsearch models pull NAME' to repair", bad)
	}
	return nil
}

func runModelsRemove(ctx context.Context, o modelsOptions, names []string, stdout io.Writer) error {
	cacheDir := o.CacheDir
	cache, err := models.NewCache(cacheDir)
	if err != nil {
		return err
	}
	for _, n := range names {
		freed, err := cache.Remove(n)
		switch {
		case errors.Is(err, models.ErrNotCached) && o.Forget:
		case errors.Is(err, models.ErrNotCached):
			return fmt.Errorf("%s is not in the cache %s", n, cache.Root)
		case err != nil:
			return fmt.Errorf("remove %s: %w", n, err)
		default:
			fmt.Fprintf(stdout, "removed %s (freed %s)\n", n, humanBytes(freed))
		}
		if !o.Forget {
			continue
		}
		e, ok := models.LookupZoo(n)
		if !ok {
			continue
		}
		forgot, err := cache.Forget(ctx, &e.Manifest)
		if err != nil {
			return fmt.Errorf("forget %s: %w", n, err)
		}
		fmt.Fprintf(stdout, "forgot %d recorded digest(s) of %s\n", forgot, n)
	}
	return nil
}
