package models

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// The structural check of an ONNX file whose digest is not known in
// advance (checkONNX). It reads the protobuf wire format itself, field
// numbers from onnx.proto, so that a download can be judged before
// onnxruntime is loaded: the whole ModelProto must parse, the graph must
// have nodes, every initializer holding its data inline must hold exactly
// the bytes its shape and type call for, and the tower's input and output
// must be there with the manifest's names, element types and shapes. It
// refuses random bytes, a truncated file, an HTML error page and another
// model's graph; it cannot see a changed weight, which only a digest can.

// ONNX element types (TensorProto.DataType).
const (
	onnxFloat = 1
	onnxInt32 = 6
	onnxInt64 = 7
)

// onnxElemBits is the size of each TensorProto.DataType with a fixed one.
var onnxElemBits = map[uint64]int{
	1: 32, 2: 8, 3: 8, 4: 16, 5: 16, 6: 32, 7: 64, 9: 8, 10: 16, 11: 64, 12: 32, 13: 64,
	14: 64, 15: 128, 16: 16, 17: 8, 18: 8, 19: 8, 20: 8, 21: 4, 22: 4, 23: 4,
}

// onnxValue is a graph input or output: name, element type, shape (a
// dimension of -1 is symbolic or unknown).
type onnxValue struct {
	name string
	elem uint64
	dims []int64
}

// onnxGraph is what checkONNX reads of a model.
type onnxGraph struct {
	nodes           int
	inputs, outputs []onnxValue
	initializers    map[string]bool
}

// fields calls f for each field of a protobuf message, failing on any
// malformed byte.
func fields(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var u uint32
			u, n = protowire.ConsumeFixed32(b)
			x = uint64(u)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if err := f(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

func parseONNX(data []byte) (*onnxGraph, error) {
	var graph []byte
	var ir uint64
	opsets := 0
	err := fields(data, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			ir = x
		case num == 7 && typ == protowire.BytesType:
			graph = v
		case num == 8 && typ == protowire.BytesType:
			opsets++
		}
		return nil
	})
	switch {
	case err != nil:
		return nil, fmt.Errorf("not an ONNX model: %v", err)
	case ir == 0 || graph == nil || opsets == 0:
		return nil, fmt.Errorf("not an ONNX model (IR version %d, %d operator sets, graph present: %v)", ir, opsets, graph != nil)
	}
	g := &onnxGraph{initializers: map[string]bool{}}
	err = fields(graph, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			op := ""
			if err := fields(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				if num == 4 && typ == protowire.BytesType {
					op = string(v)
				}
				return nil
			}); err != nil {
				return fmt.Errorf("node %d: %v", g.nodes, err)
			}
			if op == "" {
				return fmt.Errorf("node %d has no operator", g.nodes)
			}
			g.nodes++
		case 5:
			name, err := checkInitializer(v)
			if err != nil {
				return err
			}
			g.initializers[name] = true
		case 11, 12:
			val, err := parseValue(v)
			if err != nil {
				return err
			}
			if num == 11 {
				g.inputs = append(g.inputs, val)
			} else {
				g.outputs = append(g.outputs, val)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ONNX graph: %v", err)
	}
	if g.nodes == 0 {
		return nil, fmt.Errorf("ONNX graph has no nodes")
	}
	return g, nil
}

// checkInitializer checks that a TensorProto holding its data inline
// (raw_data) holds as many bytes as its shape and type call for.
func checkInitializer(b []byte) (string, error) {
	var name string
	var dims []int64
	var dtype uint64
	var raw []byte
	hasRaw, external := false, false
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			dims = append(dims, int64(x))
		case num == 1 && typ == protowire.BytesType: // packed dims
			for len(v) > 0 {
				d, n := protowire.ConsumeVarint(v)
				if n < 0 {
					return protowire.ParseError(n)
				}
				dims, v = append(dims, int64(d)), v[n:]
			}
		case num == 2 && typ == protowire.VarintType:
			dtype = x
		case num == 8 && typ == protowire.BytesType:
			name = string(v)
		case num == 9 && typ == protowire.BytesType:
			raw, hasRaw = v, true
		case num == 14 && typ == protowire.VarintType:
			external = x == 1
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("initializer %q: %v", name, err)
	}
	bits, known := onnxElemBits[dtype]
	if !hasRaw || external || !known {
		return name, nil
	}
	n := int64(1)
	for _, d := range dims {
		if d < 0 || (d > 0 && n > (1<<62)/d) {
			return "", fmt.Errorf("initializer %q: shape %v", name, dims)
		}
		n *= d
	}
	if want := (n*int64(bits) + 7) / 8; int64(len(raw)) != want {
		return "", fmt.Errorf("initializer %q: %d bytes of data, its shape %v needs %d", name, len(raw), dims, want)
	}
	return name, nil
}

// parseValue reads a ValueInfoProto holding a tensor.
func parseValue(b []byte) (onnxValue, error) {
	var val onnxValue
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			val.name = string(v)
		case num == 2 && typ == protowire.BytesType: // TypeProto
			return fields(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				if num != 1 || typ != protowire.BytesType { // tensor_type
					return nil
				}
				return fields(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
					switch {
					case num == 1 && typ == protowire.VarintType:
						val.elem = x
					case num == 2 && typ == protowire.BytesType: // shape
						return fields(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
							if num != 1 || typ != protowire.BytesType {
								return nil
							}
							d := int64(-1)
							err := fields(v, func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
								if num == 1 && typ == protowire.VarintType {
									d = int64(x)
								}
								return nil
							})
							val.dims = append(val.dims, d)
							return err
						})
					}
					return nil
				})
			})
		}
		return nil
	})
	if err != nil {
		return val, fmt.Errorf("value %q: %v", val.name, err)
	}
	return val, nil
}

// want is one tensor a tower needs: its name, the element types allowed and
// its shape (0: any size; the batch axis is always free).
type want struct {
	what  string
	name  string
	elems []uint64
	dims  []int64
}

func (w want) check(have []onnxValue) string {
	var names []string
	for _, v := range have {
		names = append(names, v.name)
		if v.name != w.name {
			continue
		}
		ok := len(v.dims) == len(w.dims)
		for i := 1; ok && i < len(v.dims); i++ {
			ok = w.dims[i] == 0 || v.dims[i] < 0 || v.dims[i] == w.dims[i]
		}
		elemOK := false
		for _, e := range w.elems {
			elemOK = elemOK || v.elem == e
		}
		if !ok || !elemOK {
			return fmt.Sprintf("%s %q: the manifest says type %v shape %v, the graph has type %d shape %v", w.what, w.name, w.elems, w.dims, v.elem, v.dims)
		}
		return ""
	}
	return fmt.Sprintf("%s %q: the graph's are %s", w.what, w.name, strings.Join(names, ", "))
}

// checkONNX checks data, the file called file of the model man describes,
// structurally (see the top of this file); files that are not a tower's
// graph pass.
func checkONNX(man *Manifest, file string, data []byte) error {
	var wants []want
	switch {
	case file == man.Image.File:
		in := man.Image.Input
		wants = []want{
			{"input", in.Name, []uint64{onnxFloat}, []int64{0, int64(in.Channels), int64(in.Height), int64(in.Width)}},
			{"output", man.Image.Output.Name, []uint64{onnxFloat}, []int64{0, int64(man.Dim)}},
		}
	case man.Text != nil && file == man.Text.File:
		t := man.Text
		wants = []want{
			{"input", t.Input.Name, []uint64{onnxInt64, onnxInt32}, []int64{0, int64(t.Input.Context)}},
			{"output", t.Output.Name, []uint64{onnxFloat}, []int64{0, int64(man.Dim)}},
		}
		if t.AttentionMask != "" {
			wants = append(wants, want{"input", t.AttentionMask, []uint64{onnxInt64, onnxInt32}, []int64{0, int64(t.Input.Context)}})
		}
	default:
		return nil
	}
	g, err := parseONNX(data)
	if err != nil {
		return fmt.Errorf("%w: model %s: %s: %v", ErrBadGraph, man.ID, file, err)
	}
	var inputs []onnxValue
	for _, v := range g.inputs {
		if !g.initializers[v.name] { // IR < 4 lists initializers as inputs
			inputs = append(inputs, v)
		}
	}
	var problems []string
	for _, w := range wants {
		have := inputs
		if w.what == "output" {
			have = g.outputs
		}
		if p := w.check(have); p != "" {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: model %s: %s: %s", ErrBadGraph, man.ID, file, strings.Join(problems, "; "))
	}
	return nil
}
