//go:build cgo

package infer

import (
	"fmt"

	ort "github.com/yalue/onnxruntime_go"
)

// This file is the one place that calls the onnxruntime binding (cgo). A
// build without cgo gets ort_nocgo.go instead, whose functions all fail
// with ErrNoCgo, so the rest of the module builds and vets anywhere.

// cgoEnabled is false in a build without cgo, where nothing can run a model.
const cgoEnabled = true

// initRuntime makes the library at path the process's onnxruntime.
func initRuntime(path string) error {
	ort.SetSharedLibraryPath(path)
	return ort.InitializeEnvironment(ort.WithLogLevelError())
}

// graphInfo reads the inputs and outputs an ONNX graph declares.
func graphInfo(graph []byte) (inputs, outputs []tensorInfo, err error) {
	in, out, err := ort.GetInputOutputInfoWithONNXData(graph)
	if err != nil {
		return nil, nil, err
	}
	conv := func(xs []ort.InputOutputInfo) []tensorInfo {
		r := make([]tensorInfo, len(xs))
		for i, x := range xs {
			t := elemOther
			switch x.DataType {
			case ort.TensorElementDataTypeFloat:
				t = elemFloat
			case ort.TensorElementDataTypeInt64:
				t = elemInt64
			case ort.TensorElementDataTypeInt32:
				t = elemInt32
			}
			r[i] = tensorInfo{Name: x.Name, Type: t, TypeName: x.DataType.String(), Dimensions: x.Dimensions}
		}
		return r
	}
	return conv(in), conv(out), nil
}

// session is one onnxruntime session. Run may be called concurrently;
// destroy must not race with run (tower's lock sees to it).
type session struct{ s *ort.DynamicAdvancedSession }

// newSession creates one onnxruntime session on graph with the given
// input and output names, on device, with threads intra-op threads (0: one
// per core). The image and text encoders both use it.
func newSession(graph []byte, inputs, outputs []string, device string, threads int) (*session, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	if threads > 0 {
		if err := opts.SetIntraOpNumThreads(threads); err != nil {
			return nil, err
		}
	}
	// onnxruntime's threads spin between runs by default, on the cores the
	// decoding goroutines need: embed of 12-megapixel photos spent 10%
	// more CPU for the same work (README, Benchmarks).
	if err := opts.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"); err != nil {
		return nil, err
	}
	if device == DeviceCUDA {
		if err := appendCUDA(opts); err != nil {
			return nil, err
		}
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(graph, inputs, outputs, opts)
	if err != nil {
		return nil, err
	}
	return &session{s}, nil
}

// run feeds inputs to the session and writes its one float output, shaped
// [rows, dim], into out (len rows*dim).
func (s *session) run(inputs []tensorData, out []float32, rows, dim int) error {
	values := make([]ort.Value, 0, len(inputs))
	defer func() {
		for _, v := range values {
			v.Destroy()
		}
	}()
	for _, in := range inputs {
		shape := ort.NewShape(in.shape...)
		var v ort.Value
		var err error
		switch {
		case in.f32 != nil:
			v, err = ort.NewTensor(shape, in.f32)
		case in.i32 != nil:
			v, err = ort.NewTensor(shape, in.i32)
		default:
			v, err = ort.NewTensor(shape, in.i64)
		}
		if err != nil {
			return fmt.Errorf("input tensor: %w", err)
		}
		values = append(values, v)
	}
	output, err := ort.NewTensor(ort.NewShape(int64(rows), int64(dim)), out)
	if err != nil {
		return fmt.Errorf("output tensor: %w", err)
	}
	defer output.Destroy()
	return s.s.Run(values, []ort.Value{output})
}

func (s *session) destroy() error { return s.s.Destroy() }

// cudaSessionOptions asks onnxruntime to append the CUDA provider to a
// throw-away session configuration, which loads the provider library.
func cudaSessionOptions() error {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return err
	}
	defer opts.Destroy()
	return appendCUDA(opts)
}

func appendCUDA(opts *ort.SessionOptions) error {
	cuda, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return err
	}
	defer cuda.Destroy()
	return opts.AppendExecutionProviderCUDA(cuda)
}
