package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

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
				Name:   "list",
				Usage:  "list the built-in and zoo models: dimension, text tower, whether cached",
				Flags:  []cli.Flag{jsonFlag, cacheDirFlag()},
				Action: func(c *cli.Context) error { return runModelsList(c, c.String("cache-dir"), c.Bool("json")) },
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
					return runModelsInfo(c, c.String("cache-dir"), c.Args().First(), c.Bool("json"))
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
					o := models.PullOptions{BaseURL: c.String("base-url"), Offline: c.Bool("offline")}
					return runModelsPull(c, c.String("cache-dir"), c.Args().Slice(), o)
				},
			},
			{
				Name:      "verify",
				Usage:     "re-read cached models and check every file's size and SHA-256",
				ArgsUsage: "[NAME...]  (default: every cached model)",
				Flags:     []cli.Flag{cacheDirFlag()},
				Action: func(c *cli.Context) error {
					return runModelsVerify(c, c.String("cache-dir"), c.Args().Slice())
				},
			},
			{
				Name:      "rm",
				Usage:     "remove models from the cache (files another cached model uses are kept)",
				ArgsUsage: "NAME...",
				Flags:     []cli.Flag{cacheDirFlag()},
				Action: func(c *cli.Context) error {
					if c.NArg() == 0 {
						return usagef("models rm needs at least one model name")
					}
					return runModelsRemove(c, c.String("cache-dir"), c.Args().Slice())
				},
			},
		},
	}
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
}

func runModelsList(c *cli.Context, cacheDir string, asJSON bool) error {
	cache, err := models.NewCache(cacheDir)
	if err != nil {
		return err
	}
	var rows []modelRow
	if b, err := models.Builtin(); err == nil {
		m := b.Manifest
		rows = append(rows, modelRow{Name: models.BuiltinName, ID: m.ID, Dim: m.Dim, Text: m.Text != nil, Cached: true,
			Description: m.Description, License: m.License})
	}
	for _, e := range models.Zoo() {
		m := e.Manifest
		rows = append(rows, modelRow{Name: e.Name, ID: m.ID, Dim: m.Dim, Text: e.HasText(), Cached: cache.Cached(e.Name),
			Description: m.Description, License: m.License})
	}
	w := c.App.Writer
	if asJSON {
		return writeJSON(w, rows)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDIM\tTEXT\tCACHED\tDESCRIPTION")
	for _, r := range rows {
		cached := yesNo(r.Cached)
		if r.Name == models.BuiltinName {
			cached = "built in"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", r.Name, r.Dim, yesNo(r.Text), cached, r.Description)
	}
	return tw.Flush()
}

// modelInfo is `models info --json`.
type modelInfo struct {
	Name       string             `json:"name"`
	Cached     bool               `json:"cached"`
	Local      bool               `json:"local"` // a model directory (or the built-in model), not a zoo name
	Dir        string             `json:"dir,omitempty"`
	Manifest   *models.Manifest   `json:"manifest"`
	Files      []modelInfoFile    `json:"files"`
	Unverified []string           `json:"unverified"`
	Provenance *models.Provenance `json:"provenance,omitempty"`
}

type modelInfoFile struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`   // 0 when not known yet
	SHA256 string `json:"sha256"` // "" when not known yet
	// Digest: "registry" (known in advance), "first-download" (recorded at
	// the first download, checked on every use), "unknown" (not pulled yet),
	// or "manifest" for local and built-in models.
	Digest string `json:"digest"`
}

func runModelsInfo(c *cli.Context, cacheDir, spec string, asJSON bool) error {
	cache, err := models.NewCache(cacheDir)
	if err != nil {
		return err
	}
	info := modelInfo{Name: spec, Unverified: []string{}}
	if e, ok := models.LookupZoo(spec); ok {
		info.Manifest = &e.Manifest
		info.Unverified = append(info.Unverified, e.Unverified...)
		if cache.Cached(spec) {
			info.Cached, info.Dir = true, cache.ModelDir(spec)
			if m, err := cache.Manifest(spec); err == nil {
				info.Manifest = m
			}
			if p, err := cache.Provenance(spec); err == nil {
				info.Provenance = p
			}
		}
		src := map[string]string{}
		if info.Provenance != nil {
			for _, f := range info.Provenance.Files {
				src[f.Name] = f.DigestSource
			}
		}
		for i, f := range info.Manifest.Files {
			d := src[f.Name]
			switch {
			case d != "":
			case e.Manifest.Files[i].SHA256 != "":
				d = "registry"
			default:
				d = "unknown"
			}
			info.Files = append(info.Files, modelInfoFile{Name: f.Name, Size: f.Size, SHA256: f.SHA256, Digest: d})
		}
	} else {
		m, err := models.Open(spec)
		if err != nil {
			return err
		}
		info.Manifest, info.Cached, info.Local, info.Dir = m.Manifest, true, true, m.Dir
		for _, f := range m.Manifest.Files {
			info.Files = append(info.Files, modelInfoFile{Name: f.Name, Size: f.Size, SHA256: f.SHA256, Digest: "manifest"})
		}
	}
	if asJSON {
		return writeJSON(c.App.Writer, info)
	}
	printModelInfo(c.App.Writer, &info)
	return nil
}

func printModelInfo(w io.Writer, info *modelInfo) {
	m := info.Manifest
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	line := func(k, format string, args ...any) {
		fmt.Fprintf(tw, "%s:\t"+format+"\n", append([]any{k}, args...)...)
	}
	line("name", "%s", info.Name)
	line("id", "%s", m.ID)
	if m.Description != "" {
		line("description", "%s", m.Description)
	}
	line("licence", "%s", m.License)
	if m.Source != nil {
		line("source", "%s @ %s", m.Source.Repo, m.Source.Revision)
	}
	line("dim", "%d", m.Dim)
	in := m.Image.Input
	batch := "fixed batch"
	if in.DynamicBatch {
		batch = "dynamic batch"
	}
	line("image tower", "%s: %s [N,%d,%d,%d] %s (%s) -> %s", m.Image.File, in.Name, in.Channels, in.Height, in.Width, in.DType, batch, m.Image.Output.Name)
	if m.Text != nil {
		line("text tower", "%s: %s [N,%d] %s -> %s", m.Text.File, m.Text.Input.Name, m.Text.Input.Context, m.Text.Input.DType, m.Text.Output.Name)
		if t := m.Tokenizer; t != nil {
			vocab := t.Vocab
			if vocab == "" {
				vocab = "built-in CLIP vocabulary"
			}
			line("tokenizer", "%s (%s), context %d, pad id %d", t.Kind, vocab, t.Context, t.PadID)
		}
	} else {
		line("text tower", "none (text queries need one of: %s)", strings.Join(models.TextModels(), ", "))
	}
	p := m.Preprocess
	resize := fmt.Sprintf("%s %d", p.Resize, p.Size)
	if p.Resize == models.ResizeSquash {
		resize = "squash"
	}
	line("preprocess", "%s -> %dx%d, %s, rescale %.6g, mean %v, std %v", resize, p.Crop[0], p.Crop[1], p.Interpolation, p.Rescale, p.Mean, p.Std)
	line("thresholds", "exact %.3g, near %.3g, similar %.3g (Euclidean, unit vectors)", m.Thresholds.Exact, m.Thresholds.Near, m.Thresholds.Similar)
	switch {
	case info.Local && info.Dir != "":
		line("location", "%s", info.Dir)
	case info.Local:
		line("location", "built into the binary")
	case info.Cached:
		line("cached", "yes, %s", info.Dir)
	default:
		line("cached", "no (embedsearch models pull %s)", info.Name)
	}
	tw.Flush()
	fmt.Fprintln(w, "files:")
	for _, f := range info.Files {
		size, sum := "size unknown", "sha256 unknown"
		if f.Size > 0 {
			size = humanBytes(f.Size)
		}
		if f.SHA256 != "" {
			sum = "sha256 " + f.SHA256
		}
		how := map[string]string{
			"registry":       "digest known in advance",
			"first-download": "digest recorded at first download, checked on every use",
			"unknown":        "digest not known in advance: recorded at first download, then checked on every use",
			"manifest":       "from the manifest",
		}[f.Digest]
		fmt.Fprintf(w, "  %s  %s  %s  (%s)\n", f.Name, size, sum, how)
	}
	if len(info.Unverified) > 0 {
		fmt.Fprintln(w, "unverified:")
		for _, u := range info.Unverified {
			fmt.Fprintf(w, "  - %s\n", u)
		}
	}
}

func runModelsPull(c *cli.Context, cacheDir string, names []string, o models.PullOptions) error {
	cache, err := models.NewCache(cacheDir)
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, ok := models.LookupZoo(n); !ok {
			return usagef("unknown model %q; known: %s", n, strings.Join(models.ZooNames(), ", "))
		}
	}
	bar := newProgressBar(c.App.ErrWriter)
	o.Progress = bar.update
	for _, n := range names {
		m, err := cache.Pull(c.Context, n, o)
		bar.done()
		if err != nil {
			return fmt.Errorf("pull %s: %w", n, err)
		}
		var total int64
		for _, f := range m.Manifest.Files {
			total += f.Size
		}
		fmt.Fprintf(c.App.Writer, "%s: ready (%d files, %s) in %s\n", n, len(m.Manifest.Files), humanBytes(total), m.Dir)
	}
	return nil
}

func runModelsVerify(c *cli.Context, cacheDir string, names []string) error {
	cache, err := models.NewCache(cacheDir)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		if names, err = cache.CachedNames(); err != nil {
			return err
		}
		if len(names) == 0 {
			fmt.Fprintf(c.App.Writer, "no models in the cache %s\n", cache.Root)
			return nil
		}
	}
	bad := 0
	for _, n := range names {
		checks, err := cache.Verify(n)
		if err != nil {
			errf(c, "%s: %v", n, err)
			bad++
			continue
		}
		ok := true
		for _, fc := range checks {
			if fc.Err != nil {
				ok = false
				errf(c, "%s: %v", n, fc.Err)
			}
		}
		if ok {
			fmt.Fprintf(c.App.Writer, "%s: ok (%d files)\n", n, len(checks))
		} else {
			bad++
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d model(s) failed verification; run 'embedsearch models pull NAME' to repair", bad)
	}
	return nil
}

func runModelsRemove(c *cli.Context, cacheDir string, names []string) error {
	cache, err := models.NewCache(cacheDir)
	if err != nil {
		return err
	}
	for _, n := range names {
		freed, err := cache.Remove(n)
		if errors.Is(err, models.ErrNotCached) {
			return fmt.Errorf("%s is not in the cache %s", n, cache.Root)
		}
		if err != nil {
			return fmt.Errorf("remove %s: %w", n, err)
		}
		fmt.Fprintf(c.App.Writer, "removed %s (freed %s)\n", n, humanBytes(freed))
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// progressBar draws download progress on a terminal (one line, redrawn at
// most ten times a second) and stays silent otherwise.
type progressBar struct {
	w      io.Writer
	on     bool
	last   time.Time
	drawn  bool
	lastNm string
}

func newProgressBar(w io.Writer) *progressBar {
	f, ok := w.(*os.File)
	on := false
	if ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			on = true
		}
	}
	return &progressBar{w: w, on: on}
}

func (b *progressBar) update(p models.Progress) {
	if !b.on {
		return
	}
	now := time.Now()
	if p.File == b.lastNm && now.Sub(b.last) < 100*time.Millisecond && (p.Total == 0 || p.Done < p.Total) {
		return
	}
	b.last, b.lastNm, b.drawn = now, p.File, true
	if p.Total > 0 {
		pct := float64(p.Done) / float64(p.Total)
		const width = 30
		fill := int(pct * width)
		fmt.Fprintf(b.w, "\r%s %s/%s [%s%s] %3.0f%% ", p.Model+"/"+p.File, humanBytes(p.Done), humanBytes(p.Total),
			strings.Repeat("=", fill), strings.Repeat(" ", width-fill), pct*100)
	} else {
		fmt.Fprintf(b.w, "\r%s %s ", p.Model+"/"+p.File, humanBytes(p.Done))
	}
}

func (b *progressBar) done() {
	if b.on && b.drawn {
		fmt.Fprintln(b.w)
		b.drawn = false
	}
}
