package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/embedsearch/embedsearch/models"
)

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
	// Digest: "registry" (known in advance), "first-download" (not
	// published: the first download was checked structurally and its
	// digest recorded, checked on every use), "recorded" (not cached now,
	// but a digest recorded at an earlier download holds the next one),
	// "unknown" (not pulled yet), or "manifest" for local and built-in
	// models.
	Digest string `json:"digest"`
	// Recorded is when that digest was recorded ("first-download",
	// "recorded").
	Recorded *time.Time `json:"recorded,omitempty"`
}

func runModelsInfo(ctx context.Context, o modelsOptions, spec string, stdout io.Writer) error {
	cacheDir, asJSON := o.CacheDir, o.JSON
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
			row := modelInfoFile{Name: f.Name, Size: f.Size, SHA256: f.SHA256}
			pin, pinned := cache.Pinned(e.Manifest.Files[i])
			switch {
			case d != "":
			case e.Manifest.Files[i].SHA256 != "":
				d = "registry"
			case pinned:
				d, row.Size, row.SHA256 = "recorded", pin.Size, pin.SHA256
			default:
				d = "unknown"
			}
			if pinned && d != "registry" {
				row.Recorded = &pin.First
			}
			row.Digest = d
			info.Files = append(info.Files, row)
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
		return writeJSON(stdout, info)
	}
	printModelInfo(stdout, &info)
	return nil
}

func printModelInfo(w io.Writer, info *modelInfo) {
	m := info.Manifest
	tw := newTable(w)
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
	if h := m.Head; h != nil {
		line("head", "%s: %s [N,%d] -> %s [N,%d], after the image tower of %s (sha256 %.12s, not in this folder)",
			h.File, h.Input, h.InputDim, h.Output, m.Dim, h.Base.ID, h.Base.SHA256)
	}
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
		first := ""
		if f.Recorded != nil {
			first = " on " + f.Recorded.Format("2006-01-02")
		}
		how := map[string]string{
			"registry": "verified: digest published in the registry, checked on download and every use",
			"first-download": "unverified: digest not published; the first download's structure was checked (ONNX graph, " +
				"input and output names and shapes) and its digest recorded" + first + ", enforced on every later download and use",
			"recorded": "not cached; digest recorded at its first download" + first + ": the next download must match it",
			"unknown":  "unverified: digest not published; the first download is checked structurally and its digest recorded",
			"manifest": "from the manifest",
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
