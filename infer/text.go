package infer

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/embedsearch/embedsearch/infer/tokenizer"
	"github.com/embedsearch/embedsearch/models"
)

// DefaultTextBatch is the number of texts per inference call when
// EncoderOptions.Batch is 0 and the text tower's batch axis is dynamic.
const DefaultTextBatch = 32

// TextEncoder runs a model's text tower: the tokenizer its manifest names
// and one onnxruntime session. Its vectors live in the same space as the
// model's image vectors. It is safe for concurrent use; Close waits for
// calls in progress.
type TextEncoder struct {
	man     *models.Manifest
	tok     *tokenizer.Tokenizer
	dim     int
	context int
	batch   int
	fixed   bool
	ids32   bool // the graph takes int32 token ids
	mask    bool // the graph takes an attention mask
	*tower
}

// NewTextEncoder checks the model's text tower against its graph, builds
// its tokenizer and creates a session. A model without a text tower is
// models.ErrNoTextTower (the message names the models that have one).
func NewTextEncoder(rt *Runtime, m *models.Model, o EncoderOptions) (*TextEncoder, error) {
	man := m.Manifest
	if man.Text == nil {
		return nil, fmt.Errorf("%w: %s embeds images only; text queries need a model with a text tower: %s",
			models.ErrNoTextTower, man.ID, strings.Join(models.TextModels(), ", "))
	}
	tok, err := textTokenizer(m)
	if err != nil {
		return nil, err
	}
	graph, err := m.ReadFile(man.Text.File)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", man.ID, err)
	}
	t := &TextEncoder{man: man, tok: tok, dim: man.Dim, context: man.Text.Input.Context,
		ids32: man.Text.Input.DType == "int32", mask: man.Text.AttentionMask != ""}
	fixedBatch, err := checkTextGraph(man, graph)
	if err != nil {
		return nil, err
	}
	switch {
	case fixedBatch > 0:
		t.batch, t.fixed = fixedBatch, true
	case o.Batch > 0:
		t.batch = o.Batch
	default:
		t.batch = DefaultTextBatch
	}

	t.tower, err = openTower(rt, graph, t.inputNames(), []string{man.Text.Output.Name}, o, "the text tower of "+man.ID, man.Dim)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// textTokenizer builds the tokenizer a manifest describes: CLIP BPE with
// the built-in vocabulary, or the merges file the manifest names.
func textTokenizer(m *models.Model) (*tokenizer.Tokenizer, error) {
	man := m.Manifest
	tk := man.Tokenizer
	if tk == nil {
		return nil, fmt.Errorf("%w: model %s has a text tower but no tokenizer", models.ErrBadManifest, man.ID)
	}
	if tk.Kind != "clip-bpe" {
		return nil, fmt.Errorf("%w: model %s: tokenizer %q is not supported (this build has clip-bpe)", models.ErrBadManifest, man.ID, tk.Kind)
	}
	if !tk.Lowercase {
		return nil, fmt.Errorf("%w: model %s: clip-bpe always lower-cases; set tokenizer.lowercase to true", models.ErrBadManifest, man.ID)
	}
	if tk.Context != man.Text.Input.Context {
		return nil, fmt.Errorf("%w: model %s: tokenizer context %d differs from the text input's %d",
			models.ErrBadManifest, man.ID, tk.Context, man.Text.Input.Context)
	}
	o := tokenizer.Options{Context: tk.Context, PadID: tk.PadID}
	if tk.Vocab == "" {
		return tokenizer.Default(o)
	}
	data, err := m.ReadFile(tk.Vocab)
	if err != nil {
		return nil, fmt.Errorf("model %s: tokenizer vocabulary: %w", man.ID, err)
	}
	t, err := tokenizer.New(bytes.NewReader(data), o)
	if err != nil {
		return nil, fmt.Errorf("model %s: %s: %w", man.ID, tk.Vocab, err)
	}
	return t, nil
}

func (t *TextEncoder) inputNames() []string {
	names := []string{t.man.Text.Input.Name}
	if t.mask {
		names = append(names, t.man.Text.AttentionMask)
	}
	return names
}

// checkTextGraph compares the manifest's text tower with the graph's
// declared inputs and outputs and returns the graph's fixed batch size (0
// when dynamic).
func checkTextGraph(man *models.Manifest, graph []byte) (fixedBatch int, err error) {
	inputs, outputs, err := graphInfo(graph)
	if err != nil {
		return 0, fmt.Errorf("model %s: read graph %s: %w", man.ID, man.Text.File, err)
	}
	tt := man.Text
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	find := func(infos []tensorInfo, name string) *tensorInfo {
		for i := range infos {
			if infos[i].Name == name {
				return &infos[i]
			}
		}
		return nil
	}
	want := map[string]bool{tt.Input.Name: true}
	if tt.AttentionMask != "" {
		want[tt.AttentionMask] = true
	}
	for _, in := range inputs {
		if !want[in.Name] {
			bad("the graph takes input %q that the manifest does not name (inputs: %s)", in.Name, describe(inputs))
		}
	}
	for _, name := range []string{tt.Input.Name, tt.AttentionMask} {
		if name == "" {
			continue
		}
		gin := find(inputs, name)
		if gin == nil {
			bad("input %q: the graph's inputs are %s", name, describe(inputs))
			continue
		}
		wantType := elemInt64
		if tt.Input.DType == "int32" {
			wantType = elemInt32
		}
		if gin.Type != wantType {
			bad("input %q: manifest says %s, graph says %s", name, tt.Input.DType, gin.TypeName)
		}
		d := gin.Dimensions
		if len(d) != 2 || !dimOK(d[1], tt.Input.Context) {
			bad("input %q: manifest says [N,%d], graph says %v", name, tt.Input.Context, d)
			continue
		}
		graphDynamic := d[0] <= 0
		if graphDynamic != tt.DynamicBatch {
			bad("input %q: manifest says dynamic_batch %v, graph's batch axis is %s", name, tt.DynamicBatch, batchAxis(d[0]))
		}
		if !graphDynamic {
			fixedBatch = int(d[0])
		}
	}
	switch tt.Input.DType {
	case "int64", "int32":
	default:
		bad("input %q: dtype %q (want int64 or int32)", tt.Input.Name, tt.Input.DType)
	}
	if gout := find(outputs, tt.Output.Name); gout == nil {
		bad("output %q: the graph's outputs are %s", tt.Output.Name, describe(outputs))
	} else {
		if gout.Type != elemFloat {
			bad("output %q: manifest says %s, graph says %s", tt.Output.Name, tt.Output.DType, gout.TypeName)
		}
		if d := gout.Dimensions; len(d) != 2 || !dimOK(d[1], man.Dim) {
			bad("output %q: manifest says [N,%d] (dim), graph says %v", tt.Output.Name, man.Dim, d)
		}
	}
	if len(problems) > 0 {
		return 0, fmt.Errorf("%w: model %s (%s): %s", ErrModelMismatch, man.ID, tt.File, strings.Join(problems, "; "))
	}
	return fixedBatch, nil
}

// Device is the device the session runs on: DeviceCPU or DeviceCUDA.
func (t *TextEncoder) Device() string { return t.device }

// Dim is the embedding dimension (the same as the image tower's).
func (t *TextEncoder) Dim() int { return t.dim }

// Tokens returns the token ids the text tower is given for text.
func (t *TextEncoder) Tokens(text string) []int64 { return t.tok.Tokens(text) }

// Close releases the session. Calls in progress finish first.
func (t *TextEncoder) Close() error { return t.close() }

// Embed returns one L2-normalised vector per text, in order. Texts longer
// than the context are truncated (the end token is kept).
func (t *TextEncoder) Embed(texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += t.batch {
		vecs, err := t.run(texts[start:min(start+t.batch, len(texts))])
		if err != nil {
			return nil, err
		}
		out = append(out, vecs...)
	}
	return out, nil
}

// run does one session call on at most batch texts.
func (t *TextEncoder) run(texts []string) ([][]float32, error) {
	k, rows := len(texts), len(texts)
	if t.fixed {
		rows = t.batch // pad with empty texts; rows are independent
	}
	padded := texts
	if rows > k {
		padded = append(append([]string(nil), texts...), make([]string, rows-k)...)
	}
	ids := t.tok.Batch(padded)
	shape := []int64{int64(rows), int64(t.context)}
	add := func(vals []int64) tensorData {
		if !t.ids32 {
			return tensorData{shape: shape, i64: vals}
		}
		v32 := make([]int32, len(vals))
		for i, x := range vals {
			v32[i] = int32(x)
		}
		return tensorData{shape: shape, i32: v32}
	}
	inputs := []tensorData{add(ids)}
	if t.mask {
		inputs = append(inputs, add(attentionMask(ids, t.context)))
	}
	vecs, err := t.tower.run(inputs, rows, k)
	if err != nil {
		return nil, err
	}
	for i, v := range vecs {
		if v == nil {
			return nil, fmt.Errorf("text %q: %w", texts[i], ErrNoVector)
		}
	}
	return vecs, nil
}

// attentionMask marks every position up to and including each row's end
// token, which is how CLIP tokenizers build the mask whatever the pad id.
func attentionMask(ids []int64, context int) []int64 {
	mask := make([]int64, len(ids))
	for r := 0; r < len(ids)/context; r++ {
		row := ids[r*context : (r+1)*context]
		for i, id := range row {
			mask[r*context+i] = 1
			if id == tokenizer.EndID && i > 0 {
				break
			}
		}
	}
	return mask
}
