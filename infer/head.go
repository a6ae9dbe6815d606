package infer

import (
	"fmt"
	"strings"

	"github.com/embedsearch/embedsearch/models"
)

// A tuned model (models.Head) runs its base model's image tower, then its
// head graph on the tower's normalised vectors; the head's output is
// normalised again like every tower's.

// openHead checks a tuned model's head graph against its manifest and
// opens a session on it.
func openHead(rt *Runtime, m *models.Model, o EncoderOptions) (*tower, error) {
	man := m.Manifest
	hd := man.Head
	graph, err := m.ReadFile(hd.File)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", man.ID, err)
	}
	inputs, outputs, err := graphInfo(graph)
	if err != nil {
		return nil, fmt.Errorf("model %s: read head %s: %w", man.ID, hd.File, err)
	}
	var problems []string
	check := func(what, name string, infos []tensorInfo, dim int) {
		if len(infos) != 1 || infos[0].Name != name {
			problems = append(problems, fmt.Sprintf("%s %q: the head's %ss are %s", what, name, what, describe(infos)))
			return
		}
		d := infos[0].Dimensions
		if infos[0].Type != elemFloat || len(d) != 2 || !dimOK(d[1], dim) {
			problems = append(problems, fmt.Sprintf("%s %q: manifest says float [N,%d], graph says %s %v", what, name, dim, infos[0].TypeName, d))
		}
	}
	check("input", hd.Input, inputs, hd.InputDim)
	check("output", hd.Output, outputs, man.Dim)
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: model %s (%s): %s", ErrModelMismatch, man.ID, hd.File, strings.Join(problems, "; "))
	}
	return openTower(rt, graph, []string{hd.Input}, []string{hd.Output}, o, "the head of model "+man.ID, man.Dim)
}

// runHead maps the image tower's vectors (nil where the tower gave none)
// through the head.
func (e *Encoder) runHead(vecs [][]float32) ([][]float32, error) {
	in := e.man.Head.InputDim
	var flat []float32
	var rows []int
	for i, v := range vecs {
		if v != nil {
			flat = append(flat, v...)
			rows = append(rows, i)
		}
	}
	out := make([][]float32, len(vecs))
	if len(rows) == 0 {
		return out, nil
	}
	hv, err := e.head.run([]tensorData{{shape: []int64{int64(len(rows)), int64(in)}, f32: flat}}, len(rows), len(rows))
	if err != nil {
		return nil, err
	}
	for k, i := range rows {
		out[i] = hv[k]
	}
	return out, nil
}
