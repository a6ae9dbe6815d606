package models

import (
	"errors"
	"path"
	"sort"
)

// ErrNoTextTower: a text query was asked of a model without a text tower.
var ErrNoTextTower = errors.New("model has no text tower")

// ZooEntry is a public encoder the tool knows how to download: a manifest
// whose files carry URLs relative to the zoo base URL (repository/resolve/
// revision/path), plus what could not be confirmed when the entry was
// written. A file whose digest is left empty is checked structurally when
// it is first downloaded (checkONNX), and its size and digest are recorded
// (Cache pins) and checked on every later download and use.
type ZooEntry struct {
	Name     string
	Manifest Manifest
	// Unverified lists the facts of this entry that were not confirmed
	// against the published files (shown by `models info`).
	Unverified []string
}

// HasText reports whether the entry has a text tower.
func (e *ZooEntry) HasText() bool { return e.Manifest.Text != nil }

// Preprocessing blocks, from each model's preprocessor_config.json.
var (
	// CLIPImageProcessor: shortest_edge 224, resample 3 (bicubic), centre crop 224.
	clipPreprocess = Preprocess{
		Resize: ResizeShortestCrop, Size: 224, Crop: [2]int{224, 224}, Interpolation: InterpBicubic,
		Rescale: 1.0 / 255,
		Mean:    [3]float64{0.48145466, 0.4578275, 0.40821073},
		Std:     [3]float64{0.26862954, 0.26130258, 0.27577711},
	}
	// MobileCLIP (CLIPFeatureExtractor): shortest_edge 256, resample 2
	// (bilinear), centre crop 256, do_normalize false.
	mobileclipPreprocess = Preprocess{
		Resize: ResizeShortestCrop, Size: 256, Crop: [2]int{256, 256}, Interpolation: InterpBilinear,
		Rescale: 1.0 / 255,
		Mean:    [3]float64{0, 0, 0},
		Std:     [3]float64{1, 1, 1},
	}
	// SiglipImageProcessor: size 224x224 (no crop), resample 3, mean/std 0.5.
	siglipPreprocess = Preprocess{
		Resize: ResizeSquash, Size: 224, Crop: [2]int{224, 224}, Interpolation: InterpBicubic,
		Rescale: 1.0 / 255,
		Mean:    [3]float64{0.5, 0.5, 0.5},
		Std:     [3]float64{0.5, 0.5, 0.5},
	}
	// BitImageProcessor (DINOv2): shortest_edge 256, resample 3, centre crop
	// 224, ImageNet mean/std.
	dinov2Preprocess = Preprocess{
		Resize: ResizeShortestCrop, Size: 256, Crop: [2]int{224, 224}, Interpolation: InterpBicubic,
		Rescale: 1.0 / 255,
		Mean:    [3]float64{0.485, 0.456, 0.406},
		Std:     [3]float64{0.229, 0.224, 0.225},
	}
)

// Default distance thresholds (Euclidean, unit vectors; d² = 2 − 2·cos).
// CLIP-like: exact ≈ cos 0.995, near ≈ cos 0.955, similar ≈ cos 0.82.
// DINOv2 spreads near-duplicates further apart. None is calibrated on data
// yet; every entry says so.
var (
	clipThresholds   = Thresholds{Exact: 0.10, Near: 0.30, Similar: 0.60}
	dinov2Thresholds = Thresholds{Exact: 0.15, Near: 0.45, Similar: 0.80}
)

const uncalibrated = "default thresholds are a starting point, not calibrated on a labelled set"

// clipTokenizer is OpenAI CLIP's BPE with the vocabulary built into the
// binary (Vocab ""), 77 tokens, zero padding.
func clipTokenizer() *Tokenizer {
	return &Tokenizer{Kind: "clip-bpe", Context: 77, PadID: 0, Lowercase: true}
}

func zooFile(repo, rev, file, sha string, size int64) File {
	return File{Name: path.Base(file), Size: size, SHA256: sha, URL: repo + "/resolve/" + rev + "/" + file}
}

func imageTower(file, input, output string, p Preprocess) ImageTower {
	return ImageTower{
		File: file,
		Input: ImageInput{Name: input, DType: "float32", Layout: "NCHW", Channels: 3,
			Height: p.Crop[0], Width: p.Crop[1], DynamicBatch: true},
		Output: OutputSpec{Name: output, DType: "float32"},
	}
}

func clipTextTower(file string) *TextTower {
	return &TextTower{
		File:         file,
		Input:        TextInput{Name: "input_ids", DType: "int64", Context: 77},
		Output:       OutputSpec{Name: "text_embeds", DType: "float32"},
		DynamicBatch: true,
	}
}

// zoo is the registry. Exports are the Transformers.js ONNX conversions
// (optimum; dynamic "batch_size" axis): CLIP-style towers are
// CLIP{Vision,Text}ModelWithProjection with outputs image_embeds /
// text_embeds; SigLIP's vision tower gives pooler_output.
var zoo = []ZooEntry{
	func() ZooEntry {
		const repo, rev = "Xenova/clip-vit-base-patch32", "4c1807b705b1d015fb032789cc4d221b23025a6f"
		return ZooEntry{
			Name: "clip-vit-b32",
			Manifest: Manifest{
				Format: ManifestFormat, ID: "clip-vit-b32-xenova-4c1807b",
				Description: "OpenAI CLIP ViT-B/32 (image and text towers)",
				License:     "MIT (OpenAI CLIP); see the openai/clip-vit-base-patch32 model card for use restrictions",
				Dim:         512,
				Files: []File{
					zooFile(repo, rev, "onnx/vision_model.onnx", "fd6e1402a588279d1723c7534d4bcba5bc0b14b47dfab0e46f8c47b8270d7d40", 0),
					zooFile(repo, rev, "onnx/text_model.onnx", "", 0),
				},
				Image:      imageTower("vision_model.onnx", "pixel_values", "image_embeds", clipPreprocess),
				Text:       clipTextTower("text_model.onnx"),
				Preprocess: clipPreprocess,
				Tokenizer:  clipTokenizer(),
				Thresholds: clipThresholds,
				Source:     &Source{Repo: repo, Revision: rev},
			},
			Unverified: []string{
				"exact byte sizes not published in what could be checked (recorded at first download; vision_model.onnx is checked against its published SHA-256)",
				"text_model.onnx: SHA-256 not known in advance: the first download is checked structurally (the ONNX graph parses; its input and output names and shapes match this manifest), then its digest is recorded at first download and enforced from then on, also after the model is removed from the cache",
				"ONNX input/output names taken from the export script, not read from the graphs",
				uncalibrated,
			},
		}
	}(),
	func() ZooEntry {
		const repo, rev = "Xenova/clip-vit-large-patch14", "main"
		return ZooEntry{
			Name: "clip-vit-l14",
			Manifest: Manifest{
				Format: ManifestFormat, ID: "clip-vit-l14-xenova",
				Description: "OpenAI CLIP ViT-L/14 (image and text towers)",
				License:     "MIT (OpenAI CLIP); see the openai/clip-vit-large-patch14 model card for use restrictions",
				Dim:         768,
				Files: []File{
					zooFile(repo, rev, "onnx/vision_model.onnx", "", 0),
					zooFile(repo, rev, "onnx/text_model.onnx", "", 0),
				},
				Image:      imageTower("vision_model.onnx", "pixel_values", "image_embeds", clipPreprocess),
				Text:       clipTextTower("text_model.onnx"),
				Preprocess: clipPreprocess,
				Tokenizer:  clipTokenizer(),
				Thresholds: clipThresholds,
				Source:     &Source{Repo: repo, Revision: rev},
			},
			Unverified: []string{
				"revision not pinned (main): the full commit id was not available; the first download is checked structurally (the ONNX graph parses; its input and output names and shapes match this manifest), then its digest is recorded at first download and enforced from then on, also after the model is removed from the cache",
				"sizes and SHA-256 of both files not known in advance",
				"ONNX input/output names taken from the export script, not read from the graphs",
				uncalibrated,
			},
		}
	}(),
	func() ZooEntry {
		const repo, rev = "Xenova/mobileclip_s0", "f13557b8ac7cf7f77adec07a1c70adfc3ea67f91"
		return ZooEntry{
			Name: "mobileclip-s0",
			Manifest: Manifest{
				Format: ManifestFormat, ID: "mobileclip-s0-xenova-f13557b",
				Description: "Apple MobileCLIP-S0 (image and text towers)",
				License:     "Apple MobileCLIP model licence (other); see apple/ml-mobileclip",
				Dim:         512,
				Files: []File{
					zooFile(repo, rev, "onnx/vision_model.onnx", "17d3c037b1d488c10c50e09f6009ea5a198caef4e0e8f4ea5617b7cb2d067ac0", 45543630),
					zooFile(repo, rev, "onnx/text_model.onnx", "6f3af89ca1872e80c10f05d91bbc01eff81f1d340812942da13afa713def543c", 169805586),
				},
				Image:      imageTower("vision_model.onnx", "pixel_values", "image_embeds", mobileclipPreprocess),
				Text:       clipTextTower("text_model.onnx"),
				Preprocess: mobileclipPreprocess,
				Tokenizer:  clipTokenizer(),
				Thresholds: clipThresholds,
				Source:     &Source{Repo: repo, Revision: rev},
			},
			Unverified: []string{
				"ONNX input/output names assumed from the CLIP-style export (CLIP*ModelWithProjection), not read from the graphs",
				uncalibrated,
			},
		}
	}(),
	func() ZooEntry {
		const repo, rev = "Xenova/mobileclip_s1", "257eb6914b15314e12061b43fb19b526bf9284c6"
		return ZooEntry{
			Name: "mobileclip-s1",
			Manifest: Manifest{
				Format: ManifestFormat, ID: "mobileclip-s1-xenova-257eb69",
				Description: "Apple MobileCLIP-S1 (image and text towers)",
				License:     "Apple MobileCLIP model licence (other); see apple/ml-mobileclip",
				Dim:         512,
				Files: []File{
					zooFile(repo, rev, "onnx/vision_model.onnx", "5dece7da38f907d440f91c86cca841919c5a1affd2329ca0e94f8593fd0bfbfb", 86048150),
					zooFile(repo, rev, "onnx/text_model.onnx", "fd48a390d9061f329146c983167c9db505541994c4bc00957fcea4f2bfe47dee", 253889284),
				},
				Image:      imageTower("vision_model.onnx", "pixel_values", "image_embeds", mobileclipPreprocess),
				Text:       clipTextTower("text_model.onnx"),
				Preprocess: mobileclipPreprocess,
				Tokenizer:  clipTokenizer(),
				Thresholds: clipThresholds,
				Source:     &Source{Repo: repo, Revision: rev},
			},
			Unverified: []string{
				"preprocessing taken from MobileCLIP-S0's preprocessor_config.json (256, bilinear, no normalisation); S1's own file was not seen",
				"ONNX input/output names assumed from the CLIP-style export (CLIP*ModelWithProjection), not read from the graphs",
				uncalibrated,
			},
		}
	}(),
	func() ZooEntry {
		const repo, rev = "Xenova/siglip-base-patch16-224", "65a4a3071a821054207f0a80eaa35fb2ed6d46f0"
		return ZooEntry{
			Name: "siglip-b16-224",
			Manifest: Manifest{
				Format: ManifestFormat, ID: "siglip-b16-224-xenova-65a4a30",
				Description: "Google SigLIP base patch16-224 (image tower only: SigLIP's SentencePiece tokenizer is not implemented)",
				License:     "Apache-2.0",
				Dim:         768,
				Files: []File{
					zooFile(repo, rev, "onnx/vision_model.onnx", "", 0),
				},
				Image:      imageTower("vision_model.onnx", "pixel_values", "pooler_output", siglipPreprocess),
				Preprocess: siglipPreprocess,
				Thresholds: clipThresholds,
				Source:     &Source{Repo: repo, Revision: rev},
			},
			Unverified: []string{
				"vision_model.onnx: size and SHA-256 not known in advance: the first download is checked structurally (the ONNX graph parses; its input and output names and shapes match this manifest), then its digest is recorded at first download and enforced from then on, also after the model is removed from the cache",
				"text tower left out: it needs SigLIP's SentencePiece tokenizer, which this build does not have",
				"ONNX input/output names taken from the export script, not read from the graph",
				uncalibrated,
			},
		}
	}(),
	func() ZooEntry {
		const repo, rev = "Xenova/dinov2-small", "bd222e886723524568931e43031f6d9327896fac"
		return ZooEntry{
			Name: "dinov2-small",
			Manifest: Manifest{
				Format: ManifestFormat, ID: "dinov2-small-xenova-bd222e8",
				Description: "Meta DINOv2 ViT-S/14 (image only; CLS embedding)",
				License:     "Apache-2.0",
				Dim:         384,
				Files: []File{
					zooFile(repo, rev, "onnx/model.onnx", "", 0),
				},
				Image:      imageTower("model.onnx", "pixel_values", "pooler_output", dinov2Preprocess),
				Preprocess: dinov2Preprocess,
				Thresholds: dinov2Thresholds,
				Source:     &Source{Repo: repo, Revision: rev},
			},
			Unverified: []string{
				"model.onnx: size and SHA-256 not known in advance: the first download is checked structurally (the ONNX graph parses; its input and output names and shapes match this manifest), then its digest is recorded at first download and enforced from then on, also after the model is removed from the cache",
				"output name pooler_output (layer-normed CLS token) assumed; if the export only has last_hidden_state, the first download is refused, naming the graph's outputs",
				uncalibrated,
			},
		}
	}(),
	func() ZooEntry {
		const repo, rev = "Xenova/dinov2-base", "fef96735014749b0e195358c3fc42cc00b08378e"
		return ZooEntry{
			Name: "dinov2-base",
			Manifest: Manifest{
				Format: ManifestFormat, ID: "dinov2-base-xenova-fef9673",
				Description: "Meta DINOv2 ViT-B/14 (image only; CLS embedding)",
				License:     "Apache-2.0",
				Dim:         768,
				Files: []File{
					zooFile(repo, rev, "onnx/model.onnx", "", 0),
				},
				Image:      imageTower("model.onnx", "pixel_values", "pooler_output", dinov2Preprocess),
				Preprocess: dinov2Preprocess,
				Thresholds: dinov2Thresholds,
				Source:     &Source{Repo: repo, Revision: rev},
			},
			Unverified: []string{
				"model.onnx: size and SHA-256 not known in advance: the first download is checked structurally (the ONNX graph parses; its input and output names and shapes match this manifest), then its digest is recorded at first download and enforced from then on, also after the model is removed from the cache",
				"output name pooler_output (layer-normed CLS token) assumed; if the export only has last_hidden_state, the first download is refused, naming the graph's outputs",
				uncalibrated,
			},
		}
	}(),
}

// Zoo returns the registry entries, sorted by name.
func Zoo() []ZooEntry {
	out := append([]ZooEntry(nil), zoo...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ZooNames lists the zoo model names, sorted.
func ZooNames() []string {
	var names []string
	for _, e := range zoo {
		names = append(names, e.Name)
	}
	sort.Strings(names)
	return names
}

// LookupZoo returns the registry entry for name.
func LookupZoo(name string) (ZooEntry, bool) {
	for _, e := range zoo {
		if e.Name == name {
			return e, true
		}
	}
	return ZooEntry{}, false
}

// TextModels lists the models (zoo names) that have a text tower, for
// errors that tell users which models can answer text queries.
func TextModels() []string {
	var names []string
	for _, e := range Zoo() {
		if e.HasText() {
			names = append(names, e.Name)
		}
	}
	return names
}

// Zoo names resolve through models.Open to the default cache; an entry that
// has not been pulled gives a *NotCachedError (ErrNotCached) naming it.
func init() {
	for _, e := range zoo {
		name := e.Name
		registry[name] = func() (*Model, error) {
			c, err := NewCache("")
			if err != nil {
				return nil, err
			}
			return c.Open(name)
		}
	}
}
