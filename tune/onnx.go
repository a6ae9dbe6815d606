package tune

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// The head as an ONNX graph, written with the protobuf wire format
// directly (field numbers from onnx.proto; models/onnx.go reads the same
// way): y = LpNormalization(x·Wᵀ + b [+ relu(x·W1ᵀ + b1)·W2ᵀ]). The batch
// axis is dynamic. Opset 13, IR version 8: what onnxruntime 1.x runs.

// Names of the head graph's input and output tensors.
const (
	HeadInput  = "vector"
	HeadOutput = "embedding"
)

// ONNX returns the head as a serialised ONNX ModelProto. producer names the
// program that wrote it.
func (h *Head) ONNX(producer string) []byte {
	var g []byte
	node := func(op string, out string, attrs []byte, in ...string) {
		var n []byte
		for _, s := range in {
			n = protowire.AppendTag(n, 1, protowire.BytesType)
			n = protowire.AppendString(n, s)
		}
		n = protowire.AppendTag(n, 2, protowire.BytesType)
		n = protowire.AppendString(n, out)
		n = protowire.AppendTag(n, 3, protowire.BytesType)
		n = protowire.AppendString(n, out)
		n = protowire.AppendTag(n, 4, protowire.BytesType)
		n = protowire.AppendString(n, op)
		n = append(n, attrs...)
		g = protowire.AppendTag(g, 1, protowire.BytesType)
		g = protowire.AppendBytes(g, n)
	}
	var inits []byte
	init := func(name string, dims []int64, v []float64) {
		var t []byte
		for _, d := range dims {
			t = protowire.AppendTag(t, 1, protowire.VarintType)
			t = protowire.AppendVarint(t, uint64(d))
		}
		t = protowire.AppendTag(t, 2, protowire.VarintType)
		t = protowire.AppendVarint(t, 1) // FLOAT
		t = protowire.AppendTag(t, 8, protowire.BytesType)
		t = protowire.AppendString(t, name)
		raw := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(float32(x)))
		}
		t = protowire.AppendTag(t, 9, protowire.BytesType)
		t = protowire.AppendBytes(t, raw)
		inits = protowire.AppendTag(inits, 5, protowire.BytesType)
		inits = protowire.AppendBytes(inits, t)
	}
	init("W_t", []int64{int64(h.In), int64(h.Out)}, transpose(h.w(), h.Out, h.In))
	init("b", []int64{int64(h.Out)}, h.b())
	node("MatMul", "xw", nil, HeadInput, "W_t")
	node("Add", "z", nil, "xw", "b")
	last := "z"
	if h.Kind == HeadMLP {
		init("W1_t", []int64{int64(h.In), int64(h.Hidden)}, transpose(h.w1(), h.Hidden, h.In))
		init("b1", []int64{int64(h.Hidden)}, h.b1())
		init("W2_t", []int64{int64(h.Hidden), int64(h.Out)}, transpose(h.w2(), h.Out, h.Hidden))
		node("MatMul", "xw1", nil, HeadInput, "W1_t")
		node("Add", "a1", nil, "xw1", "b1")
		node("Relu", "h1", nil, "a1")
		node("MatMul", "hw2", nil, "h1", "W2_t")
		node("Add", "zr", nil, "z", "hw2")
		last = "zr"
	}
	var attrs []byte
	for _, a := range []struct {
		name string
		v    int64
	}{{"axis", 1}, {"p", 2}} {
		var at []byte
		at = protowire.AppendTag(at, 1, protowire.BytesType)
		at = protowire.AppendString(at, a.name)
		at = protowire.AppendTag(at, 3, protowire.VarintType)
		at = protowire.AppendVarint(at, uint64(a.v))
		at = protowire.AppendTag(at, 20, protowire.VarintType)
		at = protowire.AppendVarint(at, 2) // INT
		attrs = protowire.AppendTag(attrs, 5, protowire.BytesType)
		attrs = protowire.AppendBytes(attrs, at)
	}
	node("LpNormalization", HeadOutput, attrs, last)
	g = protowire.AppendTag(g, 2, protowire.BytesType)
	g = protowire.AppendString(g, "embedsearch-tune-head")
	g = append(g, inits...)
	g = protowire.AppendTag(g, 11, protowire.BytesType)
	g = protowire.AppendBytes(g, valueInfo(HeadInput, h.In))
	g = protowire.AppendTag(g, 12, protowire.BytesType)
	g = protowire.AppendBytes(g, valueInfo(HeadOutput, h.Out))

	var m []byte
	m = protowire.AppendTag(m, 1, protowire.VarintType)
	m = protowire.AppendVarint(m, 8) // IR version
	m = protowire.AppendTag(m, 2, protowire.BytesType)
	m = protowire.AppendString(m, producer)
	m = protowire.AppendTag(m, 7, protowire.BytesType)
	m = protowire.AppendBytes(m, g)
	var opset []byte
	opset = protowire.AppendTag(opset, 1, protowire.BytesType)
	opset = protowire.AppendString(opset, "")
	opset = protowire.AppendTag(opset, 2, protowire.VarintType)
	opset = protowire.AppendVarint(opset, 13)
	m = protowire.AppendTag(m, 8, protowire.BytesType)
	m = protowire.AppendBytes(m, opset)
	return m
}

// valueInfo is a ValueInfoProto for a float tensor [N, dim] with a
// symbolic batch axis.
func valueInfo(name string, dim int) []byte {
	var shape []byte
	var d0, d1 []byte
	d0 = protowire.AppendTag(d0, 2, protowire.BytesType)
	d0 = protowire.AppendString(d0, "N")
	d1 = protowire.AppendTag(d1, 1, protowire.VarintType)
	d1 = protowire.AppendVarint(d1, uint64(dim))
	shape = protowire.AppendTag(shape, 1, protowire.BytesType)
	shape = protowire.AppendBytes(shape, d0)
	shape = protowire.AppendTag(shape, 1, protowire.BytesType)
	shape = protowire.AppendBytes(shape, d1)
	var tt []byte
	tt = protowire.AppendTag(tt, 1, protowire.VarintType)
	tt = protowire.AppendVarint(tt, 1) // FLOAT
	tt = protowire.AppendTag(tt, 2, protowire.BytesType)
	tt = protowire.AppendBytes(tt, shape)
	var typ []byte
	typ = protowire.AppendTag(typ, 1, protowire.BytesType)
	typ = protowire.AppendBytes(typ, tt)
	var vi []byte
	vi = protowire.AppendTag(vi, 1, protowire.BytesType)
	vi = protowire.AppendString(vi, name)
	vi = protowire.AppendTag(vi, 2, protowire.BytesType)
	vi = protowire.AppendBytes(vi, typ)
	return vi
}

// transpose returns the rows×cols matrix a as cols×rows.
func transpose(a []float64, rows, cols int) []float64 {
	t := make([]float64, len(a))
	for r := range rows {
		for c := range cols {
			t[c*rows+r] = a[r*cols+c]
		}
	}
	return t
}
