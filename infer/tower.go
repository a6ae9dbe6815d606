package infer

import (
	"fmt"
	"math"
	"sync"
)

// tensorInfo is what a graph declares about one of its inputs or outputs.
type tensorInfo struct {
	Name       string
	Type       elemType
	TypeName   string // onnxruntime's name of the type, for messages
	Dimensions []int64
}

// elemType is a tensor element type, as far as this package tells them
// apart.
type elemType int

const (
	elemOther elemType = iota
	elemFloat
	elemInt64
	elemInt32
)

// tensorData is one input of a run: its shape and values (exactly one of
// f32, i64 and i32 set).
type tensorData struct {
	shape []int64
	f32   []float32
	i64   []int64
	i32   []int32
}

// tower is one onnxruntime session running one of a model's towers (image
// or text) on one device: what Encoder and TextEncoder share. It is safe
// for concurrent use; close waits for runs in progress.
type tower struct {
	what   string // for messages: "model X" or "the text tower of X"
	dim    int
	device string

	mu      sync.RWMutex // held for reading by run, for writing by close
	session *session
}

// openTower picks the device o asks for (DeviceAuto: CUDA when the runtime
// can use it, else the CPU, also when the CUDA session cannot be created)
// and creates the session on graph.
func openTower(rt *Runtime, graph []byte, inputs, outputs []string, o EncoderOptions, what string, dim int) (*tower, error) {
	device := o.Device
	if device == "" {
		device = DeviceCPU
	}
	switch device {
	case DeviceCPU:
	case DeviceCUDA, DeviceAuto:
		if _, err := rt.CUDA(); err == nil {
			device = DeviceCUDA
		} else if o.Device == DeviceCUDA {
			return nil, fmt.Errorf("%w: cuda: %w", ErrDevice, err)
		} else {
			device = DeviceCPU
		}
	default:
		return nil, fmt.Errorf("%w: unknown device %q (want cpu, cuda or auto)", ErrDevice, o.Device)
	}
	s, err := newSession(graph, inputs, outputs, device, o.Threads)
	if err != nil && device == DeviceCUDA && o.Device == DeviceAuto {
		device = DeviceCPU
		s, err = newSession(graph, inputs, outputs, device, o.Threads)
	}
	if err != nil {
		if device == DeviceCUDA {
			return nil, fmt.Errorf("%w: cuda session for %s: %s", ErrDevice, what, oneLine(err.Error()))
		}
		return nil, fmt.Errorf("%s: create session: %w", what, err)
	}
	return &tower{what: what, dim: dim, device: device, session: s}, nil
}

// run runs the session on inputs, whose batch axis has rows rows, and
// returns the first k output rows, each L2-normalised. A row the model
// left without a direction (all zeros, or not finite) is nil: the caller
// reports it for that input alone (ErrNoVector).
func (t *tower) run(inputs []tensorData, rows, k int) ([][]float32, error) {
	flat := make([]float32, rows*t.dim)
	t.mu.RLock()
	if t.session == nil {
		t.mu.RUnlock()
		return nil, ErrClosed
	}
	err := t.session.run(inputs, flat, rows, t.dim)
	t.mu.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", t.what, err)
	}
	vecs := make([][]float32, k)
	for i := range vecs {
		v := flat[i*t.dim : (i+1)*t.dim : (i+1)*t.dim]
		if normalize(v) {
			vecs[i] = v
		}
	}
	return vecs, nil
}

// close releases the session. Runs in progress finish first.
func (t *tower) close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.session == nil {
		return nil
	}
	err := t.session.destroy()
	t.session = nil
	return err
}

// normalize scales v to unit L2 norm in place and reports whether it could:
// not for a zero vector or one with a value that is not finite. The sum is
// taken in float64 so the result does not depend on accumulated float32
// rounding.
func normalize(v []float32) bool {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 || math.IsNaN(s) || math.IsInf(s, 0) {
		return false
	}
	inv := 1 / math.Sqrt(s)
	for i, x := range v {
		v[i] = float32(float64(x) * inv)
	}
	return true
}
