package infer

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/embedsearch/embedsearch/infer/preprocess"
	"github.com/embedsearch/embedsearch/internal/inputfile"
	"github.com/embedsearch/embedsearch/models"
)

// Devices an Encoder runs on.
const (
	DeviceCPU  = "cpu"
	DeviceCUDA = "cuda"
	DeviceAuto = "auto" // CUDA when it can be used, else CPU
)

// DefaultBatch is the number of images per inference call when
// EncoderOptions.Batch is 0 and the model's batch axis is dynamic.
const DefaultBatch = 16

// EncoderOptions configure an Encoder.
type EncoderOptions struct {
	Device  string // DeviceCPU (also ""), DeviceCUDA or DeviceAuto
	Threads int    // onnxruntime intra-op threads; 0 lets onnxruntime choose (one per core)
	Batch   int    // images per inference call; 0 = DefaultBatch (a fixed-batch model always uses its own size)
	Limits  preprocess.Limits
	// Workers is the number of decode/preprocess goroutines in Embed;
	// 0 = GOMAXPROCS.
	Workers int
	// MaxFileSize refuses larger files before reading them; 0 = 1 GiB,
	// negative = no limit.
	MaxFileSize int64
	// FastDecode decodes large JPEGs at reduced scale, as PIL's draft()
	// does (models.Preprocess.JPEGDraft), also for models whose manifest
	// does not ask for it: several times faster for camera photos, but
	// not the pixels the model was trained on (README gives the measured
	// agreement). The store binding does not record it.
	FastDecode bool
}

// Encoder runs a model's image tower: one onnxruntime session plus the
// model's Preparer. It is safe for concurrent use; Close waits for calls in
// progress.
type Encoder struct {
	man     *models.Manifest
	prep    *preprocess.Preparer
	dim     int
	batch   int // images per Run
	fixed   bool
	workers int
	tlen    int // float32 values per image tensor
	// files is how Embed opens files: through links (the caller chose the
	// paths; index hashes each file first without following links when
	// its walk does not), only regular ones, within the size limits.
	files inputfile.Options
	// head is a tuned model's second graph (models.Head), run on the
	// image tower's normalised vectors; nil for other models.
	head *tower
	// pixelBound is the largest file an image within the pixel cap can be
	// (8 bytes per pixel: 16-bit RGBA stored raw, plus room for metadata);
	// files.MaxSize is at most this, so a huge non-image is never read.
	pixelBound int64
	maxPixels  int64

	*tower
}

// NewEncoder checks the model's manifest against its image graph and
// creates a session on the requested device. A disagreement between the
// manifest and the graph is ErrModelMismatch; a device that cannot be used
// is ErrDevice (DeviceAuto falls back to the CPU instead).
func NewEncoder(rt *Runtime, m *models.Model, o EncoderOptions) (*Encoder, error) {
	man := m.Manifest
	graph, err := m.ReadFile(man.Image.File)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", man.ID, err)
	}
	tman := man // the image tower's manifest: a tuned model's base's
	if b := m.Base(); b != nil {
		tman = b.Manifest
	}
	fixedBatch, err := checkGraph(tman, graph)
	if err != nil {
		return nil, err
	}
	pp := man.Preprocess
	if o.FastDecode {
		pp.JPEGDraft = true
	}
	prep, err := preprocess.NewPreparer(pp, o.Limits)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", man.ID, err)
	}
	e := &Encoder{man: man, prep: prep, dim: man.Dim, tlen: prep.TensorLen(), workers: o.Workers,
		files: inputfile.Options{FollowLinks: true, MaxSize: o.MaxFileSize}, maxPixels: o.Limits.MaxPixels}
	if e.maxPixels <= 0 {
		e.maxPixels = preprocess.DefaultMaxPixels
	}
	e.pixelBound = 8*e.maxPixels + 16<<20
	if e.files.MaxSize == 0 {
		e.files.MaxSize = inputfile.DefaultMaxSize
	}
	if e.files.MaxSize < 0 || e.files.MaxSize > e.pixelBound {
		e.files.MaxSize = e.pixelBound
	}
	if e.tlen != 3*man.Image.Input.Height*man.Image.Input.Width {
		return nil, fmt.Errorf("%w: model %s: preprocessing makes %d values per image, the input takes 3x%dx%d",
			ErrModelMismatch, man.ID, e.tlen, man.Image.Input.Height, man.Image.Input.Width)
	}
	switch {
	case fixedBatch > 0:
		e.batch, e.fixed = fixedBatch, true
	case o.Batch > 0:
		e.batch = o.Batch
	default:
		e.batch = DefaultBatch
	}
	if e.workers <= 0 {
		e.workers = runtime.GOMAXPROCS(0)
	}

	e.tower, err = openTower(rt, graph, []string{man.Image.Input.Name}, []string{man.Image.Output.Name}, o, "model "+man.ID, tman.Dim)
	if err != nil {
		return nil, err
	}
	if man.Head != nil {
		if e.head, err = openHead(rt, m, o); err != nil {
			e.tower.close()
			return nil, err
		}
	}
	return e, nil
}

// checkGraph compares the manifest with the graph's declared inputs and
// outputs and returns the graph's fixed batch size (0 when dynamic).
func checkGraph(man *models.Manifest, graph []byte) (fixedBatch int, err error) {
	inputs, outputs, err := graphInfo(graph)
	if err != nil {
		return 0, fmt.Errorf("model %s: read graph %s: %w", man.ID, man.Image.File, err)
	}
	in, out := man.Image.Input, man.Image.Output
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	var gin *tensorInfo
	for i := range inputs {
		if inputs[i].Name == in.Name {
			gin = &inputs[i]
		}
	}
	switch {
	case gin == nil:
		bad("input %q: the graph's inputs are %s", in.Name, describe(inputs))
	case len(inputs) != 1:
		bad("the graph has %d inputs (%s); an image tower takes one", len(inputs), describe(inputs))
	}
	if gin != nil {
		if gin.Type != elemFloat {
			bad("input %q: manifest says %s, graph says %s", in.Name, in.DType, gin.TypeName)
		}
		d := gin.Dimensions
		if len(d) != 4 {
			bad("input %q: manifest says %s [N,%d,%d,%d], graph says shape %v", in.Name, in.Layout, in.Channels, in.Height, in.Width, d)
		} else {
			if d[1] != int64(in.Channels) || !dimOK(d[2], in.Height) || !dimOK(d[3], in.Width) {
				bad("input %q: manifest says [N,%d,%d,%d], graph says %v", in.Name, in.Channels, in.Height, in.Width, d)
			}
			graphDynamic := d[0] <= 0
			if graphDynamic != in.DynamicBatch {
				bad("input %q: manifest says dynamic_batch %v, graph's batch axis is %s", in.Name, in.DynamicBatch, batchAxis(d[0]))
			}
			if !graphDynamic {
				fixedBatch = int(d[0])
			}
		}
	}
	var gout *tensorInfo
	for i := range outputs {
		if outputs[i].Name == out.Name {
			gout = &outputs[i]
		}
	}
	if gout == nil {
		bad("output %q: the graph's outputs are %s", out.Name, describe(outputs))
	} else {
		if gout.Type != elemFloat {
			bad("output %q: manifest says %s, graph says %s", out.Name, out.DType, gout.TypeName)
		}
		d := gout.Dimensions
		if len(d) != 2 || !dimOK(d[1], man.Dim) {
			bad("output %q: manifest says [N,%d] (dim), graph says %v", out.Name, man.Dim, d)
		}
	}
	if len(problems) > 0 {
		return 0, fmt.Errorf("%w: model %s (%s): %s", ErrModelMismatch, man.ID, man.Image.File, strings.Join(problems, "; "))
	}
	return fixedBatch, nil
}

// dimOK accepts a graph dimension equal to want or symbolic (<= 0).
func dimOK(d int64, want int) bool { return d <= 0 || d == int64(want) }

func batchAxis(d int64) string {
	if d <= 0 {
		return "dynamic"
	}
	return fmt.Sprintf("fixed at %d", d)
}

func describe(infos []tensorInfo) string {
	s := make([]string, len(infos))
	for i, x := range infos {
		s[i] = fmt.Sprintf("%q %s %v", x.Name, x.TypeName, x.Dimensions)
	}
	return strings.Join(s, ", ")
}

// Device is the device the session runs on: DeviceCPU or DeviceCUDA.
func (e *Encoder) Device() string { return e.device }

// Dim is the embedding dimension.
func (e *Encoder) Dim() int { return e.dim }

// Batch is the number of images per inference call.
func (e *Encoder) Batch() int { return e.batch }

// TensorLen is the number of float32 values of one image tensor (3*H*W).
func (e *Encoder) TensorLen() int { return e.tlen }

// Preparer is the model's image preparation.
func (e *Encoder) Preparer() *preprocess.Preparer { return e.prep }

// MaxFileSize is the largest file Embed reads: the smaller of the
// MaxFileSize option and the size an image within the pixel cap can take.
// Callers that read the files themselves first (to hash them) use it too.
func (e *Encoder) MaxFileSize() int64 { return e.files.MaxSize }

// Close releases the sessions. Calls in progress finish first.
func (e *Encoder) Close() error {
	err := e.close()
	if e.head != nil {
		if herr := e.head.close(); err == nil {
			err = herr
		}
	}
	return err
}

// RunTensors embeds n ready tensors laid out back to back in batch (NCHW,
// n*TensorLen() values) and returns n L2-normalised vectors. n may exceed
// Batch(); the work is split into Batch()-sized calls. For a fixed-batch
// model the last call is padded with zeros, which cannot change the other
// rows: images in a batch are independent.
func (e *Encoder) RunTensors(batch []float32, n int) ([][]float32, error) {
	if n < 0 || len(batch) < n*e.tlen {
		return nil, fmt.Errorf("run: %d values for %d images of %d", len(batch), n, e.tlen)
	}
	out := make([][]float32, 0, n)
	for start := 0; start < n; start += e.batch {
		k := min(e.batch, n-start)
		vecs, err := e.run(batch[start*e.tlen:(start+k)*e.tlen], k)
		if err != nil {
			return nil, err
		}
		out = append(out, vecs...)
	}
	return out, nil
}

// run does one session call on k <= Batch() images.
func (e *Encoder) run(in []float32, k int) ([][]float32, error) {
	rows := k
	if e.fixed && k < e.batch {
		rows = e.batch
		padded := make([]float32, rows*e.tlen)
		copy(padded, in)
		in = padded
	}
	h, w := e.man.Image.Input.Height, e.man.Image.Input.Width
	vecs, err := e.tower.run([]tensorData{{shape: []int64{int64(rows), 3, int64(h), int64(w)}, f32: in}}, rows, k)
	if err != nil || e.head == nil {
		return vecs, err
	}
	return e.runHead(vecs)
}

// EmbedBytes decodes, prepares and embeds one image held in memory.
func (e *Encoder) EmbedBytes(data []byte) ([]float32, preprocess.Info, error) {
	t := make([]float32, e.tlen)
	info, err := e.prep.Bytes(data, t)
	if err != nil {
		return nil, info, err
	}
	vecs, err := e.RunTensors(t, 1)
	if err != nil {
		return nil, info, err
	}
	if vecs[0] == nil {
		return nil, info, ErrNoVector
	}
	return vecs[0], info, nil
}
