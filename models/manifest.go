package models

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ManifestFormat is the manifest schema version this build reads and writes.
const ManifestFormat = 1

// ManifestName is the file name of a manifest inside a model directory.
const ManifestName = "manifest.json"

// Manifest describes one model: its files, the tensors it takes and gives,
// how images must be prepared for it, and its default thresholds. It is the
// single description shared by the built-in model, zoo models and local
// model directories.
type Manifest struct {
	Format      int    `json:"format"`
	ID          string `json:"id"` // carries a version, e.g. "builtin-v3"
	Description string `json:"description,omitempty"`
	License     string `json:"license"`
	// Dim is the embedding dimension of the image (and text) output.
	Dim int `json:"dim"`
	// Normalized says the ONNX output is already L2-normalised. Outputs are
	// normalised again regardless; this only documents the export.
	Normalized bool       `json:"normalized"`
	Files      []File     `json:"files"`
	Image      ImageTower `json:"image"`
	Text       *TextTower `json:"text,omitempty"`
	Preprocess Preprocess `json:"preprocess"`
	Tokenizer  *Tokenizer `json:"tokenizer,omitempty"`
	Thresholds Thresholds `json:"thresholds"`
	// Dedup holds the constants of dedup's near-duplicate test for this
	// model; nil: the defaults (collection.DefaultCriterion) until a
	// calibration measures them.
	Dedup    *Dedup      `json:"dedup,omitempty"`
	Source   *Source     `json:"source,omitempty"`
	Training *TrainingID `json:"training,omitempty"`
	// Head, when set, makes this a tuned model: the image tower of the
	// base model it names (not copied into this model's folder) followed
	// by a small ONNX graph in this folder that maps the base's
	// normalised vector to this model's (embedsearch tune writes them).
	Head *Head `json:"head,omitempty"`
}

// Head is the second graph of a tuned model, run after its base model's
// image tower: input [N, InputDim] (the base's normalised vectors),
// output [N, Dim].
type Head struct {
	File     string `json:"file"`
	Input    string `json:"input"`
	Output   string `json:"output"`
	InputDim int    `json:"input_dim"`
	Base     Base   `json:"base"`
}

// Base names the model a tuned model's head follows: by its manifest id
// and the SHA-256 of its image tower file, which must match when the
// tuned model is opened; Source is the folder it was opened from when it
// is not a registered model.
type Base struct {
	ID     string `json:"id"`
	SHA256 string `json:"sha256"`
	Source string `json:"source,omitempty"`
}

// File is one file of a model with its expected size and SHA-256. An empty
// SHA256 means the digest is not known in advance (recorded at first download).
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	URL    string `json:"url,omitempty"` // relative to the zoo base URL
}

// ImageTower is the ONNX graph that maps pixels to an embedding.
type ImageTower struct {
	File   string     `json:"file"`
	Input  ImageInput `json:"input"`
	Output OutputSpec `json:"output"`
}

// ImageInput is the image tower's input tensor: float32, NCHW, 3 channels.
type ImageInput struct {
	Name         string `json:"name"`
	DType        string `json:"dtype"`  // "float32"
	Layout       string `json:"layout"` // "NCHW"
	Channels     int    `json:"channels"`
	Height       int    `json:"height"`
	Width        int    `json:"width"`
	DynamicBatch bool   `json:"dynamic_batch"`
}

// OutputSpec names the embedding output of a tower.
type OutputSpec struct {
	Name  string `json:"name"`
	DType string `json:"dtype"` // "float32"
}

// TextTower is the ONNX graph that maps token ids to an embedding.
type TextTower struct {
	File          string     `json:"file"`
	Input         TextInput  `json:"input"`
	AttentionMask string     `json:"attention_mask,omitempty"` // input name, when the graph takes one
	Output        OutputSpec `json:"output"`
	DynamicBatch  bool       `json:"dynamic_batch"`
}

// TextInput is the token-id input of a text tower.
type TextInput struct {
	Name    string `json:"name"`
	DType   string `json:"dtype"` // "int64" or "int32"
	Context int    `json:"context"`
}

// Resize modes.
const (
	ResizeShortestCrop = "shortest_crop" // resize shortest side to Size, centre-crop to Crop
	ResizeSquash       = "squash"        // resize to Crop ignoring aspect ratio
	ResizePad          = "pad"           // fit inside Crop keeping aspect ratio, pad with PadColor
)

// Interpolation filters, with PIL's (antialiasing) semantics.
const (
	InterpBicubic  = "bicubic"
	InterpBilinear = "bilinear"
)

// Preprocess is how an image becomes the model's input tensor, matching
// what the model was trained with (PIL/torchvision semantics):
// RGB → resize (Resize mode, Interpolation) → crop/pad to Crop → x*Rescale →
// (x-Mean)/Std per channel → NCHW float32.
type Preprocess struct {
	Resize        string     `json:"resize"`
	Size          int        `json:"size"`          // shortest-side target for shortest_crop
	Crop          [2]int     `json:"crop"`          // [height, width] of the tensor
	Interpolation string     `json:"interpolation"` // "bicubic" | "bilinear"
	Rescale       float64    `json:"rescale"`       // usually 1/255
	Mean          [3]float64 `json:"mean"`
	Std           [3]float64 `json:"std"`
	PadColor      [3]uint8   `json:"pad_color"`
	// JPEGDraft: a JPEG is decoded at 1/2, 1/4 or 1/8 scale in the DCT
	// domain as PIL's Image.draft("RGB", (4·W, 4·H)) does, W×H being the
	// size the resize step makes: the smallest scale that keeps the image
	// at least 4 times that size on both sides. Cheaper by far for large
	// photos, and not the pixels of a full decode; only for models trained
	// (or defined) that way.
	JPEGDraft bool `json:"jpeg_draft,omitempty"`
	// ReducingGap, when not 0 (then at least 1), resizes as PIL's
	// Image.resize(size, filter, reducing_gap=ReducingGap) does: first a
	// box filter by integer factors (Image.reduce), leaving at least
	// ReducingGap times the target for the filter.
	ReducingGap float64 `json:"reducing_gap,omitempty"`
}

// Tokenizer describes the text tokenizer of a model with a text tower.
type Tokenizer struct {
	Kind      string `json:"kind"`  // "clip-bpe"
	Vocab     string `json:"vocab"` // file name within the model directory
	Context   int    `json:"context"`
	PadID     int    `json:"pad_id"`
	Lowercase bool   `json:"lowercase"`
}

// Thresholds are Euclidean distances between L2-normalised embeddings
// (d² = 2 − 2·cos). Near is the default duplicate threshold.
type Thresholds struct {
	Exact   float64 `json:"exact"`
	Near    float64 `json:"near"`
	Similar float64 `json:"similar"`
}

// Dedup is how dedup's `near` test reads this model's distances and what
// its second, pixel check (package signature) must find. A pair of images
// is a duplicate when its distance is at most Thresholds.Exact, or at most
// Thresholds.Near and at most Score times the mean of its two images' K-th
// neighbour distances (the same distance means less where look-alikes
// crowd), and their signatures agree: gradient correlation at least Grad
// where the frames agree (GradCrop where a crop search was needed), at
// least Colour of the colour explained by one global colour change, at
// most Changed of the picture changed locally; where either image has no
// colour of its own (the colour check is blind: greyscale, sepia, a silver
// car), at most ToneChanged of the picture changed in tone locally (0: not
// checked). Images without signatures are judged by their vectors alone,
// at ScoreVectors.
type Dedup struct {
	K            int     `json:"k"`
	Score        float64 `json:"score"`
	ScoreVectors float64 `json:"score_vectors"`
	Grad         float64 `json:"grad"`
	GradCrop     float64 `json:"grad_crop"`
	Colour       float64 `json:"colour"`
	Changed      float64 `json:"changed"`
	ToneChanged  float64 `json:"tone_changed,omitempty"`
	// Calibration says how these values were chosen.
	Calibration string `json:"calibration,omitempty"`
}

// Source records where a zoo model's files come from.
type Source struct {
	Repo     string `json:"repo,omitempty"`
	Revision string `json:"revision,omitempty"`
	URL      string `json:"url,omitempty"`
}

// TrainingID records which run produced shipped weights.
type TrainingID struct {
	Recipe string `json:"recipe,omitempty"`
	Run    string `json:"run,omitempty"`
}

// Validate checks the manifest for internal consistency. It does not look at
// the ONNX file; see infer for the check against the graph.
func (m *Manifest) Validate() error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if m.Format != ManifestFormat {
		bad("format %d (this build reads format %d)", m.Format, ManifestFormat)
	}
	if m.ID == "" {
		bad("id is empty")
	}
	if m.Dim <= 0 {
		bad("dim %d must be positive", m.Dim)
	}
	if m.Image.File == "" {
		bad("image.file is empty")
	}
	in := m.Image.Input
	if in.Name == "" || m.Image.Output.Name == "" {
		bad("image input/output names must be set")
	}
	if in.DType != "float32" {
		bad("image input dtype %q (want float32)", in.DType)
	}
	if in.Layout != "NCHW" || in.Channels != 3 {
		bad("image input layout %s with %d channels (want NCHW with 3)", in.Layout, in.Channels)
	}
	p := m.Preprocess
	if p.Crop[0] != in.Height || p.Crop[1] != in.Width {
		bad("preprocess crop %dx%d differs from input %dx%d", p.Crop[0], p.Crop[1], in.Height, in.Width)
	}
	switch p.Resize {
	case ResizeShortestCrop:
		if p.Size < p.Crop[0] || p.Size < p.Crop[1] {
			bad("preprocess size %d smaller than crop %v", p.Size, p.Crop)
		}
	case ResizeSquash, ResizePad:
	default:
		bad("preprocess resize %q (want shortest_crop, squash or pad)", p.Resize)
	}
	if p.Interpolation != InterpBicubic && p.Interpolation != InterpBilinear {
		bad("preprocess interpolation %q (want bicubic or bilinear)", p.Interpolation)
	}
	for c := 0; c < 3; c++ {
		if p.Std[c] == 0 {
			bad("preprocess std[%d] is zero", c)
		}
	}
	if p.Rescale == 0 {
		bad("preprocess rescale is zero")
	}
	if p.ReducingGap != 0 && !(p.ReducingGap >= 1) {
		bad("preprocess reducing_gap %v (want 0 for none, or 1 or more)", p.ReducingGap)
	}
	if d := m.Dedup; d != nil {
		in := func(v, lo, hi float64) bool { return v >= lo && v <= hi }
		if d.K < 1 || d.K > 1000 || !in(d.Score, 0, 10) || !in(d.ScoreVectors, 0, 10) || !in(d.Grad, -1, 1) ||
			!in(d.GradCrop, -1, 1) || !in(d.Colour, -1, 1) || !in(d.Changed, 0, 1) || !in(d.ToneChanged, 0, 1) {
			bad("dedup constants out of range: %+v", *d)
		}
	}
	if m.Text != nil && m.Tokenizer == nil {
		bad("text tower without tokenizer")
	}
	if h := m.Head; h != nil {
		if h.File == "" || h.File == m.Image.File || !m.listed(h.File) {
			bad("head.file %q must be a file of its own, listed in files", h.File)
		}
		if h.Input == "" || h.Output == "" || h.InputDim <= 0 {
			bad("head input/output names and input_dim must be set")
		}
		if h.Base.ID == "" || len(h.Base.SHA256) != 64 || strings.Trim(h.Base.SHA256, "0123456789abcdef") != "" {
			bad("head.base needs the base model's id and the sha256 (64 lower-case hex digits) of its image file")
		}
		if m.Text != nil {
			bad("a tuned model (head) has no text tower: its head maps image vectors only")
		}
		if m.listed(m.Image.File) {
			bad("image.file %q is the base model's: a tuned model does not list it", m.Image.File)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: model %q: %s", ErrBadManifest, m.ID, strings.Join(problems, "; "))
	}
	return nil
}

// Fingerprint identifies the preprocessing, so that a store can tell two
// manifests apart that share an id and weights but prepare images differently.
func (p Preprocess) Fingerprint() string {
	b, _ := json.Marshal(p) // fixed struct: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// listed says whether files names name.
func (m *Manifest) listed(name string) bool {
	for _, f := range m.Files {
		if f.Name == name {
			return true
		}
	}
	return false
}

// FileDigest returns the recorded SHA-256 of the named model file, or "".
func (m *Manifest) FileDigest(name string) string {
	for _, f := range m.Files {
		if f.Name == name {
			return f.SHA256
		}
	}
	return ""
}

// ParseManifest decodes and validates a manifest.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadManifest, err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// ReadManifest reads and validates the manifest file at path.
func ReadManifest(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return m, nil
}
