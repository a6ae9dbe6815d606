// Package onnxtest writes small ONNX files for tests of code that checks
// their structure (models' download check): a graph with one node, the
// given input and output, and an initializer of random bytes that makes the
// file as large as asked. They parse as ONNX; they are not meant to run.
package onnxtest

import (
	"math/rand"

	"google.golang.org/protobuf/encoding/protowire"
)

// Element types (ONNX TensorProto.DataType).
const (
	Float = 1
	Int64 = 7
)

// Tensor is a graph input or output; a dimension below 0 is symbolic.
type Tensor struct {
	Name string
	Elem uint64
	Dims []int64
}

func msg(b []byte, num protowire.Number, body []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, body)
}

func varint(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func value(t Tensor) []byte {
	var shape []byte
	for _, d := range t.Dims {
		var dim []byte
		if d < 0 {
			dim = msg(nil, 2, []byte("batch"))
		} else {
			dim = varint(nil, 1, uint64(d))
		}
		shape = msg(shape, 1, dim)
	}
	tensor := msg(varint(nil, 1, t.Elem), 2, shape)
	return msg(msg(nil, 1, []byte(t.Name)), 2, msg(nil, 1, tensor))
}

// Model returns an ONNX model of about size bytes (at least a few hundred)
// with the given inputs and outputs; seed varies the initializer's bytes.
func Model(inputs, outputs []Tensor, size int, seed int64) []byte {
	var graph []byte
	var node []byte
	node = msg(node, 1, []byte(inputs[0].Name))
	node = msg(node, 2, []byte(outputs[0].Name))
	node = msg(node, 4, []byte("Identity"))
	graph = msg(graph, 1, node)
	graph = msg(graph, 2, []byte("test"))
	n := max(size-400, 4) / 4 * 4
	raw := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(raw)
	var init []byte
	init = varint(init, 1, uint64(n/4))
	init = varint(init, 2, Float)
	init = msg(init, 8, []byte("weights"))
	init = msg(init, 9, raw)
	graph = msg(graph, 5, init)
	for _, t := range inputs {
		graph = msg(graph, 11, value(t))
	}
	for _, t := range outputs {
		graph = msg(graph, 12, value(t))
	}
	var m []byte
	m = varint(m, 1, 8)
	m = msg(m, 2, []byte("embedsearch onnxtest"))
	m = msg(m, 7, graph)
	m = msg(m, 8, varint(nil, 2, 17))
	return m
}
